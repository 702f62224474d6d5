"""HTML output: one self-contained page (inline CSS, no scripts, no external assets), all report text escaped."""

from __future__ import annotations

from collections.abc import Sequence

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
    template = environment(html=True).get_template("report.html.j2")
    return template.render(title=page_title(results), views=[report_view(r) for r in results])
