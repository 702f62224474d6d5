"""HTML output: one self-contained page (inline CSS, no scripts, no external assets), all report text escaped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from feedback.pipeline import Result
from feedback.render import renderer
from feedback.render.view import environment, report_view


def page_title(results: Sequence[Result]) -> str:
    if len(results) == 1:
        r = results[0].report
        return f"Feedback: {r.title or results[0].source}"
    return f"Feedback on {len(results)} reports"


@renderer("html")
def render_html(results: Sequence[Result]) -> str:
    return html_page(page_title(results), [report_view(r) for r in results])


def html_page(title: str, views: list[dict[str, Any]]) -> str:
    """The page of reports already arranged by :func:`feedback.render.view.build_view`."""
    return environment(html=True).get_template("report.html.j2").render(title=title, views=views)
