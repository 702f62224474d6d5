"""Prompt-injection rule: answers that address the reviewer instead of the reader.

Such text is flagged deterministically, before any LLM sees it; the LLM stage additionally keeps answers inside
randomised data delimiters and never accepts a verdict without a verified quote.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from feedback.checks.registry import Context, Hit, rule
from feedback.findings import Category, Severity

INJECTION_RE = re.compile(
    r"(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+)?(?:previous|prior|above|earlier|your|other)"
    r"\s+(?:instructions?|prompts?|rules?|guidelines?)"
    r"|\b(?:you\s+are\s+now|act\s+as|pretend\s+to\s+be)\s+(?:an?\s+|the\s+)?(?:ai|assistant|reviewer|grader|examiner)"
    r"|\b(?:dear|attention|note\s+to\s+(?:the\s+)?)\s*(?:ai|llm|chatgpt|gpt|language\s+model|reviewer\s+model|grader)\b"
    r"|\bmark\s+(?:all|every|each)\s+(?:of\s+the\s+)?(?:claims?|items?|answers?|questions?)\s+as\b"
    r"|\b(?:give|award)\s+(?:us|this\s+(?:report|group))\s+(?:full|maximum|top)\s+(?:marks|points|score)"
    r"|\bsystem\s+prompt\b|\bnew\s+instructions\s*:"
    r"|</?\s*(?:system|assistant|instructions?|untrusted[_-]?data|answer[_-]?data)\s*>"
    r"|\"(?:verdict|claims|supported)\"\s*:\s*[\"\[{tf]"
    r"|^\s*(?:={3,}|<{3,}|>{3,}|#{3,}\s*end)\s*(?:end|begin)?\s*(?:of\s+)?(?:answer|data|input|report)\b",
    re.I | re.M,
)


# every INJECTION_RE match contains one of these (lower case): a literal test is far cheaper than the regex
GATE = (
    "ignore",
    "disregard",
    "forget",
    "override",
    "you are now",
    "act as",
    "pretend",
    "dear",
    "attention",
    "note to",
    "mark all",
    "mark every",
    "mark each",
    "marks",
    "points",
    "score",
    "system prompt",
    "instructions",
    "<",
    '"verdict"',
    '"claims"',
    '"supported"',
    "===",
    "<<<",
    ">>>",
    "###",
)


@rule(
    "FB701",
    "prompt-injection",
    Category.ANSWER,
    Severity.WARNING,
    "An answer addresses the reviewing model (instructions, fake verdicts or fake delimiters).",
)
def prompt_injection(ctx: Context) -> Iterator[Hit]:
    for q in ctx.report.questions:
        text = q.answer.text.lower()
        if not any(k in text for k in GATE) or not INJECTION_RE.search(text):
            continue  # cheap literal gate, then one search per answer; lines only when something matched
        for ln in q.answer.lines:
            m = INJECTION_RE.search(ln.text)
            if m:
                yield Hit(
                    f"Question {q.number} contains text aimed at an automated reviewer ({m.group(0).strip()!r}); "
                    "it is treated as data and flagged for the TA.",
                    line=ln.number,
                    question=q.number,
                    evidence=(m.group(0).strip(),),
                )
