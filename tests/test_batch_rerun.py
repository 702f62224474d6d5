"""The rerun index (feedback/course/rerun.py): a warm rerun with nothing changed reads no report and writes nothing;
anything changed sends the run down the ordinary path, whose outputs are the same as a fresh run's."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from feedback.course import runner as runner_module
from feedback.course.rerun import COURSE_FILES, INDEX, FileStates, file_state
from feedback.course.runner import Runner, discover
from feedback.pipeline import Options
from tests.test_batch import course, snapshot, write


def stats(out: Path) -> dict[str, int]:
    return {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}


def run(root: Path, out: Path, jobs: int = 1) -> runner_module.BatchSummary:
    return Runner(out, Options(), jobs=jobs).run(discover(str(root)))


def refuse(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("an unchanged course was read or checked again")


def test_unchanged_course_is_neither_read_nor_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, out = course(tmp_path), tmp_path / "out"
    run(root, out, jobs=2)
    before = stats(out)
    for name in ("check_file", "read_bytes", "write_atomic", "write_summaries"):
        monkeypatch.setattr(runner_module, name, refuse)
    again = run(root, out)
    assert (again.cached, len(again.failed)) == (3, 0)
    assert stats(out) == before


@pytest.mark.parametrize("change", ["touch report", "remove index.html", "edit a page", "other options"])
def test_any_change_takes_the_ordinary_path_and_writes_what_a_fresh_run_writes(tmp_path: Path, change: str) -> None:
    root, out = course(tmp_path), tmp_path / "out"
    run(root, out)
    options = Options()
    if change == "touch report":  # same bytes, new times: checked against its key, not again
        report = root / "g1" / "reports" / "README.md"
        report.write_bytes(report.read_bytes())
    elif change == "remove index.html":
        (out / "index.html").unlink()
    elif change == "edit a page":
        (out / "summary.csv").write_text("edited", encoding="utf-8")
    else:
        options = Options(ignore=("FB101",))
    again = Runner(out, options).run(discover(str(root)))
    assert again.cached == (0 if change == "other options" else 3)
    Runner(tmp_path / "fresh", options).run(discover(str(root)))
    assert snapshot(out) == snapshot(tmp_path / "fresh")
    # and the index written by the ordinary path serves the next rerun
    assert (out / INDEX).is_file()
    assert Runner(out, options).run(discover(str(root))).cached == 3


def test_a_changed_report_is_checked_again(tmp_path: Path) -> None:
    root, out = course(tmp_path), tmp_path / "out"
    run(root, out)
    write(root / "g2" / "report" / "README.md")  # g2 fixes its short answer
    assert run(root, out).cached == 2
    assert run(root, out).cached == 3


def test_course_files_lists_every_file_a_batch_writes_at_the_top(tmp_path: Path) -> None:
    root, out = course(tmp_path), tmp_path / "out"
    run(root, out)
    assert {p.name for p in out.iterdir() if p.is_file()} == set(COURSE_FILES)


def test_file_states_match_the_plain_reading(tmp_path: Path) -> None:
    """The per-folder shortcut gives what file_state gives: files, folders, nothing, links, relative names."""
    write(tmp_path / "figs" / "a.png", "png")
    (tmp_path / "figs" / "sub").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "figs")
    (tmp_path / "figs" / "b.png").symlink_to(tmp_path / "figs" / "a.png")
    names = [
        tmp_path / "figs" / "a.png",
        tmp_path / "figs" / "b.png",
        tmp_path / "figs" / "sub",
        tmp_path / "figs" / "missing.png",
        tmp_path / "link" / "a.png",
        tmp_path / "figs" / "..",
        Path(os.path.relpath(tmp_path / "figs" / "a.png")),
    ]
    states = FileStates()
    for name in names:
        assert states(str(name)) == file_state(name), name


@pytest.mark.parametrize("junk", [b"", b"\xff not json", b'{"format": 1, "reports": []}', b"[1, 2]"])
def test_a_damaged_index_is_only_a_miss(tmp_path: Path, junk: bytes) -> None:
    """The index is a shortcut: a damaged one sends the rerun down the ordinary path, which writes it again."""
    root, out = course(tmp_path), tmp_path / "out"
    run(root, out)
    before = snapshot(out)
    (out / INDEX).write_bytes(junk)
    again = run(root, out)
    assert (again.cached, len(again.failed), again.warnings) == (3, 0, [])
    assert snapshot(out) == before and (out / INDEX).read_bytes() != junk


def test_an_index_with_the_right_key_but_wrong_entries_is_only_a_miss(tmp_path: Path) -> None:
    root, out = course(tmp_path), tmp_path / "out"
    run(root, out)
    data = json.loads((out / INDEX).read_bytes())
    data["reports"] = {slug: 5 for slug in data["reports"]}
    (out / INDEX).write_text(json.dumps(data), encoding="utf-8")
    assert run(root, out).cached == 3
