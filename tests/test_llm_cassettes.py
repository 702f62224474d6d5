"""A whole ``feedback review examples/report.md`` run against recorded HTTP exchanges (vcrpy, record mode none).

The cassette holds a capable model's answers to every request of the run (see cassettes/README.md), so besides the
plumbing (requests, parsing, verification, the exchange log, the warm cache) it tests judgment through the LLM
path: the example's planted contradictions, one of them between two answers, are found. Re-record with
``FEEDBACK_RECORD=1`` (cassettes/README.md).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import vcr
import yaml

from feedback.cli import main
from feedback.llm.assess import BOTH
from feedback.llm.review import DELIM_RE, DELIM_TOKEN, reviewable
from feedback.llm.verify import normalise
from feedback.pipeline import check_file
from feedback.report import read_report
from tests.conftest import ROOT, write_user_config

CASSETTES = ROOT / "cassettes"
CASSETTE = CASSETTES / "review_example.yaml"
EXAMPLE = ROOT / "examples" / "report.md"
RECORDING = os.environ.get("FEEDBACK_RECORD") == "1"
SERVER = os.environ.get("OPENAI_BASE_URL", "http://127.0.0.1:8765/v1") if RECORDING else "http://127.0.0.1:8765/v1"

# What the recording used; replay must send byte-identical bodies, so these are fixed here.
CONFIG = """\
[tool.feedback]
model = "capable-stand-in"
concurrency = 1
timeout = 900
retries = 1
max_output_tokens = 400
cache_dir = "cache"
"""


# The part of the question prompt that other stages fill in (related checklist items, offline findings): it changes
# whenever the consistency engine or a rule changes, which says nothing about the LLM plumbing under test here.
OTHER_STAGES_RE = re.compile(r"^(?:Checklist items|Offline findings):\n.*?(?=^Answer:\n)", re.S | re.M)


def _normalised_body(body: Any) -> Any:
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    data = json.loads(DELIM_RE.sub(DELIM_TOKEN, body or "null"))
    for message in data.get("messages", []) if isinstance(data, dict) else []:
        message["content"] = OTHER_STAGES_RE.sub("<other stages>\n", message["content"])
    return data


def json_body(r1: Any, r2: Any) -> None:
    """Bodies equal as JSON, ignoring the random per-call delimiter and the other stages' part of the prompt."""
    assert _normalised_body(r1.body) == _normalised_body(r2.body)


def _scrub_key(response: dict[str, Any]) -> dict[str, Any]:
    """Take the API key out of a recorded response body (a server may echo a wrong key in its error)."""
    key = os.environ.get("OPENAI_API_KEY", "")
    body = response.get("body", {}).get("string")
    if key and isinstance(body, bytes):
        response["body"]["string"] = body.replace(key.encode(), b"[API key]")
    elif key and isinstance(body, str):
        response["body"]["string"] = body.replace(key, "[API key]")
    return response


