"""Checklist rules: no checklist, a checklist nobody ticked, partial marks."""

from __future__ import annotations

from collections.abc import Iterator

from feedback.checks.registry import Context, Hit, rule
from feedback.findings import Category, Severity
from feedback.report.model import Mark, Report


def predates_checklist(report: Report) -> bool:
    """The report comes from the first template era (December 2022, early January-2023 copies), which had no
    checklist. Recognised from the report itself, with no flag: in that era question 7 asked only how many tests
    there were and gave no recommended length; every later era asks what the tests test and gives a length."""
    q7 = report.question(7)
    if q7 is None or q7.max_words is not None or any(q.number > 27 for q in report.questions):
        return False
    prompt = " ".join(q7.prompt.split()).casefold()
    return "how many tests" in prompt and "what" not in prompt


@rule("FB105", "checklist-missing", Category.STRUCTURE, Severity.WARNING, "The report has no checklist.")
def checklist_missing(ctx: Context) -> Iterator[Hit]:
    if ctx.report.checklist:
        return
    if ctx.template is not None and not ctx.template.checklist:
        return  # this template version had no checklist
    if predates_checklist(ctx.report):
        return
    yield Hit(
        "No checklist items ('* [x] ...') found: without them nobody can see what the group claims to have done.",
        line=ctx.report.checklist_line or ctx.report.title_line or 1,
    )


@rule(
    "FB106",
    "checklist-unmarked",
    Category.STRUCTURE,
    Severity.WARNING,
    "The checklist is present but no item is ticked.",
)
def checklist_unmarked(ctx: Context) -> Iterator[Hit]:
    items = ctx.report.checklist
    if items and not any(i.checked for i in items):
        yield Hit(
            f"None of the {len(items)} checklist items is ticked: tick what you did with [x].",
            line=items[0].line,
        )


@rule(
    "FB107",
    "checklist-partial",
    Category.STRUCTURE,
    Severity.INFO,
    "A checklist item has a partial mark, counted as ticked.",
)
def checklist_partial(ctx: Context) -> Iterator[Hit]:
    for item in ctx.report.checklist:
        if item.state is Mark.PARTIAL:
            yield Hit(
                f"Item marked [{item.mark}] is counted as ticked; say in the answers what part was done.",
                line=item.line,
                checklist_item=item.text,
                checked=True,
                evidence=(f"[{item.mark}]",),
            )
