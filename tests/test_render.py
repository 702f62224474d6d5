"""Markdown, HTML and CSV renderers: what a student or TA reads, built from invented reports."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from feedback.cli import main
from feedback.findings import Category, Finding, Severity, Source, Verdict
from feedback.pipeline import LLMStatus, Result, check_text
from feedback.render import get
from feedback.render.csv import FINDING_COLUMNS, neutralise

SCRIPT = '<script>document.documentElement.setAttribute("data-xss", "ran")</script>'


def make_report(q2: str = "We used uv and a lock file so everybody had the same packages.") -> str:
    """A small invented report in the exam template's shape: checklist, four questions, one left unanswered."""
    filler = " ".join(["word"] * 20)
    return f"""# Exam report: Invented test project

## Overall project checklist

### Week 1

* [x] Create a git repository (M5)
* [x] Put the data under version control with DVC (M8)
* [ ] Use profiling to optimize the code (M12)

## Group information

### Question 1
> **Enter your group number**
>
> Answer:

7

### Question 2
> **Explain how you managed dependencies.**
>
> Recommended answer length: 5-100 words.
>
> Answer:

{q2}

### Question 3
> **Did you use DVC for managing data in your project?**
>
> Recommended answer length: 100-200 words.
>
> Answer:

We never set up DVC; the data lives in a shared folder. {filler}

### Question 4
> **How many tests did you implement?**
>
> Recommended answer length: 50-100 words.
>
> Answer:

--- question 4 fill here ---
"""


def llm_finding(**kw: object) -> Finding:
    fields: dict[str, object] = {
        "code": "FB601",
        "check": "llm-claim",
        "category": Category.CONSISTENCY,
        "severity": Severity.WARNING,
        "source": Source.LLM,
        "message": "The checklist says DVC was used but the answer says it was never set up.",
        "question": 3,
        "questions": (3,),
        "checklist_item": "Put the data under version control with DVC (M8)",
        "checked": True,
        "verdict": Verdict.CONTRADICTED,
        "evidence": ("We never set up DVC",),
    }
    fields.update(kw)
    return Finding(**fields)


def reviewed(text: str | None = None) -> Result:
    """The invented report after a (fake) LLM review that found one contradiction."""
    result = check_text(text or make_report())
    result.findings.append(llm_finding())
    result.llm = LLMStatus(status="ok", message="4 questions reviewed", model="test-model", prompt_version="q@3")
    return result


@pytest.mark.parametrize(
    ("fmt", "start"), [("markdown", "# Feedback:"), ("html", "<!DOCTYPE html>"), ("csv", "group,")]
)
def test_every_format_is_selectable_from_check(
    fmt: str, start: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.md"
    report.write_text(make_report(), encoding="utf-8")
    assert main(["check", str(report), "--format", fmt]) == 1  # question 4 is unanswered: an error finding
    out = capsys.readouterr().out
    assert out.startswith(start)
    assert "unanswered" in out


def test_html_escapes_every_piece_of_report_text() -> None:
    text = make_report(q2=f"Our setup {SCRIPT} and <img src=x onerror=alert(1)>")
    text = text.replace("Invented test project", f"Project {SCRIPT}")
    text = text.replace("Create a git repository (M5)", f"Create a {SCRIPT} git repository (M5)")
    page = get("html")([check_text(text)])
    assert "<script" not in page.lower()  # the page itself has no script, so any would be injected
    assert "<img" not in page.lower()
    # <title>, <h1>, the checklist item and the answer
    assert page.count("&lt;script&gt;document.documentElement") == 4


def test_html_page_shows_summary_checklist_and_llm_findings_apart() -> None:
    page = get("html")([reviewed()])
    counts = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", page))
    assert counts == {
        "Answered": "3 / 4",
        "Lengths off": "1",  # question 3 is short; the unanswered question 4 is not counted as a length problem
        "Screenshots missing": "0",
        "Leftovers": "0",
        "Contradictions": "1",
        "Checklist ticked": "2 / 3",
    }
    rows = re.findall(r'<tr class="([^"]*)" id="r1-item-\d+">\s*<td class="line">(\d+)</td>(.*?)</tr>', page, re.S)
    assert [(cls, line) for cls, line, _ in rows] == [("ticked", "7"), ("ticked disputed", "8"), ("unticked", "9")]
    assert "contradicted" in rows[1][2] and "(Q3)" in rows[1][2]
    q3 = page[page.index('id="r1-q3"') : page.index('id="r1-q4"')]
    assert '<li class="finding source-rule sev-warning">' in q3  # too short: a rule
    llm_part = q3[q3.index("LLM suggestions") :]
    assert '<li class="finding source-llm sev-warning">' in llm_part
    assert "<blockquote>We never set up DVC</blockquote>" in llm_part
    assert "<strong>ok</strong> · model test-model · prompt q@3 — 4 questions reviewed" in page
    q4 = page[page.index('id="r1-q4"') :]
    assert '<section class="question unanswered"' in page and "--- question 4 fill here ---" in q4


def test_markdown_draft_puts_errors_first_and_marks_llm_findings() -> None:
    draft = get("markdown")([reviewed(make_report().replace("Invented test project", SCRIPT))])
    fix = draft.index("## Fix first")
    assert draft.index("Question 4:", fix) < draft.index("## Checklist")
    assert "<script" not in draft and "&lt;script>" in draft
    table = [ln for ln in draft.splitlines() if re.match(r"\| \d+ \|", ln)]
    assert len(table) == 3
    assert "LLM: **contradicted**" in table[1] and "no disagreement found" in table[0]
    assert "- **LLM** · warning · `FB601` llm-claim" in draft
    assert "- **rule** · error · `FB201` unanswered" in draft
    assert "LLM review: **ok** (model test-model, prompt q@3)" in draft


@pytest.mark.parametrize("danger", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"])
def test_neutralise_formula_cells(danger: str) -> None:
    assert neutralise(danger) == "'" + danger
    assert neutralise("a=1") == "a=1"


def test_csv_round_trips_and_cannot_run_formulas() -> None:
    result = reviewed()
    result.findings.append(
        llm_finding(code="FB603", check="llm-suggestion", verdict=None, evidence=('=HYPERLINK("http://x")',))
    )
    result.findings.append(llm_finding(code="FB604", check="llm-internal", message='Says "a, b"\nthen c', evidence=()))
    rows = list(csv.DictReader(io.StringIO(get("csv")([result]), newline="")))
    assert list(rows[0]) == list(FINDING_COLUMNS)
    assert len(rows) == len(result.findings)
    by_code = {r["code"]: r for r in rows}
    assert by_code["FB603"]["evidence"] == '\'=HYPERLINK("http://x")'
    assert by_code["FB604"]["message"] == 'Says "a, b"\nthen c'
    llm_row, rule_row = by_code["FB601"], by_code["FB201"]
    assert (llm_row["source"], llm_row["model"], llm_row["prompt_version"], llm_row["verdict"]) == (
        "llm",
        "test-model",
        "q@3",
        "contradicted",
    )
    assert (rule_row["source"], rule_row["model"], rule_row["question"], rule_row["group"]) == ("rule", "", "4", "7")
