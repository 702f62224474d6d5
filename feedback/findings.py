"""The one result type: every rule, the consistency engine and the LLM stage produce :class:`Finding` objects."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

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


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong with a report, with where it is and verbatim evidence.

    A plain frozen dataclass: checking a report needs no validation library (pydantic stays for the LLM's JSON
    schema and the settings). Code and check name are still checked when a finding is made.
    """

    code: str
    check: str
    category: Category
    severity: Severity
    message: str
    source: Source = Source.RULE
    line: int | None = None
    question: int | None = None
    questions: tuple[int, ...] = ()
    checklist_item: str | None = None
    checked: bool | None = None
    verdict: Verdict | None = None
    confidence: float | None = None
    evidence: tuple[str, ...] = ()
    rank: int | None = None  # LLM suggestions: 1 = the best of the report

    def __post_init__(self) -> None:
        if not CODE_RE.match(self.code):
            raise ValueError(f"finding code {self.code!r} does not match {CODE_RE.pattern}")
        if not CHECK_RE.match(self.check):
            raise ValueError(f"check name {self.check!r} is not kebab-case")

    def sort_key(self) -> tuple[int, int, int, str]:
        q = self.question if self.question is not None else (min(self.questions) if self.questions else -1)
        return (q, self.line or 0, self.severity.rank, self.code)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        """A finding read back from its JSON shape (:meth:`to_dict`), e.g. from a saved report page."""
        return cls(
            code=d["code"],
            check=d["check"],
            category=Category(d["category"]),
            severity=Severity(d["severity"]),
            message=d["message"],
            source=Source(d.get("source", "rule")),
            line=d.get("line"),
            question=d.get("question"),
            questions=tuple(d.get("questions") or ()),
            checklist_item=d.get("checklist_item"),
            checked=d.get("checked"),
            verdict=Verdict(d["verdict"]) if d.get("verdict") else None,
            confidence=d.get("confidence"),
            evidence=tuple(d.get("evidence") or ()),
            rank=d.get("rank"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of a finding (keys in the documented order)."""
        return {
            "code": self.code,
            "check": self.check,
            "category": self.category.value,
            "severity": self.severity.value,
            "source": self.source.value,
            "message": self.message,
            "line": self.line,
            "question": self.question,
            "questions": list(self.questions) or ([self.question] if self.question is not None else []),
            "checklist_item": self.checklist_item,
            "checked": self.checked,
            "verdict": self.verdict.value if self.verdict is not None else None,
            "confidence": self.confidence,
            "evidence": list(self.evidence),
            "rank": self.rank,
        }


SUGGESTION_CODE = "FB603"
MAX_SHOWN_SUGGESTIONS = 8  # per report, in text, Markdown and HTML (JSON keeps every one, with its rank)
# Suggestions fill the room the other findings leave up to SHOWN_BUDGET, and the best MIN_SHOWN_SUGGESTIONS are
# always shown: a report with many problems shows those first, not eight ways to polish the answers.
SHOWN_BUDGET = 20
MIN_SHOWN_SUGGESTIONS = 3
MAX_REPEAT_LINES = 6  # lines named in a merged finding's message


def hidden_suggestions(rows: Sequence[tuple[str, int | None, int | None]], others: int = 0) -> set[int]:
    """Indexes of the suggestions a reader is not shown, from ``(code, question, rank)`` rows: all but the best
    (lowest rank) of each question, and all beyond the best ``MAX_SHOWN_SUGGESTIONS`` of the report, or beyond the
    room that ``others`` findings shown leave up to ``SHOWN_BUDGET`` (never fewer than ``MIN_SHOWN_SUGGESTIONS``)."""
    best: dict[int | None, tuple[int, int]] = {}
    for i, (code, question, rank) in enumerate(rows):
        if code == SUGGESTION_CODE:
            key = (rank if rank is not None else 10**6, i)
            if question not in best or key < best[question]:
                best[question] = key
    room = min(MAX_SHOWN_SUGGESTIONS, max(MIN_SHOWN_SUGGESTIONS, SHOWN_BUDGET - others))
    keep = {i for _r, i in sorted(best.values())[:room]}
    return {i for i, (code, _q, _r) in enumerate(rows) if code == SUGGESTION_CODE and i not in keep}


def _repeat_key(f: Finding) -> tuple[str, Severity] | None:
    """Findings with the same key are one problem repeated (the same check at the same severity, no checklist item
    and no verdict: seven image paths not found, leftover notes in three answers, five answers under the word range)
    and are shown as one, naming where else it occurs. Each question's own word and image counts stay in its
    heading, so nothing about a question is lost from view."""
    if f.code == SUGGESTION_CODE or f.checklist_item or f.verdict is not None:
        return None
    return (f.code, f.severity)


def _place(f: Finding, first: Finding) -> str | None:
    if f.question is not None and f.question != first.question:
        return f"Q{f.question}" + (f" line {f.line}" if f.line is not None else "")
    return f"line {f.line}" if f.line is not None else None


def _merged(group: Sequence[Finding]) -> Finding:
    first = group[0]
    if len(group) == 1:
        return first
    places = [p for f in group[1:] if (p := _place(f, first)) is not None]
    listed = ", ".join(places[:MAX_REPEAT_LINES]) + (", …" if len(places) > MAX_REPEAT_LINES else "")
    more = f" (and {len(group) - 1} more like it{': ' + listed if places else ''})"
    evidence = tuple(dict.fromkeys(e for f in group for e in f.evidence))[:MAX_REPEAT_LINES]
    questions = tuple(dict.fromkeys(q for f in group for q in (f.questions or (f.question,)) if q is not None))
    return replace(
        first,
        message=first.message + more,
        evidence=evidence,
        questions=questions if len(questions) > 1 else first.questions,
    )


def shown_findings(findings: Sequence[Finding]) -> list[Finding]:
    """The findings text, Markdown and HTML show, in their order: a problem repeated (on one question or several) is
    shown once (its first finding, naming where else), and the suggestions :func:`hidden_suggestions` leaves. JSON
    keeps every finding."""
    keys = [_repeat_key(f) for f in findings]
    groups: dict[tuple[str, Severity], list[Finding]] = {}
    for f, key in zip(findings, keys, strict=True):
        if key is not None:
            groups.setdefault(key, []).append(f)
    others = sum(1 for f, key in zip(findings, keys, strict=True) if f.code != SUGGESTION_CODE and key is None)
    hidden = hidden_suggestions([(f.code, f.question, f.rank) for f in findings], others + len(groups))
    out = []
    for i, (f, key) in enumerate(zip(findings, keys, strict=True)):
        if key is not None:
            if groups[key][0] is f:
                out.append(_merged(groups[key]))
        elif i not in hidden:
            out.append(f)
    return out


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=Finding.sort_key)


def matches(code: str, check: str, selectors: Sequence[str]) -> bool:
    """True when a selector is a prefix of the code or equals the check name (flake8-style)."""
    return any(code.startswith(s.upper()) or check == s.lower() for s in selectors)
