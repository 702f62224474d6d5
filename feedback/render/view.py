"""The view model shared by the Markdown, HTML and CSV renderers, built on the JSON shape (``result_to_dict``).

Everything here works on that dict, so a batch can rebuild summaries from a report's JSON without re-running the
checks. :func:`report_view` adds what only the parsed report knows (answer text, image paths) for the pages.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import jinja2

from feedback.console import clean
from feedback.findings import Finding, Severity, shown_findings
from feedback.pipeline import Result
from feedback.render.json import result_to_dict
from feedback.render.order import fix_first, plural
from feedback.report.model import Image

LENGTH_CHECKS = frozenset({"too-short", "too-long"})
IMAGE_CHECKS = frozenset({"missing-images"})
CATEGORIES = ("structure", "answer", "leftover", "consistency")


def primary_question(f: dict[str, Any]) -> int | None:
    """The question a finding is shown under: its own, else the first one it spans."""
    if f.get("question") is not None:
        return int(f["question"])
    qs = f.get("questions") or []
    return min(int(q) for q in qs) if qs else None


def importance(f: dict[str, Any]) -> tuple[int, int, int, str]:
    """Most important first: errors before warnings before notes, then by line."""
    return (Severity(f["severity"]).rank, 0 if f["source"] == "rule" else 1, f.get("line") or 0, f["code"])


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def summarise(data: dict[str, Any]) -> dict[str, Any]:
    """The counts shown at the top of a report page and in ``summary.csv``."""
    findings = data["findings"]
    questions = data["questions"]

    def questions_with(checks: frozenset[str]) -> int:
        return len({primary_question(f) for f in findings if f["check"] in checks})

    by_category = {c: sum(1 for f in findings if f["category"] == c) for c in CATEGORIES}
    return {
        "questions": len(questions),
        "answered": sum(1 for q in questions if q["answered"]),
        "unanswered": sum(1 for q in questions if not q["answered"]),
        "lengths_off": questions_with(LENGTH_CHECKS),
        "screenshots_missing": questions_with(IMAGE_CHECKS),
        "leftovers": by_category["leftover"],
        # contradicted checklist items (a rule and the LLM flagging the same item count once), plus internal ones
        "contradictions": len(
            {
                f.get("checklist_item") or (f["code"], f["line"])
                for f in findings
                if f.get("verdict") in ("contradicted", "internal")
            }
        ),
        "checklist_items": data["report"]["checklist_items"],
        "checklist_ticked": data["report"]["checklist_checked"],
        "findings": len(findings),
        "errors": sum(1 for f in findings if f["severity"] == "error"),
        "warnings": sum(1 for f in findings if f["severity"] == "warning"),
        "infos": sum(1 for f in findings if f["severity"] == "info"),
        "llm_findings": sum(1 for f in findings if f["source"] == "llm"),
        "by_category": by_category,
    }


def _range(lo: int | None, hi: int | None) -> str:
    if lo is None and hi is None:
        return ""
    if hi is None:
        return f"at least {lo}"
    if lo is None or lo == 0:
        return f"at most {hi}"
    return f"{lo}–{hi}"


def _outside(value: int, lo: int | None, hi: int | None) -> bool:
    return (lo is not None and value < lo) or (hi is not None and value > hi)


def build_view(
    data: dict[str, Any], extras: dict[int, dict[str, Any]] | None = None, index: str | None = None
) -> dict[str, Any]:
    """Arrange one report's dict for the templates: summary, checklist rows, questions with their findings."""
    extras = extras or {}
    # what a reader is shown (feedback.findings.shown_findings): a problem repeated anywhere once, the best
    # suggestion per question and at most 8 per report; JSON keeps them all, with their rank
    shown = shown_findings([Finding.from_dict(f) for f in data["findings"]])
    findings = sorted((f.to_dict() for f in shown), key=importance)
    item_findings: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        if f.get("checklist_item") and f["check"] != "leftover-note":
            item_findings.setdefault(_norm(f["checklist_item"]), []).append(f)
    checklist = [{**item, "findings": item_findings.get(_norm(item["text"]), [])} for item in data["checklist"]]
    by_question: dict[int | None, list[dict[str, Any]]] = {}
    for f in findings:
        by_question.setdefault(primary_question(f), []).append(f)
    known = {q["number"] for q in data["questions"]}
    questions = []
    for q in data["questions"]:
        fs = by_question.get(q["number"], [])
        words_range = _range(q["min_words"], q["max_words"])
        images_range = _range(q["min_images"], q["max_images"])
        questions.append(
            {
                **q,
                "answer_text": "",
                "answer_line": None,
                "image_srcs": [],
                "figures": [],
                **extras.get(q["number"], {}),
                "words_range": words_range,
                "words_off": q["answered"] and _outside(q["words"], q["min_words"], q["max_words"]),
                "images_range": images_range,
                "images_off": _outside(q["images"], q["min_images"], q["max_images"]),
                "rule_findings": [f for f in fs if f["source"] == "rule"],
                "llm_findings": [f for f in fs if f["source"] != "rule"],
            }
        )
    # findings about the report as a whole, or about a question number the report does not have
    general = [f for key, fs in by_question.items() if key is None or key not in known for f in fs]
    return {
        "data": data,
        "report": data["report"],
        "summary": summarise(data),
        "checklist": checklist,
        "questions": questions,
        "general": sorted(general, key=importance),
        "fix_first": fix_first(findings),  # errors, then contradictions
        "llm": data["llm"],
        "index": index,  # the course index, on a batch page
    }


