"""`feedback batch` under faults: the rerun key of loose reports, damaged cache files, a report that takes too long,
and Ctrl-C. Each case is a row of the README's "Bad input and faults" table."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import pytest

from feedback.cli import main
from feedback.course import runner as runner_module
from feedback.course.runner import Runner, discover, run_batch
from feedback.pipeline import Options, Result
from tests.test_batch import read_csv, write
from tests.test_render import make_report

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "report.md"
FIGURE = make_report().replace("7\n", "7\n\n![plot](figures/p.png)\n", 1)


def test_loose_reports_rerun_from_cache_with_out_inside_their_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Items 5 and 14: the rerun key names only the files a report's checks look at (its images), so the batch's own
    outputs, new reports and other files beside it never invalidate it, and no report lists its folder."""
    loose = tmp_path / "loose"
    for name in ("a.md", "b.md", "c.md"):
        write(loose / name, FIGURE if name == "a.md" else "")
    out = loose / "out"  # --out inside the folder of loose reports
    first = Runner(out, Options(), jobs=1).run(discover(str(loose), exclude=out))
    assert (first.cached, len(first.outcomes)) == (0, 3)

    walks: list[str] = []
    real_walk = os.walk

    def counting_walk(top: str | os.PathLike[str], *args: object, **kwargs: object) -> object:
        walks.append(str(top))
        return real_walk(top, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "walk", counting_walk)
    again = Runner(out, Options(), jobs=1).run(discover(str(loose), exclude=out))
    assert again.cached == 3
    assert walks == [str(loose)]  # discovery only: no report lists the folder (was once per report)

    write(loose / "d.md")  # a new report and an unrelated file beside the others
    (loose / "notes.txt").write_text("x", encoding="utf-8")
    third = Runner(out, Options(), jobs=1).run(discover(str(loose), exclude=out))
    assert [(o.entry.name, o.cached) for o in third.outcomes] == [
        ("a.md", True),
        ("b.md", True),
        ("c.md", True),
        ("d.md", False),
    ]
    assert "image-file-missing" in {r["check"] for r in read_csv(out / "findings.csv") if r["report"] == "a.md"}

    (loose / "figures").mkdir()  # the figure a.md names appears: a.md alone is checked again
    (loose / "figures" / "p.png").write_bytes(b"png")
    fourth = Runner(out, Options(), jobs=1).run(discover(str(loose), exclude=out))
    assert [o.entry.name for o in fourth.outcomes if not o.cached] == ["a.md"]
    assert "image-file-missing" not in {r["check"] for r in read_csv(out / "findings.csv")}


