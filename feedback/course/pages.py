"""The course pages and CSVs written after a batch: ``index.html`` (filterable), ``checklist.html`` and
``checklist.csv`` (every checklist item across the groups), ``codes.csv`` (count of each code per group), and a short
feedback text per group (``reports/<slug>.feedback.md``, collected in ``feedback.csv`` for mail merge).

Everything is built from each report's JSON shape, one report at a time, keeping only counts and cells."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from feedback.course.letter import feedback_text
from feedback.report.model import ChecklistItem, Mark

CELL_STATES = ("contradicted", "unsupported", "partial", "ticked", "unticked")
MARKS = {"contradicted": "✗", "unsupported": "?", "partial": "◩", "ticked": "✓", "unticked": "·"}


@dataclass(slots=True)
class Row:
    """One report on the index."""

    group: str
    report: str
    page: str
    status: str
    data: dict[str, Any] = field(default_factory=dict)  # the summary counts (empty when the report failed)
    error: str = ""
    codes: Counter[str] = field(default_factory=Counter)
    checks: set[str] = field(default_factory=set)
    severities: set[str] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)
    similar: int = 0


@dataclass(slots=True)
class ItemRow:
    """One checklist item (matched across template eras) and its state in every group that has it."""

    key: str
    texts: Counter[str] = field(default_factory=Counter)
    cells: dict[str, tuple[str, str]] = field(default_factory=dict)  # group -> (state, link)

    @property
    def text(self) -> str:
        return self.texts.most_common(1)[0][0]

    def count(self, state: str) -> int:
        return sum(1 for s, _ in self.cells.values() if s == state)


def _item_key(text: str, topics_of: Callable[[str], tuple[str, ...]]) -> str:
    topics = topics_of(text)
    if topics:
        return "topics:" + "+".join(sorted(topics))
    return "text:" + re.sub(r"\W+", " ", re.sub(r"\(M\d+[^)]*\)", "", text)).strip().casefold()


def _topics_of() -> Callable[[str], tuple[str, ...]]:
    from feedback.consistency import load_catalog

    catalog = load_catalog()
    memo: dict[str, tuple[str, ...]] = {}

    def topics(text: str) -> tuple[str, ...]:
        if text not in memo:
            item = ChecklistItem(line=0, text=text, mark="x", state=Mark.CHECKED, section=None, module=None)
            memo[text] = tuple(t.id for t in catalog.topics_for_item(item))
        return memo[text]

    return topics


def _cell_state(item: dict[str, Any], verdicts: dict[str, str]) -> str:
    verdict = verdicts.get(" ".join(item["text"].split()).casefold())
    if verdict in ("contradicted", "unsupported"):
        return verdict
    return "partial" if item["state"] == "partial" else ("ticked" if item["checked"] else "unticked")


class Course:
    """Collects what the course pages need from each report, then writes them."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.items: dict[str, ItemRow] = {}
        self.groups: list[tuple[str, str]] = []  # (group, page) in report order, for the matrix columns
        self.letters: list[tuple[str, str, str]] = []  # (group, report, text)
        self._topics = _topics_of()

    def add(
        self, group: str, report: str, page: str, data: dict[str, Any] | None, error: str, summary: dict[str, Any]
    ) -> str:
        """Take one report in; returns its feedback text ('' when it failed)."""
        if data is None:
            self.rows.append(Row(group, report, page, "failed", error=error))
            return ""
        findings = data["findings"]
        row = Row(group, report, page, "ok", data=summary)
        for f in findings:
            row.codes[f["code"]] += 1
            row.checks.add(f["check"])
            row.severities.add(f["severity"])
            row.categories.add(f["category"])
        row.similar = row.codes.get("FB801", 0)
        self.rows.append(row)
        self.groups.append((group, page))
        verdicts: dict[str, str] = {}
        for f in findings:
            item, verdict = f.get("checklist_item"), f.get("verdict")
            if item and verdict in ("contradicted", "unsupported"):
                key = " ".join(item.split()).casefold()
                if verdicts.get(key) != "contradicted":
                    verdicts[key] = verdict
        for item in data["checklist"]:
            key = _item_key(item["text"], self._topics)
            entry = self.items.setdefault(key, ItemRow(key))
            entry.texts[" ".join(item["text"].split())] += 1
            if group not in entry.cells:  # an item twice in one report: the first one
                entry.cells[group] = (_cell_state(item, verdicts), f"{page}#r1-item-{item['line']}" if page else "")
        text = feedback_text(data, group)
        self.letters.append((group, report, text))
        return text

    # --- outputs ---------------------------------------------------------------------------------------------

    def codes_rows(self) -> tuple[list[str], list[dict[str, Any]]]:
        codes = sorted({c for r in self.rows for c in r.codes})
        rows = [{"group": r.group, "report": r.report, **{c: r.codes.get(c, 0) for c in codes}} for r in self.rows]
        return ["group", "report", *codes], rows

    def checklist_rows(self) -> tuple[list[str], list[dict[str, Any]]]:
        groups = [g for g, _p in self.groups]
        columns = ["item", "groups_with_item", *(f"n_{s}" for s in CELL_STATES), *groups]
        rows = []
        for entry in self.ordered_items():
            rows.append(
                {
                    "item": entry.text,
                    "groups_with_item": len(entry.cells),
                    **{f"n_{s}": entry.count(s) for s in CELL_STATES},
                    **{g: entry.cells[g][0] if g in entry.cells else "" for g in groups},
                }
            )
        return columns, rows

    def ordered_items(self) -> list[ItemRow]:
        """Most widespread items first (then by text), so the common checklist leads and one-off items trail."""
        return sorted(self.items.values(), key=lambda e: (-len(e.cells), e.text.casefold()))

    def index_rows(self) -> list[dict[str, Any]]:
        out = []
        for r in self.rows:
            d = r.data
            answered = Fraction(d["answered"], d["questions"]) if r.status == "ok" and d.get("questions") else None
            out.append(
                {
                    "group": r.group,
                    "report": r.report,
                    "page": r.page,
                    "status": r.status,
                    "error": r.error,
                    "answered": f"{d['answered']}/{d['questions']}" if r.status == "ok" else "",
                    "answered_sort": f"{float(answered):.4f}" if answered is not None else "-1",
                    "ticked": f"{d['checklist_ticked']}/{d['checklist_items']}" if r.status == "ok" else "",
                    "ticked_sort": d.get("checklist_ticked", -1) if r.status == "ok" else -1,
                    **{k: d.get(k, "") for k in ("errors", "warnings", "contradictions", "screenshots_missing")},
                    "similar": r.similar if r.status == "ok" else "",
                    "llm_status": d.get("llm_status", ""),
                    "llm_message": d.get("llm_message", ""),
                    "codes": " ".join(sorted(r.codes)),
                    "checks": " ".join(sorted(r.checks)),
                    "severities": " ".join(sorted(r.severities)),
                    "categories": " ".join(sorted(r.categories)),
                }
            )
        return out

    def filters(self) -> dict[str, list[tuple[str, str]]]:
        codes = {c for r in self.rows for c in r.codes}
        names = _check_names()
        return {
            "code": [(c, f"{c} {names.get(c, '')}".strip()) for c in sorted(codes)],
            "severity": [(s, s) for s in ("error", "warning", "info") if any(s in r.severities for r in self.rows)],
            "category": sorted({(c, c) for r in self.rows for c in r.categories}),
        }

    def write(
        self,
        out: Path,
        write: Callable[[Path, str], None],
        to_csv: Callable[..., str],
    ) -> None:
        from feedback.render.view import environment

        columns, rows = self.codes_rows()
        write(out / "codes.csv", "\ufeff" + to_csv(columns, rows))
        columns, rows = self.checklist_rows()
        write(out / "checklist.csv", "\ufeff" + to_csv(columns, rows))
        letters = [{"group": g, "report": r, "text": t} for g, r, t in self.letters]
        write(out / "feedback.csv", "\ufeff" + to_csv(["group", "report", "text"], letters))
        env = environment(html=True)
        index = env.get_template("index.html.j2").render(
            rows=self.index_rows(), total=len(self.rows), filters=self.filters()
        )
        write(out / "index.html", index)
        matrix = env.get_template("checklist.html.j2").render(
            items=self.ordered_items(), groups=self.groups, states=CELL_STATES, marks=MARKS, total=len(self.groups)
        )
        write(out / "checklist.html", matrix)


def _check_names() -> dict[str, str]:
    from feedback.checks import all_rules
    from feedback.consistency import CONSISTENCY_CHECKS
    from feedback.pipeline import COURSE_CHECKS, LLM_CHECKS

    names = {r.code: r.name for r in all_rules()}
    names.update(dict(CONSISTENCY_CHECKS))
    names.update({c: n for c, n, *_ in LLM_CHECKS})
    names.update({c: n for c, n, *_ in COURSE_CHECKS})
    return names
