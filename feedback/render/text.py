"""Terminal output: what to fix first (errors, then contradictions), then findings by question, with quotes."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from feedback.findings import SUGGESTION_CODE, Finding, shown_findings
from feedback.pipeline import Result
from feedback.render import renderer
from feedback.render.order import fix_first_rank, plural

ICON = {"error": "E", "warning": "W", "info": "I"}


def _group_key(f: Finding) -> int:
    if f.question is not None:
        return f.question
    return min(f.questions) if f.questions else 0


def _finding(f: Finding) -> list[str]:
    where = f"line {f.line}" if f.line else "      "
    src = " [llm]" if f.source == "llm" else ""
    out = [f"  {where:>9}  {ICON[f.severity]} {f.code} {f.check}{src}: {f.message}"]
    if f.checklist_item and f.check not in ("leftover-note", "checklist-partial"):
        mark = "ticked" if f.checked else "not ticked"
        out.append(f"{'':13}item ({mark}): {f.checklist_item}")
    for q in f.evidence:
        if q and q not in f.message:
            out.append(f'{"":13}> "{q}"')
    return out


def _fix_first(result: Result) -> list[str]:
    ranked = [(fix_first_rank(f.severity, f.verdict), f) for f in result.findings]
    chosen = sorted(((r, f) for r, f in ranked if r is not None), key=lambda p: (p[0], p[1].line or 0, p[1].code))
    if not chosen:
        return []
    lines = ["\nFix first:"]
    for _rank, f in chosen:
        where = f"Q{_group_key(f)} " if _group_key(f) else ""
        at = f"line {f.line}" if f.line else "report"
        lines.append(f"  {where + at:<13} {ICON[f.severity]} {f.code} {f.check}: {f.message}")
    return lines


def render_one(result: Result) -> str:
    r = result.report
    answered = sum(q.answered for q in r.questions)
    counts = {s: sum(1 for f in result.findings if f.severity == s) for s in ("error", "warning", "info")}
    lines = [
        f"{result.source}: {answered}/{len(r.questions)} questions answered, "
        f"{sum(i.checked for i in r.checklist)}/{len(r.checklist)} checklist items ticked — "
        f"{plural(counts['error'], 'error')}, {plural(counts['warning'], 'warning')}, {plural(counts['info'], 'note')}"
    ]
    lines.extend(_fix_first(result))
    shown = shown_findings(result.findings)
    fs = sorted(shown, key=lambda f: (_group_key(f), f.line or 0, f.code))
    for key, group in groupby(fs, key=_group_key):
        q = r.question(key) if key else None
        if q is not None:
            status = "answered" if q.answered else "UNANSWERED"
            rng = f" (recommended {q.min_words}-{q.max_words})" if q.max_words is not None else ""
            lines.append(f"\nQuestion {key} (line {q.line}): {status}, {plural(q.answer.words, 'word')}{rng}")
        elif key:
            lines.append(f"\nQuestion {key}")
        else:
            lines.append("\nReport")
        for f in group:
            lines.extend(_finding(f))
    if result.llm.message:
        lines.append(f"\nLLM review: {result.llm.message}")
    more = sum(f.code == SUGGESTION_CODE for f in result.findings) - sum(f.code == SUGGESTION_CODE for f in shown)
    if more:
        lines.append(f"  {plural(more, 'more suggestion')} (ranked) in --format json")
    if result.llm.failed_questions:
        for n, why in sorted(result.llm.failed_questions.items()):
            lines.append(f"  {'the report-level pass' if n == 0 else f'question {n}'}: not reviewed ({why})")
    return "\n".join(lines) + "\n"


@renderer("text")
def render_text(results: Sequence[Result]) -> str:
    return "\n".join(render_one(r) for r in results)
