"""The template's own example pasted as the answer: the prompt's example sentence with only its blanks filled in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from feedback.checks.registry import Context, Hit, rule
from feedback.findings import Category, Severity
from feedback.report.model import Question

_WORD = re.compile(r"[a-z0-9%]+(?:['’-][a-z0-9]+)*")
# a blank in the example: "...", "X", "X%", "sXXXXXX"
_BLANK = re.compile(r"^(?:x+%?|s?x{3,}|\.{2,}|…)$")
MIN_FIXED = 8  # an example with fewer fixed words (e.g. only "sXXXXXX") says too little to recognise
SHARE = 0.8  # at least this share of the example's fixed words appear, in order, in the answer
MAX_EXTRA = 12  # and the answer adds at most this many words of its own (the filled-in blanks)


def example_words(q: Question) -> list[str]:
    """The fixed words of the prompt's example (after its 'Example:' line), blanks left out."""
    return list(_example_words(tuple(ln.text for ln in q.prompt_lines)))


@lru_cache(maxsize=256)  # the same few dozen prompts in every report of a course
def _example_words(lines: tuple[str, ...]) -> tuple[str, ...]:
    start = next((i for i, t in enumerate(lines) if t.strip().rstrip(":").strip("*_ ").lower() == "example"), None)
    if start is None:
        return ()
    words: list[str] = []
    for text in lines[start + 1 :]:
        if text.strip().lower().startswith("answer:"):
            break
        for tok in re.split(r"\s+", text.replace("*", " ").lower()):
            if not tok:
                continue
            if _BLANK.match(tok.strip(".,;:()")):
                continue
            words.extend(_WORD.findall(tok))
    return tuple(words)


def _answer_words(q: Question, limit: int) -> list[str] | None:
    """The answer's words, or None when it has more than ``limit`` (counted only that far)."""
    lines = [ln.text for ln in q.answer.lines if not any(p.line == ln.number for p in q.answer.placeholders)]
    words: list[str] = []
    for m in _WORD.finditer(" ".join(lines).replace("*", " ").lower()):
        if len(words) == limit:
            return None
        words.append(m.group(0))
    return words


@rule(
    "FB209",
    "example-copied",
    Category.ANSWER,
    Severity.WARNING,
    "The answer is the prompt's example with only the blanks filled in.",
)
def example_copied(ctx: Context) -> Iterator[Hit]:
    for q in ctx.report.questions:
        if not q.answered:
            continue
        fixed = example_words(q)
        if len(fixed) < MIN_FIXED:
            continue
        answer = _answer_words(q, len(fixed) + MAX_EXTRA)
        if answer is None:  # longer than the example plus its blanks: cheap exit
            continue
        from difflib import SequenceMatcher  # here: most reports never get this far, and imports cost a process

        matcher = SequenceMatcher(None, fixed, answer, autojunk=False)
        same = sum(b.size for b in matcher.get_matching_blocks())
        if same < SHARE * len(fixed) or len(answer) - same > MAX_EXTRA:
            continue
        line = q.answer.first_line or q.line
        first = next((ln.text.strip() for ln in q.answer.lines if ln.number == line), "")
        yield Hit(
            f"Question {q.number}'s answer is the prompt's example with the blanks filled in ({same} of its "
            f"{len(answer)} words are the example's); answer the question in your own words.",
            line=line,
            question=q.number,
            evidence=(first,) if first else (),
        )
