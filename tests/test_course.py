"""Course-level checks across groups: answers copied between groups (FB801) in a batch of invented reports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from feedback.course.runner import run_batch
from tests.conftest import CORPUS

PROMPT = """### Question {n}
> **Describe how you {topic}.**
>
> Recommended answer length: 50-150 words.
>
> Example:
> *We relied on ... to {topic} and we checked ... every time a change was merged into the main branch of the repo.*
>
> Answer:
"""

COPIED = (
    "Our pipeline starts with a nightly job that pulls the raw sensor files from the shared bucket, removes broken "
    "rows, resamples every series to one reading per minute and stores the cleaned tables as parquet files. A second "
    "job trains the gradient boosted model on the last ninety days, logs the metrics to our tracking server and "
    "promotes the model only when the validation error beats the current one by at least two percent."
)
OWN = [
    "We train a small convolutional network on spectrogram images that a preprocessing script renders from the audio "
    "clips. Training runs inside a container on a rented GPU machine, and the evaluation notebook compares each new "
    "checkpoint with the previous best one before we tag a release and upload it to the registry for the demo app.",
    "Data arrives as scanned invoices. An OCR step turns them into text, a rule based parser extracts amounts and "
    "dates, and the classifier assigns each invoice to a cost centre. We retrain it weekly from corrected labels "
    "that the finance team exports from their review tool, and keep every trained version with its data hash.",
]
SHARED_TEMPLATE_ANSWER = (
    "We relied on pytest to build our pipeline and we checked linting every time a change was merged into the main "
    "branch of the repo."
)


def _report(answer3: str, answer4: str) -> str:
    return (
        "# Exam report\n\n"
        + PROMPT.format(n=3, topic="build your pipeline")
        + "\n"
        + answer3
        + "\n\n"
        + PROMPT.format(n=4, topic="build your pipeline")
        + "\n"
        + answer4
        + "\n"
    )


def _findings(out: Path, slug: str) -> list[dict[str, object]]:
    data = json.loads((out / "reports" / f"{slug}.json").read_text(encoding="utf-8"))
    return [f for f in data["findings"] if f["code"] == "FB801"]


def test_planted_copy_is_found_in_both_groups_and_nowhere_else(tmp_path: Path) -> None:
    src = tmp_path / "course"
    for group, a3 in (("alpha", COPIED), ("beta", COPIED.replace("nightly", "daily")), ("gamma", OWN[0])):
        (src / group / "reports").mkdir(parents=True)
        a4 = SHARED_TEMPLATE_ANSWER if group != "gamma" else OWN[1]
        (src / group / "reports" / "README.md").write_text(_report(a3, a4), encoding="utf-8")
    out = tmp_path / "out"
    summary, _notice = run_batch(str(src), out, jobs=1, progress=False)
    assert not summary.failed
    slugs = {o.entry.group: o.entry.slug for o in summary.outcomes}
    alpha, beta, gamma = (_findings(out, slugs[g]) for g in ("alpha", "beta", "gamma"))
    # the copied Q3 is reported once in each of the two groups, naming the other and quoting both answers
    assert [f["question"] for f in alpha] == [3] and [f["question"] for f in beta] == [3]
    assert "beta" in str(alpha[0]["message"]) and "alpha" in str(beta[0]["message"])
    assert alpha[0]["evidence"] and str(alpha[0]["evidence"][0]).startswith("Our pipeline starts with a nightly")
    assert "Our pipeline starts with a daily" in str(alpha[0]["message"])
    # the Q4 answers are the prompt's example filled in alike: template text never counts as copying
    assert gamma == []
    assert "FB801" in (out / "findings.csv").read_text(encoding="utf-8")

    # a rerun finds the same pair and rewrites nothing; ignoring the check removes it everywhere
    before = {p.name: p.read_bytes() for p in (out / "reports").iterdir()}
    run_batch(str(src), out, jobs=1, progress=False)
    assert before == {p.name: p.read_bytes() for p in (out / "reports").iterdir()}


def test_ignoring_the_check_skips_it(tmp_path: Path) -> None:
    from feedback.pipeline import Options

    src = tmp_path / "course"
    for group in ("alpha", "beta"):
        (src / group).mkdir(parents=True)
        (src / group / "README.md").write_text(_report(COPIED, OWN[0]), encoding="utf-8")
    out = tmp_path / "out"
    summary, _ = run_batch(str(src), out, Options(ignore=("FB8",)), jobs=1, progress=False)
    assert all(_findings(out, o.entry.slug) == [] for o in summary.outcomes)
    # without the course stage no report's answers are sketched for it
    kept = [json.loads(p.read_bytes()) for p in (out / ".cache").glob("*.sketch.json")]
    assert len(kept) == 2 and all(k == {"sketches": [], "quotes": {}} for k in kept)
    # a later run that selects it into the same folder checks the reports again and finds the copy
    summary, _ = run_batch(str(src), out, jobs=1, progress=False)
    assert all([f["question"] for f in _findings(out, o.entry.slug)] == [3, 4] for o in summary.outcomes)


def test_course_pages_and_csvs(tmp_path: Path) -> None:
    src = tmp_path / "course"
    answers = {"alpha": (COPIED, OWN[0]), "beta": (COPIED, OWN[1]), "gamma": ("", OWN[0][:60])}
    for group, (a3, a4) in answers.items():
        (src / group).mkdir(parents=True)
        checklist = (
            "## Checklist\n\n* [x] Put the data under version control with DVC (M8)\n"
            "* [ ] Deploy the model on Cloud Run (M23)\n\n"
        )
        if group == "gamma":  # another template era words the item differently, and leaves the second out
            checklist = "## Checklist\n\n* [ ] Setup version control for your data\n\n"
        (src / group / "README.md").write_text(checklist + _report(a3, a4), encoding="utf-8")
    out = tmp_path / "out"
    run_batch(str(src), out, jobs=1, progress=False)

    codes = (out / "codes.csv").read_text(encoding="utf-8-sig").splitlines()
    header = codes[0].split(",")
    assert header[:2] == ["group", "report"] and "FB801" in header and "FB201" in header
    gamma = dict(zip(header, next(r for r in codes if r.startswith("gamma")).split(","), strict=True))
    assert gamma["FB201"] == "1" and gamma["FB801"] == "0"

    # the DVC item is one row across both wordings; the Cloud Run item only where it exists
    matrix = (out / "checklist.csv").read_text(encoding="utf-8-sig").splitlines()
    assert matrix[0].startswith("item,groups_with_item,n_contradicted,n_unsupported,n_partial,n_ticked,n_unticked")
    dvc = next(r for r in matrix if "DVC" in r or "version control" in r)
    assert dvc.split(",")[1:7] == ["3", "0", "0", "0", "2", "1"]
    assert dvc.endswith(",ticked,ticked,unticked")
    cloud = next(r for r in matrix if "Cloud Run" in r)
    assert cloud.endswith(",unticked,unticked,")

    # a short feedback text per group, collected for mail merge; the copied answer is among its points
    alpha = next((out / "reports").glob("alpha*.feedback.md")).read_text(encoding="utf-8")
    assert alpha.startswith("# Feedback for group alpha") and len(alpha.splitlines()) <= 40
    assert "nearly the same as group beta" in alpha
    assert "feedback.csv" in (out / "index.html").read_text(encoding="utf-8")
    assert (out / "feedback.csv").read_text(encoding="utf-8-sig").startswith("group,report,text")

    # the index sorts "answered" as a fraction and carries what its filters need
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'data-sort="0.5000">1/2</td>' in index and 'data-sort="1.0000">2/2</td>' in index
    assert (
        re.search(r'data-codes="[^"]*FB201', index) and '<option value="FB801">FB801 similar-answer</option>' in index
    )


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside the project")
def test_corpus_course(tmp_path: Path) -> None:
    """The 44 real reports: every feedback text fits 40 lines, and the only copied answer found is the one read by
    hand (a 2025 report reusing a 2023 group's architecture answer word for word)."""
    out = tmp_path / "out"
    summary, _ = run_batch(str(CORPUS), out, progress=False)
    assert not summary.failed
    texts = list((out / "reports").glob("*.feedback.md"))
    assert len(texts) == len(summary.outcomes)
    assert max(len(t.read_text(encoding="utf-8").splitlines()) for t in texts) <= 40
    similar = [
        (o.entry.group, f["question"])
        for o in summary.outcomes
        for f in (o.data or {})["findings"]
        if f["code"] == "FB801"
    ]
    assert sorted(similar) == [("MagnusBeng2__dtu_mlops_group_61", 25), ("MikkelGodsk__dtu_mlops_exam_project", 25)]


def test_output_that_cannot_be_written_is_named_as_such(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file where the pages folder should be fails each report with a write error naming the output (not 'cannot
    read' the report); a folder where a course CSV should be is a one-line error, exit 2, no traceback."""
    from feedback.cli import main

    src = tmp_path / "course"
    (src / "alpha").mkdir(parents=True)
    (src / "alpha" / "README.md").write_text(_report(COPIED, OWN[0]), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "reports").write_text("in the way", encoding="utf-8")
    summary, _ = run_batch(str(src), out, jobs=1, progress=False)
    [failed] = summary.failed
    assert "cannot write" in failed.error and str(out / "reports") in failed.error
    assert "cannot read" not in failed.error

    other = tmp_path / "other"
    (other / "findings.csv").mkdir(parents=True)
    assert main(["batch", str(src), "--out", str(other)]) == 2
    err = capsys.readouterr().err
    assert f"{other / 'findings.csv'}: cannot write" in err and "Traceback" not in err


def test_damaged_cache_entries_are_checked_again(tmp_path: Path) -> None:
    """A key file that is not UTF-8 and a page of the wrong shape are cache misses: the report is checked again and
    its files rebuilt, instead of failing on every rerun."""
    src = tmp_path / "course"
    (src / "alpha").mkdir(parents=True)
    (src / "alpha" / "README.md").write_text(_report(COPIED, OWN[0]), encoding="utf-8")
    out = tmp_path / "out"
    first, _ = run_batch(str(src), out, jobs=1, progress=False)
    [slug] = [o.entry.slug for o in first.outcomes]
    page = out / "reports" / f"{slug}.json"
    good = page.read_bytes()
    for damage in (
        lambda: page.write_text('{"x": 1}', encoding="utf-8"),
        lambda: (out / ".cache" / f"{slug}.key").write_bytes(b"\xff\xfe"),
    ):
        damage()
        summary, _ = run_batch(str(src), out, jobs=1, progress=False)
        assert not summary.failed and summary.cached == 0
        assert page.read_bytes() == good
    again, _ = run_batch(str(src), out, jobs=1, progress=False)
    assert again.cached == 1


def test_a_saved_finding_reads_back_whole() -> None:
    """Pages rewritten for course findings restore the saved ones from JSON: every field, the LLM's rank included."""
    from feedback.findings import Category, Finding, Severity, Source, Verdict

    f = Finding(
        code="FB603",
        check="llm-suggestion",
        category=Category.ANSWER,
        severity=Severity.INFO,
        message="Say which cache.",
        source=Source.LLM,
        line=12,
        question=4,
        questions=(4,),
        verdict=Verdict.MISSING_PART,
        confidence=0.5,
        evidence=("we cache",),
        rank=2,
    )
    assert Finding.from_dict(json.loads(json.dumps(f.to_dict()))) == f


def test_checklist_cells_keep_the_first_report_of_a_group_and_link_to_its_page() -> None:
    from feedback.course.pages import Cells

    columns: dict[str, int] = {}
    pages = ["reports/a.html", "reports/a-2.html", ""]
    cells = Cells(columns, pages)
    for group in ("a", "b"):
        columns.setdefault(group, len(columns))
    cells.add("b", 2, "partial", 7)  # a report without a page: no link
    cells.add("a", 1, "contradicted", 123456)
    cells.add("a", 0, "ticked", 12)  # the group's second report: its first one's cell stays
    assert cells["a"] == ("contradicted", "reports/a-2.html#r1-item-123456")
    assert cells["b"] == ("partial", "")
    assert "c" not in cells and len(cells) == 2 and cells.count("partial") == 1
    columns["c"] = 2
    assert "c" not in cells  # a group added after the item was last seen has no cell
    with pytest.raises(KeyError):
        cells["c"]
