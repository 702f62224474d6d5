"""Leftover rules: notes to teammates, TODO markers, @mentions, placeholder links, placeholders beside answers."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from feedback.checks.answers import image_only
from feedback.checks.images import NOTE_LINK_RE
from feedback.checks.registry import Context, Hit, rule
from feedback.checks.wordings import appended_remark
from feedback.findings import Category, Severity
from feedback.report.model import Question, Report
from feedback.report.parse import ASSIGNMENT_NOTE_RE, filler_lines

CODE_SPAN_RE = re.compile(r"`+[^`]*`+")
CODE_MARKER_RE = re.compile(r"\b(?:TODO|FIXME|TBD)\b")
CODE_COMMENT_RE = re.compile(r"#|//|/\*|--\s")
MARKER_RE = re.compile(
    r"\b(TODO|FIXME|TBD|XXX)\b|\?{3,}|(?<!\S)\?\?(?!\S)"
    r"|\{\s*(?i:insert|add|fill|link|url|todo|tbd)\b[^{}\n]{0,30}\}|<\s*(?i:insert|fill in)\b[^<>\n]{0,30}>"
)
# a line holding only a date and/or a time: a scratch note ("Thursday 23/10 : 15.08")
DATE_LINE_RE = re.compile(
    r"^\s*(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day\s*)?\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?"
    r"(?:\s*[:,-]?\s*\d{1,2}[.:]\d{2})?\s*$",
    re.I | re.M,
)
NOTE_PHRASE_RE = re.compile(
    r"\b(?:note to self|remember to (?:add|write|fix|update|change)|fill (?:this |it )?(?:in|out) later"
    r"|(?:write|add|fix|finish|update) (?:this|more) (?:later|here)|to be (?:written|added|filled in)"
    r"|(?:insert|add) (?:image|screenshot|figure|link) here|work in progress|WIP\b)",
    re.I,
)
MENTION_RE = re.compile(r"(?<![\w.@/`=\"'])@([A-Za-z][\w-]{1,38})\b(?![.(@/\\\w-])(?!\s+decorator)")
DECORATOR_LINE_RE = re.compile(r"^\s*@[\w.]+(?:\(.*\))?\s*$")
# decorators that appear in prose about code ("the @dataclass"), not mentions of people
CODE_DECORATORS = frozenset(
    "asynccontextmanager contextmanager dataclass property staticmethod classmethod abstractmethod lru_cache cache "
    "cached_property wraps app router pytest fixture patch validator field_validator model_validator override "
    "overload torch jit hydra task flow step bentoml api".split()
)
HTML_COMMENT_RE = re.compile(r"<!--((?:(?!<!--).)*?)-->")  # stops at the next opener: linear
EMPTY_LINK_RE = re.compile(r"(?<!!)\[([^\[\]]++)\]\(\s*+\)")


# cheap, over-inclusive gates, each local to one line: run once per answer, then per line of an answer that passes
# (every line _scan flags passes them: tests/test_speed_paths.py checks on the corpus and on generated lines).
# Written as one chain of substring tests: a generator over a tuple of literals costs twice as much per line.
SHORT_LINE_RE = re.compile(r"^\s*[(\[][^\n]{1,32}[)\]]\s*$", re.M)


def heading_assignment(note: str) -> bool:
    """Text added to a question heading that is a who-writes-this note ("(akash)", "[anna & tom]")."""
    return bool(note) and ASSIGNMENT_NOTE_RE.match(note) is not None


def _may_hold_leftover(text: str) -> bool:
    # the literals TODO FIXME TBD XXX ?? @ < ]( WIP { ("<" covers "<!--")
    if (
        "TODO" in text
        or "FIXME" in text
        or "TBD" in text
        or "XXX" in text
        or "??" in text
        or "@" in text
        or "<" in text
        or "](" in text
        or "WIP" in text
        or "{" in text
    ):
        return True
    lower = text.lower()
    return (
        "note to self" in lower
        or "remember to" in lower
        or " later" in lower
        or "to be " in lower
        or " here" in lower
        or "work in progress" in lower
        or SHORT_LINE_RE.search(text) is not None
        or DATE_LINE_RE.search(text) is not None
    )


def _scan(text: str) -> str | None:
    """The leftover-looking fragment of one line of prose, or None."""
    m = HTML_COMMENT_RE.search(text)
    if m and m.group(1).strip():
        return m.group(0)
    if (ASSIGNMENT_NOTE_RE.match(text) and not text.strip().startswith("[")) or DATE_LINE_RE.match(text):
        return text.strip()
    for span in CODE_SPAN_RE.finditer(text):
        m = CODE_MARKER_RE.search(span.group(0))
        if m and not CODE_COMMENT_RE.search(span.group(0), 0, m.start()):
            return span.group(0)  # `--host= TODO`: a value left to fill in (a "# TODO" comment is the code's own)
    prose = CODE_SPAN_RE.sub(" ", text)
    for regex in (MARKER_RE, NOTE_PHRASE_RE, MENTION_RE):
        if regex is MENTION_RE and ("@" not in prose or DECORATOR_LINE_RE.match(prose)):
            continue  # a line holding only @name(...) is a decorator in unfenced code, not a mention
        m = regex.search(prose)
        if m and not (regex is MENTION_RE and m.group(1).lower() in CODE_DECORATORS):
            return m.group(0)
    m = EMPTY_LINK_RE.search(prose)
    if m and NOTE_LINK_RE.search(m.group(1)):
        return m.group(0)
    return None


@rule(
    "FB401",
    "leftover-note",
    Category.LEFTOVER,
    Severity.WARNING,
    "A note to teammates, draft marker, @mention or placeholder link, a sentence typed twice; a note or remark in the "
    "checklist.",
)
def leftover_note(ctx: Context) -> Iterator[Hit]:
    r = ctx.report
    for q in r.questions:
        if heading_assignment(q.heading_note):
            yield Hit(
                f"A note is added to the heading of question {q.number} ({q.heading_note.strip()!r}); remove it "
                "before handing in.",
                line=q.line,
                question=q.number,
                evidence=(q.heading_note.strip(),),
            )
        yield from _repeated(q)
        if not _may_hold_leftover(q.answer.text):
            continue
        fenced_depth = False
        for ln in q.answer.lines:
            if ln.text.lstrip().startswith(("```", "~~~")):
                fenced_depth = not fenced_depth
                continue
            if fenced_depth or not _may_hold_leftover(ln.text):
                continue
            frag = _scan(ln.text)
            if frag:
                yield Hit(
                    f"Leftover in question {q.number}: {frag!r}; remove it before handing in.",
                    line=ln.number,
                    question=q.number,
                    evidence=(frag,),
                )
    yield from _outside_answers(r)
    known = [it.text for it in ctx.template.checklist] if ctx.template is not None else []
    for item in r.checklist:
        remark = appended_remark(item.text, known)
        if remark:
            line, quote = _locate(r, item.line, remark)
            yield Hit(
                f"A remark is added to the checklist item's own text ({remark[:60]!r}); the checklist is for ticks: "
                "move it into an answer or delete it.",
                line=line,
                evidence=(quote,) if quote else (),
                checklist_item=item.text,
                checked=item.checked,
            )
        for note in item.notes:
            yield Hit(
                "A note is written under or between checklist items; move the explanation into the answers or "
                "delete it.",
                line=note.number,
                evidence=(note.text,),
                checklist_item=item.text,
                checked=item.checked,
            )


MIN_REPEATED_WORDS = 8
MIN_REPEATED_CHARS = 30  # eight words take at least this much: shorter lines need no split


def _repeated(q: Question) -> Iterator[Hit]:
    """A sentence of some length typed twice in one answer, character for character: a paragraph pasted twice, or a
    draft left above its rewrite. The later copy is the leftover."""
    if q.answer.words < 2 * MIN_REPEATED_WORDS:
        return
    seen: set[str] = set()
    fenced = False
    for ln in q.answer.lines:
        text = ln.text
        if text.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if fenced or len(text) < MIN_REPEATED_CHARS:
            continue
        for piece in text.split(". "):  # sentences, near enough: str.split is much cheaper than a regex per line
            if piece.count(" ") < MIN_REPEATED_WORDS - 1:
                continue
            piece = piece.strip().rstrip(".")
            if piece in seen and len(piece.split()) >= MIN_REPEATED_WORDS:
                words = piece.split()
                yield Hit(
                    f"A sentence is repeated in question {q.number} ({' '.join(words[:8])} ...); delete the copy.",
                    line=ln.number,
                    question=q.number,
                    evidence=(piece.strip()[:80],),
                )
                return
            seen.add(piece)


RULE_LINE_RE = re.compile(r"^\s*(?:[-*_]\s*){3,}$|^\s*</?\w+[^>]*>\s*$")


HEADING_SPACE_RE = re.compile(r"#\s")  # "# Thank you" is typed text; "## A heading" or "#tag" is not
MAX_STRAY_LINES = 2  # more text than this outside the answers is a section the group added, not a stray note


def _outside_answers(report: Report) -> Iterator[Hit]:
    """Text typed after the first question but outside every question block: a paragraph under a section's
    introduction ("## Version control", then a line before "### Question 7"), or a line such as a top-level
    "# Thank you" after the last answer. The template has only headings and quoted introductions there. A longer
    stretch, or one under a heading of the group's own after the last question (an appendix), is left alone."""
    if not report.questions:
        return
    items = {it.line for it in report.checklist} | {n.number for it in report.checklist for n in it.notes}
    bounds = [(q.line, q.end_line) for q in report.questions]
    gaps = [(a[1] + 1, b[0] - 1) for a, b in itertools.pairwise(bounds)]
    gaps.append((bounds[-1][1] + 1, len(report.lines)))
    for first, last in gaps:
        stray: list[tuple[int, str]] = []
        fenced = False
        for n in range(first, last + 1):
            text = report.line_text(n).strip()
            if text.startswith(("```", "~~~")):
                fenced = not fenced
                continue
            if fenced or not text or n in items or text.startswith(">"):
                continue
            if RULE_LINE_RE.match(text) or (text.startswith("#") and not HEADING_SPACE_RE.match(text)):
                if n > bounds[-1][1] and text.startswith("#"):
                    return  # the group's own section after the last question (the last gap) is left alone
                continue
            stray.append((n, text))
        if len(stray) > MAX_STRAY_LINES:
            continue
        for n, text in stray:
            yield Hit(
                "Text is written outside every answer (under a section's introduction or after the last "
                "question); move it into an answer or delete it.",
                line=n,
                evidence=(text[:120],),
            )


