"""Text left by mistake inside answers: the keyboard-mash filler one template era shipped in place of the last
placeholder (the fingerprint is the parser's; the other filler lines are invented), a sentence typed twice; and an
answer that is only a pointer to another place."""

from __future__ import annotations

from feedback.pipeline import Options, check_text
from feedback.report.parse import FILLER_FINGERPRINT

REPORT = """### Question 1
> **Who did what in the project?**
> Answer:

{answer}
"""
FILLER = f"{FILLER_FINGERPRINT} qwpo asdlk\n zxm qpwo\n  lk\n"


def lines_found(text: str) -> list[int]:
    options = Options(select=("placeholder-left",), consistency=False)
    return [f.line for f in check_text(text, options).findings if f.line is not None]


def test_filler_is_reported_on_each_of_its_lines_answered_or_not() -> None:
    answered = REPORT.format(answer="Anna wrote the data loading and the tests; Ben did the API.\n\n" + FILLER)
    assert lines_found(answered) == [7, 8, 9]
    assert lines_found(REPORT.format(answer=FILLER)) == [5, 6, 7]
    # a real answer alone: nothing
    assert lines_found(REPORT.format(answer="Anna wrote the data loading; Ben did the API.")) == []


def test_a_sentence_typed_twice_in_one_answer_is_a_leftover_once() -> None:
    said = "We wrote four tests for the data loader and two for the model."
    text = REPORT.format(answer=f"In total six tests. {said}\n\n{said} They run in CI.\nAgain: {said}")
    found = check_text(text, Options(select=("leftover-note",), consistency=False)).findings
    assert [(f.line, f.evidence) for f in found] == [(7, (said.rstrip("."),))]
    # short sentences repeat naturally ("See Q5."), and a draft rewritten in other words is no copy
    short = REPORT.format(answer="See the figure. We used it. See the figure.")
    reworded = REPORT.format(answer=f"{said}\nWe wrote four tests for the data loader and three for the model.")
    for ok in (short, reworded):
        assert check_text(ok, Options(select=("leftover-note",), consistency=False)).findings == []


def test_an_answer_that_only_points_elsewhere_is_unanswered() -> None:
    def unanswered(answer: str) -> list[tuple[int | None, tuple[str, ...]]]:
        found = check_text(REPORT.format(answer=answer), Options(select=("unanswered",), consistency=False))
        return [(f.line, f.evidence) for f in found.findings]

    assert unanswered("check figures/our_bucket.png") == [(5, ("check figures/our_bucket.png",))]
    assert unanswered("Please see question 12, where we describe it.") == [
        (5, ("Please see question 12, where we describe it.",))
    ]
    # an answer of its own that also points on, or a pointer with nothing to point to, is no pointer only
    own = "Anna wrote the data code and Ben the API; see question 12 for the tests we wrote."
    assert unanswered(own) == []
    assert unanswered("See, we split the work evenly between the three of us.") == []
