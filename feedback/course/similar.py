"""Answers copied between groups: per question, answers from different groups that are near-duplicates.

Each answer is reduced to a small sketch in the worker that checked it: the smallest ``K`` hashes of its word
3-shingles, after removing every shingle of the question's own prompt (so template text and the prompt's example
never count), and skipping answers too short to tell copying from coincidence. Answers with the same sketch form one
class (a verbatim copy, or a course that holds the same report many times), so the work grows with the number of
distinct answers. Classes sharing enough hashes are candidates, confirmed once on the full texts of one answer of
each: the share of the shorter answer's own 3-word phrases found in the other (its containment), the figure shown.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import Any

from feedback.findings import Category, Finding, Severity
from feedback.report.model import Question, Report
from feedback.report.parse import PLACEHOLDER_RE, strip_placeholders

CODE, CHECK = "FB801", "similar-answer"
K = 24  # hashes kept per answer
MIN_SHINGLES = 30  # about 30 words of the group's own text: shorter answers are alike by chance
MIN_SHARED = 12  # sketch hashes (of 24) two answers must share to be compared in full
MAX_POSTING = 40  # a hash found in more distinct answers than this is a stock phrase: it proposes no pairs
MIN_OVERLAP = 0.6  # confirmed when 60% of the shorter answer's own 3-word phrases are in the other
ESTIMATE_FLOOR = 0.45  # candidates whose sketches put the overlap below this are not read again
NAMED = 3  # other groups named in one finding; the rest are counted
QUOTE = 120  # characters of an answer quoted

_WORD_B = re.compile(rb"[a-z0-9]+")


def shingles(text: str) -> set[int]:
    """Hashes of the text's word 3-grams. Stable across processes and runs (crc32 of each word, then the hash of
    the tuple of three ints, which no hash seed changes, cut to 32 bits), so sketches made in different workers
    compare; the loops run in C (map/zip), which keeps a report's sketches to a few milliseconds."""
    words = _WORD_B.findall(strip_placeholders(text).lower().encode("utf-8", "replace"))
    h = list(map(zlib.crc32, words))
    # 32 bits, so the batch can keep sketches packed as unsigned ints; collisions among an answer's ~150 shingles
    # are negligible
    return {x & 0xFFFFFFFF for x in map(hash, zip(h, h[1:], h[2:], strict=False))}


@lru_cache(maxsize=1024)
def _prompt_shingles(prompt: str) -> frozenset[int]:
    return frozenset(shingles(prompt))


def own_shingles(q: Question) -> set[int]:
    """The answer's shingles that are not in the question's prompt (its title, length line and example)."""
    prompt = _prompt_shingles("\n".join(ln.text for ln in q.prompt_lines))
    return shingles(q.answer.text) - prompt


def _quote(q: Question) -> tuple[int, str]:
    """The answer's first line of prose (not an image or tag), as the finding's evidence."""
    for ln in q.answer.lines:
        text = ln.text.strip()
        if text.startswith("<") or text.startswith("![") or PLACEHOLDER_RE.search(text):
            continue
        if len(text.split()) >= 4:
            return ln.number, text[:QUOTE]
    return q.answer.first_line or q.line, (q.answer.text.strip().splitlines() or [""])[0][:QUOTE]


@dataclass(frozen=True, slots=True)
class Sketch:
    """What the course needs to know about one answer to find its near-duplicates: all unsigned 32-bit ints."""

    question: int
    line: int  # the line the finding points at (the answer's first line of prose)
    size: int  # how many own shingles the answer has
    sketch: tuple[int, ...]

    def to_list(self) -> list[int]:
        return [self.question, self.line, self.size, *self.sketch]

    @classmethod
    def from_list(cls, raw: Sequence[int]) -> Sketch:
        return cls(int(raw[0]), int(raw[1]), int(raw[2]), tuple(int(x) for x in raw[3:]))


