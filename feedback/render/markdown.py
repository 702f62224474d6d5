"""Markdown output: a feedback draft a student can act on, most important first, question by question."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from feedback.pipeline import Result
from feedback.render import renderer
from feedback.render.view import environment, report_view


@renderer("markdown")
def render_markdown(results: Sequence[Result]) -> str:
    return markdown_draft([report_view(r) for r in results])


def markdown_draft(views: list[dict[str, Any]]) -> str:
    """The draft of reports already arranged by :func:`feedback.render.view.build_view`."""
    text = environment(html=False).get_template("report.md.j2").render(views=views)
    # collapse the blank-line runs left by template blocks so the draft reads cleanly
    lines: list[str] = []
    for line in text.splitlines():
        if line.strip() or (lines and lines[-1].strip()):
            lines.append(line.rstrip())
    return "\n".join(lines).strip("\n") + "\n"
