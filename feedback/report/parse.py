"""Turn report Markdown into a :class:`Report`.

The parser is line-based so that every piece keeps its line number and so that the many ways groups edit the
template (deleted ``Answer:`` lines, removed ``>`` markers, answers typed inside the quote, placeholders left in
place) degrade gracefully instead of derailing a full Markdown parse. markdown-it parses inline content (images,
links) on the few lines that contain any, which keeps a whole course under a second.
"""

from __future__ import annotations

import bisect
import re
import stat
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from feedback.errors import InputError
from feedback.report.model import (
    Answer,
    ChecklistItem,
    Image,
    Line,
    Link,
    Mark,
    Placeholder,
    Question,
    Report,
)

# Patterns run on untrusted lines of any length: each starts only at the start of a run it would otherwise re-scan
# (look-behind) and repeats that could give back characters are possessive, so every search is linear.
PLACEHOLDER_RE = re.compile(r"(?<!-)-{2,}+\s*+question\s*+\d++\s*+fill\s*+here\s*+-{2,}", re.I)
# One template era (2025-01-24 .. 2026-01-09) shipped keyboard-mash filler instead of the last placeholder; copies
# that still hold it have not answered that question. This is the filler's first token, used as a fingerprint.
FILLER_FINGERPRINT = "fewafewubaofewnafioewnifowf"
# the closing #s are stripped in code (_heading_text): a lazy text followed by optional runs backtracks on long lines
HEADING_RE = re.compile(r"^ {0,3}(#{1,6}+)(?:[ \t]++(.*+)|#*+[ \t]*+)$")
QUESTION_RE = re.compile(r"^\**+\s*+question\s*+(\d++)\b\**+\s*+[:.)\-–—]?+\s*+(.*+)$", re.I)
BACKTICK_FENCE_RE = re.compile(r"^ {0,3}(`{3,})[^`]*$")
TILDE_FENCE_RE = re.compile(r"^ {0,3}(~{3,}).*$")
QUOTE_RE = re.compile(r"^\s{0,3}>\s?")
QUOTES_RE = re.compile(r"(?:\s{0,3}>\s?)*+")
ANSWER_MARKER_RE = re.compile(r"^\s*+(?:\*\*|__)?+\s*+answers?\s*+(?:\*\*|__)?+\s*+:\s*+(?:\*\*|__)?+\s*+", re.I)
ITEM_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<bullet>[*+-][ \t]+)?\[(?P<mark>[^\[\]]{0,6})\](?!\()[ \t]*(?P<text>.*)$")
BULLET_RE = re.compile(r"^[ \t]*(?:[*+-]|\d+[.)])[ \t]+")
MODULE_RE = re.compile(r"\((M\d++(?:\s*+[+,/&]\s*+M\d++)*+)\)\s*+\.?\s*+$")
LENGTH_RE = re.compile(r"answer\s++length\s*+:?\s*+\**+\s*+(\d++)\s*+(?:-|–|to)\s*+(\d++)\s*+words?", re.I)
IMG_RANGE_RE = re.compile(r"(?<!\d)(\d++)\s*+(?:-|–|to)\s*+(\d++)\s*+(?:images?|screenshots?|figures?|pictures?)", re.I)
IMG_COUNT_RE = re.compile(
    r"\b(?:upload|insert|include|add)\s++(one|two|three|a|an|\d++)\s++(?:\w++\s++)?(?:images?|screenshots?|figures?)",
    re.I,
)
# a tag ends at the next < or >, so each <img scan stops where the next one starts
HTML_IMG_RE = re.compile(r"<img\b[^<>]*?\bsrc\s*+=\s*+(?:\"([^\"]*+)\"|'([^']*+)'|([^\s>]++))", re.I)
_BRACKETED = r"\[(?:[^\[\]]|\[[^\[\]]*+\])*+\]\(\s*+(<[^<>\n]*+>|[^\s)]*+)"
MD_IMAGE_RAW_RE = re.compile(r"!" + _BRACKETED)
MD_LINK_RAW_RE = re.compile(r"(?<!!)" + _BRACKETED)
CODE_IMAGE_RE = re.compile(r"!\[[^\[\]]*+\]\(\s*+<?([^)>\s]*+)")
FRONT_MATTER_KEY_RE = re.compile(r"^([A-Za-z0-9_-]+)\s*:\s*(.*)$")
CHECKLIST_HEADING_RE = re.compile(r"checklist", re.I)

CHECKED_MARKS = {"x", "ok", "✅", "✔", "✔️", "✓", "☑", "☑️", "done", "yes", "v"}
PARTIAL_MARKS = {"~", "/", "(x)", "½", "partial", "(~)"}
UNCHECKED_MARKS = {"", "-", "❌", "✗", "✘", "no"}
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "a": 1, "an": 1}