def _sketched(report: Report) -> list[tuple[Sketch, str]]:
    """Each long enough answer's sketch, with its quote."""
    out = []
    for q in report.questions:
        if not q.answered:
            continue
        own = own_shingles(q)
        if len(own) < MIN_SHINGLES:
            continue
        line, quote = _quote(q)
        out.append((Sketch(q.number, line, len(own), tuple(sorted(own)[:K])), quote))
    return out


def sketches(report: Report) -> list[Sketch]:
    return [s for s, _quote_text in _sketched(report)]


def kept_record(report: Report) -> dict[str, Any]:
    """What the batch keeps on disk beside a report's cache key: its sketches as plain lists, and the quote of each
    sketched answer by question number (as text: a JSON key), so the course stage need not read and parse the
    report again to quote it."""
    pairs = _sketched(report)
    return {"sketches": [s.to_list() for s, _q in pairs], "quotes": {str(s.question): q for s, q in pairs}}


@dataclass(frozen=True, slots=True)
class Answer:
    key: str  # the report's key in the batch (its slug)
    group: str
    sketch: Sketch


def estimated_containment(a: Sketch, b: Sketch) -> float:
    """The share of the smaller answer's shingles in the other, estimated from the two sketches alone (bottom-k of
    the union gives the Jaccard index; the sizes turn it into containment)."""
    union = sorted(set(a.sketch) | set(b.sketch))[:K]
    if not union:
        return 0.0
    both = set(a.sketch) & set(b.sketch)
    jaccard = sum(1 for h in union if h in both) / len(union)
    return jaccard * (a.size + b.size) / ((1 + jaccard) * min(a.size, b.size))


def similarity(qa: Question, qb: Question) -> float | None:
    """The share (0-100) of the shorter answer's own 3-word phrases found in the other; None below the bar."""
    sa, sb = own_shingles(qa), own_shingles(qb)
    shorter = min(len(sa), len(sb))
    if shorter < MIN_SHINGLES:
        return None
    share = len(sa & sb) / shorter
    return round(100 * share, 1) if share >= MIN_OVERLAP else None


