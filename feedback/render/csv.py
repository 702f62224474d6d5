"""CSV output: one row per finding (``--format csv``, ``findings.csv``) and one row per report (``summary.csv``).

Rows are built from the JSON shape (``result_to_dict``). Cells that a spreadsheet would run as a formula are
neutralised with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from feedback.pipeline import Result
from feedback.render import renderer
from feedback.render.json import result_to_dict
from feedback.render.view import CATEGORIES, summarise

FINDING_COLUMNS = (
    "group",
    "report",
    "question",
    "line",
    "code",
    "check",
    "category",
    "severity",
    "source",
    "verdict",
    "checklist_item",
    "checked",
    "evidence",
    "message",
    "model",
    "prompt_version",
)
SUMMARY_COLUMNS = (
    "group",
    "report",
    "status",
    "questions",
    "answered",
    "unanswered",
    "lengths_off",
    "screenshots_missing",
    "contradictions",
    "checklist_items",
    "checklist_ticked",
    "findings",
    "errors",
    "warnings",
    "infos",
    *CATEGORIES,
    "llm_findings",
    "llm_status",
    "llm_message",
    "error",
    "page",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """The cell as text; a leading apostrophe when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([neutralise(row.get(c)) for c in columns])
    return buf.getvalue()


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def finding_rows(data: dict[str, Any], group: str, report: str) -> list[dict[str, Any]]:
    llm = data["llm"]
    rows = []
    for f in data["findings"]:
        from_llm = f["source"] == "llm"
        rows.append(
            {
                "group": group,
                "report": report,
                "question": ";".join(str(q) for q in f["questions"]),
                "line": f["line"],
                "code": f["code"],
                "check": f["check"],
                "category": f["category"],
                "severity": f["severity"],
                "source": f["source"],
                "verdict": f["verdict"],
                "checklist_item": f["checklist_item"],
                "checked": _yes_no(f["checked"]),
                "evidence": " | ".join(" ".join(e.split()) for e in f["evidence"]),
                "message": f["message"],
                "model": llm["model"] if from_llm else None,
                "prompt_version": llm["prompt_version"] if from_llm else None,
            }
        )
    return rows


def summary_row(
    data: dict[str, Any] | None, group: str, report: str, error: str = "", page: str = ""
) -> dict[str, Any]:
    """One report's counts; a report that failed gets its error and empty counts."""
    if data is None:
        return {
            **dict.fromkeys(SUMMARY_COLUMNS, ""),
            "group": group,
            "report": report,
            "status": "failed",
            "error": error,
        }
    s = summarise(data)
    return {
        "group": group,
        "report": report,
        "status": "ok",
        **{k: v for k, v in s.items() if k != "by_category"},
        **s["by_category"],
        "llm_status": data["llm"]["status"],
        "llm_message": data["llm"]["message"],
        "error": error,
        "page": page,
    }


def result_group(data: dict[str, Any]) -> str:
    return str(data["report"]["group"] or "")


@renderer("csv")
def render_csv(results: Sequence[Result]) -> str:
    rows: list[dict[str, Any]] = []
    for r in results:
        data = result_to_dict(r)
        rows.extend(finding_rows(data, result_group(data), r.source))
    return to_csv(FINDING_COLUMNS, rows)
