"""The response schema the model must fill for one question, and its strict JSON-schema form."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PartCheck(_Strict):
    """One thing the question asks for (a number, a link, a command, the "why")."""

    part: str = Field(description="What the question asks for, in a few words")
    answered: bool
    quote: str = Field(description="Verbatim text from the answer that covers this part; empty when missing")


class ClaimVerdict(_Strict):
    """A checklist item related to the question, judged against the answer."""

    item: str = Field(description="The checklist item text exactly as given")
    verdict: Literal["supported", "contradicted", "unsupported", "not-applicable"]
    quote: str = Field(description="Verbatim text from the answer that supports or contradicts it; may be empty")
    explanation: str


class Contradiction(_Strict):
    """Two statements in the answer that cannot both be true."""

    first_quote: str
    second_quote: str
    explanation: str


class Suggestion(_Strict):
    """A concrete improvement tied to a quote from the answer."""

    quote: str
    suggestion: str


class QuestionReview(_Strict):
    """The whole response for one question."""

    parts: list[PartCheck]
    claims: list[ClaimVerdict]
    contradictions: list[Contradiction]
    suggestions: list[Suggestion]


SCHEMA_NAME = "question_review"


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
def json_schema() -> dict[str, Any]:
    """The strict schema; built once and shared, so callers must not modify it."""
    return copy.deepcopy(_strictify(QuestionReview.model_json_schema()))
