"""``--format sarif``: SARIF 2.1.0 (code-scanning upload, editors): every check as a rule, every finding a result
with its level, location (line, column, the quoted text) and evidence. Validated against the schema in tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from feedback import __version__
from feedback.pipeline import Result, check_table
from feedback.render import renderer
from feedback.render.concise import position

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _uri(source: str) -> str:
    """A URI reference for the report: relative paths stay relative (to the working directory), absolute get file:."""
    path = Path(source)
    if path.is_absolute():
        return path.as_uri()
    return quote(path.as_posix())


def _rules() -> list[dict[str, Any]]:
    return [
        {
            "id": c.code,
            "name": c.name,
            "shortDescription": {"text": c.summary},
            "defaultConfiguration": {"level": LEVEL.get(c.severity.split("/")[0], "warning")},
            "properties": {"category": c.category, "stage": c.stage, "severity": c.severity},
        }
        for c in check_table()
    ]


def _result(result: Result, f: Any, index: dict[str, int]) -> dict[str, Any]:
    line, col = position(result, f)
    region: dict[str, Any] = {"startLine": line, "startColumn": col}
    if f.line and f.evidence and f.evidence[0] in result.report.line_text(f.line):
        region["endColumn"] = col + len(f.evidence[0])
        region["snippet"] = {"text": f.evidence[0]}
    props: dict[str, Any] = {"check": f.check, "category": f.category.value, "source": f.source.value}
    for key, value in (
        ("evidence", list(f.evidence)),
        ("questions", list(f.questions) or ([f.question] if f.question is not None else [])),
        ("checklistItem", f.checklist_item),
        ("checked", f.checked),
        ("verdict", f.verdict.value if f.verdict else None),
        ("confidence", f.confidence),
    ):
        if value not in (None, []):
            props[key] = value
    out: dict[str, Any] = {
        "ruleId": f.code,
        "level": LEVEL[f.severity],
        "message": {"text": f.message},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(result.source)}, "region": region}}],
        "properties": props,
    }
    if f.code in index:
        out["ruleIndex"] = index[f.code]
    return out


def to_sarif(results: Sequence[Result]) -> dict[str, Any]:
    rules = _rules()
    index = {r["id"]: i for i, r in enumerate(rules)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "feedback", "version": __version__, "rules": rules}},
                "results": [_result(r, f, index) for r in results for f in r.findings],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


@renderer("sarif")
def render_sarif(results: Sequence[Result]) -> str:
    return json.dumps(to_sarif(results), indent=2, ensure_ascii=False) + "\n"
