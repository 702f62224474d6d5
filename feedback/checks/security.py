"""Prompt-injection rule: report text that addresses the reviewer instead of the reader.

Every line of the report is scanned, not only the answers: the question's prompt block, checklist items and HTML
comments reach the LLM prompt too (inside the data block). Text is normalised before matching so that disguises do
not help: NFKC (fullwidth letters, ligatures), invisible characters (zero-width, soft hyphen, bidi controls)
removed, look-alike Cyrillic and Greek letters mapped to Latin, case folded, and the lines of a question joined so
a phrase split over lines is still one phrase. Runs that look like base64 are decoded and scanned as well.

Every pattern is linear on any input: no pattern can start inside a run it would then re-scan (look-behind
guards), and repeats that could backtrack are possessive.
"""

from __future__ import annotations

import binascii
import bisect
import re
import unicodedata
from collections.abc import Iterator
from typing import NamedTuple

from feedback.checks.registry import Context, Hit, rule
from feedback.findings import Category, Severity
from feedback.report.model import Report

# every INJECTION_RE match contains one of these (after normalisation): a literal test is far cheaper than the regex
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
    "system",
    "instructions",
    "<",
    '"verdict"',
    '"claims"',
    '"supported"',
    '"role"',
    "===",
    ">>>",
    "###",
)

# The injection pattern in its alternatives, each with the literals its every match contains (one of each tuple), so a
# block runs only the alternatives that can match there, and ones that start with a literal let the regex engine
# skip ahead to it. The "###... end of data" delimiter is written to start with its three "#" (the look-behind
# moved after them) and split from the other delimiters, which cannot start at the same place. _matches() merges
# the alternatives' matches as one search of INJECTION_RE would find them (tests/test_security.py compares).
_ALTERNATIVES: tuple[tuple[tuple[tuple[str, ...], ...], re.Pattern[str]], ...] = tuple(
    (gates, re.compile(source))
    for gates, source in (
        (
            (("ignore", "disregard", "forget", "override"),),
            r"\b(?:ignore|disregard|forget|override)\s++(?:(?:all|any|the)\s++)?"
            r"(?:previous|prior|above|earlier|your|other)\s++(?:instructions?|prompts?|rules?|guidelines?)\b",
        ),
        (
            (("you", "act", "pretend"), ("ai", "assistant", "reviewer", "grader", "examiner")),
            r"\b(?:you\s++are\s++now|act\s++as|pretend\s++to\s++be)\s++(?:(?:an?|the)\s++)?"
            r"(?:ai|assistant|reviewer|grader|examiner)\b",
        ),
        (
            (("dear", "attention", "note"), ("ai", "llm", "gpt", "language", "model", "grader")),
            r"\b(?:dear|attention|note\s++to\s++(?:the\s++)?)\s*+(?:ai|llm|chatgpt|gpt|language\s++model"
            r"|reviewer\s++model|grader)\b",
        ),
        (
            (("mark",),),
            r"\bmark\s++(?:all|every|each)\s++(?:of\s++the\s++)?(?:claims?|items?|answers?|questions?)\s++as\b",
        ),
        (
            (("give", "award"), ("marks", "points", "score")),
            r"\b(?:give|award)\s++(?:us|this\s++(?:report|group))\s++(?:full|maximum|top)\s++(?:marks|points|score)",
        ),
        ((("system",),), r"\bsystem\s++prompt\b"),
        ((("instructions",),), r"\bnew\s++instructions\s*+:"),
        (
            (("<",), (">",)),
            r"</?\s*+(?:system|assistant|developer|instructions?|untrusted[_-]?data|answer[_-]?data)\s*+>",
        ),
        ((('"verdict"', '"claims"', '"supported"'),), r"\"(?:verdict|claims|supported)\"\s*+:\s*+[\"\[{tf]"),
        ((('"role"',),), r"\"role\"\s*+:\s*+\"(?:system|assistant|developer)\""),
        (
            (("===", "<<<", ">>>"), ("answer", "data", "input", "report")),
            r"(?<![=<>#])(?:={3,}+|<{3,}+|>{3,}+)\s*+(?:(?:end|begin)\b\s*+)?(?:of\s++)?"
            r"(?:answer|data|input|report)\b",
        ),
        (
            (("###",), ("end",), ("answer", "data", "input", "report")),
            r"###(?<![=<>#]###)#*+\s*+end\s*+(?:(?:end|begin)\b\s*+)?(?:of\s++)?(?:answer|data|input|report)\b",
        ),
    )
)


