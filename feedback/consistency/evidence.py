"""Sentence-level evidence: split answers into sentences that keep their line numbers, and read each mention of a
topic as a claim (done), a negation (not done), a hypothetical (would / could / in the future) or an attempt.

Everything works on a lower-cased copy of the answer text in which Markdown emphasis and code marks are blanked out
character for character, so every offset found there is also an offset in the original lines and quotes stay
verbatim.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from feedback.consistency.gates import Gates
from feedback.report.model import Line, Question


class Polarity(StrEnum):
    CLAIM = "claim"  # says it was done
    MENTION = "mention"  # names it without saying who did what ("DVC stores metadata in git")
    NEGATED = "negated"  # says it was not done (or done differently)
    HYPOTHETICAL = "hypothetical"  # would / could / in the future / how it would help
    ATTEMPT = "attempt"  # tried, without saying it worked


@dataclass(slots=True, eq=False)
class Sentence:
    """One sentence of an answer: ``text`` is the normalised copy, ``start``/``end`` offsets into ``Answer.raw``."""

    question: int
    index: int
    start: int
    end: int
    text: str
    code: bool  # a line inside a fenced code block
    _clauses: tuple[tuple[int, int], ...] | None = None
    _facts: dict[tuple[str, int], bool] = field(default_factory=dict)  # memo of the sentence-level tests below
    _cues: Cues | None = None  # found on first use by sentence_cues
    _polarity: dict[tuple[int, int], Polarity] | None = None  # memo of mention_polarity, by span
    _first_person: bool | None = None  # memo of is_first_person (every topic with a mention here asks it)
    gates: int = -1  # bits of the gated cue patterns the text may match (see _GATES; -1: not scanned, all may)

    def fact(self, name: str, pattern: re.Pattern[str], a: int = 0, b: int = -1) -> bool:
        """Whether ``pattern`` occurs in the text (between ``a`` and ``b``), asked once per sentence and span."""
        key = (name, a)
        found = self._facts.get(key)
        if found is None:
            found = self._facts[key] = (
                _GATES.may_match(pattern, self.gates)  # one of the literals every match holds is in the sentence
                and pattern.search(self.text, a, len(self.text) if b < 0 else b) is not None
            )
        return found

    @property
    def clauses(self) -> tuple[tuple[int, int], ...]:
        """Clause spans relative to the sentence, found on first use (most sentences never need them)."""
        if self._clauses is None:
            self._clauses = _clauses(self.text)
        return self._clauses


@dataclass(frozen=True, slots=True)
class AnswerText:
    """One answer joined into a single string, with what is needed to map offsets back to lines."""

    question: Question
    raw: str
    norm: str
    line_starts: tuple[int, ...]
    lines: tuple[Line, ...]
    sentences: tuple[Sentence, ...]

    def line_start_of(self, offset: int) -> int:
        return self.line_starts[_line_index(self.line_starts, offset)]

    def quote(self, start: int, end: int) -> tuple[int, str]:
        """The verbatim piece of one line covering ``start`` (clipped to ``end`` and to that line), and its number."""
        i = _line_index(self.line_starts, start)
        line_start = self.line_starts[i]
        line_end = line_start + len(self.lines[i].text)
        piece = self.raw[max(start, line_start) : min(end, line_end)]
        return self.lines[i].number, piece.strip(" \t-*>#")


def find_all(text: str, literal: str) -> list[int]:
    """Every position of ``literal`` in ``text``, in order (overlapping ones too)."""
    out: list[int] = []
    i = text.find(literal)
    while i != -1:
        out.append(i)
        i = text.find(literal, i + 1)
    return out


def join_answers(order: Sequence[AnswerText]) -> tuple[str, list[int]]:
    """The answers' normalised texts joined by blank lines (one string per report, so a pattern runs once per
    report), and where each answer starts in it."""
    offsets, pos = [], 0
    for ans in order:
        offsets.append(pos)
        pos += len(ans.norm) + 2
    return "\n\n".join(a.norm for a in order), offsets


def _line_index(starts: tuple[int, ...], offset: int) -> int:
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo


# ---------------------------------------------------------------------------------------------- splitting

# emphasis and code marks: "*" and "`" always, "_" only at the edge of a word (not in "train_model")
# what normalise() maps, one character to one: each replaced only when present (str.replace finds a character at
# memchr speed; str.translate with a table looks every character of the text up)
_MARKS = (("*", " "), ("`", " "))
_QUOTES = (("’", "'"), ("‘", "'"), ("“", '"'), ("”", '"'))
_UNDERSCORE = re.compile(r"_(?<!\w_)|_(?!\w)")  # "(?<!\w)_|_(?!\w)", opening with the literal the engine skips to
_ALNUM = re.compile(r"[^\W_]")  # what str.isalnum accepts
# no cut after a list number ("the following: 1. Know ...", "2. Detect ...")
# A sentence ends at . ! ? before the next word, also a lower-case one (students often write "... tuning. however
# we ..."), but not after a list number ("the following: 1. Know ...") or a common abbreviation ("e.g. the").
# The pattern opens with the one character every cut starts at, so the regex engine skips ahead to those; the
# sentence's end (group 1, empty) follows the closing marks, and a blank line cuts after itself (group 1 unset).
_SENTENCE_END = re.compile(
    r"[.!?\n](?:(?<=[.!?])(?<![\s:(]\d[.!?])(?<![\s:(]\d\d[.!?])"
    r"(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\betc\.)(?<!\bvs\.)(?<!\bcf\.)(?<!\bal\.)(?<!\bno\.)(?<!\bapprox\.)"
    r"(?<![\s(][a-zA-Z]\.)[\"')\]*`_]*()\s+(?=[^\s])|(?<=\n)()\s*\n)"
)
_BLOCK_START = re.compile(r"\n(?=[ \t]*(?:[-*+]\s|\d+[.)]\s|#|\||```|~~~))")
_LIST_NUMBER = re.compile(r"\s*\d{1,2}[.)]\s*")
# the connectives and "and (we) used ..." share one \b test: the regex engine tries every position of a sentence
_CLAUSE_BREAK = re.compile(
    r"\b(?:but|however|although|though|whereas|while|instead|yet|except|apart from|besides|otherwise|so that|"
    r"because|since|and (?:we |then |instead )?(?:used|use|chose|went|switched|opted|relied|moved|deployed|"
    r"trained|ran|built|created|implemented))\b"
    r"|[;:]|,\s*(?:and|so|which|since|because|as|then)\b|\s[-–—]\s"
)


def normalise(text: str) -> str:
    """Lower case, straight apostrophes, emphasis and code marks blanked: same length as ``text``."""
    for mark, blank in _MARKS:
        if mark in text:
            text = text.replace(mark, blank)
    if not text.isascii():
        for quote, straight in _QUOTES:
            if quote in text:
                text = text.replace(quote, straight)
    return (_UNDERSCORE.sub(" ", text) if "_" in text else text).lower()


def _clauses(text: str) -> tuple[tuple[int, int], ...]:
    spans, start = [], 0
    for m in _CLAUSE_BREAK.finditer(text):
        if m.start() > start:
            spans.append((start, m.start()))
        start = m.start()  # the connective opens the next clause ("but we ...")
        if m.group(0)[0] in ";:,":
            start = m.end()
    spans.append((start, len(text)))
    return tuple(s for s in spans if s[1] > s[0])


def split_answer(question: Question) -> AnswerText:
    """Split one answer into sentences; fenced code lines become one sentence each."""
    lines = question.answer.lines
    starts: list[int] = []
    pos = 0
    for ln in lines:
        starts.append(pos)
        pos += len(ln.text) + 1
    raw = "\n".join(ln.text for ln in lines)
    norm = normalise(raw)
    sentences: list[Sentence] = []

    def add(s: int, e: int, code: bool) -> None:
        piece = norm[s:e]
        text = piece.strip()  # str.strip() drops exactly the characters str.isspace() accepts
        if text and _ALNUM.search(text) is not None:
            s += len(piece) - len(piece.lstrip())
            sentences.append(Sentence(question.number, len(sentences), s, s + len(text), text, code))

    in_code = False
    block_start: int | None = None
    for i, ln in enumerate(lines):
        fence = ln.text.lstrip().startswith(("```", "~~~"))
        if fence or in_code:
            if block_start is not None:
                _split_prose(raw, block_start, starts[i] - 1, add)
                block_start = None
            if not fence:
                add(starts[i], starts[i] + len(ln.text), True)
            in_code = in_code != fence
            continue
        if block_start is None:
            block_start = starts[i]
    if block_start is not None:
        _split_prose(raw, block_start, len(raw), add)
    for sent, mask in zip(sentences, _GATES.masks(norm, [(x.start, x.end) for x in sentences]), strict=True):
        sent.gates = mask
    return AnswerText(question, raw, norm, tuple(starts), lines, tuple(sentences))


def _split_prose(raw: str, start: int, end: int, add: Callable[[int, int, bool], None]) -> None:
    chunk = raw[start:end]
    cuts = sorted(
        {0, len(chunk)}
        | {m.end() if m.start(1) < 0 else m.end(1) for m in _SENTENCE_END.finditer(chunk)}
        | {m.start() + 1 for m in _BLOCK_START.finditer(chunk)}
    )
    # "1. Know if ... 2. Detect drift": a list number belongs to the sentence after it
    last = len(cuts) - 1
    cuts = [c for i, c in enumerate(cuts) if i in (0, last) or not _LIST_NUMBER.fullmatch(chunk, cuts[i - 1], c)]
    for a, b in itertools.pairwise(cuts):
        add(start + a, start + b, False)


# ---------------------------------------------------------------------------------------------- reading claims

# Cues that say something was not done. "not" alone is accepted, but only when the topic falls in its scope.
_NEG_CUE = re.compile(
    r"\b(?=[abcdfghinorsuw])"  # the first letters of the cues: other words are skipped at once (a test checks them)
    r"(?:did ?n[o']?t|do ?n[o']?t|does ?n[o']?t|has ?n[o']?t|have ?n[o']?t|had ?n[o']?t|could ?n[o']?t|"
    r"can ?not|can't|"
    r"wo ?n't|would ?n[o']?t|unable to|not able to|failed to|fail to|never|unsuccessful\w*|without|instead of|"
    r"(?:an )?alternatives? to|as opposed to|in place of|"
    r"rather than|none of|neither|nor|no|not yet|but not|opted not|chose not|decided not|skipped|skip|gave up(?: on)?|"
    r"abandoned|dropped|avoided|"
    r"(?:was|were|is|are) ?n[o']?t|(?:did|do|does|have|has|had|could|would) (?:therefore|thus|hence|then|also) not)\b"
)
# "did not need / see the need for X": X was not done, but only when X follows closely
_NEED = re.compile(r"\s+(?:see (?:a|the|any) (?:need|reason)|need(?:ed)?|want(?:ed)?|bother(?:ed)?)\b")
_COPULA_CUE = re.compile(r"(?:was|were|is|are) ?n[o']?t")
# after "was not" / "is not" only a participle says something was not done ("was not used"; not "is not complex")
_PARTICIPLE = re.compile(
    r"\s+(?:\w+ly\s+)?(?:\w+ed|able|set|run|done|built|written|made|got|gotten|put|taken|deem|necessary|needed|"
    r"important|relevant|a priority|worth)\b"
)
_PARTICIPLE_NEED = re.compile(r"\s+(?:\w+ly\s+)?(?:deem|necessary|needed|important|relevant|a priority|worth)")
_SCOPE_WORDS = 20
_SCOPE_CHARS = 200
_NARROW_SCOPE_WORDS = 4
# A negation followed by one of these is about something else ("did not need", "not only", "no problems").
_NEG_EXEMPT = re.compile(
    r"(?:\s+(?:really|actually|even|always|necessarily|greatly|much|particularly|directly))?\s+(?:only|just|need|"
    r"needed|assume|think|believe|feel|know|benefit|gain|help|apply|act on|incorporate|"
    r"realize|realise|see|find|expect|matter|have to|had to|want|wanted|like|improve|change|spend|bother|focus|"
    r"problems?|issues?|trouble|major|doubt|longer|more than|much|many|too|very|perfect|sure|necessary|"
    r"exceed|override|persist|exist|cover|covered|affect|break|be possible|"
    r"surprisingly|mean|remove|removed|delete|deleted|deviate|commit|push|store|stored|"
    r"matter|other|further|additional|extra|any other)\b"
)
# Subject-first negations: "DVC was not used", "the deployment did not work", "X failed".
_NEG_AFTER = re.compile(
    r"[^.;]{0,60}?\b(?:(?:(?:was|were|is|are|has|have|had)(?: been)? ?n[o']?t(?: been)?|"
    r"(?:was|were|has been|have been) never)"
    r"(?:\s+\w+ly)?\s+(?:used|implemented|set ?up|done|deployed|created|written|added|performed|trained|run|"
    r"tested|included|integrated|configured|completed|finished|successful|utili[sz]ed|applied|conducted|"
    r"reached|achieved|working|functional|possible|(?:deemed |considered |seen as )?(?:necessary|needed|important|"
    r"relevant|a priority|worth))|"
    r"did ?n[o']?t work|failed|never (?:worked|got|ran|succeeded)|did not succeed|was unsuccessful|"
    r"remained (?:incomplete|unfinished|unsolved|broken)|"
    r"were unsuccessful)\b"
)
_NEG_AFTER_EXEMPT = re.compile(r"\s*(?:only|just|always|necessary|needed|perfect|sure|an issue|a problem|too)\b")
_NO_EXEMPT = re.compile(r"^\s+(?:problems?|issues?|trouble|need|major|other|doubt|matter|more|longer|one|way|idea)\b")
_HEDGE = re.compile(
    r"\b(?=[abcfghimnopsw])"  # the first letters of the hedges (a test checks them)
    r"(?:would|(?<!that )(?<!which )could(?! ?n[o']?t)|should|might|may|in the future|future work|"
    r"plan(?:ned)? to|we plan|hope to|"
    r"if we (?:had|were|have)|had we|would have|would like|want(?:ed)? to|ideally|maybe|perhaps|possibly|"
    r"consider(?:ed|ing)?|potentially|one could|next steps?|going forward|in a future|if (?:time|possible)|"
    r"could have|it is possible to|aim(?:ed)? to|intend(?:ed)? to|is beneficial|would be beneficial|"
    r"can be used|could be used|will be|makes? sense|(?:is|are|be) (?:important|useful|beneficial|helpful|"
    r"good|nice|valuable) to)\b"
)
_ATTEMPT = re.compile(
    r"\b(?:tried|try|trying|attempt(?:ed|s|ing)?|experimented with|look(?:ed|ing) into|explored|investigated|"
    r"did start|started to|began to|began)\b"
)
_CONTRAST = re.compile(
    r"\b(?:but|however|unfortunately|unsuccessful\w*|failed|did ?n[o']?t|could ?n[o']?t|couldn't|not able|unable|"
    r"without success|never)\b"
)
# \b(?:we|our|us|i|my|ours)\b, written so that every alternative opens with its letter (the regex engine skips ahead
# to those) and the word boundary before it is a look-behind after it
_FIRST_PERSON = re.compile(r"(?:w(?<!\ww)e|o(?<!\wo)ur|u(?<!\wu)s|i(?<!\wi)|m(?<!\wm)y|o(?<!\wo)urs)\b")


def _words(*alternatives: str) -> str:
    """``\\b(?:one|two|...)`` written so that the regex engine skips ahead to the letters the alternatives open with:
    each opens with its letter, and the word boundary before it is a look-behind after it."""
    assert all(a[0].isalpha() for a in alternatives)
    return "(?:" + "|".join(f"{a[0]}(?<!\\w{a[0]}){a[1:]}" for a in alternatives) + ")"


_PASSIVE_DONE = re.compile(
    _words("was", "were", "is", "are", "has been", "have been")
    + r"\s+(?:\w+\s+)?(?:used|implemented|set ?up|created|deployed|added|"
    r"written|configured|integrated|trained|built|run|performed|done|applied|tracked|logged|stored|tested|"
    r"annotated|documented|typed|versioned|containeri[sz]ed|automated|linted|formatted|type[- ]checked|"
    r"initiali[sz]ed|specified|listed|installed|pinned)\b"
)
_PAST_CLAIM = re.compile(  # "\bwe\b...", opening with its literal
    r"we(?<!\wwe)\b[^.;]{0,80}?\b(?:use|load|run|track|log|store|keep|deploy|train|build|serve|call|monitor|host|"
    r"used|implemented|did|set ?up|created|managed|wrote|added|deployed|trained|built|ran|"
    r"made|performed|integrated|configured|have|had|got|tested|achieved|succeeded)\b"
)
# "we" and any verb of doing, in any tense ("we tracked", "we are testing", "we employed"), or a measured result
# ("the total code coverage of our code is 75%"): enough to say an unticked item was done, where the topic's own
# strong words must be in the same clause; cross-answer claims keep the narrower _PAST_CLAIM
_DOING = re.compile(  # "\bwe\b...", opening with its literal
    r"we(?<!\wwe)\b[^.;]{0,80}?\b(?:using|load(?:s|ed|ing)?|running|track(?:s|ed)?|logged|stor(?:e|es|ed|ing)|kept|"
    r"deploy(?:s|ed|ing)?|serve[sd]|serving|monitor(?:s|ed)?|host(?:s|ed|ing)?|implement(?:s|ed|ing)?|"
    r"creat(?:e|es|ed|ing)|wr[io]te|written|writing|add|adding|perform(?:s|ed|ing)?|integrat(?:e|es|ed|ing)|"
    r"configur(?:e|es|ed|ing)|testing|check(?:s|ed)?|calculat(?:e|es|ed|ing)|measur(?:e|es|ed|ing)|"
    r"comput(?:e|es|ed|ing)|includ(?:e|es|ed|ing)|fill(?:s|ed)?|automat(?:e|es|ed|ing)|utili[sz](?:e|es|ed|ing)|"
    r"employ(?:s|ed)?|appl(?:y|ied|ying)|enabl(?:e|es|ed)|chose|adopt(?:s|ed)?|leverag(?:e|es|ed|ing)|"
    r"rel(?:y|ied|ying)|push(?:es|ed)?|defin(?:e|es|ed)|annotat(?:e|es|ed|ing)|enforc(?:e|es|ed|ing)|"
    r"format(?:s|ted)?|lint(?:s|ed)?|document(?:s|ed|ing)?)\b"
)
_RESULT = re.compile(
    r"\b(?:is|was|are|were|of|at|reach|reached|reaches|be)\s+(?:around |about |approximately |roughly |~ ?)?\$?"
    r"\d{1,3}(?:[.,]\d+)?\s*\\?%"
)
# a sentence about the group's own tests ("test_model.py tests that ...", "the data tests check ..."): their work
_OWN_TESTS = re.compile(
    r"^\s*(?:[-*+]\s+|\d{1,2}[.)]\s+)?(?:the |our |these |both |all |two |three |first |second |third |fourth )?"
    r"(?:\w+[ -]){0,2}(?:tests?|testing|test_\w+\.py)\b(?!\s+(?:would|could|should|might|can|will|is important))"
)
_CONDITION = re.compile(r"\b(?:if|unless|whether)\b")  # "even if the coverage is 100%, ...": no result


def _states_result(sentence: Sentence) -> bool:
    # every _RESULT match ends in "%": most sentences need no regex
    return "%" in sentence.text and sentence.fact("result", _RESULT) and not sentence.fact("condition", _CONDITION)


# Openers of an answer to a yes/no question that say "no".
_NO_OPENER = re.compile(
    r"^\s*(?:no\b|nope\b|not really\b|unfortunately\b|sadly\b|regrettably\b|we did ?n[o']?t\b|we have ?n[o']?t\b|"
    r"we were ?n[o']?t\b|we were not able\b|we never\b|we could ?n[o']?t\b|we couldn't\b|we failed\b|"
    r"we did not manage\b|due to time\b)"
)
_NEG_DOING = re.compile(
    _words(
        *("did ?n[o']?t", "didn't", "have ?n[o']?t", "were ?n[o']?t able", "was ?n[o']?t able", "could ?n[o']?t"),
        *("couldn't", "never", "failed to", "unable to", "unsuccessful"),
    )
    + r"\b"
)
_IF_NOT_PROMPT = re.compile(r"\bif (?:not|no)\b", re.I)

_WORD = re.compile(r"\S+")


def clause_of(sentence: Sentence, pos: int) -> tuple[int, int]:
    """The clause of ``sentence`` holding position ``pos`` (relative to the sentence), or the whole sentence."""
    for a, b in sentence.clauses:
        if a <= pos < b:
            return a, b
    return 0, len(sentence.text)


_PURPOSE_OPENING = re.compile(r"\s*(?:in order to|to|for)\s")
# "did not perform more extensive load testing", "did not fully implement monitoring": a part was done
_QUALIFIER = re.compile(
    r"\b(?:more|further|extensive|additional|extra|full|fully|complete|completely|entire|entirely|proper|"
    r"properly|all|every|much|other|advanced|formal|dedicated|explicit|main|most|definitive|strict|any real|"
    r"extensively|thoroughly|in depth|in detail|really|actively|systematically|further)\b"
)
_TESTING = re.compile(r"\b(?:tests?|testing)\s+(?:for|of|on)\b|\bunit ?tests?\b")
_PREPOSITION_BEFORE = re.compile(
    r"\b(?:from|about|between|into|through|via|besides|alongside|than|beyond|except|apart from|"
    r"(?:functionality|features?|capabilit\w+|parts?|aspects?|most|some|all) of|"
    r"(?:link|connect|integrat|combin|hook)\w*\b.*\b(?:with|to))\s+(?:the |a |an |our |this |these |its |their )?"
    r"(?:\w+ )?$"
)
# a relative clause on one thing among several: "a per-PR build workflow that does not ...", "one model which never"
_INDEFINITE_RELATIVE = re.compile(
    r"\b(?:a|an|another|one|some|other)\s+(?:[\w/.-]+\s+){0,5}(?:that|which|who)\s+(?:\w+ly\s+)?$"
)
_NOT_EXEMPT_CONTEXT = re.compile(r"\b(?:whether|if|or) not\s*$")
_WIDE_CUES = (
    *("no", "without", "instead of", "rather than", "neither", "nor"),
    *("alternative to", "an alternative to", "alternatives to", "as opposed to", "in place of"),
)
_OPENING_HEDGE = re.compile(r"\s*(?:if\b|in the future|ideally|in a future|going forward|next steps?)")


class Cues(NamedTuple):
    """The negation, hedging and attempt cues of one sentence, found once and reused for every mention in it."""

    negations: tuple[tuple[int, int, int], ...]  # start, end and scope in words of the cues that deny something
    hedged_clauses: tuple[bool, ...]  # per clause of the sentence
    hedged_opening: bool  # "If we had more time, ..." colours the whole sentence
    attempts: tuple[int, ...]
    negation_ends: tuple[int, ...] = ()  # the ends of ``negations``, in order, for bisect
    first_comma: int = -1


def sentence_cues(sentence: Sentence) -> Cues:
    """The cues of one sentence, found once (they depend on its text alone) and kept on the sentence."""
    if sentence._cues is None:
        sentence._cues = _find_cues(sentence)
    return sentence._cues


def _find_cues(sentence: Sentence) -> Cues:
    text = sentence.text
    negs = []
    for m in _NEG_CUE.finditer(text):
        cue = m.group(0)
        if cue == "no" and _NO_EXEMPT.match(text, m.end()):
            continue
        need = _NEED.match(text, m.end()) is not None
        copula = _COPULA_CUE.fullmatch(cue) is not None
        if copula:
            # "was not used", "was not deemed necessary to profile"; not "is not complex"
            if not _PARTICIPLE.match(text, m.end()):
                continue
            need = _PARTICIPLE_NEED.match(text, m.end()) is not None
        elif not need and cue not in ("nor", "none of") and _NEG_EXEMPT.match(text, m.end()) is not None:
            continue
        if _NOT_EXEMPT_CONTEXT.search(text, max(0, m.start() - 12), m.end()):
            continue
        limit = _NARROW_SCOPE_WORDS if cue in _WIDE_CUES else 8 if need else _SCOPE_WORDS
        negs.append((m.start(), m.end(), limit))
    # a clause can only hold a hedge the whole sentence holds: no clause break cuts into a hedge's last word
    any_hedge = is_hedged(sentence)
    clauses = sentence.clauses
    hedged = tuple(_HEDGE.search(text, a, b) is not None for a, b in clauses) if any_hedge else (False,) * len(clauses)
    return Cues(
        negations=tuple(negs),
        negation_ends=tuple(e for _a, e, _limit in negs),
        first_comma=text.find(","),
        hedged_clauses=hedged,
        hedged_opening=any_hedge and _OPENING_HEDGE.match(text) is not None,
        attempts=tuple(m.end() for m in _ATTEMPT.finditer(text)) if _GATES.may_match(_ATTEMPT, sentence.gates) else (),
    )


def mention_polarity(sentence: Sentence, start: int, end: int, cues: Cues | None = None) -> Polarity:
    """How the mention at ``start:end`` (offsets relative to the sentence) is used in its sentence (read once per
    span: several topics often share one)."""
    memo = sentence._polarity
    if memo is None:
        memo = sentence._polarity = {}
    pol = memo.get((start, end))
    if pol is None:
        pol = memo[(start, end)] = _polarity(sentence, start, end, cues or sentence_cues(sentence))
    return pol


def _polarity(sentence: Sentence, start: int, end: int, cues: Cues) -> Polarity:
    text = sentence.text
    ca, cb = clause_of(sentence, start)
    # a negation cue before the mention, in the same clause, with the mention in its scope
    # scope is counted in words, but a cue further than _SCOPE_CHARS away is out of scope anyway: looking only at
    # the cues in that window keeps a giant sentence without punctuation linear
    first = bisect_left(cues.negation_ends, start - _SCOPE_CHARS)
    for a, e, limit in cues.negations[first:]:
        if e > start:
            break
        if a < ca:
            continue
        if _PREPOSITION_BEFORE.search(text, e, start):
            continue  # "did not manage to link the model with this frontend": the frontend is not what was denied
        if _TESTING.search(text, e, start) and "test" not in text[start:end]:
            continue  # "we did not write tests for the frontend": the testing was not done, the frontend was
        if len(text[e:start].split()) <= limit:
            # "did not perform extensive profiling": some was done, which is neither a claim nor a denial; "another
            # workflow that does not use caching": one of several things lacks it, which denies nothing of the group
            partial = _QUALIFIER.search(text, e, start) or _INDEFINITE_RELATIVE.search(text, max(ca, a - 80), a)
            return Polarity.MENTION if partial else Polarity.NEGATED
    after_end = min(cb, end + _SCOPE_CHARS)
    m2 = _NEG_AFTER.match(text, end, after_end) if _GATES.may_match(_NEG_AFTER, sentence.gates) else None
    if m2 and not _NEG_AFTER_EXEMPT.match(text, m2.end(), after_end):
        return Polarity.NEGATED
    near = cues.attempts[bisect_left(cues.attempts, max(ca, start - _SCOPE_CHARS)) :]
    if near and near[0] <= start:
        return Polarity.NEGATED if _CONTRAST.search(text, start, start + _SCOPE_CHARS) else Polarity.ATTEMPT
    if (
        cues.attempts
        and start < cues.first_comma
        and _PURPOSE_OPENING.match(text)
        and _CONTRAST.search(text, cues.attempts[0], cues.attempts[0] + _SCOPE_CHARS)
    ):
        return Polarity.NEGATED  # "To test the API, we looked into TestClient, but did not manage": a failed try
    clause = sentence.clauses.index((ca, cb)) if (ca, cb) in sentence.clauses else -1
    if (clause >= 0 and cues.hedged_clauses[clause]) or cues.hedged_opening:
        return Polarity.HYPOTHETICAL
    return Polarity.CLAIM


_CONTRAST_OPENING = re.compile(
    r"\s*(?:but|however|although|though|whereas|while|yet),?\s+(?:it|this|that|there|these|those|such|one)\b"
)


def generic_clause(sentence: Sentence, pos: int) -> bool:
    """The clause at ``pos`` turns away ("but it makes sense to ...") and names no one who did anything."""
    a, b = clause_of(sentence, pos)
    key = ("generic", a)  # asked for every mention in the clause, by every topic
    found = sentence._facts.get(key)
    if found is None:
        found = sentence._facts[key] = _CONTRAST_OPENING.match(sentence.text, a, b) is not None
    return found


_STRICT_NEG = re.compile(
    r"\b(?:we|i|they|it)\s+(?:\w+\s+)?(?:did ?n[o']?t|didn't|never|were ?n[o']?t able to|was ?n[o']?t able to|"
    r"could ?n[o']?t|couldn't|failed to|were unable to|was unable to|were unsuccessful in|have ?n[o']?t|"
    r"haven't)(?:\s+[^\s,;]+){0,8}\s*$"  # no comma between: "we did not change the data, DVC would ..." denies no DVC
)
_TRIED_TO = re.compile(r"\bwe\s+(?:\w+\s+)?(?:tried|attempted)\s+to\s+\w+(?:\s+\S+){0,3}\s*$")


def denied_after(sentence: Sentence, end: int) -> bool:
    """ "Compute Engine hasn't been used in this project": a subject-first denial right after the words ending at
    ``end`` (relative to the sentence), in their clause."""
    _a, b = clause_of(sentence, max(0, end - 1))
    m = _NEG_AFTER.match(sentence.text, end, b) if _GATES.may_match(_NEG_AFTER, sentence.gates) else None
    return m is not None and not _NEG_AFTER_EXEMPT.match(sentence.text, m.end(), b)


def tried_to(sentence: Sentence, start: int) -> bool:
    """ "We tried to implement a frontend": the group tried to do the thing named a few words later."""
    a, _b = clause_of(sentence, start)
    return _TRIED_TO.search(sentence.text, max(a, start - _SCOPE_CHARS), start) is not None


def is_hedged(sentence: Sentence) -> bool:
    return sentence.fact("hedge", _HEDGE)


# "we used DVC, but didn't really get much benefit from it": what was denied is the gain, not the doing
_NO_GAIN = re.compile(
    r"(?:\s+(?:really|actually|even|always))?\s+(?:get|gain|see|notice|find|have|experience)\s+(?:much|any|a lot of|"
    r"significant|a big|big|many|a|the expected|great)?\s*(?:benefits?|value|improvements?|gains?|difference|"
    r"advantages?|problems?|issues?|trouble)\b"
)


def has_negation(sentence: Sentence) -> bool:
    """A denial of doing something ("did not", "could not", "failed to") that is not only about its gain."""
    if not sentence.fact("negation", _NEG_DOING):
        return False
    text = sentence.text
    return any(_NO_GAIN.match(text, m.end()) is None for m in _NEG_DOING.finditer(text))


def strict_negation(sentence: Sentence, start: int) -> bool:
    """ "We did not (manage to) use DVC": a first-person "did not" a few words before the mention at ``start``."""
    a, _b = clause_of(sentence, start)
    return _STRICT_NEG.search(sentence.text, max(a, start - _SCOPE_CHARS), start) is not None


def _reports_own_result(sentence: Sentence) -> bool:
    """A measured result ("coverage is 85%") or a sentence about the group's own tests."""
    return _states_result(sentence) or sentence.fact("tests", _OWN_TESTS)