def read_report(path: Path) -> Report:
    """Read and parse a report file, raising :class:`InputError` with a one-line reason when it cannot be read.
    Lines holding bytes that are not UTF-8 are kept (the bytes replaced by U+FFFD) and listed in the report."""
    text, bad_lines = decode_lines(read_bytes(path), path)
    if not text.strip():
        raise InputError(f"{path}: the file is empty")
    report = parse(text, path)
    return report._replace(encoding_errors=bad_lines) if bad_lines else report


def read_bytes(path: Path) -> bytes:
    """A report file's bytes; anything else (missing, a folder, a pipe, a link loop) is a one-line error."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if path.is_symlink():
            raise InputError(f"{path}: a symbolic link to a file that does not exist") from None
        raise InputError(f"{path}: no such file") from None
    except (OSError, ValueError) as exc:  # a link loop, a name too long, no permission on a folder, a NUL byte
        raise InputError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{path}: is a directory, not a report file")
    if not stat.S_ISREG(mode):
        raise InputError(f"{path}: not a regular file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc


LINE_BREAK_RE = re.compile(r"\r\n|\r|\n")  # CRLF, a lone CR (old Mac editors) and LF all end a line
_BYTE_LINE_BREAK_RE = re.compile(rb"\r\n|\r|\n")
# a multi-byte UTF-8 sequence: its presence says the file is UTF-8 (Latin-1 text almost never forms one)
_UTF8_SEQUENCE_RE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def decode(data: bytes, path: Path | str = "<input>") -> str:
    """Decode report bytes: see :func:`decode_lines` (the lines with bytes that are not UTF-8 are dropped here)."""
    return decode_lines(data, path)[0]


def decode_lines(data: bytes, path: Path | str = "<input>") -> tuple[str, tuple[int, ...]]:
    """Report bytes as text, and the numbers of the lines that held bytes that are not UTF-8.

    UTF-8 (with or without BOM) and UTF-16 with BOM are decoded as such. A file with some multi-byte UTF-8 and some
    invalid bytes is UTF-8 with a few damaged lines: each such line is decoded on its own with the bad bytes
    replaced by U+FFFD, so one stray byte never turns the rest of the file into mojibake. A file with invalid bytes
    and no multi-byte UTF-8 at all is Latin-1 (an old editor's encoding), decoded as such when it looks like text.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), ()
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: invalid UTF-16 text") from exc
    if b"\x00" in data[:8192]:
        raise InputError(f"{path}: binary file, not a Markdown report")
    try:
        return data.decode("utf-8-sig"), ()
    except UnicodeDecodeError:
        pass
    if _UTF8_SEQUENCE_RE.search(data):
        return _decode_per_line(data.removeprefix(b"\xef\xbb\xbf"))
    text = data.decode("latin-1")
    control = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\t\r\n\f")
    if control > 8:
        raise InputError(f"{path}: binary file, not a Markdown report") from None
    return text, ()


def _decode_per_line(data: bytes) -> tuple[str, tuple[int, ...]]:
    """UTF-8 decoded line by line (lines split as :func:`parse` splits them); bad bytes replaced, lines named."""
    parts: list[str] = []
    bad: list[int] = []
    start, number = 0, 1
    for m in [*_BYTE_LINE_BREAK_RE.finditer(data), None]:
        end = m.start() if m is not None else len(data)
        chunk = data[start:end]
        try:
            parts.append(chunk.decode("utf-8"))
        except UnicodeDecodeError:
            parts.append(chunk.decode("utf-8", errors="replace"))
            bad.append(number)
        if m is None:
            break
        parts.append(m.group(0).decode("ascii"))
        start, number = m.end(), number + 1
    return "".join(parts), tuple(bad)


def parse(text: str, path: Path | None = None) -> Report:
    """Parse report text. Never raises on odd Markdown: whatever is not understood is simply not found."""
    crlf = "\r\n" in text
    raw_lines = LINE_BREAK_RE.split(text) if "\r" in text else text.split("\n")
    if len(raw_lines) > 1 and raw_lines[-1] == "":
        raw_lines.pop()  # the newline that ends the last line does not start another one
    lines = tuple(raw_lines)
    fm, fm_range = _front_matter(lines)
    in_fence = _fence_mask(lines, 0 if fm_range is None else fm_range[1])
    headings = _headings(lines, in_fence, fm_range)

    qheads: list[tuple[int, int, int, str, str]] = []  # (index into headings, number, line, heading, note)
    for hi, (ln, _level, htext) in enumerate(headings):
        m = QUESTION_RE.match(htext)
        if m:
            qheads.append((hi, int(m.group(1)), ln, lines[ln - 1].strip(), m.group(2).strip()))

    title, title_line = None, None
    first_q_line = qheads[0][2] if qheads else len(lines) + 1
    for ln, level, htext in headings:
        if ln >= first_q_line:
            break
        if level == 1:
            title, title_line = htext, ln
            break

    questions: list[Question] = []
    seen: set[int] = set()
    section: str | None = None
    qhead_index = {hi for hi, *_ in qheads}
    sections = _sections(headings, qhead_index)
    for pos, (hi, number, line, heading, note) in enumerate(qheads):
        level = headings[hi][1]
        if sections[hi] is not None:  # none above it: the previous question's section
            section = sections[hi]
        end = len(lines)
        for hj in range(hi + 1, len(headings)):
            # a same-level heading inside an answer ("### Results") stays in it, as sections are one level up
            if hj in qhead_index or headings[hj][1] < level or (headings[hj][1] == level and level <= 2):
                end = headings[hj][0] - 1
                break
        if pos + 1 < len(qheads):
            end = min(end, qheads[pos + 1][2] - 1)
        q = _question(lines, in_fence, number, line, heading, note, section, line + 1, end)
        if number not in seen:
            questions.append(q)
            seen.add(number)

    q_ranges = [(q.line, q.end_line) for q in questions]
    starts = sorted(q_ranges)
    checklist_line = None
    for ln, _level, htext in headings:
        if CHECKLIST_HEADING_RE.search(htext) and not _inside(starts, ln):
            checklist_line = ln
            break
    checklist = _checklist(lines, in_fence, headings, q_ranges, fm_range)

    extra: list[tuple[int, str]] = []
    if questions:
        last_end = max(q.end_line for q in questions)
        extra = [(ln, htext) for ln, _lvl, htext in headings if ln > last_end]

    return Report(
        path=path,
        lines=lines,
        crlf=crlf,
        front_matter=fm,
        front_matter_lines=fm_range,
        title=title,
        title_line=title_line,
        checklist_line=checklist_line,
        checklist=tuple(checklist),
        questions=tuple(questions),
        question_headings=tuple((n, ln) for _hi, n, ln, _h, _note in qheads),
        extra_sections=tuple(extra),
    )


def _sections(headings: Sequence[tuple[int, int, str]], question_heads: set[int]) -> list[str | None]:
    """Per heading, the nearest heading above it of a lower level that is not a question heading (None if none):
    the section a question sits in. One pass, keeping the latest such heading of each level."""
    latest: list[tuple[int, str] | None] = [None] * 8  # by level: (index, text)
    out: list[str | None] = []
    for hi, (_ln, level, htext) in enumerate(headings):
        above = [h for h in latest[1:level] if h is not None]
        out.append(max(above)[1] if above else None)
        if hi not in question_heads:
            latest[level] = (hi, htext)
    return out


def _inside(ranges: Sequence[tuple[int, int]], line: int) -> bool:
    """Whether ``line`` lies in one of ``ranges`` (sorted, not overlapping)."""
    k = bisect.bisect_right(ranges, (line, 1 << 62)) - 1
    return k >= 0 and ranges[k][0] <= line <= ranges[k][1]


def _front_matter(lines: Sequence[str]) -> tuple[dict[str, str], tuple[int, int] | None]:
    if not lines or lines[0].strip() != "---":
        return {}, None
    for i in range(1, min(len(lines), 80)):
        if lines[i].strip() in ("---", "..."):
            body = lines[1:i]
            fm: dict[str, str] = {}
            for raw in body:
                m = FRONT_MATTER_KEY_RE.match(raw)
                if m:
                    fm[m.group(1)] = m.group(2).strip().strip("\"'")
                elif raw.strip() and not raw.startswith((" ", "\t", "-")):
                    return {}, None  # not YAML-like: a horizontal rule, not front matter
            return fm, (1, i + 1)
    return {}, None


def _fence_mask(lines: Sequence[str], start: int) -> list[bool]:
    """True for lines inside (or delimiting) a fenced code block. An unclosed fence is ignored."""
    mask = [False] * len(lines)
    bodies = [_unquote(ln) if ">" in ln[:4] else ln for ln in lines]
    # candidate closing lines per fence character: (index, run length), in order
    closers: dict[str, list[tuple[int, int]]] = {"`": [], "~": []}
    for i in range(start, len(lines)):
        t = bodies[i].strip()
        if len(t) >= 3 and t[0] in closers and not t.strip(t[0]):
            closers[t[0]].append((i, len(t)))
    i = start
    while i < len(lines):
        m = BACKTICK_FENCE_RE.match(bodies[i]) or TILDE_FENCE_RE.match(bodies[i])
        if not m:
            i += 1
            continue
        fence = m.group(1)
        cands = closers[fence[0]]
        k = bisect.bisect_right(cands, (i, 1 << 30))
        close = next((j for j, n in cands[k:] if n >= len(fence)), None)
        if close is None:
            i += 1
            continue
        mask[i : close + 1] = [True] * (close + 1 - i)
        i = close + 1
    return mask


def _unquote(text: str) -> str:
    """``text`` without its leading ``>`` markers (all of them: ``> > text`` -> ``text``), in one linear match."""
    if ">" not in text[:4]:  # a quote marker is within the first four characters
        return text
    m = QUOTES_RE.match(text)
    return text[m.end() :] if m else text


def _is_quoted(text: str) -> bool:
    return QUOTE_RE.match(text) is not None


def _heading_text(text: str | None) -> str:
    """A heading's text without its closing sequence of #s (``### Question 3 ##`` -> ``Question 3``)."""
    return (text or "").rstrip(" \t").rstrip("#").strip()


def _headings(
    lines: Sequence[str], in_fence: Sequence[bool], fm_range: tuple[int, int] | None
) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    skip_to = fm_range[1] if fm_range else 0
    for i, raw in enumerate(lines):
        if i < skip_to or in_fence[i] or "#" not in raw[:4]:
            continue
        m = HEADING_RE.match(raw)
        if m:
            out.append((i + 1, len(m.group(1)), _heading_text(m.group(2))))
    return out


def _question(
    lines: Sequence[str],
    in_fence: Sequence[bool],
    number: int,
    line: int,
    heading: str,
    note: str,
    section: str | None,
    start: int,
    end: int,
) -> Question:
    block = [Line(n, lines[n - 1]) for n in range(start, end + 1)]
    fenced = {n for n in range(start, end + 1) if in_fence[n - 1]}

    marker_idx = None
    for i, ln in enumerate(block):
        if ln.number not in fenced and ANSWER_MARKER_RE.match(_unquote(ln.text)):
            marker_idx = i
            break

    prompt: list[Line]
    answer_raw: list[Line]  # as in the file, for the course word count
    answer_lines: list[Line]  # quote markers stripped
    in_prompt = False
    marker_line = None
    if marker_idx is not None:
        marker = block[marker_idx]
        marker_line = marker.number
        prompt = [Line(ln.number, _unquote(ln.text)) for ln in block[:marker_idx]]
        body = _unquote(marker.text)
        m = ANSWER_MARKER_RE.match(body)
        assert m is not None
        rest = body[m.end() :]
        # the course checker counts everything after the literal "Answer:"
        cut = marker.text.find(":", marker.text.lower().find("answer"))
        raw_rest = marker.text[cut + 1 :] if cut >= 0 else rest
        answer_raw = [Line(marker.number, raw_rest), *block[marker_idx + 1 :]]
        answer_lines = [Line(marker.number, rest)] if rest.strip() else []
        quoted_tail = True
        for ln in block[marker_idx + 1 :]:
            if quoted_tail and _is_quoted(ln.text):
                answer_lines.append(Line(ln.number, _unquote(ln.text)))
                if not _NOISE_RE.match(_unquote(ln.text)) and not PLACEHOLDER_RE.search(ln.text):
                    in_prompt = _is_quoted(marker.text)
            else:
                if ln.text.strip():
                    quoted_tail = False
                answer_lines.append(ln)
        if not _NOISE_RE.match(rest) and _is_quoted(marker.text) and not PLACEHOLDER_RE.fullmatch(rest.strip()):
            in_prompt = True
    else:
        first = next((i for i, ln in enumerate(block) if ln.text.strip()), len(block))
        if first < len(block) and _is_quoted(block[first].text):
            k = first
            while k < len(block) and (_is_quoted(block[k].text) or not block[k].text.strip()):
                if not block[k].text.strip():
                    nxt = next((j for j in range(k, len(block)) if block[j].text.strip()), None)
                    if nxt is None or not _is_quoted(block[nxt].text):
                        break
                k += 1
            prompt = [Line(ln.number, _unquote(ln.text)) for ln in block[:k]]
            answer_lines = block[k:]
        else:
            k = _unquoted_prompt_end(block, first)
            prompt = block[:k]
            answer_lines = block[k:]
        answer_raw = answer_lines

    answer_lines = _trim(answer_lines)
    placeholders = _placeholders(answer_lines)
    filler = filler_lines(answer_lines)
    words = course_word_count("\n".join(ln.text for ln in answer_raw if ln.number not in filler))
    content = [ln for ln in answer_lines if ln.number not in filler]
    images, links = _media(content, fenced)
    code_images = [
        Image(ln.number, m.group(1), "code")
        for ln in content
        if ln.number in fenced
        for m in CODE_IMAGE_RE.finditer(ln.text)
    ]
    heading_lines = [ln.number for ln in content if ln.number not in fenced and HEADING_RE.match(ln.text)]
    answered = _has_content(content)
    prompt = _trim(prompt)
    min_w, max_w, min_i, max_i = requirements(" ".join(ln.text for ln in prompt))
    return Question(
        number=number,
        line=line,
        heading=heading,
        heading_note=note,
        section=section,
        prompt_lines=tuple(prompt),
        end_line=end,
        answer=Answer(
            lines=tuple(answer_lines),
            marker_line=marker_line,
            in_prompt=in_prompt and answered,
            words=words if answered else 0,
            images=tuple(images),
            links=tuple(links),
            placeholders=tuple(placeholders),
            code_images=tuple(code_images),
            heading_lines=tuple(heading_lines),
            code_lines=frozenset(ln.number for ln in answer_lines if ln.number in fenced),
            code_blocks=sum(
                1
                for ln in answer_lines
                if ln.number in fenced and (BACKTICK_FENCE_RE.match(_unquote(ln.text)) or TILDE_FENCE_RE.match(ln.text))
            )
            // 2,
        ),
        answered=answered,
        min_words=min_w,
        max_words=max_w,
        min_images=min_i,
        max_images=max_i,
    )


def _unquoted_prompt_end(block: Sequence[Line], first: int) -> int:
    """Where the prompt ends when the ``>`` markers were removed: the bold question and its length/example lines."""
    if first >= len(block):
        return first
    head = block[first].text.strip()
    if not (head.startswith(("**", "__", "*")) or LENGTH_RE.search(head)):
        return first
    k = first
    while k < len(block):
        t = block[k].text.strip()
        if not t:
            k += 1
            continue
        is_prompt = (
            t.startswith(("**", "__"))
            or LENGTH_RE.search(t) is not None
            or t.lower().startswith("example")
            or (t.startswith(("*", "_")) and t.rstrip(".").endswith(("*", "_")))
        )
        if not is_prompt:
            break
        k += 1
    return k


def _trim(lines: list[Line]) -> list[Line]:
    a, b = 0, len(lines)
    while a < b and not lines[a].text.strip():
        a += 1
    while b > a and not lines[b - 1].text.strip():
        b -= 1
    return lines[a:b]


def _placeholders(lines: Iterable[Line]) -> list[Placeholder]:
    out = []
    for ln in lines:
        if "--" not in ln.text:  # every placeholder starts with dashes: most lines need no regex
            continue
        for m in PLACEHOLDER_RE.finditer(ln.text):
            trailing = ln.text[m.end() :].strip().strip("`").strip()
            out.append(Placeholder(ln.number, m.group(0), trailing))
    return out


def filler_lines(lines: Sequence[Line]) -> set[int]:
    """Line numbers of the template's keyboard-mash filler paragraph, when still present."""
    out: set[int] = set()
    for i, ln in enumerate(lines):
        if FILLER_FINGERPRINT in ln.text:
            j = i
            while j < len(lines) and lines[j].text.strip():
                out.add(lines[j].number)
                j += 1
            break
    return out


def strip_placeholders(text: str) -> str:
    return PLACEHOLDER_RE.sub(" ", text) if "--" in text else text


def course_word_count(text: str) -> int:
    """The course checker's rule: whitespace-separated tokens, cut at the next heading; placeholders excluded."""
    text = text.split("###")[0].split("##")[0]
    return len(strip_placeholders(text).split())


_NOISE_RE = re.compile(r"^[\s\-*_>`#|=~.]*$")
# "(anyone)", "(daniel)": who-writes-this notes left in place of an answer
ASSIGNMENT_NOTE_RE = re.compile(r"^\s*[(\[]\s*[\w@.,/& -]{1,30}\s*[)\]]\s*$")


def _dash_wrapped(text: str) -> str | None:
    """The text of a line wrapped in dashes (``--- Group 7 ---``, optionally in backticks), else None."""
    s = text.strip().strip("`").strip()
    inner = s.strip("-")
    lead, trail = len(s) - len(s.lstrip("-")), len(s) - len(s.rstrip("-"))
    if inner == "":
        return "" if len(s) >= 4 else None
    return inner.strip() if lead >= 2 and trail >= 2 else None


def _has_content(lines: Sequence[Line]) -> bool:
    for ln in lines:
        t = strip_placeholders(ln.text)
        inner = _dash_wrapped(t)
        if inner is not None:
            t = inner
        if not _NOISE_RE.match(t) and not ASSIGNMENT_NOTE_RE.match(t):
            return True
    return False


@lru_cache(maxsize=512)  # the same few dozen prompts in every report of a course
def requirements(prompt: str) -> tuple[int | None, int | None, int | None, int | None]:
    """Word and image requirements stated in a question's own prompt."""
    min_w = max_w = min_i = max_i = None
    m = LENGTH_RE.search(prompt)
    if m:
        min_w, max_w = int(m.group(1)), int(m.group(2))
    m = IMG_RANGE_RE.search(prompt)
    if m:
        min_i, max_i = int(m.group(1)), int(m.group(2))
    else:
        m = IMG_COUNT_RE.search(prompt)
        if m:
            word = m.group(1).lower()
            n = NUMBER_WORDS.get(word) or int(word)
            min_i, max_i = n, n
    return min_w, max_w, min_i, max_i


MAX_INLINE = 5_000  # characters of one line handed to markdown-it (no report line comes near it)


@lru_cache(maxsize=1)
def _markdown() -> object:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


# A line whose links and images are all plain "[text](target)" / "![alt](target)" is read by a small scanner; any
# other line goes to markdown-it. Plain means: no escape anywhere; no code span, HTML, entity or emphasis mark that
# could reach into a link; no nested brackets; no title; and a target markdown-it keeps as written (no space, no
# character it percent-encodes, no scheme other than http(s)), or a target in angle brackets made of letters,
# digits, spaces and "._/-" (markdown-it percent-encodes the spaces); an optional plain "title"; "&" only on a line
# with no entity. tests/test_speed_paths.py compares the two.
_IN_LINK = frozenset("`<>")
_PLAIN_TEXT = re.compile(r"[^\[\]*]*")
_PLAIN_TARGET = re.compile(r"(?!<)(?:[A-Za-z0-9;/?:@=+$,\-_.!~*'#<>]|%[0-9A-Fa-f]{2})+")
_ANGLE_TARGET = re.compile(r"<([A-Za-z0-9._/\-](?:[A-Za-z0-9 ._/\-]*[A-Za-z0-9._/\-])?)>")
_TITLE = re.compile(r' +"[^"<>`&\[\]]*" *')
_ENTITY = re.compile(r"&#?[A-Za-z0-9]+;")
_SCHEME = re.compile(r"(?i)https?://")
# "_" between two letters or digits ("wandb_dropout_rate") can neither open nor close emphasis in CommonMark
_LOOSE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9_])_|_(?![A-Za-z0-9_])")
_BACKTICKS = re.compile(r"`+")
_AUTOLINK = re.compile(r"<[A-Za-z][A-Za-z0-9.+-]{1,31}:[^<>\s]*>|<[^<>\s@]+@[^<>\s]+>")  # wide on purpose


