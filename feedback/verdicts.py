"""The one verdict table: a checklist item's tick state against what the answers state about it.

Both consistency stages decide with it: the offline engine (from its sentence reading) and the LLM review (from the
status the model reports, without ever seeing the tick). A stage supplies the tick and the stated status; the table
gives the verdict (``contradicted`` / ``unsupported`` / ``consistent``), the severity and the message template.

The stated statuses, strongest evidence of doing first:

- ``done``: a first-person statement that it was done;
- ``partly``: part of it was done (a bundle half done, "some tests");
- ``not-done``: it was not done, or tried and abandoned;
- ``planned-only``: only as a plan, a hypothetical or "we would";
- ``not-mentioned``: the answers say nothing about it.

An unticked item that the answers say was not done (or never mention) is consistent: an honest "we did not manage
to set up monitoring" is never a finding.

A checklist nobody ticked (``untouched``) is judged item by item like any other: an item the answers describe as
done is contradicted, but as information (the one "nothing is ticked" warning, FB106, carries the problem; the items
tell the group what to tick).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import NamedTuple

from feedback.findings import Severity, Verdict
from feedback.report.model import ChecklistItem, Mark


class Tick(StrEnum):
    TICKED = "ticked"
    UNTICKED = "unticked"
    PARTIAL = "partial"


class Stated(StrEnum):
    DONE = "done"
    PARTLY = "partly"
    NOT_DONE = "not-done"
    PLANNED_ONLY = "planned-only"
    NOT_MENTIONED = "not-mentioned"


class Outcome(StrEnum):
    CONTRADICTED = "contradicted"
    UNSUPPORTED = "unsupported"
    CONSISTENT = "consistent"

    @property
    def verdict(self) -> Verdict | None:
        """The :class:`Verdict` a finding carries, or ``None`` for consistent (no finding)."""
        return None if self is Outcome.CONSISTENT else Verdict(self.value)


class Rule(NamedTuple):
    """One cell of the table. ``message`` takes ``{where}`` (e.g. "Q4 (line 80)"), ``{what}`` (the thing, e.g.
    "DVC" or "it") and ``{quote}`` (the answer's words); unsupported cells use only ``{what}`` and ``{where}``."""

    outcome: Outcome
    severity: Severity | None
    message: str

    @property
    def finding(self) -> bool:
        return self.outcome is not Outcome.CONSISTENT

    def render(self, *, where: str, what: str = "it", quote: str = "") -> str:
        return self.message.format(where=where, what=what, quote=short(quote))


_OK = Rule(Outcome.CONSISTENT, None, "")
_NOT_DONE = 'Ticked, but {where} says {what} was not done: "{quote}"'
_PLANNED = 'Ticked, but {where} describes {what} only as a plan or a possibility: "{quote}"'
_UNSUPPORTED = "Ticked, but no answer says {what} was done ({where})."
_UNTICKED_DONE = 'Not ticked, but {where} describes it: "{quote}"; tick it or fix the answer.'
_UNTOUCHED_DONE = 'Not ticked (no item of the checklist is), but {where} describes it: "{quote}"; tick what you did.'
_PARTIAL_NOT_DONE = 'Marked partly done, but {where} says {what} was not done at all: "{quote}"'

TABLE: dict[tuple[Tick, Stated], Rule] = {
    (Tick.TICKED, Stated.DONE): _OK,
    (Tick.TICKED, Stated.PARTLY): _OK,  # a bundle partly done is not a contradiction
    (Tick.TICKED, Stated.NOT_DONE): Rule(Outcome.CONTRADICTED, Severity.WARNING, _NOT_DONE),
    (Tick.TICKED, Stated.PLANNED_ONLY): Rule(Outcome.CONTRADICTED, Severity.WARNING, _PLANNED),
    (Tick.TICKED, Stated.NOT_MENTIONED): Rule(Outcome.UNSUPPORTED, Severity.INFO, _UNSUPPORTED),
    (Tick.UNTICKED, Stated.DONE): Rule(Outcome.CONTRADICTED, Severity.WARNING, _UNTICKED_DONE),
    (Tick.UNTICKED, Stated.PARTLY): _OK,  # modest, not wrong
    (Tick.UNTICKED, Stated.NOT_DONE): _OK,  # honest: never a finding
    (Tick.UNTICKED, Stated.PLANNED_ONLY): _OK,
    (Tick.UNTICKED, Stated.NOT_MENTIONED): _OK,
    (Tick.PARTIAL, Stated.DONE): _OK,
    (Tick.PARTIAL, Stated.PARTLY): _OK,
    (Tick.PARTIAL, Stated.NOT_DONE): Rule(Outcome.CONTRADICTED, Severity.WARNING, _PARTIAL_NOT_DONE),
    (Tick.PARTIAL, Stated.PLANNED_ONLY): _OK,  # a partial mark and a plan say the same thing
    (Tick.PARTIAL, Stated.NOT_MENTIONED): _OK,
}

# When several answers speak about one item, the strongest evidence of doing decides: one answer saying it was
# done outweighs another that never mentions it (a contradiction between the answers is another finding).
STRENGTH: tuple[Stated, ...] = (Stated.DONE, Stated.PARTLY, Stated.NOT_DONE, Stated.PLANNED_ONLY, Stated.NOT_MENTIONED)


def tick_of(checked: bool, partial: bool = False) -> Tick:
    if partial:
        return Tick.PARTIAL
    return Tick.TICKED if checked else Tick.UNTICKED


def tick_of_item(item: ChecklistItem) -> Tick:
    """The tick state of a parsed checklist item (``[~]`` and ``[50%]`` are partial)."""
    return tick_of(item.checked, item.state is Mark.PARTIAL)


UNTOUCHED_DONE = Rule(Outcome.CONTRADICTED, Severity.INFO, _UNTOUCHED_DONE)


def decide(tick: Tick, stated: Stated, *, untouched: bool = False) -> Rule:
    """The cell for one item: what the tick and the stated status together mean. ``untouched``: no item of the
    checklist is ticked, so an unticked item described as done is information, not a warning of its own."""
    rule = TABLE[tick, stated]
    if untouched and tick is Tick.UNTICKED and rule.outcome is Outcome.CONTRADICTED:
        return UNTOUCHED_DONE
    return rule


def strongest(statuses: Iterable[Stated]) -> Stated:
    """The status that decides when several answers speak about one item (``not-mentioned`` when none do)."""
    seen = set(statuses)
    return next((s for s in STRENGTH if s in seen), Stated.NOT_MENTIONED)


def short(text: str, n: int = 90) -> str:
    """Quotes in messages are cut at ``n`` characters (the whole quote stays in the evidence)."""
    text = " ".join(text.split())
    if len(text) <= n:
        return text
    cut = text[: n - 1]
    if text[n - 1].isalnum() and " " in cut:  # never cut inside a word ("one instanc…")
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "…"
