"""Answer rules: unanswered questions, answers typed in the prompt, answer length against the recommended range."""

from __future__ import annotations

import re
from collections.abc import Iterator

from feedback.checks.registry import Context, Hit, rule
from feedback.findings import Category, Severity
from feedback.report.model import Question
from feedback.report.parse import strip_placeholders

# what is not words: images (also wrapped in a link), HTML tags and comments, links, bare URLs
# no piece can run past the next opener of its own kind ([, <, <!--), so the scan is linear on any line
MEDIA_RE = re.compile(
    r"\[!\[[^\[\]]*+\]\([^()]*+\)\]\([^()]*+\)|!\[[^\[\]]*+\]\((?:<[^<>]*+>|[^()\[\]]*+)\)"
    r"|<!--(?:(?!<!--).)*?-->|<[^<>\n]++>"
    r"|\[[^\[\]]*+\]\((?:<[^<>]*+>|[^()\[\]]*+)\)|\bhttps?://\S++",
    re.S,
)
WORD_RE = re.compile(r"[^\W_]")


def image_only(q: Question) -> bool:
    """The prompt asks for words, but the answer holds only images (and links, the placeholder): no explanation."""
    if not q.answered or not q.min_words or not (q.answer.images or q.answer.links):
        return False
    rest = MEDIA_RE.sub(" ", strip_placeholders(q.answer.text))
    return WORD_RE.search(rest) is None


def _first_text(q: Question) -> str:
    for ln in q.answer.lines:
        if ln.text.strip():
            return ln.text.strip()
    return ""


@rule(
    "FB201",
    "unanswered",
    Category.ANSWER,
    Severity.ERROR,
    "The question has no answer: empty, the placeholder left, only dashes, or only images where words are asked.",
)
def unanswered(ctx: Context) -> Iterator[Hit]:
    for q in ctx.report.questions:
        if image_only(q):
            kind = "an image" if len(q.answer.images) == 1 else "images"
            if not q.answer.images:
                kind = "a link"
            left = " (and the placeholder, to delete)" if q.answer.placeholders else ""
            yield Hit(
                f"Question {q.number} has only {kind}{left} and no text: the question asks for "
                f"{q.min_words}-{q.max_words} words of explanation. Write the answer beside it.",
                line=q.answer.first_line,
                question=q.number,
                evidence=(_first_text(q)[:160],),
            )
            continue
        if q.answered:
            pointer = points_elsewhere(q)
            if pointer:
                yield Hit(
                    f"Question {q.number} only points elsewhere ({pointer[:60]!r}); answer it here: a reader of "
                    "this question should not have to look it up.",
                    line=q.answer.first_line,
                    question=q.number,
                    evidence=(pointer,),
                )
            continue
        ph = q.answer.placeholders
        if ph:
            yield Hit(
                f"Question {q.number} is unanswered: the placeholder is still there.",
                line=ph[0].line,
                question=q.number,
                evidence=(ph[0].text,),
            )
        else:
            yield Hit(
                f"Question {q.number} is unanswered.",
                line=q.answer.first_line or q.answer.marker_line or q.line,
                question=q.number,
                evidence=(_first_text(q),) if _first_text(q) else (),
            )


# "check reports/figures/bucket.png", "We invite you to look at the answer in question 23", "See Q12."
POINTER_OPENING_RE = re.compile(
    r"^\W*(?:please\s+)?(?:see|check(?: out)?|look at|refer to|cf\.?"
    r"|we (?:invite|refer|ask) you to (?:look at|see|read|check)"
    r"|(?:(?:this|it) is )?(?:answered|described|covered|explained) in)\b",
    re.I,
)
# what it points to: another question or section, a file path (searched after MEDIA_RE took links and URLs out)
POINTER_TARGET_RE = re.compile(
    r"\b(?:questions?|q|section)\s*#?\d+\b|[\w.-]+/[\w./-]+|\b(?:above|below|readme)\b", re.I
)
MAX_POINTER_WORDS = 25


def points_elsewhere(q: Question) -> str | None:
    """The answer is only a pointer to another place ("check reports/figures/bucket.png", "see question 23"): its
    first line of text, else None. Not for the group-information questions (FB206 says it there)."""
    if q.answer.words > MAX_POINTER_WORDS or MEMBER_PROMPT_RE.search(q.title) or GROUP_PROMPT_RE.search(q.title):
        return None
    text = MEDIA_RE.sub(" ", strip_placeholders(q.answer.text)).strip()
    if not POINTER_OPENING_RE.match(text) or not POINTER_TARGET_RE.search(text):
        return None
    return _first_text(q)[:160]


@rule(
    "FB202",
    "answer-in-prompt",
    Category.STRUCTURE,
    Severity.WARNING,
    "The answer is typed inside the quoted prompt block.",
)
def answer_in_prompt(ctx: Context) -> Iterator[Hit]:
    for q in ctx.report.questions:
        if q.answer.in_prompt:
            yield Hit(
                f"The answer to question {q.number} is typed inside the '>' quote of the question; "
                "move it below the quote so it renders as your answer.",
                line=q.answer.first_line,
                question=q.number,
                evidence=(_first_text(q)[:160],),
            )