def _code_spans(text: str) -> list[tuple[int, int]]:
    """CommonMark code spans: a backtick run up to the next run of the same length (unmatched runs are text)."""
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(text)]
    spans, k = [], 0
    while k < len(runs):
        a, b = runs[k]
        close = next((j for j in range(k + 1, len(runs)) if runs[j][1] - runs[j][0] == b - a), None)
        if close is None:
            k += 1
            continue
        spans.append((a, runs[close][1]))
        k = close + 1
    return spans


def _plain_inline(text: str) -> list[tuple[str, str, str]] | None:
    """(kind, target, text) of every link and image of a line, or None when the line is not plain enough."""
    if "\\" in text or "<!" in text or "<?" in text or ("<" in text and _AUTOLINK.search(text)):
        return None
    if "&" in text and _ENTITY.search(text):
        return None
    out: list[tuple[str, str, str]] = []
    spans: list[tuple[int, int]] = []
    i = text.find("[")
    while i != -1:
        label = _PLAIN_TEXT.match(text, i + 1)
        close = label.end() if label else i + 1
        if close >= len(text) or text[close] != "]" or not text.startswith("(", close + 1):
            return None
        target = _ANGLE_TARGET.match(text, close + 2) or _PLAIN_TARGET.match(text, close + 2)
        if target is None:
            return None
        title = _TITLE.match(text, target.end())
        after = title.end() if title else target.end()
        if not text.startswith(")", after):
            return None
        dest = target.group(0) if target.re is _PLAIN_TARGET else target.group(1).replace(" ", "%20")
        if "(" in dest or ")" in dest or (":" in dest and not _SCHEME.match(dest)):
            return None
        if "_" in text[i + 1 : close] and _LOOSE_UNDERSCORE.search(text, i + 1, close):
            return None
        image = i > 0 and text[i - 1] == "!"
        start, end = (i - 1 if image else i), after + 1
        if not _IN_LINK.isdisjoint(text[start : close + 1]) or "`" in dest or "&" in dest:
            return None  # a code span, entity or HTML inside the text
        if "<" in text[:start] and ">" in text[end:]:
            return None  # HTML that may hold the whole link
        # a "<" inside a target is text (markdown-it percent-encodes it), not the start of a tag
        out.append(("image" if image else "link", dest.replace("<", "%3C").replace(">", "%3E"), text[i + 1 : close]))
        spans.append((start, end))
        i = text.find("[", end)
    if not out or text.count("[") != len(out) or text.count("]") != len(out):
        return None  # a bracket that is not part of a plain link
    if "`" in text:
        code = _code_spans(text)
        if any(a < e and s < b and not (a < s and e < b) for a, b in code for s, e in spans):
            return None  # a code span that starts or ends inside a link
        # a link inside a code span is code (the span's opening backticks come first)
        out = [o for o, (s, e) in zip(out, spans, strict=True) if not any(a < s and e < b for a, b in code)]
    return out


