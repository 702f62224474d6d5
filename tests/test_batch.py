"""`feedback batch`: finding reports, per-report pages, the CSVs, failures, the LLM hook, reruns, the real corpus."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from feedback.cli import main
from feedback.course.rerun import INDEX
from feedback.course.runner import LLM_CHUNK, Runner, discover, make_reviewer
from feedback.errors import InputError, LLMError
from feedback.pipeline import LLMStatus, Options, Result
from feedback.render.csv import FINDING_COLUMNS, SUMMARY_COLUMNS
from tests.conftest import CORPUS, corpus_reports, needs_corpus
from tests.test_render import llm_finding, make_report


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        assert reader.fieldnames is not None
        return rows


def write(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text or make_report(), encoding="utf-8")
    return path


def course(tmp_path: Path) -> Path:
    """Three groups laid out as repositories: reports/README.md, report/README.md beside notes, reports/*.md."""
    root = tmp_path / "course"
    write(root / "g1" / "reports" / "README.md")
    write(root / "g1" / "README.md", "# the repository's own readme, not the report")
    write(root / "g2" / "report" / "README.md", make_report(q2="short"))
    write(root / "g2" / "report" / "notes.md", "# notes")
    write(root / "g3" / "reports" / "exam.md")
    write(root / "g3" / "docs" / "index.md", "# docs")
    return root


def test_discover_folder_prefers_reports_folders(tmp_path: Path) -> None:
    root = course(tmp_path)
    write(root / "out" / "reports" / "old.md")  # a previous batch's output inside the input is not a report
    entries = discover(str(root), exclude=root / "out")
    assert [(e.group, e.name, e.slug) for e in entries] == [
        ("g1", "g1/reports/README.md", "g1-reports-README"),
        ("g2", "g2/report/README.md", "g2-report-README"),
        ("g3", "g3/reports/exam.md", "g3-reports-exam"),
    ]


def test_discover_loose_files_glob_and_csv(tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    for name in ("b.md", "a.md", "sub/c d.md"):
        write(loose / name)
    assert [(e.group, e.slug) for e in discover(str(loose))] == [("a", "a"), ("b", "b"), ("sub", "sub-c_d")]
    assert [e.name for e in discover(str(loose / "*.md"))] == [f"{loose.as_posix()}/a.md", f"{loose.as_posix()}/b.md"]
    listing = tmp_path / "groups.csv"
    listing.write_text("Group,Path\n12,loose/a.md\n13,/abs/missing.md\n", encoding="utf-8")
    entries = discover(str(listing))
    assert [(e.group, e.path) for e in entries] == [("12", loose / "a.md"), ("13", Path("/abs/missing.md"))]
    listing.write_text("team,file\n1,a.md\n", encoding="utf-8")
    with pytest.raises(InputError, match="'group' and 'path' columns"):
        discover(str(listing))
    with pytest.raises(InputError, match="no reports found"):
        discover(str(tmp_path / "loose" / "sub" / "nothing-*.md"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no reports found"):
        discover(str(tmp_path / "empty"))


def test_batch_writes_pages_csvs_index_and_records_failures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    course(tmp_path)
    listing = tmp_path / "groups.csv"
    listing.write_text(
        "group,path\n"
        "g1,course/g1/reports/README.md\n"
        "g2,course/g2/report/README.md\n"
        "g3,course/g3/reports/exam.md\n"
        "g4,course/g4/reports/README.md\n",  # never handed in
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert main(["batch", str(listing), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "course/g4/reports/README.md" in captured.err
    assert "4 reports (0 unchanged, 1 failed)" in captured.out

    summary = read_csv(out / "summary.csv")
    assert list(summary[0]) == list(SUMMARY_COLUMNS)
    assert [(r["group"], r["status"]) for r in summary] == [("g1", "ok"), ("g2", "ok"), ("g3", "ok"), ("g4", "failed")]
    assert summary[3]["error"] and summary[3]["page"] == ""
    assert (summary[0]["answered"], summary[0]["unanswered"], summary[0]["llm_status"]) == ("3", "1", "skipped")

    findings = read_csv(out / "findings.csv")
    assert list(findings[0]) == list(FINDING_COLUMNS)
    for row in summary[:3]:
        data = json.loads((out / row["page"]).with_suffix(".json").read_text(encoding="utf-8"))
        mine = [f for f in findings if f["report"] == row["report"]]
        assert [f["code"] for f in mine] == [f["code"] for f in data["findings"]]
        assert int(row["findings"]) == len(mine) > 0
        assert (out / row["page"]).with_suffix(".md").read_text(encoding="utf-8").startswith("# Feedback:")
    assert "FB203" in {f["code"] for f in findings if f["group"] == "g2"}  # "short" is below 5 words

    index = (out / "index.html").read_text(encoding="utf-8")
    assert [f'href="{r["page"]}"' in index for r in summary] == [True, True, True, False]
    assert not list(out.rglob("*.tmp"))


def snapshot(out: Path) -> dict[str, bytes]:
    """Every output file but the rerun index (it holds the stat data of the files, which differs by folder)."""
    files = (p for p in sorted(out.rglob("*")) if p.is_file() and p.relative_to(out).as_posix() != INDEX)
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in files}


def test_rerun_skips_unchanged_reports_and_rewrites_identically(tmp_path: Path) -> None:
    root, out = course(tmp_path), tmp_path / "out"
    first = Runner(out, Options(), jobs=2).run(discover(str(root)))
    before = snapshot(out)
    again = Runner(out, Options(), jobs=1).run(discover(str(root)))
    assert (first.cached, again.cached) == (0, 3)
    assert snapshot(out) == before
    write(root / "g2" / "report" / "README.md")  # g2 fixes its short answer
    third = Runner(out, Options(), jobs=2).run(discover(str(root)))
    assert third.cached == 2
    changed = {k for k, v in snapshot(out).items() if before.get(k) != v}
    assert changed == {
        ".cache/g2-report-README.key",
        "reports/g2-report-README.html",
        "reports/g2-report-README.md",
        "reports/g2-report-README.json",
        "reports/g2-report-README.feedback.md",
        "findings.csv",
        "summary.csv",
        "codes.csv",
        "feedback.csv",
        "index.html",
    }
    # the same reports into a fresh folder, one thread: byte-identical outputs
    Runner(tmp_path / "fresh", Options(), jobs=1).run(discover(str(root)))
    assert snapshot(tmp_path / "fresh") == snapshot(out)


def fake_review(calls: list[int]) -> object:
    def review(results: list[Result]) -> list[Result]:
        calls.append(len(results))
        for r in results:
            r.findings.append(llm_finding())
            r.llm = LLMStatus(status="ok", message="reviewed", model="test-model", prompt_version="q@3")
        return results

    return review


def test_llm_stage_results_reach_every_output(tmp_path: Path) -> None:
    root = tmp_path / "many"
    for i in range(LLM_CHUNK + 2):
        write(root / f"g{i:02d}.md")
    calls: list[int] = []
    out = tmp_path / "out"
    Runner(out, Options(), review=fake_review(calls), llm_key="m").run(discover(str(root)))  # type: ignore[arg-type]
    assert sorted(calls) == [2, LLM_CHUNK]  # handed over in chunks, every report once
    summary = read_csv(out / "summary.csv")
    # the (fake) LLM and the offline engine both flag the ticked DVC item: one contradicted item
    assert {(r["llm_status"], r["llm_findings"], r["contradictions"]) for r in summary} == {("ok", "1", "1")}
    llm_rows = [f for f in read_csv(out / "findings.csv") if f["source"] == "llm"]
    assert len(llm_rows) == LLM_CHUNK + 2
    assert {(f["model"], f["prompt_version"], f["verdict"]) for f in llm_rows} == {
        ("test-model", "q@3", "contradicted")
    }
    assert "source-llm" in (out / "reports" / "g00.html").read_text(encoding="utf-8")


def test_llm_stage_failure_is_recorded_and_the_batch_goes_on(tmp_path: Path) -> None:
    def broken(results: list[Result]) -> list[Result]:
        raise LLMError("server said 503")

    root = tmp_path / "two"
    write(root / "a.md")
    write(root / "b.md")
    out = tmp_path / "out"
    done = Runner(out, Options(), review=broken, llm_key="m").run(discover(str(root)))
    assert not done.failed
    summary = read_csv(out / "summary.csv")
    assert {(r["status"], r["llm_status"], r["llm_message"]) for r in summary} == {("ok", "failed", "server said 503")}
    assert not (out / ".cache" / "a.key").exists()  # a failed review is retried next time


def test_llm_flag_without_endpoint_says_how_to_enable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)  # no feedback.toml / pyproject.toml config here
    review, _key, notice = make_reviewer()
    assert review is None and notice.startswith("skipped:")
    write(tmp_path / "in" / "a.md")
    assert main(["batch", "in", "--out", "out", "--llm"]) == 0
    assert capsys.readouterr().err == f"feedback: LLM review {notice}\n"
    [row] = read_csv(tmp_path / "out" / "summary.csv")
    assert (row["llm_status"], row["llm_message"]) == ("skipped", notice)


@needs_corpus
def test_batch_over_the_whole_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["batch", str(CORPUS), "--out", str(out), "--jobs", "2"]) == 0
    reports = corpus_reports()
    summary = read_csv(out / "summary.csv")
    assert list(summary[0]) == list(SUMMARY_COLUMNS)
    assert [r["report"] for r in summary] == [p.name for p in reports]
    assert {r["status"] for r in summary} == {"ok"}
    findings = read_csv(out / "findings.csv")
    assert list(findings[0]) == list(FINDING_COLUMNS)
    assert len(findings) == sum(int(r["findings"]) for r in summary)
    for r in summary:
        data = json.loads((out / r["page"]).with_suffix(".json").read_text(encoding="utf-8"))
        assert int(r["findings"]) == len(data["findings"])
        assert int(r["answered"]) + int(r["unanswered"]) == int(r["questions"]) == len(data["questions"])
    assert all(len(row) == len(FINDING_COLUMNS) and None not in row for row in findings)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count('<tr class="ok"') == len(reports)


def test_llm_flag_with_endpoint_calls_the_review_stage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from feedback.llm import review as review_module

    seen: list[tuple[int, str | None]] = []

    def fake_review_results(results: list[Result], settings: object) -> list[Result]:
        seen.append((len(results), getattr(settings, "base_url", None)))
        for r in results:
            r.llm = LLMStatus(status="ok", message="fake review", model=getattr(settings, "model", None))
        return results

    monkeypatch.setattr(review_module, "review_results", fake_review_results)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "in" / "a.md")
    write(tmp_path / "in" / "b.md")
    assert main(["batch", "in", "--out", "out", "--llm", "--model", "tiny-model"]) == 0
    assert seen == [(2, "http://127.0.0.1:9/v1")]
    rows = read_csv(tmp_path / "out" / "summary.csv")
    assert {(r["llm_status"], r["llm_message"]) for r in rows} == {("ok", "fake review")}
    assert "model tiny-model" in (tmp_path / "out" / "reports" / "a.html").read_text(encoding="utf-8")


def test_rerun_with_another_catalog_is_not_served_from_the_cache(tmp_path: Path) -> None:
    root = tmp_path / "course"
    write(root / "g1" / "reports" / "README.md")
    out = tmp_path / "out"
    assert main(["batch", str(root), "--out", str(out)]) == 0
    assert any(r["category"] == "consistency" for r in read_csv(out / "findings.csv"))
    empty = tmp_path / "cat.toml"
    empty.write_text('[[topic]]\nid = "nothing"\nterms = ["zzzqqq"]\n', encoding="utf-8")
    assert main(["batch", str(root), "--out", str(out), "--catalog", str(empty)]) == 0
    assert not any(r["category"] == "consistency" for r in read_csv(out / "findings.csv"))


def test_adding_a_missing_figure_invalidates_the_cached_result(tmp_path: Path) -> None:
    root = tmp_path / "course"
    text = make_report().replace("7\n", "7\n\n![plot](figures/p.png)\n", 1)
    report = write(root / "g1" / "reports" / "README.md", text)
    out = tmp_path / "out"
    assert main(["batch", str(root), "--out", str(out)]) == 0
    assert "image-file-missing" in {r["check"] for r in read_csv(out / "findings.csv")}
    (report.parent / "figures").mkdir()
    (report.parent / "figures" / "p.png").write_bytes(b"png")
    assert main(["batch", str(root), "--out", str(out)]) == 0
    assert "image-file-missing" not in {r["check"] for r in read_csv(out / "findings.csv")}


def test_csv_template_column_gives_each_group_its_own_blank(tmp_path: Path) -> None:
    """A course that mixes template eras: each CSV row may name its blank template; rows without one use none."""
    course(tmp_path)
    # a blank whose question 2 is worded differently from the reports' own: those rows get template-changed
    blank = write(
        tmp_path / "blanks" / "other-era.md",
        make_report().replace("### Question 2", "### Question 2\n> Another prompt"),
    )
    listing = tmp_path / "groups.csv"
    listing.write_text(
        "group,path,template\ng1,course/g1/reports/README.md,blanks/other-era.md\ng2,course/g2/report/README.md,\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert main(["batch", str(listing), "--out", str(out)]) == 0
    changed = {r["group"] for r in read_csv(out / "findings.csv") if r["check"] == "template-changed"}
    assert changed == {"g1"}
    blank.write_text(make_report(), encoding="utf-8")  # the blank fixed: the rerun checks g1 again
    assert main(["batch", str(listing), "--out", str(out)]) == 0
    assert not {r["group"] for r in read_csv(out / "findings.csv") if r["check"] == "template-changed"}
    listing.write_text("group,path,template\ng1,course/g1/reports/README.md,blanks/missing.md\n", encoding="utf-8")
    assert main(["batch", str(listing), "--out", str(out)]) == 2
    assert "missing.md" in read_csv(out / "summary.csv")[0]["error"]