# The whole pattern, one search: what _matches() must give, and what the decoded base64 runs are searched with.
INJECTION_RE = re.compile("|".join(rx.pattern for _gates, rx in _ALTERNATIVES))


# Python's regex engine tries every position of a pattern that opens with \b, but skips ahead fast to the first
# letters of one that opens with words: those alternatives (every branch starts with a word character) are searched
# without the \b, which is checked by hand, searching again from the next position when it does not hold.
_BARE = tuple(re.compile(rx.pattern[2:]) if rx.pattern.startswith("\\b") else None for _g, rx in _ALTERNATIVES)


def _search(k: int, text: str, pos: int) -> re.Match[str] | None:
    """``_ALTERNATIVES[k]``'s leftmost match in ``text`` from ``pos``."""
    bare = _BARE[k]
    if bare is None:
        return _ALTERNATIVES[k][1].search(text, pos)
    m = bare.search(text, pos)
    while m is not None and m.start() > 0 and (text[m.start() - 1].isalnum() or text[m.start() - 1] == "_"):
        m = bare.search(text, m.start() + 1)
    return m


def _active(text: str) -> list[int]:
    """The alternatives whose every group of literals has one in ``text`` (each literal looked up once)."""
    seen: dict[str, bool] = {}
    out = []
    for k, (gates, _rx) in enumerate(_ALTERNATIVES):
        for group in gates:
            for lit in group:
                hit = seen.get(lit)
                if hit is None:
                    hit = seen[lit] = lit in text
                if hit:
                    break
            else:
                break  # no literal of this group: the alternative cannot match
        else:
            out.append(k)
    return out


def _matches(text: str) -> Iterator[re.Match[str]]:
    """The matches ``INJECTION_RE.finditer(text)`` gives: at each step the leftmost match of any alternative that
    can occur in ``text``, the earlier alternative on a tie, searched on from where the last match ended."""
    active = _active(text)
    ahead: list[re.Match[str] | None] = [_search(k, text, 0) for k in active]
    while True:
        best: re.Match[str] | None = None
        for m in ahead:
            if m is not None and (best is None or m.start() < best.start()):
                best = m
        if best is None:
            return
        yield best
        pos = best.end()  # no alternative matches the empty string
        for j, m in enumerate(ahead):
            if m is not None and m.start() < pos:
                ahead[j] = _search(active[j], text, pos)


_GATE_RE = re.compile("|".join(re.escape(k) for k in GATE))
_LOOKALIKES = str.maketrans(
    "аеорсухіјѕԁԛԝАВЕКМНОРСТХІЈЅοαειρνκτυΑΒΕΗΙΚΜΝΟΡΤΧΥΖ",
    "aeopcyxijsdqwABEKMHOPCTXIJSoaeipvktuABEHIKMNOPTXYZ",
)
BASE64_RE = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{24,}+={0,2}+")
MAX_EVIDENCE = 160


def invisible(ch: str) -> bool:
    """Format characters a reader cannot see (zero-width, soft hyphen, bidi controls, BOM)."""
    return unicodedata.category(ch) == "Cf"


class _Disguises(dict[int, int | None]):
    """A ``str.translate`` table that drops invisible characters and maps look-alikes, filled in as characters are
    first seen (a table of every code point would take long to build; a character's entry never changes)."""

    def __missing__(self, code: int) -> int | None:
        value = None if invisible(chr(code)) else code
        self[code] = value
        return value


_DISGUISES = _Disguises(_LOOKALIKES)


def normalise(text: str) -> str:
    """What a model reads, disguises removed: NFKC, invisible characters dropped, look-alikes mapped, case folded."""
    if not text.isascii():
        # one pass for both: no look-alike is invisible, and every look-alike maps to an ASCII letter
        text = unicodedata.normalize("NFKC", text).translate(_DISGUISES)
    return text.casefold()