def _figure(image: Image, report_dir: Path | None, page_dir: Path | None) -> dict[str, Any]:
    """How a page shows one image: a link relative to the page when the file is inside the group's repository
    (the report's folder and the one above it), else a note saying why it is not shown."""
    src = image.src
    if re.match(r"^[a-z][a-z0-9+.-]*:", src, re.IGNORECASE) or src.startswith("//"):
        link = src if re.match(r"^https?://", src, re.IGNORECASE) else None
        return {"src": image.written, "href": None, "link": link, "note": "external image, not loaded"}
    if report_dir is None or page_dir is None:
        return {"src": image.written, "href": None, "link": None, "note": ""}
    path = unquote(src.split("#", 1)[0].split("?", 1)[0])
    try:
        target = (report_dir / path).resolve()
        root = report_dir.resolve().parent
        inside = target.is_relative_to(root)
        exists = inside and target.is_file()
    except (OSError, ValueError):
        return {"src": image.written, "href": None, "link": None, "note": "file not found"}
    if not inside:
        return {"src": image.written, "href": None, "link": None, "note": "outside the group's folder, not shown"}
    if not exists:
        return {"src": image.written, "href": None, "link": None, "note": "file not found"}
    href = quote(Path(os.path.relpath(target, page_dir.resolve())).as_posix())
    return {"src": image.written, "href": href, "link": None, "note": ""}


def report_extras(result: Result) -> dict[int, dict[str, Any]]:
    """Per question: the answer as typed and its images (not part of the JSON shape)."""
    report_dir = result.report.path.parent if result.report.path is not None else None
    return {
        q.number: {
            "answer_text": q.answer.text.strip("\n"),
            "answer_line": q.answer.first_line,
            "image_srcs": [i.src for i in q.answer.images],
            "figures": [_figure(i, report_dir, result.page_dir) for i in q.answer.images],
        }
        for q in result.report.questions
    }


def report_view(result: Result, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The arrangement every renderer shows; ``data`` is the result's JSON shape when the caller already has it."""
    index = "../index.html" if result.page_dir is not None else None
    return build_view(data if data is not None else result_to_dict(result), report_extras(result), index)


TEMPLATES = Path(__file__).resolve().parent / "templates"


@cache
def environment(html: bool) -> jinja2.Environment:
    """The template environment: autoescape for HTML; Markdown escapes report text with the ``md`` filter."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
    )
    env.filters["md"] = md_escape
    env.filters["md_code"] = md_code
    env.filters["plural"] = plural
    return env


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\[]`*_!"} | {"<": "&lt;", "|": "\\|"})


def md_escape(value: object) -> str:
    """Report text inside Markdown: one line, shown as typed. No raw HTML, and no link or image can form from it
    (brackets escaped), so ``[x](javascript:...)``, ``data:`` links and external images in a report stay text."""
    text = " ".join(clean(str(value)).split())
    return text.translate(_MD_SPECIAL)


def md_code(value: object) -> str:
    """A path or name as a Markdown code span that its own backticks cannot close."""
    text = " ".join(clean(str(value)).split())
    longest = max((len(run) for run in re.findall(r"`++", text)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {text} {fence}" if longest else f"{fence}{text}{fence}"
