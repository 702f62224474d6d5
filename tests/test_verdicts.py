"""The verdict table both consistency stages decide with: tick state × what the answers state."""

from __future__ import annotations

import pytest

from feedback.findings import Severity, Verdict
from feedback.verdicts import TABLE, Outcome, Stated, Tick, decide, strongest, tick_of


def test_every_tick_and_status_has_exactly_one_cell() -> None:
    assert set(TABLE) == {(t, s) for t in Tick for s in Stated}


@pytest.mark.parametrize("stated", list(Stated))
def test_an_unticked_item_is_a_finding_only_when_the_answers_say_it_was_done(stated: Stated) -> None:
    rule = decide(Tick.UNTICKED, stated)
    assert rule.finding == (stated is Stated.DONE)
    if rule.finding:
        assert rule.outcome.verdict is Verdict.CONTRADICTED


@pytest.mark.parametrize(
    ("tick", "stated", "outcome"),
    [
        (Tick.TICKED, Stated.DONE, Outcome.CONSISTENT),
        (Tick.TICKED, Stated.PARTLY, Outcome.CONSISTENT),
        (Tick.TICKED, Stated.NOT_DONE, Outcome.CONTRADICTED),
        (Tick.TICKED, Stated.PLANNED_ONLY, Outcome.CONTRADICTED),
        (Tick.TICKED, Stated.NOT_MENTIONED, Outcome.UNSUPPORTED),
        (Tick.PARTIAL, Stated.NOT_DONE, Outcome.CONTRADICTED),
        (Tick.PARTIAL, Stated.PLANNED_ONLY, Outcome.CONSISTENT),
        (Tick.PARTIAL, Stated.NOT_MENTIONED, Outcome.CONSISTENT),
    ],
)
def test_ticked_and_partial_cells(tick: Tick, stated: Stated, outcome: Outcome) -> None:
    assert decide(tick, stated).outcome is outcome


def test_messages_name_where_and_quote_and_cut_long_quotes() -> None:
    rule = decide(Tick.TICKED, Stated.NOT_DONE)
    text = rule.render(where="Q4 (line 80)", what="DVC", quote="No, we did not use DVC in the end. " * 5)
    assert text.startswith('Ticked, but Q4 (line 80) says DVC was not done: "No, we did not use DVC')
    assert text.endswith('…"') and len(text) < 160
    assert "tick it or fix the answer" in decide(Tick.UNTICKED, Stated.DONE).render(where="Q3", quote="we did it")


def test_the_strongest_statement_of_doing_decides_and_ticks_map_to_states() -> None:
    assert strongest([Stated.NOT_MENTIONED, Stated.NOT_DONE, Stated.DONE]) is Stated.DONE
    assert strongest([Stated.PLANNED_ONLY, Stated.NOT_DONE]) is Stated.NOT_DONE
    assert strongest([]) is Stated.NOT_MENTIONED
    assert (tick_of(True), tick_of(False), tick_of(True, partial=True)) == (Tick.TICKED, Tick.UNTICKED, Tick.PARTIAL)


@pytest.mark.parametrize("stated", list(Stated))
@pytest.mark.parametrize("tick", list(Tick))
def test_an_untouched_checklist_changes_only_the_severity_of_unticked_done(tick: Tick, stated: Stated) -> None:
    plain, untouched = decide(tick, stated), decide(tick, stated, untouched=True)
    assert untouched.outcome is plain.outcome
    if (tick, stated) == (Tick.UNTICKED, Stated.DONE):
        assert (plain.severity, untouched.severity) == (Severity.WARNING, Severity.INFO)
        assert "no item of the checklist is" in untouched.render(where="Q5", quote="we used DVC")
    else:
        assert untouched is plain
