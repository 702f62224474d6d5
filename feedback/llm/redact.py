"""Privacy: study numbers, e-mail addresses and names are replaced by placeholders before anything is sent.

Names are taken from the group-information and contribution answers (capitalised word runs, and a capitalised
word written right next to a study number); every word of such a name is then replaced wherever it occurs in the
text sent. A run's leading words that the report also writes in lower case ("Created Docker images" beside "we
created") start a sentence and are not a name, and a run of only such words ("Mean Squared Error") is not one
either: redacting them would mangle checklist items and answers for nothing. The other words of a name run stay
redacted even when they are also ordinary words (a surname such as "Can"). :meth:`Redactor.restore` puts the
originals back into the model's output before quotes are verified.
"""

from __future__ import annotations

import re

from feedback.report.model import Question, Report

STUDY_RE = re.compile(r"\b[sS]\d{6}\b")
EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]++(?:\.[\w-]++)++\b")
CAP = r"(?:[A-ZÀ-ÖØ-Þ][^\W\d_]+(?:[-'’][^\W\d_]+)*)"
NAME_RUN_RE = re.compile(rf"\b{CAP}(?:\s+{CAP}){{1,3}}\b")
NEXT_TO_ID_RE = re.compile(rf"(?:\b({CAP})\s*+[(:,-]?\s*+[sS]\d{{6}})|(?:[sS]\d{{6}}\s*+[):,-]?\s*+({CAP})\b)")
PLACEHOLDER_RE = re.compile(r"\[(?:NAME|STUDENT|EMAIL)_\d+\]")

# Capitalised words that start sentences or name tools, never people.
_NOT_NAMES = """
    a an and as at but by for from he her his i if in is it its me my no not of on or our she so that the their
    them then there they this to us was we were what when where which who with you your all also both each every
    student students member members group team everyone everybody none other others did do does done made used
    wrote worked helped set up responsible contributed contribution contributions chatgpt copilot github gitlab
    google cloud run build docker python pytorch lightning hydra wandb weights biases fastapi api dvc gcp aws
    azure vertex ai actions ci cd bucket buckets engine compute storage registry artifact functions monitoring
    question answer yes mlops ml model models data training unit tests test code readme linux windows mac
    secret manager hugging face continuous continous continuos integration deployment pipeline workflow
"""
NOT_NAMES = frozenset(_NOT_NAMES.split())


LOWER_WORD_RE = re.compile(r"(?<![\w'’-])[a-zß-öø-ÿ][^\W\d_]*+")


def _is_person_word(word: str, ordinary: frozenset[str] = frozenset()) -> bool:
    low = word.lower()
    return len(word) > 1 and low not in NOT_NAMES and low not in ordinary


def _people_questions(report: Report) -> list[Question]:
    out = []
    for q in report.questions:
        section = (q.section or "").lower()
        if "group information" in section or "contribution" in q.prompt.lower():
            out.append(q)
    return out


class Redactor:
    """Reversible replacement of personal data; one per report."""

    def __init__(self, report: Report) -> None:
        self._forward: dict[str, str] = {}
        text = "\n".join(report.lines)
        # "jane.doe@example.org" or a link does not make "jane" an ordinary word
        plain = " ".join(t for t in text.split() if "@" not in t and "://" not in t)
        ordinary = frozenset(LOWER_WORD_RE.findall(plain))
        for m in STUDY_RE.finditer(text):
            self._add(m.group(0), "STUDENT")
        for m in EMAIL_RE.finditer(text):
            self._add(m.group(0), "EMAIL")
        for q in _people_questions(report):
            answer = q.answer.text
            for m in NAME_RUN_RE.finditer(answer):
                words = m.group(0).split()
                while words and words[0].lower() in ordinary:  # a verb starting the sentence: "Built Docker..."
                    words.pop(0)
                # "Celal Berke Can": a name run may hold an ordinary word, but not only such words
                named = len(words) > 1 and all(_is_person_word(w) for w in words)
                if named and any(w.lower() not in ordinary for w in words):
                    for w in words:
                        self._add(w, "NAME")
            for m in NEXT_TO_ID_RE.finditer(answer):
                w = m.group(1) or m.group(2)
                if w and _is_person_word(w, ordinary):
                    self._add(w, "NAME")
        self._backward = {v: k for k, v in self._forward.items()}
        originals = sorted(self._forward, key=len, reverse=True)
        self._pattern = (
            re.compile("|".join(rf"(?<![\w@.]){re.escape(o)}(?![\w@])" for o in originals)) if originals else None
        )

    def _add(self, original: str, kind: str) -> None:
        if original not in self._forward:
            n = sum(1 for v in self._forward.values() if v.startswith(f"[{kind}_")) + 1
            self._forward[original] = f"[{kind}_{n}]"

    @property
    def originals(self) -> list[str]:
        return list(self._forward)

    def redact(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: self._forward[m.group(0)], text)

    def restore(self, text: str) -> str:
        return PLACEHOLDER_RE.sub(lambda m: self._backward.get(m.group(0), m.group(0)), text)
