"""Template comparison (with --template): questions and checklist items removed, added or reworded."""

from __future__ import annotations

from collections.abc import Iterator

from feedback.checks.registry import Context, Hit, rule
from feedback.findings import Category, Severity


def _norm(text: str) -> str:
    return " ".join(text.replace("*", "").replace("`", "").lower().split())


def _similar(a: str, b: str) -> float:
    from difflib import SequenceMatcher  # only with --template: a plain check does not import difflib

    return SequenceMatcher(None, _norm(a), _norm(b), autojunk=False).ratio()


@rule(
    "FB110",
    "template-changed",
    Category.STRUCTURE,
    Severity.WARNING,
    "A question or checklist item differs from the blank template.",
    needs_template=True,
)
def template_changed(ctx: Context) -> Iterator[Hit]:
    tpl, rep = ctx.template, ctx.report
    if tpl is None:
        return
    for tq in tpl.questions:
        q = rep.question(tq.number)
        if q is None:
            continue  # question-missing reports it
        if tq.title and _similar(tq.title, q.title) < 0.9:
            yield Hit(
                f"Question {q.number}'s prompt differs from the template's: {tq.title[:100]!r}.",
                line=q.prompt_lines[0].number if q.prompt_lines else q.line,
                question=q.number,
                evidence=(q.prompt_lines[0].text.strip(),) if q.prompt_lines else (),
            )
    extra = {q.number for q in rep.questions} - {q.number for q in tpl.questions}
    for n in sorted(extra):
        q = rep.question(n)
        assert q is not None
        yield Hit(f"Question {n} is not in the template.", line=q.line, question=n)

    remaining = list(rep.checklist)
    for titem in tpl.checklist:
        if not remaining:
            yield Hit(f"Checklist item missing: {titem.text!r}.", line=rep.checklist_line, checklist_item=titem.text)
            continue
        best = max(remaining, key=lambda i: _similar(i.text, titem.text))
        score = _similar(best.text, titem.text)
        if score >= 0.98:
            remaining.remove(best)
        elif score >= 0.75:
            remaining.remove(best)
            yield Hit(
                f"Checklist item reworded; the template says {titem.text!r}.",
                line=best.line,
                checklist_item=best.text,
                checked=best.checked,
                evidence=(best.text,),
            )
        else:
            yield Hit(
                f"Checklist item missing: {titem.text!r}.",
                line=rep.checklist_line,
                checklist_item=titem.text,
            )
    for item in remaining:
        yield Hit(
            "Checklist item not in the template.",
            line=item.line,
            checklist_item=item.text,
            checked=item.checked,
            evidence=(item.text,),
        )
