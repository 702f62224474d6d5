"""``--format github``: GitHub Actions workflow commands, so each finding annotates the report's line in the diff.

:func:`step_summary` is the short Markdown table the CLI appends to ``$GITHUB_STEP_SUMMARY`` when it is set.
"""

from __future__ import annotations

from collections.abc import Sequence

from feedback.pipeline import Result
from feedback.render import renderer
from feedback.render.concise import position
from feedback.render.order import fix_first_rank, plural

LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _data(text: str) -> str:
    """Escape a workflow command's message (GitHub's own rules: %, CR and LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    """Escape a workflow command's property value (also ``:`` and ``,``, which separate properties)."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")


@renderer("github")
def render_github(results: Sequence[Result]) -> str:
    out = []
    for result in results:
        for f in result.findings:
            line, col = position(result, f)
            props = f"file={_prop(result.source)},line={line},col={col},title={_prop(f'{f.code} {f.check}')}"
            message = f.message + "".join(f'\n> "{q}"' for q in f.evidence if q and q not in f.message)
            out.append(f"::{LEVEL[f.severity]} {props}::{_data(message)}\n")
    return "".join(out)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def step_summary(results: Sequence[Result]) -> str:
    """A Markdown table per run: each report's counts and what to fix first."""
    lines = ["### feedback", "", "| report | answered | errors | warnings | fix first |", "|---|---|---|---|---|"]
    for r in results:
        answered = sum(q.answered for q in r.report.questions)
        errors = sum(1 for f in r.findings if f.severity == "error")
        warnings = sum(1 for f in r.findings if f.severity == "warning")
        ranked = [(fix_first_rank(f.severity, f.verdict), f) for f in r.findings]
        first = [f for rank, f in sorted((p for p in ranked if p[0] is not None), key=lambda p: p[0] or 0)]
        todo = "<br>".join(_cell(f"{f.code} line {f.line or '-'}: {f.message}")[:200] for f in first[:5])
        if len(first) > 5:
            todo += f"<br>… and {plural(len(first) - 5, 'more', 'more')}"
        counts = f"{answered}/{len(r.report.questions)} | {errors} | {warnings}"
        lines.append(f"| `{_cell(r.source)}` | {counts} | {todo or 'nothing'} |")
    return "\n".join(lines) + "\n\n"
