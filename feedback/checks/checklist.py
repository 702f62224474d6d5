"""Checklist rules: no checklist, a checklist nobody ticked, partial marks."""

from __future__ import annotations

from collections.abc import Iterator

from feedback.checks.registry import Context, Hit, rule
from feedback.findings import Category, Severity
from feedback.report.model import Mark


@rule("FB105", "checklist-missing", Category.STRUCTURE, Severity.WARNING, "The report has no checklist.")
def checklist_missing(ctx: Context) -> Iterator[Hit]:
    if ctx.report.checklist:
        return
    if ctx.template is not None and not ctx.template.checklist:
        return  # this template version had no checklist
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