def _inline(text: str) -> list[tuple[str, str, str]]:
    """(kind, target, text) of every link and image of one line, as CommonMark reads them."""
    plain = _plain_inline(text)
    if plain is not None:
        return plain
    out: list[tuple[str, str, str]] = []
    href: str | None = None
    buf: list[str] = []
    for tok in _markdown().parseInline(text)[0].children or ():  # type: ignore[attr-defined]
        if tok.type == "image":
            out.append(("image", str(tok.attrGet("src") or ""), "".join(c.content for c in tok.children or ())))
        elif tok.type == "link_open":
            href, buf = str(tok.attrGet("href") or ""), []
        elif tok.type == "link_close" and href is not None:
            out.append(("link", href, "".join(buf)))
            href = None
        elif href is not None:
            buf.append(tok.content)
    return out


def _media(lines: Sequence[Line], fenced: set[int]) -> tuple[list[Image], list[Link]]:
    images: list[Image] = []
    links: list[Link] = []
    for ln in lines:
        if ln.number in fenced:
            continue
        text = ln.text
        for m in HTML_IMG_RE.finditer(text):
            src = next(g for g in m.groups() if g is not None) if any(m.groups()) else ""
            images.append(Image(ln.number, src, "html"))
        if "](" not in text:
            continue
        raw_images = [m.group(1).strip("<>") for m in MD_IMAGE_RAW_RE.finditer(text)]
        raw_links = [m.group(1).strip("<>") for m in MD_LINK_RAW_RE.finditer(text)]
        if len(text) > MAX_INLINE and _plain_inline(text) is None:
            # markdown-it's link parsing is quadratic on such a line: the raw targets only
            pieces = [("image", r, "") for r in raw_images] + [("link", r, "") for r in raw_links]
        else:
            pieces = _inline(text)
        next_image, next_link = iter(raw_images), iter(raw_links)
        for kind, target, label in pieces:
            if kind == "image":
                images.append(Image(ln.number, target, "markdown", label, next(next_image, "")))
            else:
                links.append(Link(ln.number, target, label, next(next_link, "")))
    return images, links


