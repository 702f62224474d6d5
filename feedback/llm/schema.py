"""The response schemas: one per question (facts about the answer, never verdicts) and one for the report-level
pass (facts that conflict across answers, facts that back checklist items), with their strict JSON-schema forms."""

from __future__ import annotations

import copy
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# Every string a model writes is cut to this many characters when the reply is read, before anything else sees it:
# a 10 MB "suggestion" from a broken or hostile server reaches neither the findings nor the cache (which stores the
# validated reply). Quotes are one sentence and explanations one short sentence, so honest text is never cut. The
# JSON schema sent with a request is the same as without the cut.
MAX_MODEL_TEXT = 1000


def _cut(text: str) -> str:
    return text[:MAX_MODEL_TEXT]


Text = Annotated[str, AfterValidator(_cut)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


Status = Literal["done", "partly", "not-done", "planned-only", "not-mentioned"]  # feedback.verdicts.Stated
FactStatus = Literal["done", "not-done", "planned-only"]
# What kind of thing a question explicitly asks for: code keeps a missing part only when the question's words
# (``prompt_quote``) really ask for that kind (feedback.llm.assess)
AskKind = Literal["number", "link", "reason", "yes-no", "named-item"]


class PartCheck(_Strict):
    """One thing the question explicitly asks for (a number, a link, a reason, a yes/no, an item it names)."""

    ask: AskKind = Field(
        description="number (how many, what percentage), link, reason (why), yes-no (did you...?), named-item "
        "(a thing the question names: which services, what command)"
    )
    prompt_quote: Text = Field(description="The words of the question that ask for it, copied exactly")
    part: Text = Field(description="What the question asks for, in a few words")
    answered: bool
    quote: Text = Field(description="Verbatim text from the answer that gives this part; empty when missing")


class ItemStatus(_Strict):
    """What the answer states about one listed checklist item (a fact; code compares it with the tick)."""

    item: Text = Field(description="The checklist item text exactly as listed")
    status: Status
    quote: Text = Field(description="Verbatim text from the answer showing the status; empty for not-mentioned")


class Fact(_Strict):
    """A specific claim another answer could contradict: a tool, service or practice, where or how, done or not."""

    thing: Text = Field(description="The tool, service or practice, in a few words")
    detail: Text = Field(description="Where or how, in a few words; empty if the answer does not say")
    status: FactStatus
    quote: Text = Field(description="Verbatim text from the answer stating it")


class Suggestion(_Strict):
    """A concrete improvement to a part the question asks for, tied to a quote from the answer."""

    prompt_quote: Text = Field(description="The words of the question asking the part it improves, copied exactly")
    quote: Text = Field(description="Verbatim text from the answer it is about")
    suggestion: Text = Field(description="What to add or fix, in one sentence")
    importance: Literal["high", "medium", "low"]


class QuestionReview(_Strict):
    """The whole response for one question."""

    parts: list[PartCheck]
    items: list[ItemStatus]
    facts: list[Fact]
    suggestions: list[Suggestion]


class FactConflict(_Strict):
    """Two facts from different answers that cannot both be true."""

    first_fact: Text = Field(description="A fact id, e.g. F3.1")
    second_fact: Text
    explanation: Text


class ItemBacking(_Strict):
    """What the facts say about one listed checklist item."""

    item: Text = Field(description="The checklist item text exactly as listed")
    status: Status
    fact: Text = Field(description="The id of the fact that shows the status; empty for not-mentioned")


class ReportReview(_Strict):
    """The response of the report-level pass: conflicting facts and the facts behind the listed items."""

    contradictions: list[FactConflict]
    items: list[ItemBacking]


SCHEMA_NAME = "question_review"
REPORT_SCHEMA_NAME = "report_review"


def _strictify(node: Any) -> Any:
    """OpenAI's strict mode: every object closed, every property required, no titles or defaults."""
    if isinstance(node, dict):
        out = {
            k: ({n: _strictify(f) for n, f in v.items()} if k == "properties" else _strictify(v))
            for k, v in node.items()
            if k not in ("title", "default")
        }
        if out.get("type") == "object" and "properties" in out:
            out["additionalProperties"] = False
            out["required"] = list(out["properties"])
        return out
    if isinstance(node, list):
        return [_strictify(v) for v in node]
    return node


@cache
def json_schema(kind: str = "question") -> dict[str, Any]:
    """The strict schema of a per-question reply (or, with ``kind="report"``, of the report-level pass); built
    once and shared, so callers must not modify it."""
    model = ReportReview if kind == "report" else QuestionReview
    return copy.deepcopy(_strictify(model.model_json_schema()))
