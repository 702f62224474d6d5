"""Prompt injection: every attempt in ``tests/injections/attempts.toml`` is found by FB701 wherever it is placed;
benign text gives no finding."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from feedback.pipeline import check_text

CORPUS = tomllib.loads((Path(__file__).parent / "injections" / "attempts.toml").read_text(encoding="utf-8"))
ATTEMPTS: list[dict[str, Any]] = CORPUS["attempt"]
BENIGN: list[dict[str, Any]] = CORPUS["benign"]


def build(where: str, text: str) -> tuple[str, int]:
    """An invented report with ``text`` placed at ``where``, and the line the attempt starts on."""
    item = text if where == "checklist" else "Use DVC for the data (M8)"
    section = text if where == "heading" else "Cloud"
    prompt = f"> {text}\n>\n" if where == "prompt" else ""
    answer = {"answer": text, "comment": text}.get(where, "We used DVC with a GCS bucket as remote storage.")
    head = f"# Report\n\n## Overall project checklist\n\n* [x] {item}\n\n## {section}\n\n### Question 1\n"
    report = head + f"> **Describe your data storage.**\n>\n{prompt}> Answer:\n\nIntro line.\n{answer}\n"
    start = {"checklist": 5, "heading": 7}.get(where)
    if start is None:
        marker = f"> {text}" if where == "prompt" else text
        start = report.splitlines().index(marker.splitlines()[0]) + 1
    return report, start


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=[a["name"] for a in ATTEMPTS])
def test_every_attempt_is_flagged_on_its_line(attempt: dict[str, Any]) -> None:
    report, start = build(attempt["where"], attempt["text"])
    hits = [f for f in check_text(report).findings if f.code == "FB701"]
    span = range(start, start + attempt["text"].count("\n") + 1)
    assert hits and hits[0].line == start and all(f.line in span for f in hits), [f.message for f in hits]
    for f in hits:
        assert f.line is not None and f.evidence[0] in report.splitlines()[f.line - 1]  # verbatim report text


@pytest.mark.parametrize("benign", BENIGN, ids=[b["name"] for b in BENIGN])
def test_benign_text_is_not_flagged(benign: dict[str, Any]) -> None:
    report, _ = build("answer", benign["text"])
    assert [f.message for f in check_text(report).findings if f.code == "FB701"] == []