def test_out_as_the_input_folder_never_reviews_its_own_pages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Item 5: with --out the input folder itself, the second run took its own reports/*.md drafts for reports."""
    same = tmp_path / "course"
    write(same / "a.md")
    write(same / "b.md")
    for expected in ("2 reports (0 unchanged, 0 failed)", "2 reports (2 unchanged, 0 failed)"):
        assert main(["batch", str(same), "--out", str(same), "--jobs", "1"]) == 0
        assert expected in capsys.readouterr().out
    assert [r["report"] for r in read_csv(same / "summary.csv")] == ["a.md", "b.md"]


def test_damaged_cache_files_are_set_aside_with_one_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "course"
    write(src / "a.md")
    out = tmp_path / "out"
    assert main(["batch", str(src), "--out", str(out), "--jobs", "1"]) == 0
    key, page, sketch = out / ".cache" / "a.key", out / "reports" / "a.json", out / ".cache" / "a.sketch.json"
    good = page.read_bytes()
    capsys.readouterr()
    why = {key: "not a key file", page: "not a report page of this tool", sketch: "not a sketch list"}
    for damaged, junk in ((key, b"\xff\xfe not a key"), (page, b'{"report": 1}'), (sketch, b'{"sketches": [[1, -5]]}')):
        damaged.write_bytes(junk)
        assert main(["batch", str(src), "--out", str(out), "--jobs", "1"]) == 0
        captured = capsys.readouterr()
        warnings = [ln for ln in captured.err.splitlines() if ln.startswith("feedback: warning:")]
        assert warnings == [
            f"feedback: warning: {damaged}: damaged cache file "
            f"({why[damaged]}); moved to {damaged.name}.damaged-1 and rebuilt"
        ]
        assert "1 reports (0 unchanged, 0 failed)" in captured.out
        assert (damaged.parent / f"{damaged.name}.damaged-1").read_bytes() == junk
        assert page.read_bytes() == good
        (damaged.parent / f"{damaged.name}.damaged-1").unlink()
    assert main(["batch", str(src), "--out", str(out), "--jobs", "1"]) == 0
    assert "1 reports (1 unchanged, 0 failed)" in capsys.readouterr().out
    # an earlier version's key file (a bare hash) is a plain miss, without a warning
    key.write_text("0" * 64, encoding="utf-8")
    assert main(["batch", str(src), "--out", str(out), "--jobs", "1"]) == 0
    assert capsys.readouterr().err == "" and not list(out.rglob("*.damaged-*"))
    # and so is its sketch list (kept without the answers' quotes)
    sketch.write_bytes(b"[[1, 2, 3]]")
    assert main(["batch", str(src), "--out", str(out), "--jobs", "1"]) == 0
    assert capsys.readouterr().err == "" and not list(out.rglob("*.damaged-*"))
    assert b'"quotes"' in sketch.read_bytes()


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_report_over_its_time_budget_fails_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int) -> None:
    real = runner_module.check_file

    def check_file(path: Path, options: Options) -> Result:
        if path.name == "slow.md":
            while True:  # a report that never finishes (e.g. a pathological pattern)
                pass
        return real(path, options)

    monkeypatch.setattr(runner_module, "check_file", check_file)  # workers are forked, so they see it too
    src = tmp_path / "course"
    for name in ("a.md", "slow.md", "z.md"):
        write(src / name)
    before = signal.getsignal(signal.SIGPROF)
    started = time.monotonic()
    summary, _ = run_batch(str(src), tmp_path / "out", jobs=jobs, progress=False, time_limit=0.5)
    assert time.monotonic() - started < 30
    assert [(o.entry.name, o.error) for o in summary.outcomes] == [
        ("a.md", ""),
        ("slow.md", "not checked: it took more than 0.5 s of CPU time (batch --time-limit)"),
        ("z.md", ""),
    ]
    assert signal.getsignal(signal.SIGPROF) == before  # the timer is put back
    rows = {r["report"]: r for r in read_csv(tmp_path / "out" / "summary.csv")}
    assert rows["slow.md"]["status"] == "failed" and "0.5 s of CPU time" in rows["slow.md"]["error"]
    assert (tmp_path / "out" / "reports" / "a.json").is_file() and (tmp_path / "out" / "reports" / "z.json").is_file()
    assert not (tmp_path / "out" / ".cache" / "slow.key").exists()  # tried again on the next run


def _sigint_default() -> None:
    """In the child: Ctrl-C handled as in a terminal, even when the tests run in a background job (which starts with
    SIGINT ignored, and an ignored signal stays ignored across exec)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_stops_cleanly_and_keeps_finished_pages(tmp_path: Path, jobs: str) -> None:
    src = tmp_path / "course"
    text = make_report()
    for i in range(400):
        write(src / f"g{i:03d}.md", text)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedback", "batch", str(src), "--out", str(out), "--jobs", jobs],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, which a terminal's Ctrl-C signals as a whole
        preexec_fn=_sigint_default,
    )
    deadline = time.monotonic() + 120
    while not list((out / ".cache").glob("*.key")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    err = stderr.decode()
    assert proc.returncode == 130, err
    assert err.strip() == "feedback: interrupted" and stdout == b""
    keys = list((out / ".cache").glob("*.key"))
    assert 1 <= len(keys) < 400
    for key in keys:  # every report with a key has whole pages
        data = json.loads((out / "reports" / f"{key.stem}.json").read_bytes())
        assert data["report"]["path"].endswith(f"{key.stem}.md")
        assert (out / "reports" / f"{key.stem}.html").is_file()
    assert not list(out.rglob("*.tmp"))
    if jobs == "2":  # the next run finishes the rest
        assert main(["batch", str(src), "--out", str(out), "--jobs", "2"]) == 0
        assert len(list((out / ".cache").glob("*.key"))) == 400


def test_a_handled_ctrl_c_exits_130_even_when_it_landed_in_generated_code(tmp_path: Path) -> None:
    """An interrupt that escaped exec() or eval() of a string (how dataclasses and named tuples build their methods
    while a module imports) made ``python -m feedback`` end by SIGINT (exit -2) although the interrupt was handled
    and 130 returned: seen when Ctrl-C came during start-up."""
    (tmp_path / "ctrl_c_probe.py").write_text(
        "import sys\nfrom feedback.entry import interrupted\n"
        "try:\n    exec('raise KeyboardInterrupt')\nexcept KeyboardInterrupt:\n    sys.exit(interrupted())\n",
        encoding="utf-8",
    )
    proc = subprocess.run([sys.executable, "-m", "ctrl_c_probe"], cwd=tmp_path, capture_output=True, check=False)
    assert (proc.returncode, proc.stderr.decode().strip()) == (130, "feedback: interrupted")


@pytest.mark.parametrize("command", ["review", "batch"])
def test_ctrl_c_while_waiting_on_the_llm_endpoint(tmp_path: Path, command: str) -> None:
    """A server that accepts connections and never answers: Ctrl-C ends the wait cleanly, in `review` and in
    `batch --llm` (the review's asyncio tasks are cancelled; no traceback)."""
    import socket
    import threading

    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        with suppress(OSError):
            while True:
                accepted.append(server.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    write(tmp_path / "in" / "a.md", EXAMPLE.read_text(encoding="utf-8"))  # answers the LLM stage reviews
    env = {
        **os.environ,
        "OPENAI_BASE_URL": f"http://127.0.0.1:{server.getsockname()[1]}/v1",
        "OPENAI_API_KEY": "sk-test-key",
        "FEEDBACK_CACHE_DIR": str(tmp_path / "cache"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    args = ["review", str(tmp_path / "in" / "a.md")] if command == "review" else ["batch", str(tmp_path / "in")]
    if command == "batch":
        args += ["--out", str(tmp_path / "out"), "--llm"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedback", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=_sigint_default,
    )
    try:
        deadline = time.monotonic() + 60
        while not accepted and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert accepted, (proc.returncode, proc.communicate())
        os.killpg(proc.pid, signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    finally:
        server.close()
        for conn in accepted:
            conn.close()
    assert (proc.returncode, err.decode().strip()) == (130, "feedback: interrupted")
