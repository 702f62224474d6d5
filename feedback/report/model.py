"""The parsed report: everything the checks need, each piece with its 1-based line number in the file.

Each piece is an immutable named tuple: a report has hundreds of them, and a one-report process builds the classes
at every start, where a frozen dataclass costs ten times as much as a named tuple (``_replace`` gives a changed
copy)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import NamedTuple


class Mark(StrEnum):
    CHECKED = "checked"
    UNCHECKED = "unchecked"
    PARTIAL = "partial"


class Line(NamedTuple):
    """One source line: its number and its text without the line ending."""

    number: int
    text: str


class ChecklistItem(NamedTuple):
    line: int
    text: str  # as in the report, wrapped lines joined and whitespace collapsed
    mark: str  # the raw mark between the brackets
    state: Mark
    section: str | None
    module: str | None  # "M21", "M2+M6" when the item carries a module tag
    notes: tuple[Line, ...] = ()

    @property
    def checked(self) -> bool:
        return self.state is not Mark.UNCHECKED


class Image(NamedTuple):
    line: int
    src: str
    kind: str  # "markdown" | "html" | "code"
    alt: str = ""
    raw: str = ""  # the target exactly as written in the report (src is URL-normalised by markdown-it)

    @property
    def written(self) -> str:
        return self.raw or self.src


class Link(NamedTuple):
    line: int
    href: str
    text: str
    raw: str = ""  # the target exactly as written in the report

    @property
    def written(self) -> str:
        return self.raw or self.href


class Placeholder(NamedTuple):
    line: int
    text: str
    trailing: str  # text typed on the same line after the placeholder


class Answer(NamedTuple):
    lines: tuple[Line, ...]  # the answer's own lines (quote markers stripped when typed inside the prompt)
    marker_line: int | None  # line of "Answer:" when present
    in_prompt: bool  # typed inside the > block of the prompt
    words: int  # the course checker's count (whitespace tokens), placeholders excluded
    images: tuple[Image, ...]
    links: tuple[Link, ...]
    placeholders: tuple[Placeholder, ...]
    code_blocks: int
    code_images: tuple[Image, ...] = ()  # image syntax inside code blocks: shown as code, not as an image
    heading_lines: tuple[int, ...] = ()  # headings inside the answer (the course checker stops counting there)
    code_lines: frozenset[int] = frozenset()  # lines inside fenced code blocks (fences included)

    @property
    def text(self) -> str:
        return "\n".join(ln.text for ln in self.lines)

    @property
    def first_line(self) -> int | None:
        for ln in self.lines:
            if ln.text.strip():
                return ln.number
        return None


class Question(NamedTuple):
    number: int
    line: int  # the heading line
    heading: str  # the heading as written
    heading_note: str  # text appended to the heading, if any
    section: str | None
    prompt_lines: tuple[Line, ...]  # the quoted question, markers stripped
    end_line: int  # last line of the block
    answer: Answer
    answered: bool
    min_words: int | None = None
    max_words: int | None = None
    min_images: int | None = None
    max_images: int | None = None

    @property
    def prompt(self) -> str:
        return " ".join(ln.text.strip() for ln in self.prompt_lines if ln.text.strip())

    @property
    def title(self) -> str:
        """The bold question text, without the length/example lines."""
        title = _TITLES.get(self.prompt_lines)
        if title is None:
            if len(_TITLES) >= 4096:
                _TITLES.clear()
            title = _TITLES[self.prompt_lines] = _title(self.prompt_lines)
        return title


_TITLES: dict[tuple[Line, ...], str] = {}  # the checks and the consistency engine ask each question's title often


def _title(prompt_lines: tuple[Line, ...]) -> str:
    parts: list[str] = []
    for ln in prompt_lines:
        t = ln.text.strip()
        if not t:
            if parts:
                break
            continue
        parts.append(t.replace("**", "").strip())
    return " ".join(parts)


class Report(NamedTuple):
    path: Path | None
    lines: tuple[str, ...]
    crlf: bool
    front_matter: dict[str, str]
    front_matter_lines: tuple[int, int] | None
    title: str | None
    title_line: int | None
    checklist_line: int | None  # the checklist heading, when there is one
    checklist: tuple[ChecklistItem, ...]
    questions: tuple[Question, ...]
    question_headings: tuple[tuple[int, int], ...]  # (number, line) of every question heading, duplicates included
    extra_sections: tuple[tuple[int, str], ...] = ()  # headings after the last question
    encoding_errors: tuple[int, ...] = ()  # lines that held bytes that are not UTF-8 (replaced by U+FFFD)

    def question(self, number: int) -> Question | None:
        for q in self.questions:
            if q.number == number:
                return q
        return None

    def line_text(self, number: int) -> str:
        return self.lines[number - 1] if 0 < number <= len(self.lines) else ""

    @property
    def group(self) -> str | None:
        q1 = self.question(1)
        if q1 is None or not q1.answered:
            return None
        text = " ".join(q1.answer.text.split()).strip("-* ")
        return text[:40] or None
