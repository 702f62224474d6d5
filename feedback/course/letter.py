"""A short feedback text per group that a TA can edit and send: what to fix first, then where the checklist and the
answers disagree, then the best suggestions. Built from a report's JSON shape; at most :data:`MAX_LINES` lines."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from feedback.render.view import md_escape, primary_question

MAX_LINES = 40
MAX_FIX, MAX_DISAGREE, MAX_IMPROVE = 8, 6, 6
MAX_MESSAGE = 220
GROUPED = 3  # a mechanical check found in this many places or more becomes one line listing them
# what such a line says (checks whose findings each say something different are never folded)
FOLDED = {
    "unanswered": "no answer yet",
    "too-short": "shorter than the recommended length",
    "too-long": "longer than the recommended length",
    "missing-images": "fewer images than the question asks for",
    "image-file-missing": "image files not found beside the report (check paths and case)",
    "image-as-link": "images given as plain links: add '!' in front",
    "heading-in-answer": "a heading inside the answer, where the course's checker stops counting",
    "placeholder-left": "the '--- question N fill here ---' placeholder is still there",
    "leftover-note": "notes or TODOs left in the report",
}
DISAGREE = ("contradicted", "internal")
# the improvements worth a group's time, most useful first (ties: by question)
IMPROVE_ORDER = (
    "similar-answer",
    "example-copied",
    "llm-missing-part",
    "missing-images",
    "claim-unsupported",
    "llm-claim",
    "leftover-note",
    "placeholder-left",
    "too-short",
    "heading-in-answer",
    "image-file-missing",
    "llm-suggestion",
)


def _short(text: str, limit: int = MAX_MESSAGE) -> str:
    text = md_escape(text)
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"


def _where(f: dict[str, Any]) -> str:
    q = primary_question(f)
    return f"Q{q}" if q is not None else (f"line {f['line']}" if f.get("line") else "report")


def _lines(findings: list[dict[str, Any]], limit: int) -> list[str]:
    """One bullet per finding, a check seen in many questions folded into one bullet; at most ``limit``."""
    by_check: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        by_check[f["check"]].append(f)
    out: list[str] = []
    done: set[str] = set()
    for f in findings:
        same = by_check[f["check"]]
        if len(same) >= GROUPED and f["check"] in FOLDED:
            if f["check"] in done:
                continue
            done.add(f["check"])
            where = ", ".join(dict.fromkeys(_where(g) for g in same))
            out.append(f"- {where}: {FOLDED[f['check']]}")
        else:
            out.append(f"- {_where(f)}: {_short(f['message'])}")
    if len(out) > limit:
        rest = len(out) - (limit - 1)
        out = [*out[: limit - 1], f"- … and {rest} more in the full report"]
    return out


def _rank(f: dict[str, Any]) -> tuple[int, int, int]:
    order = IMPROVE_ORDER.index(f["check"]) if f["check"] in IMPROVE_ORDER else len(IMPROVE_ORDER)
    return (order, int(f.get("rank") or 0), primary_question(f) or 0)


def feedback_text(data: dict[str, Any], group: str) -> str:
    findings = data["findings"]
    questions = data["questions"]
    answered = sum(1 for q in questions if q["answered"])
    fix = [f for f in findings if f["severity"] == "error"]
    disagree = [f for f in findings if f.get("verdict") in DISAGREE and f["severity"] != "error"]
    seen_items: set[str] = set()
    unique_disagree = []
    for f in disagree:  # one line per checklist item, whichever stage found it
        key = f.get("checklist_item") or f"{f['code']}:{f.get('line')}"
        if key not in seen_items:
            seen_items.add(key)
            unique_disagree.append(f)
    taken = {id(f) for f in fix} | {id(f) for f in disagree}
    improve = sorted(
        (f for f in findings if id(f) not in taken and f["check"] in IMPROVE_ORDER and f["severity"] != "info"),
        key=_rank,
    )
    # at most the best suggestion per question from the LLM review
    suggestion_seen: set[int | None] = set()
    pruned = []
    for f in improve:
        if f["check"] == "llm-suggestion":
            q = primary_question(f)
            if q in suggestion_seen:
                continue
            suggestion_seen.add(q)
        pruned.append(f)

    lines = [f"# Feedback for group {md_escape(group)}", ""]
    summary = f"{answered} of {len(questions)} questions answered"
    summary += f"; {len(fix)} thing{'s' if len(fix) != 1 else ''} to fix" if fix else "; nothing that must be fixed"
    if unique_disagree:
        n = len(unique_disagree)
        summary += f"; {n} place{'s' if n != 1 else ''} where the checklist and the answers disagree"
    lines += [summary + ".", ""]
    for title, items, limit in (
        ("Fix these first", fix, MAX_FIX),
        ("Checklist and answers disagree", unique_disagree, MAX_DISAGREE),
        ("Worth improving", pruned, MAX_IMPROVE),
    ):
        if items:
            lines += [f"## {title}", "", *_lines(items, limit), ""]
    lines.append("Line numbers refer to your report file; the full list of findings is in the report page.")
    # within MAX_LINES by the section limits above (tests/test_letter.py checks it on generated reports)
    return "\n".join(lines) + "\n"
