"""Answer rules: unanswered questions, answers typed in the prompt, answer length against the recommended range."""

from __future__ import annotations

from collections.abc import Iterator

from feedback.checks.registry import Context, Hit, rule
from feedback.findings import Category, Severity
from feedback.report.model import Question


def _first_text(q: Question) -> str:
    for ln in q.answer.lines:
        if ln.text.strip():
            return ln.text.strip()
    return ""


@rule(
    "FB201",
    "unanswered",
    Category.ANSWER,
    Severity.ERROR,
    "The question has no answer: empty, the placeholder left, or only dashes.",
)
def unanswered(ctx: Context) -> Iterator[Hit]:
    for q in ctx.report.questions:
        if q.answered:
            continue
        ph = q.answer.placeholders
        if ph:
            yield Hit(
                f"Question {q.number} is unanswered: the placeholder is still there.",
                line=ph[0].line,
                question=q.number,
                evidence=(ph[0].text,),
            )
        else:
            yield Hit(
                f"Question {q.number} is unanswered.",
                line=q.answer.first_line or q.answer.marker_line or q.line,
                question=q.number,
                evidence=(_first_text(q),) if _first_text(q) else (),
            )


@rule(
    "FB202",
    "answer-in-prompt",
    Category.STRUCTURE,
    Severity.WARNING,
    "The answer is typed inside the quoted prompt block.",
)
def answer_in_prompt(ctx: Context) -> Iterator[Hit]:
    for q in ctx.report.questions:
        if q.answer.in_prompt:
            yield Hit(
                f"The answer to question {q.number} is typed inside the '>' quote of the question; "
                "move it below the quote so it renders as your answer.",
                line=q.answer.first_line,
                question=q.number,
                evidence=(_first_text(q)[:160],),
            )


@rule("FB203", "too-short", Category.ANSWER, Severity.WARNING, "The answer is shorter than the recommended length.")
def too_short(ctx: Context) -> Iterator[Hit]:
    for q in ctx.report.questions:
        if q.answered and q.min_words and q.answer.words < q.min_words:
            yield Hit(
                f"Question {q.number}: {q.answer.words} words, recommended {q.min_words}-{q.max_words}.",
                line=q.answer.first_line,
                question=q.number,
            )


@rule("FB204", "too-long", Category.ANSWER, Severity.WARNING, "The answer is longer than the recommended length.")
def too_long(ctx: Context) -> Iterator[Hit]:
    for q in ctx.report.questions:
        if q.answered and q.max_words is not None and q.answer.words > q.max_words:
            yield Hit(
                f"Question {q.number}: {q.answer.words} words, recommended {q.min_words}-{q.max_words}.",
                line=q.answer.first_line,
                question=q.number,
            )


@rule(
    "FB205",
    "heading-in-answer",
    Category.STRUCTURE,
    Severity.WARNING,
    "A heading inside an answer: the course checker stops counting words there.",
)
def heading_in_answer(ctx: Context) -> Iterator[Hit]:
    for q in ctx.report.questions:
        if q.answered and q.answer.heading_lines:
            line = q.answer.heading_lines[0]
            yield Hit(
                f"Question {q.number} has a heading inside its answer; the course's checker stops at it and counts "
                f"only {q.answer.words} words. Use bold text instead of a heading.",
                line=line,
                question=q.number,
                evidence=(ctx.report.line_text(line).strip(),),
            )