def find_similar(
    per_report: Iterable[tuple[str, str, Sequence[Sketch]]],
    load: Callable[[str], Report],
    quoted: Callable[[str], dict[str, str]] | None = None,
) -> dict[str, list[Finding]]:
    """Per report key, one finding for each of its answers that is nearly the same as other groups' answers.
    ``load`` gives a report (for the full-text comparison of candidates); ``quoted`` its answers' quotes as
    :func:`quotes` makes them (without it, reports are loaded to quote them)."""
    classes: dict[tuple[int, tuple[int, ...]], list[Answer]] = defaultdict(list)
    for key, group, sks in per_report:
        for s in sks:
            classes[(s.question, s.sketch)].append(Answer(key, group, s))
    ids = list(classes)
    postings: dict[int, dict[int, list[int]]] = defaultdict(dict)  # question -> hash -> classes holding it
    for i, (question, sketch) in enumerate(ids):
        per_question = postings[question]
        for h in sketch:
            holders = per_question.get(h)
            if holders is None:
                per_question[h] = [i]
            else:
                holders.append(i)
    shared: dict[tuple[int, int], int] = defaultdict(int)
    for per_question in postings.values():
        for holders in per_question.values():
            if 2 <= len(holders) <= MAX_POSTING:
                for n, a in enumerate(holders):
                    for b in holders[n + 1 :]:
                        shared[(a, b)] += 1
    candidates = sorted(pair for pair, n in shared.items() if n >= MIN_SHARED)

    reports: dict[str, Report] = {}

    def question_of(answer: Answer) -> Question | None:
        if answer.key not in reports:
            reports[answer.key] = load(answer.key)
        return reports[answer.key].question(answer.sketch.question)

    def compare(x: Answer, y: Answer) -> float | None:
        qx, qy = question_of(x), question_of(y)
        return similarity(qx, qy) if qx is not None and qy is not None else None

    # pairs of classes found alike, with the similarity of one answer of each; a class alike with itself when its
    # answers (same sketch) come from more than one group
    alike: list[tuple[int, int, float]] = []
    for i, class_key in enumerate(ids):
        same = classes[class_key]
        other = next((m for m in same[1:] if m.group != same[0].group), None)
        if other is not None and (sim := compare(same[0], other)) is not None:
            alike.append((i, i, sim))
    for a, b in candidates:
        x, y = classes[ids[a]][0], classes[ids[b]][0]
        if estimated_containment(x.sketch, y.sketch) < ESTIMATE_FLOOR:
            continue
        if (sim := compare(x, y)) is not None:
            alike.append((a, b, sim))

    # every answer of a class has the same partners: the groups of the classes alike with it, each group with the
    # best similarity found for it and the first of its answers (in class order) that reached it (a later pair
    # replaces it only with a higher similarity), less the answer's own group. Worked out once per class, so a
    # class of n copies costs n, not n * n.
    first_of_group: dict[int, dict[str, Answer]] = {}

    def groups_of(c: int) -> dict[str, Answer]:
        if c not in first_of_group:
            firsts: dict[str, Answer] = {}
            for answer in classes[ids[c]]:
                firsts.setdefault(answer.group, answer)
            first_of_group[c] = firsts
        return first_of_group[c]

    best: dict[int, dict[str, tuple[float, Answer]]] = defaultdict(dict)
    for a, b, sim in alike:
        for to, of in ((a, b), (b, a)) if a != b else ((a, a),):
            mine = best[to]
            for group, answer in groups_of(of).items():
                if group not in mine or mine[group][0] < sim:
                    mine[group] = (sim, answer)
    ranked = {c: sorted(found.values(), key=_order) for c, found in best.items()}

    def quote(answer: Answer) -> str:
        if quoted is not None:
            return quoted(answer.key).get(str(answer.sketch.question), "")
        q = question_of(answer)
        return _quote(q)[1] if q is not None else ""

    out: dict[str, list[Finding]] = defaultdict(list)
    answers = sorted(
        ((a, c) for c in ranked for a in classes[ids[c]]), key=lambda ac: (ac[0].key, ac[0].sketch.question)
    )
    for me, c in answers:
        count = len(ranked[c]) - (me.group in best[c])
        if count == 0:
            continue
        top = list(islice((item for item in ranked[c] if item[1].group != me.group), NAMED))
        out[me.key].append(_finding(me, quote(me), top, count, quote(top[0][1])))
    return dict(out)


def _order(item: tuple[float, Answer]) -> tuple[float, str]:
    return (-item[0], item[1].group)


def _finding(me: Answer, mine: str, others: list[tuple[float, Answer]], count: int, theirs: str) -> Finding:
    """The finding for one answer: ``others`` are its first partners in order (up to NAMED), of ``count``."""
    q = me.sketch.question
    top_sim, top = others[0]
    if count == 1:
        message = (
            f"Question {q}'s answer is nearly the same as group {top.group}'s ({top_sim:.0f}% of the shorter "
            f'answer\'s wording is in the other): "{theirs[:80]}"'
        )
    else:
        named = ", ".join(f"{a.group} ({s:.0f}%)" for s, a in others[:NAMED])
        more = f" and {count - NAMED} more" if count > NAMED else ""
        message = (
            f"Question {q}'s answer is nearly the same as the answers of {count} other groups (share of "
            f'wording in common): {named}{more}; e.g. "{theirs[:80]}"'
        )
    return Finding(
        code=CODE,
        check=CHECK,
        category=Category.ANSWER,
        severity=Severity.WARNING,
        message=message,
        line=me.sketch.line,
        question=q,
        questions=(q,),
        evidence=(mine,) if mine else (),
    )
