"""The Batch API path and the request/response file exchange.

Nothing here talks to OpenAI: the file exchange needs no server, and the upload/batch/collect tests run against
``tests/batch_stub.py``, a STUB of the ``/v1/files`` and ``/v1/batches`` endpoints that the test starts on
127.0.0.1 and that answers with scripted responses. Live calls are made with the scripted ``FakeChatClient``.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from feedback.cli import main
from feedback.course.batch_api import MANIFEST_FILE, STATE_FILE, collect, part_paths, split, submit
from feedback.errors import UsageError
from feedback.llm.client import ChatRequest, ChatResponse
from feedback.llm.fake import FakeChatClient, reply
from feedback.llm.review import DELIM_RE, review_results
from feedback.pipeline import check_file
from feedback.settings import load_settings
from tests.batch_stub import BatchStub, error_line, ok_line, serve
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "report.md"
ANSWER_RE = re.compile(r"(<<<ANSWER-[0-9a-f]{16}>>>)\n(.*?)\n\1", re.S)


def scripted(user_message: str) -> dict[str, Any]:
    """A valid review: one missing part, one suggestion quoting the answer, one quoting text that is not there."""
    m = ANSWER_RE.search(user_message)
    assert m, "the answer is between the two delimiter lines"
    first_line = m.group(2).split("\nAnswer:\n", 1)[1].splitlines()[0]
    [asked] = [ln[-30:] for ln in user_message.splitlines() if ln.startswith("Question: ")]  # its last words
    return {
        "parts": [
            {"ask": "named-item", "part": "the exact command", "prompt_quote": asked, "answered": False, "quote": ""}
        ],
        "items": [],
        "facts": [],
        "suggestions": [
            {
                "prompt_quote": "",
                "quote": first_line[:40],
                "suggestion": "Say which version you pinned.",
                "importance": "high",
            },
            {
                "prompt_quote": "",
                "quote": "a sentence the report never contains",
                "suggestion": "invented",
                "importance": "low",
            },
        ],
    }


def answer_request(req: dict[str, Any]) -> dict[str, Any]:
    """The Batch output line a well-behaved model gives for one exported request line."""
    return ok_line(req, json.dumps(scripted(req["body"]["messages"][1]["content"])))


def live_reply(req: ChatRequest) -> ChatResponse:
    return reply(scripted(req.messages[1]["content"]))


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder with its own cache and no endpoint configured."""
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "FEEDBACK_MODEL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("FEEDBACK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    shutil.copy(EXAMPLE, tmp_path / "report.md")
    return tmp_path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_jsonl(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8")
    return path


def llm_findings(page: Path) -> list[tuple[str, int | None, str, tuple[str, ...]]]:
    data = json.loads(page.read_text(encoding="utf-8"))
    return sorted(
        (f["code"], f["question"], f["message"], tuple(f["evidence"])) for f in data["findings"] if f["source"] == "llm"
    )


def body_without_delimiter(body: dict[str, Any]) -> str:
    return DELIM_RE.sub("<<<D>>>", json.dumps(body, sort_keys=True))


def test_exported_requests_are_the_live_requests(env: Path) -> None:
    assert main(["batch", "report.md", "--out", "out", "--export-requests", "requests.jsonl"]) == 0
    lines = read_jsonl(env / "requests.jsonl")
    manifest = json.loads((env / "out" / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert len(lines) == 6 and len({x["custom_id"] for x in lines}) == 6
    assert {(x["method"], x["url"]) for x in lines} == {("POST", "/v1/chat/completions")}
    assert sorted(manifest[x["custom_id"]]["question"] for x in lines) == [3, 4, 5, 6, 8, 9]
    assert {manifest[x["custom_id"]]["report"] for x in lines} == {"report.md"}
    # a live run sends byte-for-byte the same bodies (apart from the random per-call answer delimiter)
    fake = FakeChatClient([live_reply] * 6)
    review_results([check_file(env / "report.md")], load_settings(), client=fake)
    assert sorted(body_without_delimiter(r.body()) for r in fake.requests) == sorted(
        body_without_delimiter(x["body"]) for x in lines
    )


def test_round_trip_export_import_then_zero_calls(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["batch", "report.md", "--out", "out", "--export-requests", "requests.jsonl"]) == 0
    responses = write_jsonl(env / "responses.jsonl", [answer_request(r) for r in read_jsonl(env / "requests.jsonl")])
    capsys.readouterr()
    assert main(["batch", "--out", "out", "--import-responses", str(responses)]) == 0
    out = capsys.readouterr().out
    assert "6 responses stored in the cache, 0 already there" in out
    assert "6 unverifiable quotes" in out  # the invented quote of each answer, dropped as a live run drops it
    imported = llm_findings(env / "out" / "reports" / "report.json")
    assert [c for c, *_ in imported].count("FB602") == 6 and [c for c, *_ in imported].count("FB603") == 6
    # a normal run afterwards is served from the cache: zero calls, the same findings
    fake = FakeChatClient()
    [result] = review_results([check_file(env / "report.md")], load_settings(), client=fake)
    assert fake.requests == [] and (result.llm.calls, result.llm.cached, result.llm.status) == (0, 6, "ok")
    # and those findings are what a live run with the same answers renders
    settings = load_settings({"cache_dir": env / "fresh-cache"})
    [fresh] = review_results([check_file(env / "report.md")], settings, client=FakeChatClient([live_reply] * 6))
    as_live = sorted((f.code, f.question, f.message, f.evidence) for f in fresh.findings if f.source == "llm")
    assert as_live == imported
    # importing the same file again stores nothing twice; without the manifest (only the responses file travelled
    # back), the custom_ids are matched by planning INPUT again
    assert main(["batch", "--out", "out", "--import-responses", str(responses)]) == 0
    assert "0 responses stored in the cache, 6 already there" in capsys.readouterr().out
    assert main(["batch", "report.md", "--out", "elsewhere", "--import-responses", str(responses)]) == 0
    assert capsys.readouterr().out.startswith("0 responses stored in the cache, 6 already there\n")


def test_invalid_and_missing_lines_are_reported_and_only_they_are_asked_again(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["batch", "report.md", "--out", "out", "--export-requests", "requests.jsonl"]) == 0
    reqs = read_jsonl(env / "requests.jsonl")
    good, schema_bad, truncated, http_error, errored, _missing = reqs
    lines: list[Any] = [
        answer_request(good),
        ok_line(schema_bad, json.dumps({"parts": "not a list"})),
        ok_line(truncated, '{"parts": [', finish_reason="length"),
        {**ok_line(http_error, ""), "response": {"status_code": 400, "body": {"error": {"message": "bad request"}}}},
        error_line(errored, "batch_expired", "not finished within 24h"),
        "{not json",
        {**answer_request(good), "custom_id": "q1-unknown"},
    ]
    capsys.readouterr()
    assert main(["batch", "--out", "out", "--import-responses", str(write_jsonl(env / "resp.jsonl", lines))]) == 0
    captured = capsys.readouterr()
    assert (
        "1 responses stored in the cache, 0 already there, 4 failed or invalid, 1 missing, "
        "1 with an unknown custom_id, 1 unreadable lines" in captured.out
    )
    assert f"{schema_bad['custom_id']}: output did not match the schema" in captured.err
    assert f"{truncated['custom_id']}: output truncated" in captured.err
    assert f"{errored['custom_id']}: batch error batch_expired: not finished within 24h" in captured.err
    page = json.loads((env / "out" / "reports" / "report.json").read_text(encoding="utf-8"))
    assert page["llm"]["status"] == "partial" and page["llm"]["calls"] == 0
    assert len(page["llm"]["failed_questions"]) == 5
    # a live run now asks exactly the five questions that have no valid response
    fake = FakeChatClient([live_reply] * 5)
    [result] = review_results([check_file(env / "report.md")], load_settings(), client=fake)
    sent = sorted(body_without_delimiter(r.body()) for r in fake.requests)
    assert sent == sorted(body_without_delimiter(r["body"]) for r in reqs[1:])
    assert (result.llm.cached, result.llm.status) == (1, "ok")


def test_split_keeps_every_file_within_the_limits() -> None:
    lines = [f'{{"n": {i}}}\n'.encode() * (1 + i % 3) for i in range(20)]
    for max_requests, max_bytes in ((7, 10_000), (50, 40), (3, 30)):
        parts = split(lines, max_requests, max_bytes)
        assert [x for p in parts for x in p] == lines
        assert all(len(p) <= max_requests and sum(map(len, p)) <= max_bytes for p in parts)
        # no two neighbouring parts could have been one file
        for a, b in itertools.pairwise(parts):
            assert len(a) + len(b) > max_requests or sum(map(len, a + b)) > max_bytes
    with pytest.raises(UsageError, match="more than the 10-byte file limit"):
        split([b"x" * 11], 5, 10)
    assert part_paths(Path("r.jsonl"), 1) == [Path("r.jsonl")]
    assert part_paths(Path("d/r.jsonl"), 2) == [Path("d/r-001.jsonl"), Path("d/r-002.jsonl")]


def stub_env(monkeypatch: pytest.MonkeyPatch, stub: BatchStub) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", stub.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-stub")


def failing_first(ids: set[str]) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    """Answers every request, except that the first time it sees one of ``ids`` it fails or drops it."""
    seen: set[str] = set()

    def answer(req: dict[str, Any]) -> dict[str, Any] | None:
        cid = req["custom_id"]
        if cid in ids and cid not in seen:
            seen.add(cid)
            return error_line(req) if len(seen) == 1 else None
        return answer_request(req)

    return answer


def test_batch_api_submit_status_collect_requeue_and_resume(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for g in ("a", "b"):
        (env / "course").mkdir(exist_ok=True)
        shutil.copy(env / "report.md", env / "course" / f"{g}.md")
    ids: set[str] = set()  # filled once the batches exist: the first two requests of the first batch
    stub = BatchStub(failing_first(ids), polls_until_done=2)
    with serve(stub):
        stub_env(monkeypatch, stub)
        # two identical reports: 12 questions but 6 distinct requests, in files of at most 4 requests
        done = submit("course", env / "out", max_requests=4)
        assert stub.calls["POST", "files"] == 2 and stub.calls["POST", "batches"] == 2
        state = json.loads((env / "out" / STATE_FILE).read_text(encoding="utf-8"))
        assert [len(b["ids"]) for b in state["batches"]] == [4, 2]
        ids.update(state["batches"][0]["ids"][:2])  # one error line and one line missing from the output
        assert "≈ $" in done.lines[0] and "at Batch API prices" in done.lines[0]
        capsys.readouterr()
        assert main(["batch", "--status", "out"]) == 0
        status = capsys.readouterr().out
        assert "0 of 6 requests sent have a response in the cache" in status and "in_progress" in status
        # submitting again sends nothing: every question is waiting in a batch
        assert main(["batch", "course", "--out", "out", "--via", "batch-api"]) == 0
        assert stub.calls["POST", "batches"] == 2 and "nothing to send" in capsys.readouterr().out
        # first collect: everything finishes; the two failed questions go into a new batch, the rest is rendered
        assert main(["batch", "--collect", "out", "--requeue", "batch"]) == 0
        out = capsys.readouterr().out
        assert "1 failed or invalid, 1 missing" in out and "re-queued 2 failed requests as batch" in out
        assert stub.calls["POST", "batches"] == 3
        pages = json.loads((env / "out" / "reports" / "a.json").read_text(encoding="utf-8"))
        assert pages["llm"]["calls"] == 0 and len(pages["llm"]["failed_questions"]) == 2
        # while the re-queued batch runs, collecting only reports progress; once it is done, it is ingested
        assert main(["batch", "--collect", "out", "--requeue", "batch"]) == 0
        assert "1 batches still running" in capsys.readouterr().out
        assert main(["batch", "--collect", "out", "--requeue", "batch"]) == 0
        assert "2 responses stored in the cache" in capsys.readouterr().out
        # an interrupted collection (the last batch stored but not marked ingested) resumes from the download
        downloads = stub.calls["GET", "content"]
        state = json.loads((env / "out" / STATE_FILE).read_text(encoding="utf-8"))
        state["batches"][-1]["ingested"] = False
        (env / "out" / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
        assert main(["batch", "--collect", "out", "--requeue", "batch"]) == 0
        assert "0 responses stored in the cache, 2 already there" in capsys.readouterr().out
        assert stub.calls["GET", "content"] == downloads and stub.calls["POST", "batches"] == 3
        assert stub.calls["POST", "other"] == 0  # no chat completion was ever sent live
        assert main(["batch", "--status", "out"]) == 0
        assert "6 of 6 requests sent have a response in the cache" in capsys.readouterr().out
        # nothing ingested is ever requested again
        assert main(["batch", "course", "--out", "out", "--via", "batch-api"]) == 0
        assert "0 requests (12 questions already cached" in capsys.readouterr().out
        assert stub.calls["POST", "files"] == 3 and stub.calls["POST", "batches"] == 3
    for name in ("a", "b"):
        page = json.loads((env / "out" / "reports" / f"{name}.json").read_text(encoding="utf-8"))
        assert (page["llm"]["status"], page["llm"]["calls"], page["llm"]["cached"]) == ("ok", 0, 6)
    # and a later normal run makes zero calls for the whole course
    fake = FakeChatClient()
    results = review_results([check_file(env / "course" / f"{g}.md") for g in "ab"], load_settings(), client=fake)
    assert fake.requests == [] and [r.llm.cached for r in results] == [6, 6]


def test_collect_requeues_failures_live(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stub = BatchStub(lambda r: None)  # the batch finishes with every line missing
    with serve(stub):
        stub_env(monkeypatch, stub)
        submit("report.md", env / "out")
        fake = FakeChatClient([live_reply] * 6)
        monkeypatch.setattr("feedback.llm.client.make_client", lambda settings: fake)
        done = collect(env / "out", requeue="live", client=None)
    assert "6 missing" in done.lines[0] and "re-sending 6 failed requests as live calls" in done.lines
    assert len(fake.requests) == 6
    page = json.loads((env / "out" / "reports" / "report.json").read_text(encoding="utf-8"))
    assert (page["llm"]["status"], page["llm"]["calls"]) == ("ok", 6)


def test_bad_usage_is_one_line(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["batch", "--collect", "nowhere"]) == 2
    assert capsys.readouterr().err.startswith("feedback: error: nowhere/batch_state.json: no batch state here")
    assert main(["batch", "report.md", "--out", "out", "--via", "batch-api"]) == 2
    assert "needs OPENAI_API_KEY" in capsys.readouterr().err
    assert main(["batch", "--collect", "out", "--status", "out"]) == 2
    assert "not --collect and --status" in capsys.readouterr().err
    assert main(["batch", "report.md", "--export-requests", "r.jsonl"]) == 2
    assert capsys.readouterr().err == "feedback: error: --export-requests needs --out DIR\n"
