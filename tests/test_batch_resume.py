"""Nothing lost: ``feedback batch --llm`` killed with SIGKILL halfway, then started again, against a slow stub.

The second run asks the stub only for what the first run never received an answer to (requests are counted at the
stub by body hash, the random delimiter replaced), and its outputs equal those of an uninterrupted run apart from
the LLM call counters, which say how each run got its answers.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.conftest import ROOT
from tests.fault_server import FaultServer, quoting_answer, serve

REPORTS = 16
QUESTIONS = 2  # reviewable questions per report
KILL_AT = 19  # the request that triggers the kill: the first LLM chunk (8 reports) is finished and written
SECRET = "sk-test-SECRET-4f1c9e2b7a6d"
CLI = "import sys; from feedback.cli import main; sys.exit(main())"

# Fields that count how a run obtained its LLM answers (sent now or read from the cache): a resumed run differs
# from an uninterrupted one there and nowhere else.
COUNTERS = ("calls", "cached")
COUNTS_RE = re.compile(r"\(\d+ calls, \d+ from cache\)")


def report(n: int) -> str:
    return (
        f"# Exam report: group {n} (invented)\n\n## Overall project checklist\n\n"
        "* [x] Write unit tests for the data part of the code (M16)\n"
        "* [ ] Deploy the model in GCP with Cloud Run (M23)\n\n"
        f"## Group information\n\n### Question 1\n> **Enter your group number**\n>\n> Answer:\n\n{n}\n\n"
        "## Project\n\n"
        "### Question 3\n> **How did you test your code?**\n>\n> Answer:\n\n"
        f"Group {n} wrote {n + 3} unit tests for the data loader and ran them with pytest on every push.\n\n"
        "### Question 4\n> **Did you deploy your model?**\n>\n> Answer:\n\n"
        f"We did not deploy it; the model of group {n} only runs on a laptop with {n * 2} GB of memory.\n"
    )


def course(root: Path) -> Path:
    for n in range(1, REPORTS + 1):
        path = root / "course" / f"g{n:02d}" / "reports" / "README.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(report(n), encoding="utf-8")
    user = root / "xdg" / "feedback" / "config.toml"  # LLM settings live in the user's own config, not the project's
    user.parent.mkdir(parents=True)
    user.write_text("concurrency = 2\nretries = 1\nbackoff = 0.05\ntimeout = 10\n")
    return root / "course"


def start(root: Path, url: str, out: str, cache: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OPENAI_BASE_URL": url,
        "OPENAI_API_KEY": SECRET,
        "FEEDBACK_CACHE_DIR": str(root / cache),
        "XDG_CONFIG_HOME": str(root / "xdg"),
    }
    env.pop("FEEDBACK_MODEL", None)
    args = [sys.executable, "-c", CLI, "batch", "course", "--out", out, "--llm", "-j", "1"]
    return subprocess.Popen(args, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def outputs(out: Path) -> dict[str, bytes]:
    """Every file the batch writes for people (its own bookkeeping in ``.cache/`` left out)."""
    files = sorted(p for p in out.rglob("*") if p.is_file() and ".cache" not in p.relative_to(out).parts)
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in files}


def without_counters(name: str, raw: bytes) -> Any:
    """An output with the LLM call counters taken out: the JSON fields, and "(N calls, M from cache)" in text."""
    text = COUNTS_RE.sub("(N calls, M from cache)", raw.decode("utf-8"))
    if not name.endswith(".json"):
        return text
    data = json.loads(text)
    for r in data if isinstance(data, list) else [data]:
        for key in COUNTERS:
            r["llm"].pop(key)
    return data


def cached_rows(cache: Path) -> int:
    with sqlite3.connect(cache / "llm-cache.sqlite3") as db:
        return int(db.execute("SELECT count(*) FROM responses").fetchone()[0])


def test_killed_batch_resumes_without_repeating_a_finished_call(tmp_path: Path) -> None:
    course(tmp_path)
    server = FaultServer(default=quoting_answer, delay=0.1)
    proc: subprocess.Popen[bytes] | None = None

    def kill_midway(count: int) -> None:
        if count == KILL_AT and proc is not None:
            server.hold.set()  # nothing more is answered, so every answer sent had time to be committed
            time.sleep(1.0)
            proc.send_signal(signal.SIGKILL)

    server.on_request = kill_midway
    with serve(server):
        proc = start(tmp_path, server.url, "out", "cache")
        streams = list(proc.communicate(timeout=60))
        assert proc.returncode == -signal.SIGKILL
        first = list(server.requests)
        answered = {s.hash for s in first if s.answered}
        # every answer that arrived was committed to the cache at once, and the first chunk's pages are written
        assert len(answered) == cached_rows(tmp_path / "cache") >= 8 * QUESTIONS
        assert len(list((tmp_path / "out" / ".cache").glob("*.key"))) == 8

        server.hold.clear()
        server.on_request = None
        again = start(tmp_path, server.url, "out", "cache")
        streams += again.communicate(timeout=60)
        assert again.returncode == 0, streams[-1].decode()
        second = server.requests[len(first) :]
        asked_again = {s.hash for s in second}
        assert not answered & asked_again  # zero repeated calls for finished questions
        assert len(second) == len(asked_again) == REPORTS * QUESTIONS - len(answered)

        mark = len(server.requests)
        whole = start(tmp_path, server.url, "whole", "whole-cache")
        streams += whole.communicate(timeout=60)
        assert whole.returncode == 0, streams[-1].decode()
        uninterrupted = {s.hash for s in server.requests[mark:]}
    assert uninterrupted == answered | asked_again  # the same questions, asked the same way

    resumed, clean = outputs(tmp_path / "out"), outputs(tmp_path / "whole")
    # per report: html, md, json and the feedback text; for the course: 3 CSVs, codes, checklist (csv, html), index
    assert resumed.keys() == clean.keys() and len(resumed) == 4 * REPORTS + 7
    differ = {name for name in resumed if resumed[name] != clean[name]}
    # only the pages of reports whose answers came (partly) from the cache, and the status column that quotes them
    assert differ and differ <= {"summary.csv", "index.html"} | {n for n in resumed if n.startswith("reports/")}
    for name in resumed:
        assert without_counters(name, resumed[name]) == without_counters(name, clean[name]), name

    # the key went out with every request, and into none of the files: outputs, caches, exchange logs, bookkeeping
    assert all(s.headers["authorization"] == f"Bearer {SECRET}" for s in server.requests)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {"llm-cache.sqlite3", "exchanges.jsonl", "findings.csv"} <= {p.name for p in written}
    assert not [p for p in written if SECRET.encode() in p.read_bytes()]
    assert not [s for s in streams if SECRET.encode() in s]  # nor the console
