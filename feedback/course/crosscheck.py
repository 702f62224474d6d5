"""Checks across the reports of a course, run once every report is checked: today, answers copied between groups.

Their findings go into the pages of the reports they concern. A report's saved findings (LLM ones included) are
kept; only the course-stage findings are replaced, so a rerun that finds the same pairs rewrites nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from feedback.course import similar
from feedback.findings import Category, Finding, Severity, sort_findings
from feedback.report import read_report

if TYPE_CHECKING:
    from feedback.course.runner import Outcome
    from feedback.pipeline import Options, Result

COURSE_CODES = frozenset({similar.CODE})


@dataclass(slots=True)
class Wanted:
    """The course-stage findings each report should carry, by report slug."""

    codes: frozenset[str] = COURSE_CODES
    findings: dict[str, list[Finding]] = field(default_factory=dict)


def enabled(options: Options) -> bool:
    """Whether the course stage is selected."""
    probe = Finding(
        code=similar.CODE, check=similar.CHECK, category=Category.ANSWER, severity=Severity.WARNING, message=""
    )
    return options.wants(probe)


def across_groups(
    outcomes: Sequence[Outcome], options: Options, quoted: Callable[[str], dict[str, str]] | None = None
) -> Wanted:
    """The course-stage findings; ``quoted`` gives a report's answer quotes by slug (else reports are re-read)."""
    done = [o for o in outcomes if o.ok]
    if len(done) < 2 or not enabled(options):
        return Wanted()
    by_slug = {o.entry.slug: o for o in done}
    per_report = [
        (o.entry.slug, o.entry.group or o.entry.name, [similar.Sketch.from_list(s) for s in o.sketches]) for o in done
    ]
    load = lambda slug: read_report(by_slug[slug].entry.path)  # noqa: E731
    return Wanted(findings=similar.find_similar(per_report, load, quoted))


def restore(result: Result, data: dict[str, Any], extra: list[Finding], codes: frozenset[str]) -> None:
    """Give a freshly parsed result the findings and LLM status saved in ``data``, course findings replaced."""
    kept = [Finding.from_dict(f) for f in data.get("findings", []) if f.get("code") not in codes]
    result.findings = sort_findings(kept + list(extra))
    llm = data.get("llm") or {}
    for name in ("status", "message", "model", "prompt_version", "calls", "cached", "dropped_unverified"):
        if name in llm:
            setattr(result.llm, name, llm[name])
    result.llm.failed_questions = {int(k): v for k, v in (llm.get("failed_questions") or {}).items()}