def is_first_person(sentence: Sentence) -> bool:
    """Says what the group did: "we" / "our", a passive "X was used", or a measured result ("coverage is 85%")."""
    first = sentence._first_person
    if first is None:
        first = sentence._first_person = (
            sentence.fact("we", _FIRST_PERSON)
            or sentence.fact("passive", _PASSIVE_DONE)
            or _reports_own_result(sentence)
        )
    return first


# "an API that could classify images" says what the thing built can do, not that the group only might build it
_MODAL = re.compile(r"\b(?:(?<!that )(?<!which )(?:can|could)|would|will|should|might|may|shall)\b")


def reads_as_done(sentence: Sentence, pos: int | None = None) -> bool:
    """A first-person statement without a modal verb (in the clause at ``pos``, default: anywhere in the sentence):
    after "No, ..." only such sentences still claim anything."""
    a, b = clause_of(sentence, pos) if pos is not None else (0, len(sentence.text))
    return is_first_person(sentence) and not sentence.fact("modal", _MODAL, a, b)


_LIST_ITEM = re.compile(r"\s*(?:\d{1,2}[.)]|[-*+])\s")


def starts_list_item(answer: AnswerText, sentence: Sentence) -> bool:
    return _LIST_ITEM.match(answer.raw, sentence.start - 1 if sentence.start else 0) is not None or (
        _LIST_ITEM.match(answer.raw, sentence.start) is not None
    )


