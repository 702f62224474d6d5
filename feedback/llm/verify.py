"""Quote verification: a model's quote counts as evidence only if it is in the report.

Both sides are normalised the same way (markdown markers, quote marks, dashes, whitespace and case), so a quote
that differs from the report only in formatting is accepted and anything else is not.
"""

from __future__ import annotations

import re

from feedback.report.model import Question, Report

LINK_RE = re.compile(r"!?\[([^\[\]]*+)\]\(([^()\s]*+)[^()]*+\)")
LINE_MARK_RE = re.compile(r"(?m)^\s*(?:>\s*)*(?:#{1,6}\s+|[-*+]\s+(?:\[[^\]]*\]\s*)?|\d+[.)]\s+)?")
DROP_RE = re.compile(r"[*_`~]|<[^<>]*+>")
SPACE_RE = re.compile(r"\s+")
TRANSLATE = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "\u00a0": " "})
WORD_RE = re.compile(r"[^\W_]+")
MIN_QUOTE = 8  # normalised characters; a shorter "quote" ("yes", "we") proves nothing


def normalise(text: str) -> str:
    text = text.translate(TRANSLATE)
    text = LINK_RE.sub(r"\1 \2", text)
    text = LINE_MARK_RE.sub("", text)
    text = DROP_RE.sub("", text)
    return SPACE_RE.sub(" ", text).strip().strip("\"'").strip().casefold()


def _strip_ellipsis(quote: str) -> str:
    return quote.strip().strip(".").strip() if quote.strip().endswith("...") else quote


class QuoteIndex:
    """Normalised report text, with per-question blocks for locating quotes by line."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.whole = normalise("\n".join(report.lines))
        self._answers: dict[int, str] = {}

    def verified(self, quote: str, question: Question | None = None) -> bool:
        """The quote is in the question's answer (or, without a question, anywhere in the report)."""
        q = normalise(_strip_ellipsis(quote))
        if len(q) < MIN_QUOTE:
            return False
        if question is None:
            return q in self.whole
        key = question.number
        if key not in self._answers:
            self._answers[key] = normalise(question.answer.text)
        return q in self._answers[key]

    def exact(self, quote: str, question: Question) -> str | None:
        """The report's own text for a verified quote: the span whose words are the quote's words, as written
        (markdown, quote marks and line breaks included); failing that, the whole line the quote starts on; None
        when neither is found (evidence is never the model's rendering)."""
        words = WORD_RE.findall(normalise(_strip_ellipsis(quote)))
        text = "\n".join(ln.text for ln in question.answer.lines)
        if words:
            # markers that normalising deletes inside a word (data_files, **b**old) may sit between its letters
            inner = r"[_*`~]*"
            word = [inner.join(re.escape(ch) for ch in w) for w in words]
            pattern = r"(?<!\w)" + r"[\W_]+".join(word) + r"(?!\w)"
            m = re.search(pattern, text, re.IGNORECASE)
            if m:
                return m.group(0)
        line = self.line_of(quote, question)
        return self.report.line_text(line).strip() if line is not None else None

    def line_of(self, quote: str, question: Question | None) -> int | None:
        """The line where the quote starts: the last line from which the rest of the block still contains it."""
        q = normalise(_strip_ellipsis(quote))
        spans = []
        if question is not None:
            spans.append((question.line, question.end_line))
        spans.append((1, len(self.report.lines)))
        for first, last in spans:
            lines = self.report.lines[first - 1 : last]
            if q not in normalise("\n".join(lines)):
                continue
            start = 0
            while start + 1 < len(lines) and q in normalise("\n".join(lines[start + 1 :])):
                start += 1
            return first + start
        return None
