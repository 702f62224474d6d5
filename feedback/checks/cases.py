"""Each rule's pass/fail cases (``tests/rules/<check>.toml``, shipped in the wheel as ``feedback/checks/cases``):
the tests run every case, and ``feedback rules CODE`` shows one failing and one passing example."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

PACKAGED_DIR = Path(__file__).resolve().parent / "cases"
SOURCE_DIR = Path(__file__).resolve().parents[2] / "tests" / "rules"


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    report: str
    findings: int  # how many findings the check gives on it (0: the report passes)


def cases(check: str) -> list[Case]:
    """The cases of one check, from the installed package or the source checkout; none when neither has them."""
    for folder in (PACKAGED_DIR, SOURCE_DIR):
        path = folder / f"{check}.toml"
        if path.is_file():
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            return [Case(c["name"], c["report"], len(c.get("expect", []))) for c in data.get("case", [])]
    return []


def examples(check: str) -> tuple[Case | None, Case | None]:
    """(a report the check flags, a report it passes), the first of each in the check's cases."""
    found = cases(check)
    fail = next((c for c in found if c.findings), None)
    ok = next((c for c in found if not c.findings), None)
    return fail, ok