def introduces_hedged_list(sentence: Sentence) -> bool:
    """ "Monitoring would allow the following:" - the list items after it are hypothetical too."""
    head, colon, _rest = sentence.text.partition(":")
    return bool(colon) and _HEDGE.search(head) is not None


def is_past_claim(sentence: Sentence) -> bool:
    return sentence.fact("past", _PAST_CLAIM) or sentence.fact("passive", _PASSIVE_DONE)


def states_doing(sentence: Sentence, pos: int) -> bool:
    """The clause at ``pos`` says the group did something (any verb of doing after "we"), or gives a measured result
    of its work; or the sentence is a plain past claim (:func:`is_past_claim`)."""
    a, b = clause_of(sentence, pos)
    return is_past_claim(sentence) or sentence.fact("doing", _DOING, a, b) or _reports_own_result(sentence)


def opens_negatively(answer: AnswerText) -> bool:
    """The answer to a yes/no question starts by saying no ("No.", "Unfortunately, we did not ...")."""
    if not answer.sentences:
        return False
    first = answer.sentences[0].text
    if _NO_OPENER.match(first):
        return _NEG_DOING.search(first) is not None or re.match(r"^\s*no\b", first) is not None
    return False


_PROCEDURE_PROMPT = re.compile(r"\bwould (?:have to|need to|go|do)\b", re.I)
_STRONG_HEDGE = re.compile(
    r"\b(?:maybe|perhaps|possibly|in the future|future work|plan(?:ned)? to|we plan|hope to|if we had|had we|"
    r"would have|could have|would like|ideally|next steps?|going forward|in a future|if (?:time|possible))\b"
)


