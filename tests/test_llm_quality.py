"""The capable-model run kept in benchmarks/llm_runs/ replays and meets its floors; a stale run fails clearly.

A run answers one prompt version (its folder's name). Changing a prompt file changes the version, and the kept run
no longer matches: the test then fails and says how to make a new run. With no run kept at all it skips. The one
exception is ``AWAITED_RUN``: a prompt version frozen for a run that is being made (by stand-in model sessions,
which takes hours); while its folder is missing, the test is an expected failure that says so. Any other version
still fails as stale.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.llm_quality import CORPUS, RUNS, SECOND_LOOK, Tally, case, read_looks, score, second_look
from feedback.findings import Category, Finding, Severity, Verdict
from feedback.llm.prompts import load_prompts

# The kept run's own figures (scores.json), as floors: a change that makes the replayed run worse fails. Most of the
# issue's targets are not met by this run (README, Measuring the LLM review). "max:" figures are upper bounds.
FLOORS: dict[str, dict[str, float]] = {
    "heldout": {
        "contradicted_recall": 0.915,
        "unsupported_recall": 0.857,
        "consistency_confirmed": 0.733,
        "missing_part_recall": 0.909,
        "max:false_alarm_rate": 0.058,
        "max:unconfirmed_missing_max": 3,
        "max:shown_median": 19.5,
        "max:token_ratio_max": 1.96,
        "internal_recall": 0.7,
    },
    "tuning": {
        "contradicted_recall": 0.917,
        "unsupported_recall": 0.842,
        "consistency_confirmed": 0.694,
        "missing_part_recall": 0.839,
        "max:false_alarm_rate": 0.011,
        "max:unconfirmed_missing_max": 1,
        "max:shown_median": 16.0,
        "max:token_ratio_max": 2.42,
        "internal_recall": 0.741,
    },
}
# The prompt version whose run is being made; None when the current version's run is kept.
AWAITED_RUN: str | None = None
SLACK = {"false_alarm_rate": 0.01, "unconfirmed_missing_max": 2, "shown_median": 3, "token_ratio_max": 0.1}


def test_the_kept_run_matches_the_prompts_and_meets_its_floors(capsys: pytest.CaptureFixture[str]) -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus {CORPUS} not found")
    version = load_prompts().version
    run = RUNS / version
    kept = sorted(d.name for d in RUNS.iterdir() if (d / "responses-question.jsonl").is_file()) if RUNS.is_dir() else []
    if not (run / "responses-question.jsonl").is_file():
        if kept and version == AWAITED_RUN:
            pytest.xfail(
                f"prompt version {version} is frozen and its capable-model run is being made; until "
                f"benchmarks/llm_runs/{version}/ is kept, only the stale run {', '.join(kept)} exists"
            )
        if kept:
            pytest.fail(
                f"the prompts changed: they are now version {version}, and the kept LLM quality run answered "
                f"{', '.join(kept)}. Its responses are stale; make a new run (README, 'Measuring the LLM review': "
                "export, answer with a capable model, assemble, score --write) and replace the old folder."
            )
        with capsys.disabled():
            print(f"\nskip: no LLM quality run is kept in {RUNS} (prompt version {version})")
        pytest.skip(f"no LLM quality run kept for prompt version {version}")
    scores = score(run)
    recorded = json.loads((run / "scores.json").read_text(encoding="utf-8"))
    assert set(scores) == set(recorded), "the label parts changed since the run was scored"
    for part, figs in scores.items():
        assert figs["answered"] == figs["requests"], (
            f"{part}: {figs['requests'] - figs['answered']} requests have no response in the run: the reports or "
            "the consistency engine's related items changed the requests; re-export the missing ones and answer them"
        )
        for name, floor in FLOORS.get(part, {}).items():
            key = name.removeprefix("max:")
            value = figs[key]
            # slack for small changes in the other stages (the offline engine's findings are part of the figures)
            slack = SLACK.get(key, 0.05)
            ok = value <= floor + slack if name.startswith("max:") else value >= floor - slack
            assert ok, f"{part}: {key} = {value}, floor {floor} (recorded: {recorded[part].get(key)})"


def test_a_second_look_counts_upheld_cases_beside_the_labels(tmp_path: Path) -> None:
    def finding(item: str) -> Finding:
        return Finding(
            code="FB502",
            check="claim-unsupported",
            category=Category.CONSISTENCY,
            severity=Severity.INFO,
            message=f"Ticked, but no answer mentions {item}.",
            checklist_item=item,
            verdict=Verdict.UNSUPPORTED,
        )

    first, second, third = (case("r.md", finding(item)) for item in ("docs", "profiling", "pages"))
    assert case("r.md", finding("docs")) == first, "a case keeps its id while the finding stays the same"
    assert len({first["id"], second["id"], third["id"]}) == 3
    tally = Tally(shown_consistency=10, confirmed=6, cases=[first, second, third])
    rows = [{"id": first["id"], "verdict": "upheld"}, {"id": second["id"], "verdict": "rejected"}]
    (tmp_path / SECOND_LOOK).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    figs = second_look(tally, read_looks(tmp_path))
    # the third case has no verdict: it counts as not upheld
    assert figs == {
        "second_look_cases": 3,
        "second_look_judged": 2,
        "second_look_upheld": 1,
        "consistency_upheld": 0.7,
    }
    assert second_look(tally, read_looks(tmp_path / "no-run")) == {}
    (tmp_path / SECOND_LOOK).write_text(json.dumps({"id": first["id"], "verdict": "maybe"}) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="maybe"):
        read_looks(tmp_path)
