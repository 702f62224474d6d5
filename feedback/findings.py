"""The one result type: every rule, the consistency engine and the LLM stage produce :class:`Finding` objects."""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

CODE_RE = re.compile(r"^FB\d{3}$")
CHECK_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class Category(StrEnum):
    STRUCTURE = "structure"
    LEFTOVER = "leftover"
    CONSISTENCY = "consistency"
    ANSWER = "answer"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


class Source(StrEnum):
    RULE = "rule"
    LLM = "llm"


class Verdict(StrEnum):
    CONTRADICTED = "contradicted"
    UNSUPPORTED = "unsupported"
    INTERNAL = "internal"
    MISSING_PART = "missing-part"


class Finding(BaseModel):
    """One thing wrong with a report, with where it is and verbatim evidence."""

    model_config = ConfigDict(frozen=True)

    code: str
    check: str
    category: Category
    severity: Severity
    source: Source = Source.RULE
    message: str
    line: int | None = None
    question: int | None = None
    questions: tuple[int, ...] = ()
    checklist_item: str | None = None
    checked: bool | None = None
    verdict: Verdict | None = None
    confidence: float | None = None
    evidence: tuple[str, ...] = ()

    @field_validator("code")
    @classmethod
    def _code_shape(cls, v: str) -> str:
        if not CODE_RE.match(v):
            raise ValueError(f"finding code {v!r} does not match {CODE_RE.pattern}")
        return v

    @field_validator("check")
    @classmethod
    def _check_shape(cls, v: str) -> str:
        if not CHECK_RE.match(v):
            raise ValueError(f"check name {v!r} is not kebab-case")
        return v

    def sort_key(self) -> tuple[int, int, int, str]:
        q = self.question if self.question is not None else (min(self.questions) if self.questions else -1)
        return (q, self.line or 0, self.severity.rank, self.code)

    def to_dict(self) -> dict[str, Any]:
        d = self.model_dump(mode="json")
        d["questions"] = list(self.questions) or ([self.question] if self.question is not None else [])
        d["evidence"] = list(self.evidence)
        return d


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=Finding.sort_key)


def matches(code: str, check: str, selectors: Sequence[str]) -> bool:
    """True when a selector is a prefix of the code or equals the check name (flake8-style)."""
    return any(code.startswith(s.upper()) or check == s.lower() for s in selectors)
