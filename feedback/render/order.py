"""What to fix first, shared by every renderer: errors, then contradictions, each in report order."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

CONTRADICTION_VERDICTS = frozenset({"contradicted", "internal"})


def fix_first_rank(severity: str, verdict: str | None) -> int | None:
    """0 for an error, 1 for a contradiction (a checklist item or two statements at odds), None for the rest."""
    if severity == "error":
        return 0
    if verdict in CONTRADICTION_VERDICTS:
        return 1
    return None


def fix_first(findings: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings (as JSON dicts) to fix first, errors before contradictions, then by line."""
    ranked = [(fix_first_rank(f["severity"], f.get("verdict")), f) for f in findings]
    chosen = [(rank, f) for rank, f in ranked if rank is not None]
    return [f for _r, f in sorted(chosen, key=lambda p: (p[0], p[1].get("line") or 0, p[1]["code"]))]


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 error``, ``2 errors``; ``many`` for irregular plurals."""
    return f"{n} {word if n == 1 else many or word + 's'}"
