"""Answers copied between groups: per question, pairs of answers from different groups that are near-duplicates.

Each answer is reduced to a small sketch in the worker that checked it: the smallest ``K`` hashes of its word
3-shingles, after removing every shingle of the question's own prompt (so template text and the prompt's example
never count) and skipping answers too short to tell copying from coincidence. Sketches sharing enough hashes are
candidates; a candidate pair is confirmed on the full texts (shingle overlap, and rapidfuzz's similarity for the
figure shown), so the cost grows with the number of answers, not with the number of pairs.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from feedback.findings import Category, Finding, Severity
from feedback.report.model import Question, Report

CODE, CHECK = "FB801", "similar-answer"
K = 24  # hashes kept per answer
MIN_SHINGLES = 30  # about 30 words of the group's own text: shorter answers are alike by chance
MIN_SHARED = 8  # sketch hashes two answers must share to be compared in full
MAX_POSTING = 40  # a hash found in more answers than this is a stock phrase: it proposes no pairs
MIN_OVERLAP = 0.5  # confirmed when half of the smaller answer's shingles are in the other
MIN_RATIO = 80.0  # and rapidfuzz's partial_ratio (the shorter text against its best-matching part of the other)

_WORD = re.compile(r"[a-z0-9]+")
_PLACEHOLDER = re.compile(r"-{2,}\s*question\s*\d+\s*fill\s*here\s*-{2,}", re.IGNORECASE)


def _words(text: str) -> list[str]:
    return _WORD.findall(_PLACEHOLDER.sub(" ", text).lower())


def shingles(words: Sequence[str]) -> set[int]:
    return {zlib.crc32(" ".join(words[i : i + 3]).encode()) for i in range(len(words) - 2)}


def own_shingles(q: Question) -> set[int]:
    """The answer's shingles that are not in the question's prompt (its title, length line and example)."""
    prompt = shingles(_words(" ".join(ln.text for ln in q.prompt_lines)))
    return shingles(_words(q.answer.text)) - prompt


@dataclass(frozen=True, slots=True)
class Sketch:
    """What the course needs to know about one answer to find its near-duplicates."""

    question: int
    line: int
    sketch: tuple[int, ...]

    def to_list(self) -> list[int]:
        return [self.question, self.line, *self.sketch]

    @classmethod
    def from_list(cls, raw: Sequence[int]) -> Sketch:
        return cls(int(raw[0]), int(raw[1]), tuple(int(x) for x in raw[2:]))


def sketches(report: Report) -> list[Sketch]:
    out = []
    for q in report.questions:
        if not q.answered:
            continue
        own = own_shingles(q)
        if len(own) < MIN_SHINGLES:
            continue
        out.append(Sketch(q.number, q.answer.first_line or q.line, tuple(sorted(own)[:K])))
    return out


@dataclass(frozen=True, slots=True, order=True)
class Candidate:
    question: int
    a: str  # report keys (slugs), a < b
    b: str


def candidates(per_report: Iterable[tuple[str, str, Sequence[Sketch]]]) -> list[Candidate]:
    """Pairs of answers to one question, from reports of different groups, whose sketches share enough hashes."""
    postings: dict[tuple[int, int], list[tuple[str, str]]] = defaultdict(list)
    for key, group, sks in per_report:
        for s in sks:
            for h in s.sketch:
                postings[(s.question, h)].append((key, group))
    shared: dict[tuple[int, str, str], int] = defaultdict(int)
    for (question, _h), owners in postings.items():
        if len(owners) < 2 or len(owners) > MAX_POSTING:
            continue
        for i, (ka, ga) in enumerate(owners):
            for kb, gb in owners[i + 1 :]:
                if ga != gb and ka != kb:
                    a, b = sorted((ka, kb))
                    shared[(question, a, b)] += 1
    return sorted(Candidate(q, a, b) for (q, a, b), n in shared.items() if n >= MIN_SHARED)


@dataclass(frozen=True, slots=True)
class Match:
    """A confirmed pair: the two answers' first lines and quotes, and how alike they are (0-100)."""

    question: int
    a: str
    b: str
    line_a: int
    line_b: int
    quote_a: str
    quote_b: str
    similarity: float


def _quote(q: Question) -> tuple[int, str]:
    for ln in q.answer.lines:
        text = ln.text.strip()
        if text.startswith(("![", "<img", "<")) or _PLACEHOLDER.search(text):
            continue
        if len(_words(text)) >= 4:
            return ln.number, text[:120]
    return q.answer.first_line or q.line, (q.answer.text.strip().splitlines() or [""])[0][:120]


def confirm(candidate: Candidate, ra: Report, rb: Report) -> Match | None:
    """Compare the two answers in full; None when they are not near-duplicates after all."""
    from rapidfuzz import fuzz

    qa, qb = ra.question(candidate.question), rb.question(candidate.question)
    if qa is None or qb is None:
        return None
    sa, sb = own_shingles(qa), own_shingles(qb)
    if min(len(sa), len(sb)) < MIN_SHINGLES or len(sa & sb) < MIN_OVERLAP * min(len(sa), len(sb)):
        return None
    ratio = fuzz.partial_ratio(" ".join(_words(qa.answer.text)), " ".join(_words(qb.answer.text)))
    if ratio < MIN_RATIO:
        return None
    (la, ta), (lb, tb) = _quote(qa), _quote(qb)
    return Match(candidate.question, candidate.a, candidate.b, la, lb, ta, tb, round(ratio, 1))


def find_matches(per_report: Sequence[tuple[str, str, Sequence[Sketch]]], load: Callable[[str], Report]) -> list[Match]:
    """Confirmed near-duplicate answers across groups; ``load`` parses a report again, for candidates only."""
    found: list[Match] = []
    loaded: dict[str, Report] = {}
    for cand in candidates(per_report):
        for key in (cand.a, cand.b):
            if key not in loaded:
                loaded[key] = load(key)
        match = confirm(cand, loaded[cand.a], loaded[cand.b])
        if match is not None:
            found.append(match)
    return found


def findings_by_report(matches: Iterable[Match], groups: dict[str, str]) -> dict[str, list[Finding]]:
    """Each confirmed pair as one finding in each of the two reports, quoting both answers."""
    out: dict[str, list[Finding]] = defaultdict(list)
    for m in matches:
        for me, other, line, mine, theirs in (
            (m.a, m.b, m.line_a, m.quote_a, m.quote_b),
            (m.b, m.a, m.line_b, m.quote_b, m.quote_a),
        ):
            out[me].append(
                Finding(
                    code=CODE,
                    check=CHECK,
                    category=Category.ANSWER,
                    severity=Severity.WARNING,
                    message=(
                        f"Question {m.question}'s answer is nearly the same as group {groups.get(other, other)}'s "
                        f'(similarity {m.similarity:.0f}%): "{theirs[:80]}"'
                    ),
                    line=line,
                    question=m.question,
                    questions=(m.question,),
                    evidence=(mine,),
                )
            )
    return {k: sorted(v, key=lambda f: (f.question or 0, f.message)) for k, v in out.items()}


def sketch_lists(report: Report) -> list[list[int]]:
    """The report's sketches as plain lists, as the batch keeps them on disk beside its cache key."""
    return [s.to_list() for s in sketches(report)]