@rule("FB203", "too-short", Category.ANSWER, Severity.WARNING, "The answer is shorter than the recommended length.")
def too_short(ctx: Context) -> Iterator[Hit]:
    for q in ctx.report.questions:
        if q.answered and q.min_words and q.answer.words < q.min_words and not image_only(q):
            yield Hit(
                f"Question {q.number}: {q.answer.words} words, recommended {q.min_words}-{q.max_words}.",
                line=q.answer.first_line,
                question=q.number,
            )


@rule("FB204", "too-long", Category.ANSWER, Severity.WARNING, "The answer is longer than the recommended length.")
def too_long(ctx: Context) -> Iterator[Hit]:
    for q in ctx.report.questions:
        if q.answered and q.max_words is not None and q.answer.words > q.max_words:
            yield Hit(
                f"Question {q.number}: {q.answer.words} words, recommended {q.min_words}-{q.max_words}.",
                line=q.answer.first_line,
                question=q.number,
            )


@rule(
    "FB205",
    "heading-in-answer",
    Category.STRUCTURE,
    Severity.WARNING,
    "The course checker cuts the answer at its first '##' (a heading, also mid-line): the words after it are lost.",
)
def heading_in_answer(ctx: Context) -> Iterator[Hit]:
    for q in ctx.report.questions:
        cut = _course_cut(q) if q.answered else None
        if cut is None:
            continue
        line, col = cut
        text = next(ln.text for ln in q.answer.lines if ln.number == line)
        heading = text[col:].strip()
        where = "in the middle of a line" if text[:col].strip() else "a heading"
        fix = "Use bold text instead of a heading."
        if line in q.answer.code_lines:
            where, fix = "inside a code block", "Write a single '#' there."
        after = "\n".join([text[col:], *(ln.text for ln in q.answer.lines if ln.number > line)])
        lost = len(strip_placeholders(after).split())
        yield Hit(
            f"Question {q.number}: the course's checker cuts the answer at '{heading[:60]}' ({where}) and counts "
            f"only the {q.answer.words} words before it; the {lost} words from there on are not counted. {fix}",
            line=line,
            question=q.number,
            evidence=(heading[:120],),
        )


def _course_cut(q: Question) -> tuple[int, int] | None:
    """(line, column) where the course checker stops reading the answer: its first '##', anywhere on a line."""
    for ln in q.answer.lines:
        col = ln.text.find("##")
        if col >= 0:
            return ln.number, col
    return None


GROUP_PROMPT_RE = re.compile(r"\bgroup\s*(?:number|no\.?|id)\b", re.I)
MEMBER_PROMPT_RE = re.compile(r"\b(?:study|student|matriculation)\s*(?:numbers?|ids?|no\.?)\b", re.I)
# "see question 1", "#12": a number that refers to something else is not an identifier
REFERENCE_RE = re.compile(r"\b(?:questions?|q|section|page|figure|fig\.?|line|step|week|module|m)\s*#?\d+\b|#\d+", re.I)
GROUP_ID_RE = re.compile(r"(?<![\w.])\d{1,4}(?![\w.])")
MEMBER_ID_RE = re.compile(r"\b[sS]\d{5,7}\b|(?<![\w.])\d{5,9}(?![\w.])")
POINTER_RE = re.compile(
    r"\b(?:see|refer to|as (?:stated|written|mentioned|listed|given)|same as|found in|listed in|given in|in the "
    r"(?:readme|cover|front page|title|header|table|top)|above|below)\b",
    re.I,
)
NO_ID_RE = re.compile(r"\b(?:n/?a|nan|none|not applicable|not found|unknown|no group|tbd)\b", re.I)


@rule(
    "FB206",
    "group-info",
    Category.ANSWER,
    Severity.WARNING,
    "The prompt asks for a group number or study numbers and the answer gives none, or points elsewhere.",
)
def group_info(ctx: Context) -> Iterator[Hit]:
    for q in ctx.report.questions:
        if not q.answered or image_only(q):
            continue
        title = q.title or q.prompt
        members = MEMBER_PROMPT_RE.search(title) is not None
        if not members and not GROUP_PROMPT_RE.search(title):
            continue
        text = REFERENCE_RE.sub(" ", strip_placeholders(q.answer.text))
        found = (MEMBER_ID_RE if members else GROUP_ID_RE).search(text)
        if found and not NO_ID_RE.search(text):  # "Error 404: group number not found"
            continue
        what = "the study numbers of the members" if members else "the group number"
        pointer = POINTER_RE.search(text)
        how = "points elsewhere instead" if pointer else "does not give it"
        shown = next((ln for ln in q.answer.lines if WORD_RE.search(ln.text)), None)
        yield Hit(
            f"Question {q.number} asks for {what}; the answer {how}. Write {what} here, so the report can be "
            "matched to the group.",
            line=shown.number if shown else q.answer.first_line,
            question=q.number,
            evidence=(shown.text.strip()[:120],) if shown else (),
        )
