"""Offline consistency between the checklist and the answers (no LLM)."""

from __future__ import annotations

from feedback.findings import Finding
from feedback.report.model import Report

# (code, check name) of every consistency finding, for --select/--ignore validation
CONSISTENCY_CHECKS: tuple[tuple[str, str], ...] = ()


def analyse(report: Report) -> list[Finding]:
    return []