def _locate(report: Report, first: int, remark: str) -> tuple[int, str]:
    """The line holding an item's remark (an item may wrap over lines) and the remark exactly as written there."""
    words = remark.split()
    for n in range(first, first + 4):
        for k in range(len(words)):  # the whole remark, else its part on a wrapped line
            m = re.search(r"\s+".join(map(re.escape, words[k:])), report.line_text(n))
            if m:
                return n, m.group(0)
    return first, ""


@rule(
    "FB402",
    "placeholder-left",
    Category.LEFTOVER,
    Severity.WARNING,
    "The '--- question N fill here ---' placeholder is left next to an answer; the template's filler text is left.",
)
def placeholder_left(ctx: Context) -> Iterator[Hit]:
    for q in ctx.report.questions:
        # the keyboard-mash filler one template era shipped in place of the last placeholder is no answer either way:
        # it goes, answered or not (line by line, as it sits under or instead of the answer)
        for n in sorted(filler_lines(q.answer.lines)):
            text = ctx.report.line_text(n).strip()
            yield Hit(
                f"The template's filler text is still in question {q.number} (line {n}); delete it.",
                line=n,
                question=q.number,
                evidence=(text[:60],) if text else (),
            )
        if not q.answered or image_only(q):  # reported as unanswered, which names the placeholder
            continue
        for ph in q.answer.placeholders:
            extra = " (text typed on the same line)" if ph.trailing else ""
            yield Hit(
                f"Question {q.number} is answered but the placeholder is still there{extra}; delete the placeholder.",
                line=ph.line,
                question=q.number,
                evidence=(ph.text,),
            )
