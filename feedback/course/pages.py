"""The course pages and CSVs written after a batch: ``index.html`` (filterable), ``checklist.html`` and
``checklist.csv`` (every checklist item across the groups), ``codes.csv`` (count of each code per group), and a short
feedback text per group (``reports/<slug>.feedback.md``, collected in ``feedback.csv`` for mail merge).

Everything is built from each report's JSON shape, one report at a time, keeping only counts and cells, and written
in pieces: the memory a course of 1,500 reports takes is its index rows and a cell per group and checklist item."""

from __future__ import annotations

import csv
import re
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

from feedback.course.letter import feedback_text
from feedback.render.csv import neutralise
from feedback.report.model import ChecklistItem, Mark

CELL_STATES = ("contradicted", "unsupported", "partial", "ticked", "unticked")
MARKS = {"contradicted": "✗", "unsupported": "?", "partial": "◩", "ticked": "✓", "unticked": "·"}
# the summary counts the index shows (the rest of a report's summary row goes to summary.csv as it is read)
INDEX_COUNTS = (
    "questions",
    "answered",
    "checklist_items",
    "checklist_ticked",
    "errors",
    "warnings",
    "contradictions",
    "screenshots_missing",
    "llm_status",
    "llm_message",
)
Opener = Callable[[Path], AbstractContextManager[IO[str]]]


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


class Cells:
    """One checklist item's cell in every group that has it: its state and the line of the item on the group's
    page, packed in one number per group (a course of 1,500 groups and 50 items has 75,000 of them)."""

    def __init__(self, columns: dict[str, int], pages: list[str]) -> None:
        self._columns = columns  # group -> its number (the first report of that name), shared by every item
        self._pages = pages  # the page of each report, by report number
        self._cells = array("q")  # by group number: -1, or (report << 35) | (line << 3) | state

    def _packed(self, group: str) -> int:
        i = self._columns.get(group, -1)
        return self._cells[i] if 0 <= i < len(self._cells) else -1

    def __contains__(self, group: object) -> bool:
        return isinstance(group, str) and self._packed(group) >= 0

    def __getitem__(self, group: str) -> tuple[str, str]:
        """(state, link to the item on the group's page)."""
        packed = self._packed(group)
        if packed < 0:
            raise KeyError(group)
        page = self._pages[packed >> 35]
        return CELL_STATES[packed & 7], f"{page}#r1-item-{(packed >> 3) & (2**32 - 1)}" if page else ""

    def __len__(self) -> int:
        return sum(1 for c in self._cells if c >= 0)

    def add(self, group: str, report: int, state: str, line: int) -> None:
        """The group's cell, unless the group already has one (an item twice in one report: the first one)."""
        i = self._columns[group]
        if i >= len(self._cells):
            self._cells.extend([-1] * (i + 1 - len(self._cells)))
        if self._cells[i] < 0:
            self._cells[i] = (report << 35) | (min(line, 2**32 - 1) << 3) | CELL_STATES.index(state)

    def count(self, state: str) -> int:
        s = CELL_STATES.index(state)
        return sum(1 for c in self._cells if c >= 0 and c & 7 == s)


