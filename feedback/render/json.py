"""JSON output: one object per report (a list when several), the shape documented in the README."""

from __future__ import annotations

import json
from collections.abc import Sequence
from json.encoder import encode_basestring
from typing import Any

from feedback.pipeline import Result
from feedback.render import renderer

SCHEMA_VERSION = 1


def result_to_dict(result: Result) -> dict[str, Any]:
    r = result.report
    return {
        "schema_version": SCHEMA_VERSION,
        "report": {
            "path": result.source,
            "title": r.title,
            "group": r.group,
            "lines": len(r.lines),
            "crlf": r.crlf,
            "front_matter": r.front_matter,
            "questions_found": len(r.questions),
            "answered": sum(q.answered for q in r.questions),
            "checklist_items": len(r.checklist),
            "checklist_checked": sum(i.checked for i in r.checklist),
        },
        "checklist": [
            {
                "line": i.line,
                "text": i.text,
                "mark": i.mark,
                "state": i.state.value,
                "checked": i.checked,
                "section": i.section,
                "module": i.module,
            }
            for i in r.checklist
        ],
        "questions": [
            {
                "number": q.number,
                "line": q.line,
                "section": q.section,
                "title": q.title,
                "answered": q.answered,
                "words": q.answer.words,
                "images": len(q.answer.images),
                "min_words": q.min_words,
                "max_words": q.max_words,
                "min_images": q.min_images,
                "max_images": q.max_images,
            }
            for q in r.questions
        ],
        "findings": [f.to_dict() for f in result.findings],
        "llm": {
            "status": result.llm.status,
            "message": result.llm.message,
            "model": result.llm.model,
            "endpoint": result.llm.endpoint,
            "prompt_version": result.llm.prompt_version,
            "calls": result.llm.calls,
            "cached": result.llm.cached,
            "failed_questions": {str(k): v for k, v in sorted(result.llm.failed_questions.items())},
            "dropped_unverified": result.llm.dropped_unverified,
        },
    }


@renderer("json")
def render_json(results: Sequence[Result]) -> str:
    data: Any = [result_to_dict(r) for r in results]
    if len(results) == 1:
        data = data[0]
    return dumps(data) + "\n"


class _Unsupported(Exception):
    """A value :func:`_encode` leaves to the json module (a subclass of a JSON type, a non-string key, ...)."""


def dumps(data: Any) -> str:
    """Exactly ``json.dumps(data, indent=2, ensure_ascii=False)``, several times faster: the json module's C encoder
    only writes compact output, and its indenting encoder is pure Python built from generators."""
    try:
        return _encode(data, "\n")
    except (_Unsupported, RecursionError):
        return json.dumps(data, indent=2, ensure_ascii=False)


def _encode(o: Any, pad: str) -> str:
    """``o`` as indented JSON; ``pad`` is the line break and indentation of the line ``o`` starts on."""
    t = type(o)
    if t is str:
        return encode_basestring(o)
    if t is dict:
        if not o:
            return "{}"
        inner = pad + "  "
        parts = []
        for k, v in o.items():
            if type(k) is not str:
                raise _Unsupported
            tv = type(v)
            value = encode_basestring(v) if tv is str else _SCALARS.get(v) if tv is bool or v is None else None
            parts.append(encode_basestring(k) + ": " + (value if value is not None else _encode(v, inner)))
        return "{" + inner + ("," + inner).join(parts) + pad + "}"
    if t is list or t is tuple:
        if not o:
            return "[]"
        inner = pad + "  "
        return "[" + inner + ("," + inner).join([_encode(v, inner) for v in o]) + pad + "]"
    if o is None or t is bool:
        return _SCALARS[o]
    if t is int:
        return int.__repr__(o)
    if t is float:
        if o != o:
            return "NaN"
        if o in (_INF, -_INF):
            return "Infinity" if o > 0 else "-Infinity"
        return float.__repr__(o)
    raise _Unsupported


_SCALARS: dict[Any, str] = {None: "null", True: "true", False: "false"}
_INF = float("inf")
