"""The pipeline: parse → rule checks → offline consistency → (optional) LLM review → a :class:`Result`.

Deterministic stages never depend on the LLM stage: :func:`check_report` returns a complete result on its own and
the LLM stage only adds findings to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from feedback.checks import Context, all_rules
from feedback.errors import UsageError
from feedback.findings import Category, Finding, matches, sort_findings
from feedback.report import Report, parse, read_report

if TYPE_CHECKING:
    from feedback.consistency.catalog import CatalogArg


@dataclass(slots=True)
class LLMStatus:
    """What happened in the LLM stage, shown plainly in every output."""

    status: str = "skipped"  # skipped | ok | partial | failed | estimated
    message: str = ""
    model: str | None = None
    endpoint: str | None = None  # host of the endpoint the model was asked at
    prompt_version: str | None = None
    calls: int = 0
    cached: int = 0
    failed_questions: dict[int, str] = field(default_factory=dict)
    dropped_unverified: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(slots=True)
class Result:
    report: Report
    findings: list[Finding]
    llm: LLMStatus = field(default_factory=LLMStatus)
    source: str = "<input>"
    page_dir: Path | None = None  # where its HTML page is written (batch): images are linked relative to it

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)


class Options(NamedTuple):
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    template: Report | None = None
    consistency: bool = True
    catalog: CatalogArg = None  # topic catalog for the consistency engine (default: the packaged one)

    @classmethod
    def from_args(
        cls,
        select: Sequence[str] = (),
        ignore: Sequence[str] = (),
        template: Path | str | None = None,
        catalog: CatalogArg = None,
    ) -> Options:
        """Options from command-line values: selectors validated, the blank template read and parsed."""
        sel, ign = tuple(select), tuple(ignore)
        validate_selectors(sel + ign)
        return cls(select=sel, ignore=ign, template=read_report(Path(template)) if template else None, catalog=catalog)

    def wants(self, finding: Finding) -> bool:
        return self.wants_check(finding.code, finding.check)

    def wants_check(self, code: str, name: str) -> bool:
        """Whether findings with this code and check name are kept: a stage none of whose checks are is skipped."""
        if self.select and not matches(code, name, self.select):
            return False
        return not (self.ignore and matches(code, name, self.ignore))


def validate_selectors(selectors: tuple[str, ...]) -> None:
    """Reject --select/--ignore values that match no known code prefix or check name."""
    from feedback.consistency import CONSISTENCY_CHECKS

    rules = all_rules()
    names = (
        {r.name for r in rules}
        | {name for _code, name in CONSISTENCY_CHECKS}
        | LLM_CHECK_NAMES
        | {name for _c, name, *_ in COURSE_CHECKS}
    )
    codes = [r.code for r in rules] + [code for code, _n in CONSISTENCY_CHECKS] + list(LLM_CODES)
    codes += [code for code, *_ in COURSE_CHECKS]
    for s in selectors:
        if s.lower() in names or any(c.startswith(s.upper()) for c in codes):
            continue
        raise UsageError(f"unknown check or code {s!r} in --select/--ignore (see `feedback rules`)")


# The LLM stage's codes, declared here so selectors can be validated without importing the LLM package.
LLM_CHECKS = (
    (
        "FB601",
        "llm-claim",
        "consistency",
        "A checklist item the answers contradict (verified quote) or do not back up, by the verdict table.",
    ),
    ("FB602", "llm-missing-part", "answer", "The answer skips an explicit part of what the question asks."),
    ("FB603", "llm-suggestion", "answer", "A concrete, ranked improvement tied to a verified quote."),
    ("FB604", "llm-internal", "answer", "Two answers state things that cannot both be true."),
)
LLM_SEVERITIES = {"FB601": "warning/info", "FB602": "warning", "FB603": "info", "FB604": "warning"}
LLM_CODES = tuple(code for code, *_ in LLM_CHECKS)
LLM_FINDING_KINDS = {code: (name, Category(category)) for code, name, category, _summary in LLM_CHECKS}
LLM_CHECK_NAMES = {name for _c, name, *_ in LLM_CHECKS}

# Checks across the reports of a course (feedback.course), run by `feedback batch` only.
COURSE_CHECKS = (
    ("FB801", "similar-answer", "answer", "warning", "An answer nearly the same as another group's answer."),
)


class CheckInfo(NamedTuple):
    """One row of ``feedback rules``: every stage's checks in one table, in code order."""

    code: str
    name: str
    stage: str  # rule | consistency | llm | course (batch only)
    category: str
    severity: str  # "warning/info" when it depends on the confidence
    summary: str


def check_table() -> list[CheckInfo]:
    from feedback.consistency import CONSISTENCY_CHECKS, CONSISTENCY_SUMMARIES

    rows = [CheckInfo(r.code, r.name, "rule", r.category.value, r.severity.value, r.summary) for r in all_rules()]
    for code, name in CONSISTENCY_CHECKS:
        severity, summary = CONSISTENCY_SUMMARIES[code]
        rows.append(CheckInfo(code, name, "consistency", "consistency", severity, summary))
    for code, name, category, summary in LLM_CHECKS:
        rows.append(CheckInfo(code, name, "llm", category, LLM_SEVERITIES[code], summary))
    for code, name, category, severity, summary in COURSE_CHECKS:
        rows.append(CheckInfo(code, name, "course", category, severity, f"{summary} (batch only)"))
    return sorted(rows, key=lambda c: c.code)


def check_report(report: Report, options: Options | None = None, source: str = "<input>") -> Result:
    options = options or Options()
    base_dir = report.path.parent if report.path is not None else None
    ctx = Context(report=report, template=options.template, base_dir=base_dir)
    findings: list[Finding] = []
    for r in all_rules():
        if (r.needs_template and options.template is None) or not options.wants_check(r.code, r.name):
            continue
        findings.extend(r.run(ctx))
    if options.consistency:
        from feedback.consistency import CONSISTENCY_CHECKS, analyse

        if any(options.wants_check(code, name) for code, name in CONSISTENCY_CHECKS):  # else the stage is skipped
            findings.extend(analyse(report, options.catalog))
    findings = [f for f in findings if options.wants(f)]
    return Result(report=report, findings=sort_findings(findings), source=source)


def check_file(path: Path, options: Options | None = None) -> Result:
    return check_report(read_report(path), options, source=str(path))


def check_text(text: str, options: Options | None = None) -> Result:
    return check_report(parse(text), options)
