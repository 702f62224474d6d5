"""Linear time on pathological input: one 100 KB line of each special character, placed in an answer, a checklist
item and a question's prompt, goes through every stage in under 2 s of CPU time (the patterns that made such lines take
minutes are rewritten with look-behind guards and possessive repeats; see feedback/report/parse.py)."""

from __future__ import annotations

import time

import pytest

from feedback import render
from feedback.llm.redact import Redactor
from feedback.llm.verify import QuoteIndex, normalise
from feedback.pipeline import check_text

SIZE = 100_000
LIMIT = 2.0  # seconds per report, every deterministic stage and every renderer
# every character Markdown, HTML, the rules or the LLM stage's text handling give a meaning to, and the openers of
# the constructs they match (a pattern that re-scans a run from every start is quadratic in its length)
SPECIAL = [
    *"-[]()!<>*_`#~|\\\"'=:@ .,;/+0a\t\u200b",
    "<img ",
    "<!--",
    "-->",
    "](",
    "![",
    "[x](",
    "[](",
    "<a ",
    "http://",
    "> ",
    "* [",
    "```",
    "Question ",
    "answer ",
    "Ab ",
    "s123456 ",
    "a@",
    "ignore ",
    "<<<",
    "aGVs",
]


def pathological(piece: str) -> str:
    line = (piece * (SIZE // len(piece) + 1))[:SIZE]
    return (
        "# Report\n\n## Overall project checklist\n\n* [x] Use DVC for the data (M8)\n"
        f"* [x] {line}\n\n## Project\n\n### Question 1\n> **Describe your project.**\n> {line}\n>\n> Answer:\n\n"
        f"We did it.\n{line}\nThat is all.\n\n"
        "### Question 2\n> **Who did what?**\n>\n> Answer:\n\ns123456 did it all.\n"
    )


@pytest.fixture(scope="module", autouse=True)
def warm() -> None:
    """Load the catalog, compile the patterns and templates once, outside the timed part."""
    render.get("html")([check_text(pathological("b"))])


@pytest.mark.parametrize("piece", SPECIAL, ids=[repr(p) for p in SPECIAL])
def test_a_100_kb_line_of_one_character_is_checked_in_linear_time(piece: str) -> None:
    text = pathological(piece)
    started = time.process_time()  # CPU time: the cost of the algorithms, not of other processes on the machine
    result = check_text(text)
    for fmt in ("text", "json", "markdown", "html"):
        render.get(fmt)([result])
    index, redactor = QuoteIndex(result.report), Redactor(result.report)
    for q in result.report.questions:
        index.verified("We did it. That is all.", q)
        redactor.redact(q.answer.text)
    normalise(text)
    elapsed = time.process_time() - started
    assert elapsed < LIMIT, f"{elapsed:.2f} s"
    assert len(result.report.questions) == 2
