"""Shared fixtures: where the real reports live (skipped when ../shared is absent) and small report builders."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
TEMPLATES = SHARED / "templates"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def corpus_reports() -> list[Path]:
    return sorted(CORPUS.glob("*.md")) if CORPUS.is_dir() else []


def blank_templates() -> list[Path]:
    return sorted(p for p in TEMPLATES.glob("*.md") if p.name != "MANIFEST.md") if TEMPLATES.is_dir() else []


needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")