@dataclass(slots=True)
class ItemRow:
    """One checklist item (matched across template eras) and its state in every group that has it."""

    key: str
    cells: Cells
    texts: Counter[str] = field(default_factory=Counter)

    @property
    def text(self) -> str:
        return self.texts.most_common(1)[0][0]

    def count(self, state: str) -> int:
        return self.cells.count(state)


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
        self._columns: dict[str, int] = {}  # group -> its number in the cells
        self._pages: list[str] = []  # page of each report added with data, by number
        self._topics = _topics_of()

    def add(
        self, group: str, report: str, page: str, data: dict[str, Any] | None, error: str, summary: dict[str, Any]
    ) -> str | None:
        """Take one report in; returns its feedback text (None when it failed)."""
        if data is None:
            self.rows.append(Row(group, report, page, "failed", error=error))
            return None
        findings = data["findings"]
        row = Row(group, report, page, "ok", data={k: summary[k] for k in INDEX_COUNTS})
        for f in findings:
            row.codes[f["code"]] += 1
            row.checks.add(f["check"])
            row.severities.add(f["severity"])
            row.categories.add(f["category"])
        row.similar = row.codes.get("FB801", 0)
        self.rows.append(row)
        self.groups.append((group, page))
        number = len(self._pages)
        self._pages.append(page)
        self._columns.setdefault(group, len(self._columns))
        verdicts: dict[str, str] = {}
        for f in findings:
            item, verdict = f.get("checklist_item"), f.get("verdict")
            if item and verdict in ("contradicted", "unsupported"):
                key = " ".join(item.split()).casefold()
                if verdicts.get(key) != "contradicted":
                    verdicts[key] = verdict
        for item in data["checklist"]:
            key = _item_key(item["text"], self._topics)
            entry = self.items.get(key)
            if entry is None:
                entry = self.items[key] = ItemRow(key, Cells(self._columns, self._pages))
            entry.texts[" ".join(item["text"].split())] += 1
            entry.cells.add(group, number, _cell_state(item, verdicts), item["line"])
        return feedback_text(data, group)

    # --- outputs ---------------------------------------------------------------------------------------------

    def codes_rows(self) -> tuple[list[str], Iterator[dict[str, Any]]]:
        codes = sorted({c for r in self.rows for c in r.codes})
        rows = ({"group": r.group, "report": r.report, **{c: r.codes.get(c, 0) for c in codes}} for r in self.rows)
        return ["group", "report", *codes], rows

    def checklist_rows(self) -> tuple[list[str], Iterator[dict[str, Any]]]:
        groups = [g for g, _p in self.groups]
        columns = ["item", "groups_with_item", *(f"n_{s}" for s in CELL_STATES), *groups]

        def rows() -> Iterator[dict[str, Any]]:
            for entry in self.ordered_items():
                yield {
                    "item": entry.text,
                    "groups_with_item": len(entry.cells),
                    **{f"n_{s}": entry.count(s) for s in CELL_STATES},
                    **{g: entry.cells[g][0] if g in entry.cells else "" for g in groups},
                }

        return columns, rows()

    def ordered_items(self) -> list[ItemRow]:
        """Most widespread items first (then by text), so the common checklist leads and one-off items trail."""
        return sorted(self.items.values(), key=lambda e: (-len(e.cells), e.text.casefold()))

    def index_rows(self) -> Iterator[dict[str, Any]]:
        for r in self.rows:
            d = r.data
            answered = Fraction(d["answered"], d["questions"]) if r.status == "ok" and d.get("questions") else None
            yield {
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

    def filters(self) -> dict[str, list[tuple[str, str]]]:
        codes = {c for r in self.rows for c in r.codes}
        names = _check_names()
        return {
            "code": [(c, f"{c} {names.get(c, '')}".strip()) for c in sorted(codes)],
            "severity": [(s, s) for s in ("error", "warning", "info") if any(s in r.severities for r in self.rows)],
            "category": sorted({(c, c) for r in self.rows for c in r.categories}),
        }

    def write(self, out: Path, opener: Opener) -> None:
        """codes.csv, checklist.csv, index.html and checklist.html, each written row by row."""
        from feedback.render.view import environment

        for name, (columns, rows) in (("codes.csv", self.codes_rows()), ("checklist.csv", self.checklist_rows())):
            with opener(out / name) as fh:
                fh.write("\ufeff")
                write_csv(fh, columns, rows)
        env = environment(html=True)
        index = env.get_template("index.html.j2").generate(
            rows=self.index_rows(), total=len(self.rows), filters=self.filters()
        )
        matrix = env.get_template("checklist.html.j2").generate(
            items=self.ordered_items(), groups=self.groups, states=CELL_STATES, marks=MARKS, total=len(self.groups)
        )
        for name, chunks in (("index.html", index), ("checklist.html", matrix)):
            with opener(out / name) as fh:
                fh.writelines(chunks)


def write_csv(fh: IO[str], columns: Iterable[str], rows: Iterable[dict[str, Any]]) -> None:
    """The header and the rows as :func:`feedback.render.csv.to_csv` writes them, straight to a file."""
    columns = list(columns)
    writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([neutralise(row.get(c)) for c in columns])


def _check_names() -> dict[str, str]:
    from feedback.checks import all_rules
    from feedback.consistency import CONSISTENCY_CHECKS
    from feedback.pipeline import COURSE_CHECKS, LLM_CHECKS

    names = {r.code: r.name for r in all_rules()}
    names.update(dict(CONSISTENCY_CHECKS))
    names.update({c: n for c, n, *_ in LLM_CHECKS})
    names.update({c: n for c, n, *_ in COURSE_CHECKS})
    return names