def describes_procedure(question: Question) -> bool:
    """The prompt asks what someone *would* do ("the process a new team member would have to go through"): the
    answer's "would" describes the group's setup, it is not a hypothetical."""
    return _prompt_facts(question)[0]


def strongly_hedged(sentence: Sentence) -> bool:
    """A hedge that no procedure explains away: maybe, in the future, we plan to, would have, ..."""
    return _STRONG_HEDGE.search(sentence.text) is not None


def asks_if_not(question: Question) -> bool:
    """The prompt asks what the group *would* do when the answer is no ("If not, explain how ...")."""
    return _prompt_facts(question)[1]


_PROMPTS: dict[str, tuple[bool, bool]] = {}  # the same prompts come back in every report


def _prompt_facts(question: Question) -> tuple[bool, bool]:
    """(describes a procedure, asks "if not"), worked out once per prompt text."""
    prompt = question.prompt
    facts = _PROMPTS.get(prompt)
    if facts is None:
        if_not = _IF_NOT_PROMPT.search(prompt) is not None
        facts = (_PROCEDURE_PROMPT.search(prompt) is not None and not if_not, if_not)
        if len(_PROMPTS) >= 4096:
            _PROMPTS.clear()
        _PROMPTS[prompt] = facts
    return facts


# the sentence-level patterns whose literals one scan per answer looks for (see feedback.consistency.gates): the ones
# asked of most sentences with a mention that most sentences cannot match
_GATES = Gates((_HEDGE, _ATTEMPT, _PASSIVE_DONE, _STRONG_HEDGE, _NEG_AFTER))
