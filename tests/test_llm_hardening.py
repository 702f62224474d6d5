"""The LLM client and its disposable state against a hostile or broken server and damaged files on disk.

A slow-drip server is cancelled by the per-call deadline; a key the server echoes in a refusal or a finish reason
never reaches an output or the exchange log; a reply that is an HTML page, or absurdly long, fails its question
with a plain reason; a damaged SQLite cache or cache row is put aside with one warning and rebuilt; an exchange log
that cannot be written is a warning. Everything runs against ``tests/fault_server.py`` on 127.0.0.1.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from feedback.cli import main
from feedback.llm.cache import DB_NAME
from feedback.llm.review import review_results
from feedback.pipeline import check_text
from feedback.render import get as renderer
from feedback.settings import Settings
from tests.fault_server import Fault, FaultServer, chat, quoting_answer, serve

KEY = "sk-test-ECHOED-4f1c2a9b"
REPORT = (
    "# Exam report: client drill (invented)\n\n## Project\n\n"
    "### Question 3\n> **Describe how you packaged the project.**\n>\n> Answer:\n\n"
    "We packaged the training code as a wheel and pinned every dependency in a lock file.\n\n"
    "### Question 4\n> **Describe how you tested the project.**\n>\n> Answer:\n\n"
    "We wrote unit tests for the data loader and the model with pytest and ran them in CI.\n"
)


def _settings(server: FaultServer, tmp_path: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "api_key": KEY,
        "base_url": server.url,
        "cache_dir": tmp_path / "cache",
        "timeout": 5.0,  # a loaded CI machine must not turn an answering server into a timeout
        "retries": 0,
        "backoff": 0.0,
    }
    return Settings(**{**values, **extra})


def test_a_slow_drip_server_is_cancelled_by_the_call_deadline(tmp_path: Path) -> None:
    # headers at once, then one byte every 0.2 s: each read is within the 0.5 s timeout, the whole body never is
    server = FaultServer(default=lambda body: Fault(content="{}", drip=0.2))
    with serve(server):
        started = time.monotonic()
        [res] = review_results([check_text(REPORT)], _settings(server, tmp_path, timeout=0.5))
        elapsed = time.monotonic() - started
    assert res.llm.status == "failed"
    assert set(res.llm.failed_questions.values()) == {"gave up after 1 tries (timeout)"}
    # deadline 2 × 0.5 + 1 s per call, both questions at once (slack for a loaded machine); the ~300-byte reply
    # dripped at 0.2 s a byte would take a minute
    assert elapsed < 15


def test_a_key_echoed_in_a_refusal_or_finish_reason_reaches_no_output_or_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def echo(body: dict[str, Any]) -> Fault:
        if "packaged" in json.dumps(body):
            return chat("", refusal=f"I will not grade this. Your key is {KEY}.")
        return chat('{"parts": [', finish_reason=f"length-{KEY}")

    server = FaultServer(default=echo)
    log = tmp_path / "exchanges.jsonl"
    with serve(server):
        results = review_results([check_text(REPORT)], _settings(server, tmp_path, log_file=log))
    failed = results[0].llm.failed_questions
    assert failed[3] == "the model refused: I will not grade this. Your key is [API key]."
    assert "truncated" in failed[4] or "schema" in failed[4]
    outputs = [renderer(fmt)(results) for fmt in ("text", "json", "markdown", "html", "csv")]
    for text in [*outputs, log.read_text(encoding="utf-8"), *capsys.readouterr()]:
        assert KEY not in text


def test_an_html_page_or_an_oversized_reply_fails_the_question_with_a_plain_reason(tmp_path: Path) -> None:
    def broken(body: dict[str, Any]) -> Fault:
        if "packaged" in json.dumps(body):
            return Fault(raw=b"<html><body>Sign in to the proxy</body></html>", content_type="text/html")
        return chat('{"parts": [], "claims": [], "contradictions": [], "suggestions": []}' + " " * 200_000)

    server = FaultServer(default=broken)
    with serve(server):
        [res] = review_results([check_text(REPORT)], _settings(server, tmp_path))
    failed = res.llm.failed_questions
    assert failed[3].startswith("gave up after 1 tries (the endpoint's reply is not JSON ('<html><body>Sign in")
    assert failed[4] == "the reply is 200068 characters long (more than 100000); not used"


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999/v1", "http://[::1/v1", "ftp://example.org/v1", "localhost"])
def test_an_invalid_base_url_is_a_one_line_error(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.md").write_text(REPORT, encoding="utf-8")
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    monkeypatch.setenv("FEEDBACK_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["review", "r.md"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("feedback: error: invalid base_url") and err.count("\n") == 1


def test_a_non_ascii_key_is_named_as_such(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.md").write_text(REPORT, encoding="utf-8")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-tést")
    monkeypatch.setenv("FEEDBACK_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["review", "r.md"]) == 2
    err = capsys.readouterr().err
    assert err == "feedback: error: OPENAI_API_KEY holds non-ASCII characters, which HTTP cannot send\n"


def test_a_damaged_cache_file_is_put_aside_and_rebuilt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server = FaultServer(default=quoting_answer)
    with serve(server):
        settings = _settings(server, tmp_path)
        review_results([check_text(REPORT)], settings)
        db = tmp_path / "cache" / DB_NAME
        with db.open("r+b") as fh:  # overwrite the first pages, header included
            fh.write(b"\xde\xad" * 4096)
        capsys.readouterr()
        [res] = review_results([check_text(REPORT)], settings)
        [again] = review_results([check_text(REPORT)], settings)
    assert res.llm.status == "ok" and res.llm.calls == 2  # asked again, nothing lost but the cache
    assert again.llm.cached == 2  # the fresh cache works
    assert (tmp_path / "cache" / f"{DB_NAME}.damaged-1").exists()
    err = capsys.readouterr().err
    assert err.count("feedback: warning: the LLM cache") == 1 and "started afresh" in err


@pytest.mark.parametrize("value", ["{not json", '{"content": 3}', '{"content": "{\\"parts\\": 1}"}', "[]"])
def test_a_damaged_cache_row_is_dropped_and_asked_again(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = FaultServer(default=quoting_answer)
    with serve(server):
        settings = _settings(server, tmp_path)
        [first] = review_results([check_text(REPORT)], settings)
        with sqlite3.connect(tmp_path / "cache" / DB_NAME) as db:
            db.execute("UPDATE responses SET value = ?", (value,))
        capsys.readouterr()
        [res] = review_results([check_text(REPORT)], settings)
    assert res.llm.status == "ok" and res.llm.calls == 2 and res.findings == first.findings
    assert capsys.readouterr().err.count("holds damaged rows") == 1


def test_an_unwritable_exchange_log_is_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log-is-a-folder"
    log.mkdir()
    server = FaultServer(default=quoting_answer)
    with serve(server):
        [res] = review_results([check_text(REPORT)], _settings(server, tmp_path, log_file=log))
    assert res.llm.status == "ok"
    err = capsys.readouterr().err
    assert err.count(f"feedback: warning: cannot write the exchange log {log}") == 1