def _checklist(
    lines: Sequence[str],
    in_fence: Sequence[bool],
    headings: Sequence[tuple[int, int, str]],
    q_ranges: Sequence[tuple[int, int]],
    fm_range: tuple[int, int] | None,
) -> list[ChecklistItem]:
    """Checklist items anywhere outside question blocks and code; notes indented under them are kept."""
    in_question = [False] * (len(lines) + 2)
    for a, b in q_ranges:
        if b >= a:
            in_question[a : b + 1] = [True] * (b + 1 - a)
    heading_at = {ln: htext for ln, _lvl, htext in headings}
    items: list[ChecklistItem] = []
    ends: list[int] = []  # per item, the index of the first line after it
    section: str | None = None
    i = fm_range[1] if fm_range else 0
    while i < len(lines):
        n = i + 1
        if n in heading_at:
            section = heading_at[n]
        raw = lines[i]
        m = ITEM_RE.match(raw) if "[" in raw and not in_fence[i] and not in_question[n] else None
        if not m or (state := _mark_state(m.group("mark"), bool(m.group("bullet")))) is None:
            i += 1
            continue
        indent = len(m.group("indent").expandtabs(4))
        text_parts = [m.group("text").strip()]
        notes: list[Line] = []
        j = i + 1
        while j < len(lines):
            nxt = lines[j]
            if not nxt.strip() or in_question[j + 1]:
                break
            nindent = len(nxt) - len(nxt.lstrip(" \t"))
            nindent = len(nxt[:nindent].expandtabs(4))
            if ITEM_RE.match(nxt) and _mark_state(ITEM_RE.match(nxt).group("mark"), True) is not None:  # type: ignore[union-attr]
                if nindent > indent:
                    notes.append(Line(j + 1, nxt.strip()))
                    j += 1
                    continue
                break
            if nindent <= indent or HEADING_RE.match(nxt):
                break
            # a line wrapped by the template's width continues the item; anything else indented is a note
            wrapped = len(raw) >= 90 and not MODULE_RE.search(" ".join(text_parts))
            if BULLET_RE.match(nxt) or notes or not wrapped or len(text_parts) > 2:
                notes.append(Line(j + 1, nxt.strip()))
            else:
                text_parts.append(nxt.strip())
            j += 1
        text = " ".join(" ".join(text_parts).split())
        if text:
            mod = MODULE_RE.search(text)
            items.append(
                ChecklistItem(
                    line=n,
                    text=text,
                    mark=m.group("mark"),
                    state=state,
                    section=section,
                    module=re.sub(r"\s+", "", mod.group(1)) if mod else None,
                    notes=tuple(notes),
                )
            )
            ends.append(j)
        i = j
    levels = {ln: lvl for ln, lvl, _htext in headings}
    for k, item in enumerate(items):
        last = k + 1 == len(items)
        stop = len(lines) if last else items[k + 1].line - 1
        extra = _gap_notes(lines, in_fence, in_question, levels, ends[k], stop, trailing=last)
        if extra:
            items[k] = item._replace(notes=item.notes + extra)
    return items


