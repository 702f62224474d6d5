"""The rule registry: each rule declares its code, kebab-case name, category, severity and one-line summary once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from feedback.findings import CHECK_RE, CODE_RE, Category, Finding, Severity
from feedback.report.model import Report


class Hit(NamedTuple):
    """What a rule reports; the registry turns it into a :class:`Finding` with the rule's metadata."""

    message: str
    line: int | None = None
    question: int | None = None
    evidence: tuple[str, ...] = ()
    checklist_item: str | None = None
    checked: bool | None = None
    severity: Severity | None = None  # overrides the rule's default when set


class Context(NamedTuple):
    """What rules may look at besides the report."""

    report: Report
    template: Report | None = None
    base_dir: Path | None = None


RuleFunc = Callable[[Context], Iterable[Hit]]


class Rule(NamedTuple):
    code: str
    name: str
    category: Category
    severity: Severity
    summary: str
    func: RuleFunc
    needs_template: bool = False

    def run(self, ctx: Context) -> Iterator[Finding]:
        for hit in self.func(ctx):
            yield Finding(
                code=self.code,
                check=self.name,
                category=self.category,
                severity=hit.severity or self.severity,
                message=hit.message,
                line=hit.line,
                question=hit.question,
                questions=(hit.question,) if hit.question is not None else (),
                checklist_item=hit.checklist_item,
                checked=hit.checked,
                evidence=hit.evidence,
            )


RULES: dict[str, Rule] = {}


def rule(
    code: str, name: str, category: Category, severity: Severity, summary: str, *, needs_template: bool = False
) -> Callable[[RuleFunc], RuleFunc]:
    """Register a rule function under a stable code and name."""
    if not CODE_RE.match(code) or not CHECK_RE.match(name):
        raise ValueError(f"bad rule code/name: {code} {name}")

    def deco(func: RuleFunc) -> RuleFunc:
        if code in RULES or any(r.name == name for r in RULES.values()):
            raise ValueError(f"duplicate rule {code} {name}")
        RULES[code] = Rule(code, name, category, severity, summary, func, needs_template)
        return func

    return deco


def all_rules() -> list[Rule]:
    from feedback.checks import load_rules

    load_rules()
    return sorted(RULES.values(), key=lambda r: r.code)
