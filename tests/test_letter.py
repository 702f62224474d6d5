"""The per-group feedback text stays short whatever a report holds: at most MAX_LINES lines, each section within
its limit, every bullet one line (report and model text can hold newlines)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.course.letter import FOLDED, IMPROVE_ORDER, MAX_DISAGREE, MAX_FIX, MAX_IMPROVE, MAX_LINES, feedback_text

CHECKS = sorted({*FOLDED, *IMPROVE_ORDER, "claim-contradicted", "answers-disagree", "question-missing", "other"})

FINDING = st.fixed_dictionaries(
    {
        "code": st.sampled_from(["FB101", "FB201", "FB501", "FB601", "FB603", "FB801"]),
        "check": st.sampled_from(CHECKS),
        "severity": st.sampled_from(["error", "warning", "info"]),
        "verdict": st.sampled_from([None, "contradicted", "internal", "unsupported"]),
        "message": st.text(max_size=400),
        "question": st.one_of(st.none(), st.integers(1, 40)),
        "questions": st.lists(st.integers(1, 40), max_size=3),
        "line": st.one_of(st.none(), st.integers(1, 2000)),
        "checklist_item": st.one_of(st.none(), st.text(max_size=60)),
        "rank": st.one_of(st.none(), st.integers(1, 5)),
    }
)


def _data(findings: list[dict[str, Any]], questions: int) -> dict[str, Any]:
    return {"findings": findings, "questions": [{"answered": i % 2 == 0} for i in range(questions)]}


def _sections(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3:]
            out[current] = []
        elif line.startswith("- ") and current:
            out[current].append(line)
    return out


@settings(max_examples=150, deadline=None)
@given(st.lists(FINDING, max_size=120), st.integers(0, 40), st.text(max_size=80))
def test_the_feedback_text_is_bounded(findings: list[dict[str, Any]], questions: int, group: str) -> None:
    text = feedback_text(_data(findings, questions), group)
    assert len(text.splitlines()) <= MAX_LINES
    limits = {
        "Fix these first": MAX_FIX,
        "Checklist and answers disagree": MAX_DISAGREE,
        "Worth improving": MAX_IMPROVE,
    }
    for title, bullets in _sections(text).items():
        assert len(bullets) <= limits[title]


def test_a_report_full_of_everything_fills_each_section_to_its_limit() -> None:
    many = [
        {"code": "FB101", "check": "question-missing", "severity": "error", "message": f"Fix {i}\nnow", "question": i}
        for i in range(1, 60)
    ]
    many += [
        {
            "code": "FB501",
            "check": "claim-contradicted",
            "severity": "warning",
            "verdict": "contradicted",
            "message": f"Item {i}",
            "checklist_item": f"item {i}",
            "line": i,
        }
        for i in range(60)
    ]
    many += [
        {"code": "FB209", "check": "example-copied", "severity": "warning", "message": f"Copied {i}", "question": i}
        for i in range(1, 60)
    ]
    text = feedback_text(_data(many, 31), "g\nroup")
    sections = _sections(text)
    assert [len(b) for b in sections.values()] == [MAX_FIX, MAX_DISAGREE, MAX_IMPROVE]
    assert sections["Fix these first"][-1] == "- … and 52 more in the full report"
    assert text.startswith("# Feedback for group g roup\n") and len(text.splitlines()) <= MAX_LINES
