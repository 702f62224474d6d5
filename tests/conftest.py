"""Shared fixtures: where the real reports live (skipped when ../shared is absent) and small report builders."""

from __future__ import annotations

import os
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


@pytest.fixture(autouse=True)
def _own_user_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read the developer's own ~/.config/feedback/config.toml."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def write_user_config(text: str) -> Path:
    """Write the user's own config file (``$XDG_CONFIG_HOME/feedback/config.toml``, a temporary folder in tests)."""
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "feedback" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
