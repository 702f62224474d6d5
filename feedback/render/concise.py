"""``--format concise``: one ``path:line:col: CODE message`` line per finding, like ruff and flake8."""

from __future__ import annotations

from collections.abc import Sequence

from feedback.findings import Finding
from feedback.pipeline import Result
from feedback.render import renderer


def position(result: Result, f: Finding) -> tuple[int, int]:
    """(line, column), 1-based: the column of the first quote on the line, else 1; report-wide findings at 1:1."""
    if not f.line:
        return 1, 1
    text = result.report.line_text(f.line)
    for quote in f.evidence:
        at = text.find(quote) if quote else -1
        if at >= 0:
            return f.line, at + 1
    return f.line, 1


def one_line(text: str) -> str:
    return " ".join(text.split())


@renderer("concise")
def render_concise(results: Sequence[Result]) -> str:
    lines = []
    for result in results:
        for f in result.findings:
            line, col = position(result, f)
            lines.append(f"{result.source}:{line}:{col}: {f.code} [{f.severity}] {one_line(f.message)}")
    return "".join(line + "\n" for line in lines)