def recorder() -> vcr.VCR:
    rec = vcr.VCR(
        before_record_response=_scrub_key,
        cassette_library_dir=str(CASSETTES),
        record_mode="all" if RECORDING else "none",
        match_on=["method", "path", "json_body"],
        filter_headers=["authorization", "openai-organization", "openai-project"],
        decode_compressed_response=True,
    )
    rec.register_matcher("json_body", json_body)
    return rec


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_user_config(CONFIG.replace('cache_dir = "cache"', f"cache_dir = {str(tmp_path / 'cache')!r}"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FEEDBACK_CACHE_DIR", raising=False)
    monkeypatch.delenv("FEEDBACK_MODEL", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", SERVER)
    monkeypatch.setenv("OPENAI_API_KEY", os.environ.get("OPENAI_API_KEY", "sk-fake") if RECORDING else "sk-fake")
    return tmp_path


def _review(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code = main(["review", str(EXAMPLE), "--format", "json", "--exit-zero"])
    assert code == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


@pytest.mark.skipif(not RECORDING and not CASSETTE.exists(), reason="no cassette recorded")
def test_review_example_end_to_end(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    report = read_report(EXAMPLE)
    expected = [q.number for q in report.questions if reviewable(q)]
    with recorder().use_cassette(CASSETTE.name, allow_playback_repeats=False) as cassette:
        cold = _review(capsys)
        if not RECORDING:
            assert cassette.all_played, "every recorded exchange is replayed"
    llm = cold["llm"]
    assert llm["model"] == "capable-stand-in"
    assert llm["status"] == "ok" and llm["failed_questions"] == {}
    # one call per reviewable question, and the report-level pass
    assert llm["calls"] == len(expected) + 1
    # Deterministic findings are all still there (FB201: question 7's placeholder).
    assert any(f["code"] == "FB201" and f["question"] == 7 for f in cold["findings"])
    # Every LLM finding's evidence is text from the report.
    whole = normalise(EXAMPLE.read_text(encoding="utf-8"))
    for f in cold["findings"]:
        if f["source"] == "llm":
            assert set(f["questions"]) <= set(expected)
            assert all(normalise(q) in whole for q in f["evidence"])
    # Every exchange logged with a content hash.
    log = [json.loads(line) for line in (workdir / "cache" / "exchanges.jsonl").read_text().splitlines()]
    sent = [e for e in log if not e["cached"]]
    assert len(sent) == llm["calls"] and {e["mode"] for e in sent} == {"json_schema"}
    assert all(len(e["content_hash"]) == 64 and e["prompt_version"] == llm["prompt_version"] for e in sent)
    assert [e["question"] for e in sent][-1] == 0  # the report-level pass comes last

    # Warm rerun with no server behind the URL (the cache key includes the endpoint, so the URL stays): the cache
    # answers every call, with the same findings.
    if RECORDING:
        return  # the recording server is still listening
    warm = _review(capsys)
    assert (warm["llm"]["calls"], warm["llm"]["cached"]) == (0, len(expected) + 1)
    assert warm["findings"] == cold["findings"]
    # Another server under the same model name gets none of those answers: the endpoint is part of the cache key.
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    other = _review(capsys)
    assert other["llm"]["cached"] == 0 and other["llm"]["endpoint"] == "127.0.0.1:9"
    assert set(other["llm"]["failed_questions"]) == {str(n) for n in expected}


PLANTED = {  # the example's checklist contradictions: item -> verdict
    "Put the data under version control (M8)": "contradicted",
    "Deploy the model in GCP with Cloud Run or Functions (M23)": "contradicted",
    "Create a FastAPI application that serves the model (M22)": "contradicted",
    "Use Hydra to load configurations and manage hyperparameters (M11)": "unsupported",
    "Load test the application (M24)": "unsupported",
}


@pytest.mark.skipif(not CASSETTE.exists(), reason="no cassette recorded")
def test_the_llm_path_finds_the_planted_contradictions_once_each(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with recorder().use_cassette(CASSETTE.name, allow_playback_repeats=False):
        data = _review(capsys)
    findings = data["findings"]
    for item, verdict in PLANTED.items():
        # one finding per item: the offline engine's, saying the LLM review found it too
        [f] = [f for f in findings if f["checklist_item"] == item and f["category"] == "consistency"]
        assert f["verdict"] == verdict and f["message"].endswith(BOTH), (item, f)
    # consistent items raise nothing: W&B, CI and the environment are ticked and described
    flagged = {f["checklist_item"] for f in findings if f["category"] == "consistency"}
    assert not flagged & {
        "Log training progress and metrics with Weights & Biases (M14)",
        "Get continuous integration running on GitHub (M17)",
        "Make a dedicated environment for the project to track its packages (M2)",
    }
    # the contradiction between two answers (Q4: the data never changed; Q6: new recordings in week three),
    # which only the report-level pass sees
    [cross] = [f for f in findings if f["source"] == "llm" and f["verdict"] == "internal"]
    assert cross["questions"] == [4, 6] and cross["code"] == "FB604"
    assert cross["evidence"] == [
        "we never\nchanged them after the first week",
        "we added a second batch of 300 new recordings to the dataset in week three",
    ]
    # missing parts only for explicit parts of the prompt: the "why" of Q6, Q9's yes/no and results, Q5's config
    missing = {(f["question"], f["message"]) for f in findings if f["verdict"] == "missing-part"}
    assert {n for n, _m in missing} == {5, 6, 9}
    # one finding per question, in the question's own words (never the model's description of the part)
    assert sorted(missing) == [
        (5, 'The answer does not give a yes or no to "Did you use config files?"'),
        (6, 'The answer does not give the reason asked for in "Explain which metrics you track and why."'),
        (
            9,
            'The answer does not give a yes or no to "Did you perform any load testing of your API?" and what '
            '"Describe the results." asks for',
        ),
    ]
    # suggestions: all in JSON with their rank, the best one per question shown in text
    ranks = sorted(f["rank"] for f in findings if f["code"] == "FB603")
    assert ranks == list(range(1, len(ranks) + 1))


def test_matcher_ignores_only_the_delimiter_and_other_stages_text() -> None:
    def body(delim: str, items: str, answer: str) -> bytes:
        user = f"Question 5:\n{delim}\nQuestion: How?\n{items}Answer:\n{answer}\n{delim}\n"
        return json.dumps({"model": "m", "messages": [{"role": "user", "content": user}]}).encode()

    class Req:
        def __init__(self, body: bytes) -> None:
            self.body = body

    hydra = "Checklist items:\n- Use Hydra\n"
    a = Req(body("<<<ANSWER-0123456789abcdef>>>", hydra, "We used argparse."))
    json_body(
        a, Req(body("<<<ANSWER-fedcba9876543210>>>", "Offline findings:\n- too-short: 3 words\n", "We used argparse."))
    )
    with pytest.raises(AssertionError):
        json_body(a, Req(body("<<<ANSWER-0123456789abcdef>>>", hydra, "We used Hydra.")))


def _recorded_user_messages() -> dict[int, list[str]]:
    """The user messages of the cassette's requests, by question number."""
    recorded = yaml.safe_load(CASSETTE.read_text(encoding="utf-8"))
    out: dict[int, list[str]] = {}
    for interaction in recorded["interactions"]:
        for message in json.loads(interaction["request"]["body"])["messages"]:
            number = re.match(r"Question (\d+):\n", message["content"])
            if message["role"] == "user" and number:
                out.setdefault(int(number.group(1)), []).append(message["content"])
    return out


@pytest.mark.skipif(not CASSETTE.exists(), reason="no cassette recorded")
def test_cassette_prompts_carry_the_dvc_item_but_not_the_engines_verdict() -> None:
    # The replay matcher ignores the other stages' part of the prompt, so a cassette recorded before the engine
    # recognised a checklist item still replays; this catches that: Q4's prompt must list the DVC item (M8), inside
    # the data block and without its tick. The engine's contradiction of that item is not sent, so the model's
    # "not-done" is its own reading of the answer and "found by both" means two independent readings.
    (q4,) = _recorded_user_messages()[4]
    other_stages = OTHER_STAGES_RE.search(q4)
    assert other_stages is not None
    assert "- Put the data under version control (M8)" in other_stages.group(0).splitlines()
    assert "claim-contradicted" not in q4 and "Ticked, but" not in q4
    [delim] = set(DELIM_RE.findall(q4))
    assert q4.split(delim)[0] == "Question 4:\n" and other_stages.group(0) in q4.split(delim)[1]
    engine = check_file(EXAMPLE).findings
    assert any(
        f.check == "claim-contradicted" and f.checklist_item == "Put the data under version control (M8)"
        for f in engine
    )
