"""What a quote must show before code acts on the status the model gave it: the model states, code checks the words.

The model reads an answer and says an item or a fact is ``not-done`` or ``planned-only``; a verdict against a tick,
or a contradiction between two answers, is only as good as that reading. So the quote the status rests on must
carry its sign:

- ``not-done``: a denial or a failure ("we did not", "were unable to", "instead of", "only locally", "gave up"), or
  a counterfactual ("if we had more time we would have"). A denial that only limits how it was done ("not actively
  used", "did not set up a dedicated documentation generator", "no particular rules", "not ... directly") denies
  nothing a tick claims;
- ``planned-only``: a plan or a possibility ("would", "next", "could"), or a denial;
- ``done``: a claim of doing, not what a tool merely allows ("W&B allows us to save the checkpoints") nor a try
  the same sentence gives up ("We managed with the engine, but opted to run training locally").

Chosen on the tuning part of the 6.3.3.2 run (README, Measuring the LLM review): of the LLM contradictions of a tick
whose quote carried no such sign, 5 of 6 were not confirmed by the labels ("By running flake8 as part of our
development routine" against a CI linting step; "We have implemented 4 tests" against data tests), and so were both
whose denial was limited. The same rules for the report-level pass's cross-answer pairs (``excludes`` among them)
are measured but not adopted (``feedback.llm.assess.PAIR_RULES``).
"""

from __future__ import annotations

import re

# a plain negation: only these can be limited by a qualifier ("not actively used")
_NEGATION = (
    r"\b(?:not|never|no|none|nothing|neither|nor|without|cannot)\b|\b\w+n['’]t\b"
    r"|\b(?:didnt|doesnt|dont|wasnt|werent|isnt|arent|hasnt|havent|hadnt|couldnt|wouldnt|cant|wont)\b"
)
NEGATION_RE = re.compile(_NEGATION, re.IGNORECASE)
FAILURE_RE = re.compile(
    r"\b(?:unable|impossible|fail\w*|unsuccessful\w*|tried|attempt\w*|gave up|give up|abandon\w*|dropp?ed|omit\w*"
    r"|skipp?ed|scrap+(?:ed|ped)?|left out|leave out|removed?|removing|instead|rather than|as opposed to"
    r"|in favou?r of|ran out|blocked|broken|absence|lack\w*|empty|only|superfluous|unnecessary)\b",
    re.IGNORECASE,
)
COUNTERFACTUAL_RE = re.compile(r"\b(?:would|could|should|might) have\b|\bif we had\b", re.IGNORECASE)
PLAN_RE = re.compile(
    r"\b(?:would|will|plan\w*|future|next|could|should|intend\w*|hope\w*|want\w*|wish\w*|if|ideally|idea"
    r"|possib\w*|potential\w*|might|may|can|goal|aim\w*|consider\w*|todo|later|eventually|yet)\b",
    re.IGNORECASE,
)
# the rest of a negation's clause limits what it denies to a manner or an extent
QUALIFIED_RE = re.compile(
    r"^[^.,;:!?]{0,80}?\b(?:actively|active|extensively|directly|dedicated|particular(?:ly)?|specific(?:ally)?"
    r"|fully|entirely|completely|in an? \w+ (?:way|manner|fashion))\b",
    re.IGNORECASE,
)
# a named thing (capitalised: "Cloud Run", "GCP") after a negation in a fact's own words
EXCLUDED_RE = re.compile(r"\b(?:[Nn]ot|[Nn]ever|[Ii]nstead of|[Rr]ather than)\s+([A-Z][\w.-]+(?:\s+[A-Z][\w.-]*)*)")
# a "done" that is no claim of doing: what a tool allows, or a try the same sentence says was given up for another way
CAPABILITY_RE = re.compile(
    r"\b(?:allows?|enables?|lets?) (?:us|you|one|them|the \w+) to\b|\bwe can\b"
    r"|\bbut (?:we |then |in the end |eventually |later )?(?:opted|chose|decided|ended up|switched|went back)\b",
    re.IGNORECASE,
)


def denies(quote: str) -> bool:
    """Whether ``quote`` says something was not done: a failure word, a counterfactual, or a negation whose clause
    does not limit it to a manner or extent."""
    if FAILURE_RE.search(quote) or COUNTERFACTUAL_RE.search(quote):
        return True
    return any(QUALIFIED_RE.match(quote[m.end() :]) is None for m in NEGATION_RE.finditer(quote))


def states(status: str, quote: str) -> bool:
    """Whether ``quote`` carries the sign of ``status`` (``done``, ``partly``, ``not-done``, ``planned-only``;
    ``not-mentioned`` has no quote and always holds)."""
    if status == "not-done":
        return denies(quote)
    if status == "planned-only":
        return bool(PLAN_RE.search(quote)) or denies(quote)
    if status == "done":
        return CAPABILITY_RE.search(quote) is None
    return True


def excludes(what: str, other: str) -> bool:
    """Whether a fact's own words (``what``: "API deployment | Vertex AI endpoint, not Cloud Run") rule out the
    words that follow a "not", "instead of" or "rather than" in them, and ``other`` (the other fact's words) names
    those: two facts about one thing, each done somewhere, disagree only then."""
    low = " ".join(other.lower().split())
    return any(m.group(1).lower() in low for m in EXCLUDED_RE.finditer(what))
