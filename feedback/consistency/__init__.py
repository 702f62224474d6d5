"""Offline consistency between the checklist and the answers (no LLM).

:func:`analyse` returns consistency findings (FB501 contradicted item, FB502 unsupported item, FB503 answers that
disagree). :func:`related_items` and :func:`topics_for_question` tell other stages (the per-question LLM review)
which checklist items and topics belong to one question. All three take an optional ``catalog``: a path to another
topic catalog (TOML, same shape as ``catalog.toml`` here) or an already loaded :class:`Catalog`.
"""

from __future__ import annotations

from feedback.consistency.catalog import DEFAULT_CATALOG, Catalog, CatalogArg, Topic, load_catalog
from feedback.consistency.engine import CONTRADICTED, INTERNAL, UNSUPPORTED, Evidence, analyse_report, gather
from feedback.findings import Finding
from feedback.report.model import ChecklistItem, Question, Report

# (code, check name) of every consistency finding, for --select/--ignore validation
CONSISTENCY_CHECKS: tuple[tuple[str, str], ...] = (CONTRADICTED, UNSUPPORTED, INTERNAL)
# severity and one-line summary of each, for `feedback rules`
CONSISTENCY_SUMMARIES: dict[str, tuple[str, str]] = {
    CONTRADICTED[0]: (
        "warning/info",
        "A checklist item an answer contradicts (ticked but not done, or done but unticked; info if none is ticked).",
    ),
    UNSUPPORTED[0]: ("warning/info", "A ticked item whose own answered question never mentions it."),
    INTERNAL[0]: ("warning/info", "Two answers contradict each other about one topic."),
}

__all__ = [
    "CONSISTENCY_CHECKS",
    "CONSISTENCY_SUMMARIES",
    "DEFAULT_CATALOG",
    "Catalog",
    "Topic",
    "analyse",
    "load_catalog",
    "related_items",
    "topics_for_question",
]


def _catalog(catalog: CatalogArg) -> Catalog:
    return catalog if isinstance(catalog, Catalog) else load_catalog(catalog)


def analyse(report: Report, catalog: CatalogArg = None) -> list[Finding]:
    """Consistency findings for one report; with no checklist only the internal (FB503) findings are possible."""
    return analyse_report(report, _catalog(catalog))


_RECENT: list[tuple[Report, Catalog, Evidence]] = []  # the LLM stage asks about every question of one report


def _evidence(report: Report, catalog: Catalog) -> Evidence:
    for r, c, ev in _RECENT:
        if r is report and c is catalog:
            return ev
    ev = gather(report, catalog)
    _RECENT.insert(0, (report, catalog, ev))
    del _RECENT[4:]
    return ev


def _question(report: Report, question: Question | int) -> Question | None:
    return report.question(question) if isinstance(question, int) else question


def topics_for_question(
    report: Report, question: Question | int, catalog: CatalogArg = None, *, mentioned: bool = True
) -> list[Topic]:
    """Topics the question asks about, then (with ``mentioned``) the topics its answer names with a strong term
    (only topics precise enough to give a verdict)."""
    cat = _catalog(catalog)
    q = _question(report, question)
    if q is None:
        return []
    asked = list(cat.topics_for_question(q))
    if mentioned and q.answered:
        ev = _evidence(report, cat)
        for t in cat.topics:
            if not (t.ticked or t.unticked) or t in asked:
                continue  # a vague topic ("create a git repository") is related only to the question asking it
            if any(m.question == q.number and m.strong for m in ev.of(t)):
                asked.append(t)
    return asked


def related_items(report: Report, question: Question | int, catalog: CatalogArg = None) -> list[ChecklistItem]:
    """The report's checklist items about the topics of one question, in checklist order (empty without one)."""
    if not report.checklist:
        return []
    cat = _catalog(catalog)
    ids = {t.id for t in topics_for_question(report, question, cat)}
    return [i for i in report.checklist if any(t.id in ids for t in cat.topics_for_item(i))]