HRULE_RE = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
HTML_TAGS_RE = re.compile(r"^\s*(?:<(?!!--)[^>]*>\s*)+$")
MAX_GAP_NOTES = 6  # more text than this between two items is something else (a stray checkbox far away)


def _gap_notes(
    lines: Sequence[str],
    in_fence: Sequence[bool],
    in_question: Sequence[bool],
    levels: dict[int, int],
    start: int,
    stop: int,
    *,
    trailing: bool,
) -> tuple[Line, ...]:
    """Lines typed between two checklist items (or right below the last one) that are not items: notes.

    Headings of the checklist's weeks are skipped; a top-level heading or a question ends the search, and below the
    last item only the lines before the first blank line count.
    """
    notes: list[Line] = []
    for idx in range(start, stop):
        n = idx + 1
        text = lines[idx]
        if in_question[n] or levels.get(n, 9) <= 2:
            break
        if not text.strip():
            if trailing:
                break
            continue
        if n in levels or in_fence[idx] or HRULE_RE.match(text) or HTML_TAGS_RE.match(text):
            continue
        notes.append(Line(n, text.strip()))
    return () if len(notes) > MAX_GAP_NOTES else tuple(notes)


def _mark_state(mark: str, bulleted: bool) -> Mark | None:
    """The state a checkbox mark stands for, or None when the brackets are not a checkbox."""
    m = mark.strip().lower()
    if m in UNCHECKED_MARKS or not mark.strip():
        return Mark.UNCHECKED
    if m in PARTIAL_MARKS or (m.endswith("%") and m[:-1].isdigit() and int(m[:-1]) < 100):
        return Mark.PARTIAL
    if m in CHECKED_MARKS or m == "100%":
        return Mark.CHECKED
    if bulleted and len(m) <= 3 and not m.isalnum():
        return Mark.CHECKED  # some other symbol in a bulleted box: a tick of a kind we have not seen
    return None
