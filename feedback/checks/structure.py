"""Structure rules: question headings missing, duplicated, out of order or edited."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from feedback.checks.leftovers import heading_assignment
from feedback.checks.registry import Context, Hit, rule
from feedback.checks.security import invisible
from feedback.findings import Category, Severity
from feedback.report.model import Report
from feedback.report.parse import HEADING_RE, QUESTION_RE

CANONICAL_HEADING_RE = re.compile(r"^###\s+Question\s+\d+\s*$")


def hidden_question_headings(report: Report) -> dict[int, tuple[int, str]]:
    """Lines that would be '### Question N' headings but for invisible characters: N -> (line, the characters
    named, e.g. 'U+200B ZERO WIDTH SPACE')."""
    out: dict[int, tuple[int, str]] = {}
    for number, text in enumerate(report.lines, start=1):
        if "#" not in text or text.isascii():
            continue
        chars = dict.fromkeys(c for c in text if invisible(c))
        if not chars:
            continue
        heading = HEADING_RE.match("".join(c for c in text if c not in chars))
        q = QUESTION_RE.match((heading.group(2) or "").strip()) if heading else None
        if q is not None and int(q.group(1)) not in out:
            names = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, 'FORMAT CHARACTER')}" for c in chars)
            out[int(q.group(1))] = (number, names)
    return out


@rule("FB101", "question-missing", Category.STRUCTURE, Severity.ERROR, "A question number has no heading.")
def question_missing(ctx: Context) -> Iterator[Hit]:
    numbers = sorted({n for n, _ in ctx.report.question_headings})
    if not numbers:
        yield Hit("No '### Question N' headings found: is this a filled-in report of the template?", line=1)
        return
    expected = set(range(1, max(numbers) + 1))
    if ctx.template is not None:
        expected |= {q.number for q in ctx.template.questions}
    by_number = dict(ctx.report.question_headings)
    hidden = hidden_question_headings(ctx.report)
    expected |= hidden.keys()  # the last question's heading hidden too
    for n in sorted(expected - set(numbers)):
        if n in hidden:
            line, names = hidden[n]
            yield Hit(
                f"Question {n} is missing: its heading on line {line} holds an invisible character ({names}), so "
                f"it is not read as '### Question {n}'; delete the heading and type it again.",
                line=line,
                question=n,
            )
            continue
        before = max((m for m in numbers if m < n), default=None)
        after = min((m for m in numbers if m > n), default=None)
        where = f" (expected between question {before} and question {after})" if before and after else ""
        hint = f"; if its answer sits under question {before}, restore the heading" if before else ""
        yield Hit(
            f"Question {n} is missing: no '### Question {n}' heading{where}{hint}.",
            line=by_number.get(after) if after else None,
            question=n,
        )


@rule(
    "FB108",
    "encoding-error",
    Category.STRUCTURE,
    Severity.WARNING,
    "A line holds bytes that are not valid UTF-8 (shown as U+FFFD).",
)
def encoding_error(ctx: Context) -> Iterator[Hit]:
    for line in ctx.report.encoding_errors:
        yield Hit(
            f"Line {line} holds bytes that are not valid UTF-8 (shown as '\ufffd'); the rest of the file is UTF-8. "
            "Retype the characters there and save the file as UTF-8.",
            line=line,
        )


@rule("FB102", "question-duplicated", Category.STRUCTURE, Severity.ERROR, "A question number appears twice.")
def question_duplicated(ctx: Context) -> Iterator[Hit]:
    seen: dict[int, int] = {}
    for n, line in ctx.report.question_headings:
        if n in seen:
            yield Hit(
                f"Question {n} appears again (first at line {seen[n]}); merge the answers under one heading.",
                line=line,
                question=n,
                evidence=(ctx.report.line_text(line).strip(),),
            )
        else:
            seen[n] = line


@rule("FB103", "question-out-of-order", Category.STRUCTURE, Severity.WARNING, "Question numbers are not in order.")
def question_out_of_order(ctx: Context) -> Iterator[Hit]:
    highest = 0
    for n, line in ctx.report.question_headings:
        if n < highest:
            yield Hit(f"Question {n} comes after question {highest}; keep the template's order.", line, n)
        highest = max(highest, n)


@rule(
    "FB104",
    "heading-modified",
    Category.STRUCTURE,
    Severity.WARNING,
    "A question heading differs from '### Question N'.",
)
def heading_modified(ctx: Context) -> Iterator[Hit]:
    for q in ctx.report.questions:
        if CANONICAL_HEADING_RE.match(q.heading) or heading_assignment(q.heading_note):
            continue  # "### Question 4 (anna)": a note to the team, reported as a leftover (FB401)
        what = f"text added to the heading ({q.heading_note!r})" if q.heading_note else "the heading was reformatted"
        yield Hit(
            f"Heading of question {q.number} is not '### Question {q.number}': {what}; "
            "tools that split the report on headings may miss it.",
            line=q.line,
            question=q.number,
            evidence=(q.heading,),
        )