def decoded_base64(text: str) -> Iterator[tuple[str, str]]:
    """``(run, decoded text)`` for each base64-looking run of ``text`` that decodes to readable UTF-8."""
    if len(text) < 24:
        return
    for m in BASE64_RE.finditer(text):
        import base64  # here, not at the top: few reports have a run, and a one-report process pays for imports

        run = m.group(0)
        try:
            raw = base64.b64decode(run + "=" * (-len(run) % 4), validate=True)
            decoded = raw.decode("utf-8")
        except (binascii.Error, ValueError):
            continue
        printable = sum(ch.isprintable() or ch in "\n\t" for ch in decoded)
        if decoded and printable >= 0.9 * len(decoded):
            yield run, decoded


class Block(NamedTuple):
    """Consecutive report lines scanned as one text: one question's lines, or the lines outside any question."""

    question: int | None
    numbers: tuple[int, ...]  # the line numbers, in order


def _blocks(report: Report) -> list[Block]:
    owner: dict[int, int] = {}
    for q in report.questions:
        for n in range(q.line, q.end_line + 1):
            owner.setdefault(n, q.number)
    blocks: list[Block] = []
    current: list[int] = []
    current_q: int | None = None
    for n in range(1, len(report.lines) + 1):
        number = owner.get(n)
        if current and number != current_q:
            blocks.append(Block(current_q, tuple(current)))
            current = []
        current_q = number
        current.append(n)
    if current:
        blocks.append(Block(current_q, tuple(current)))
    return blocks


def _evidence(line: str) -> str:
    """A verbatim piece of the line (the line itself, stripped, or its start when it is very long)."""
    text = line.strip()
    return text if len(text) <= MAX_EVIDENCE else text[:MAX_EVIDENCE]


def _shown(match: str) -> str:
    text = " ".join(match.split())
    return text if len(text) <= 80 else text[:77] + "..."


def _scan_block(report: Report, block: Block) -> Iterator[tuple[int, str, str]]:
    """``(line, what matched, how it was hidden)`` once per line of the block."""
    lines = [report.lines[n - 1] for n in block.numbers]
    normal = [normalise(ln) for ln in lines]
    starts: list[int] = []
    pos = 0
    for text in normal:
        starts.append(pos)
        pos += len(text) + 1
    joined = " ".join(normal)
    found: set[int] = set()
    if _GATE_RE.search(joined):
        for m in _matches(joined):
            i = bisect.bisect_right(starts, m.start()) - 1
            if i in found:
                continue
            found.add(i)
            hidden = "" if normal[i] == lines[i].casefold() else "disguised"
            yield block.numbers[i], m.group(0), hidden
    if not BASE64_RE.search("\n".join(lines)):
        return  # no line has a base64-looking run (a run never spans a line break)
    for i, line in enumerate(lines):
        if i in found:
            continue
        for _run, decoded in decoded_base64(line):
            text = normalise(decoded)
            hit = INJECTION_RE.search(text) if any(k in text for k in GATE) else None
            if hit:
                found.add(i)
                yield block.numbers[i], hit.group(0), "base64"
                break


HOW = {"": "", "disguised": " (disguised with invisible or look-alike characters)", "base64": " (base64-encoded)"}


def scan(report: Report) -> Iterator[tuple[int | None, int, str, str]]:
    """``(question, line, what matched, how it was hidden)`` for every injection attempt in the report."""
    for block in _blocks(report):
        for line, text, how in _scan_block(report, block):
            yield block.question, line, text, how


@rule(
    "FB701",
    "prompt-injection",
    Category.ANSWER,
    Severity.WARNING,
    "Report text addresses the reviewing model (instructions, fake verdicts, fake delimiters), disguised or not.",
)
def prompt_injection(ctx: Context) -> Iterator[Hit]:
    for question, line, text, how in scan(ctx.report):
        where = f"Question {question}" if question is not None else "The report (outside the answers)"
        yield Hit(
            f"{where} contains text aimed at an automated reviewer ({_shown(text)!r}){HOW[how]}; "
            "it is treated as data and flagged for the TA.",
            line=line,
            question=question,
            evidence=(_evidence(ctx.report.lines[line - 1]),),
        )
