"""Answers that give one attribute two different values (FB503): the documentation tool, the service the API runs
on, the study numbers of the members, the group number.

A topic's evidence says whether something was done; an attribute says *which* one: two answers that each state,
as the group's own past doing, a different one of the attribute's exclusive values ("For documentation we used
MkDocs" / "we wrote the documentation with Sphinx") cannot both be right. Identifiers are compared with the answer
that gives them: a study number named elsewhere that the members' answer does not list, a "group 12" against the
group number given.

Precision comes first: a value counts only in a plain first-person (or passive) past statement, in the clause that
names the attribute's role (for the tools that only fill one role, the tool's name is enough); a sentence naming
two values, or any sentence about changing, trying, comparing or planning, takes the attribute out of the report
(the group may have moved from one to the other); and each answer may name only its own value.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import NamedTuple

from feedback.consistency.evidence import (
    AnswerText,
    Sentence,
    clause_of,
    find_all,
    has_negation,
    is_first_person,
    is_hedged,
    join_answers,
    reads_as_done,
    sentence_cues,
)
from feedback.findings import Category, Finding, Severity, Verdict
from feedback.report.model import ChecklistItem, Report

CODE, CHECK = "FB503", "answers-disagree"


class Value(NamedTuple):
    """One value of an attribute: its display name and its spellings on the normalised (lower-case) text, each a
    pattern that opens with a plain literal (its prefix: the only places it is tried) and ends at a word's end."""

    name: str
    spellings: tuple[tuple[str, re.Pattern[str]], ...]  # (prefix, pattern)

    @property
    def gates(self) -> tuple[str, ...]:
        return tuple(prefix for prefix, _rx in self.spellings)


@dataclass(frozen=True, slots=True)
class Attribute:
    """One property of the project that takes a single value (the tool or service that fills one role)."""

    id: str
    name: str  # in the message: "Answers disagree about the documentation tool"
    topic: str | None  # the catalog topic it belongs to (its checklist item is the finding's item)
    values: tuple[Value, ...]
    role: re.Pattern[str] | None  # words in the value's clause that say it fills this role (None: the value says it)
    other_role: re.Pattern[str] | None = None  # in the clause: the value fills another role ("the frontend")
    label: re.Pattern[str] | None = None  # words that name the attribute (benchmarks match hand labels with it)


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _values(*pairs: tuple[str, str]) -> tuple[Value, ...]:
    """(name, spellings separated by "|") for each value; each spelling opens with a literal."""
    return tuple(Value(name, tuple(_spelling(x) for x in spellings.split("|"))) for name, spellings in pairs)


_META = re.compile(r"[\\()\[\]?*+{.]")


def _spelling(pattern: str) -> tuple[str, re.Pattern[str]]:
    cut = _META.search(pattern)
    prefix = pattern if cut is None else pattern[: cut.start() - (pattern[cut.start()] in "?*{")]
    assert prefix, pattern
    return prefix, re.compile(pattern + r"\b")


def _word_before(text: str, pos: int) -> bool:
    return pos > 0 and (text[pos - 1].isalnum() or text[pos - 1] == "_")


# the most characters between a role word and its verb: an unbounded gap makes the search quadratic on a long
# clause of role words without a verb (untrusted input), and a real "the API ... is deployed on" is far shorter
_GAP = 120
_DEPLOY_VERB = r"\b(?:deploy\w*|host\w*|serv(?:e|ed|es|ing)\b|expos\w*|runs? on|ran on|running on|live on)"
ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute(
        "docs-tool",
        "the documentation tool",
        "documentation",
        _values(("MkDocs", "mkdocs"), ("Sphinx", "sphinx"), ("pdoc", "pdoc3?")),
        None,
        label=_rx(r"\bdoc(?:s|umentation)\b"),
    ),
    Attribute(
        "api-framework",
        "the API framework",
        "api",
        _values(
            ("FastAPI", "fastapi|fast api"),
            ("Flask", "flask"),
            ("Django", "django"),
        ),
        None,
        other_role=_rx(r"\bfront ?end\b|\bui\b|user interface|dashboard"),
        label=_rx(r"\bapi framework\b|\b(?:fast ?api|flask|django)\b"),
    ),
    Attribute(
        "api-host",
        "the service the API is deployed on",
        "cloud-deployment",
        _values(
            ("Cloud Run", "cloud run"),
            ("Cloud Functions", "cloud functions?"),
            ("App Engine", "app engine"),
            ("Kubernetes", "kubernetes|gke"),
            ("Compute Engine", "compute engine"),
            ("Azure", "azure"),
            ("AWS", "aws|amazon web services|ec2"),  # not "lambda": also the Python keyword
            ("Heroku", "heroku"),
            ("Hugging Face Spaces", "huggingface spaces?|hugging face spaces?|hf spaces?"),
        ),
        _rx(
            rf"(?:\b(?:api|model|backend|back-end|inference|endpoint|application|app)\b[^.;:]{{0,{_GAP}}}{_DEPLOY_VERB})"
            rf"|(?:{_DEPLOY_VERB}[^.;:]{{0,{_GAP}}}\b(?:api|model|backend|back-end|inference|endpoint|application|app)\b)"
        ),
        other_role=_rx(
            r"\bfront ?end\b|\bui\b|user interface|streamlit|gradio|dashboard|drift|monitor\w*|documentation"
            r"|\bdocs\b|train\w*|\bdata\b|bucket|storage|registry|docker image|build"
        ),
        label=_rx(r"\b(?:api|model|application|app)\b.*\b(?:deploy\w*|host\w*|serv\w*|runs?)\b|\bdeployed on\b"),
    ),
    Attribute(
        "training-service",
        "the service the model was trained on",
        "cloud-training",
        _values(
            ("Vertex AI", "vertex"),
            ("Compute Engine", "compute engine|vms?|virtual machines?"),
            ("Azure", "azure"),
            ("AWS", "aws|sagemaker|ec2"),
            ("the DTU HPC", "hpc"),
            ("Colab", "colab"),
        ),
        _rx(r"\btrain(?:ed|ing)?\b"),
        other_role=_rx(r"\bdeploy\w*|\bserv(?:e|ed|ing)\b|\bapi\b|inference|predict\w*|\bdata\b"),
        label=_rx(r"\btrain\w*\b.*\b(?:on|service|where|cloud)\b|\b(?:cloud|where)\b.*\btrain\w*"),
    ),
    Attribute(
        "dl-framework",
        "the deep learning framework",
        None,
        _values(
            ("PyTorch", "pytorch|torch|lightning"),
            ("TensorFlow", "tensorflow|keras"),
            ("JAX", "jax|flax"),
        ),
        _rx(r"\b(?:framework|model|network|train\w*|implement\w*|built|written|wrote)\b"),
        label=_rx(r"\b(?:deep learning|ml|modelling|modeling) framework\b|\b(?:pytorch|tensorflow|keras|jax)\b"),
    ),
    Attribute(
        "tracker",
        "the experiment tracker",
        "experiment-tracking",
        _values(
            ("Weights & Biases", "w&b|w & b|wandb|weights and biases|weights & biases"),
            ("MLflow", "mlflow|ml flow"),
            ("Neptune", "neptune"),
            ("Comet", "comet"),
        ),
        _rx(r"\b(?:track\w*|log\w*|experiments?|metrics?|runs?)\b"),
        label=_rx(r"\b(?:experiment )?track\w*\b|\blogger\b|\b(?:wandb|w&b|mlflow)\b"),
    ),
    Attribute(
        "app-logger",
        "the logging library",
        "logging",
        _values(
            ("loguru", "loguru"),
            ("the logging module", "logging module|logging library|logging package"),
        ),
        None,
        label=_rx(r"\blogg(?:ing|er) (?:library|module|package|tool)\b|\bloguru\b|\blogger\b"),
    ),
)

# every literal the values need: the catalog's scanner finds them with its own in the one scan of a report
GATES = frozenset(g for a in ATTRIBUTES for v in a.values for g in v.gates)

# a sentence about changing, trying or comparing: the values may be two points in time, or one never used
_CHANGE = re.compile(
    r"\b(?:switch\w*|migrat\w*|moved|moving|replac\w*|instead|initially|originally|at first|previously|"
    r"ended up|tried|trying|attempt\w*|consider\w*|compared (?:to|with)|comparison|alternatives?|rather than|"
    r"versus|vs|over to)\b"
)
# a sentence that plans or supposes: no claim, but nothing ruled out either
_NOT_PLAIN = re.compile(r"\b(?:plan\w*|future|would|could|might|wanted|hoped?|if|either|whether)\b")


@dataclass(frozen=True, slots=True)
class _Claim:
    value: str
    question: int
    line: int
    quote: str


def _quote(ans: AnswerText, s: Sentence, pos: int) -> tuple[int, str]:
    """The sentence's verbatim piece on the line of ``pos`` (the value's line)."""
    line, text = ans.quote(max(s.start, ans.line_start_of(pos)), s.end)
    return line, text


Hits = dict[tuple[int, int], list[tuple[int, int]]]  # (question, sentence) -> (value, start in the sentence's text)
Positions = Callable[[str], list[int]]  # where a literal occurs in the answers joined by blank lines, in order


class Joined(NamedTuple):
    """The answers joined by blank lines, in order (as the engine joins them), and where each one starts."""

    text: str
    order: list[AnswerText]
    offsets: list[int]
    positions: Positions  # where a literal occurs in ``text``

    @classmethod
    def of(cls, answers: dict[int, AnswerText], positions: Positions | None = None) -> Joined:
        order = list(answers.values())
        text, offsets = join_answers(order)
        return cls(text, order, offsets, positions if positions is not None else partial(find_all, text))

    def locate(self, at: int) -> tuple[AnswerText, int]:
        """The answer holding offset ``at`` of the joined text, and the offset in that answer."""
        i = bisect_right(self.offsets, at) - 1
        return self.order[i], at - self.offsets[i]


def _scan(joined: Joined) -> list[Hits]:
    """Every value of every attribute (by attribute) in the answers' sentences, for the attributes with two values
    or more in the report. Each spelling is tried only where its prefix occurs."""
    text, where = joined.text, joined.positions
    out: list[Hits] = [{} for _a in ATTRIBUTES]
    starts: dict[int, list[int]] = {}
    for k, attr in enumerate(ATTRIBUTES):
        named = [(v, value) for v, value in enumerate(attr.values) if any(where(g) for g in value.gates)]
        if len(named) < 2:
            continue  # one value or none in the whole report: nothing to disagree about
        for v, value in named:
            for prefix, rx in value.spellings:
                for at in where(prefix):
                    if _word_before(text, at) or rx.match(text, at) is None:
                        continue
                    ans, rel = joined.locate(at)
                    firsts = starts.get(id(ans))
                    if firsts is None:
                        firsts = starts[id(ans)] = [x.start for x in ans.sentences]
                    j = bisect_right(firsts, rel) - 1
                    if j < 0 or ans.sentences[j].code or rel >= ans.sentences[j].end:
                        continue
                    out[k].setdefault((ans.question.number, j), []).append((v, rel - ans.sentences[j].start))
    return out


def _claims(report: Report, attr: Attribute, answers: dict[int, AnswerText], hits: Hits) -> list[_Claim]:
    """The attribute's values the sentences of ``hits`` state as done, in report order."""
    out: list[_Claim] = []
    for n, j in sorted(hits):
        ans = answers[n]
        s = ans.sentences[j]
        for v, at in hits[(n, j)]:
            if _states_value(attr, s, at):
                line, text = _quote(ans, s, s.start + at)
                if text and text in report.line_text(line):
                    out.append(_Claim(attr.values[v].name, n, line, text))
    return out


_SHORT = 30


def _disagreement(
    report: Report, attr: Attribute, answers: dict[int, AnswerText], hits: Hits
) -> tuple[_Claim, _Claim] | None:
    """Two answers that each name only their own value of the attribute anywhere and state it as done, where no
    sentence naming a value speaks of a change, a trial or a comparison and no answer states two values. The cheap
    tests first: most reports name a value in every answer that names the other."""
    named: dict[int, set[int]] = {}
    for (n, _j), found in hits.items():
        named.setdefault(n, set()).update(v for v, _at in found)
    pure = {n for n, vs in named.items() if len(vs) == 1}
    if len({v for n in pure for v in named[n]}) < 2:
        return None
    if any(_CHANGE.search(answers[n].sentences[j].text) for n, j in hits):
        return None  # a change, a trial, a comparison: the values may be two points in time
    claims = _claims(report, attr, answers, {k: h for k, h in hits.items() if k[0] in pure})
    pair = next(
        ((a, b) for a in claims for b in claims if a.question < b.question and a.value != b.value),
        None,
    )
    if pair is None:
        return None
    mixed = _claims(report, attr, answers, {k: h for k, h in hits.items() if k[0] not in pure})
    by_question: dict[int, set[str]] = {}
    for c in mixed:
        by_question.setdefault(c.question, set()).add(c.value)
    if any(len(v) > 1 for v in by_question.values()):
        return None  # an answer that states two values says the group used both
    return pair


def _states_value(attr: Attribute, s: Sentence, pos: int) -> bool:
    """The sentence says, in the group's own past doing, that the value at ``pos`` fills the attribute's role."""
    a, b = clause_of(s, pos)
    if b - a < _SHORT and b < len(s.text):  # "Cloud Run: used to deploy our API": the entry's description too
        b = clause_of(s, b + 1)[1]
    clause = s.text[a:b]
    if attr.other_role is not None and attr.other_role.search(clause):
        return False
    if attr.role is not None and attr.role.search(clause) is None:
        return False
    if _NOT_PLAIN.search(s.text) or not is_first_person(s) or not reads_as_done(s, pos):
        return False
    cues = sentence_cues(s)
    return not (is_hedged(s) or has_negation(s) or cues.negations or cues.attempts)


def attribute_findings(
    report: Report,
    answers: dict[int, AnswerText],
    items: dict[str, ChecklistItem],
    positions: Positions | None = None,
) -> list[Finding]:
    """FB503 findings for answers that give one attribute different values (``items``: topic id -> its checklist
    item, for the finding's item; ``positions``: where a literal occurs in the answers joined by blank lines, in
    order, as the engine has found them)."""
    out: list[Finding] = []
    joined = Joined.of(answers, positions)
    found = _scan(joined)
    for attr, hits in zip(ATTRIBUTES, found, strict=True):
        pair = _disagreement(report, attr, answers, hits) if hits else None
        if pair is not None:
            first, other = pair
            out.append(
                _finding(
                    f"Answers disagree about {attr.name}: Q{first.question} says {first.value}, Q{other.question} "
                    f"says {other.value} (lines {first.line} and {other.line}).",
                    pair,
                    items.get(attr.topic or ""),
                )
            )
    out += _identifier_findings(report, answers, joined)
    return out


def _finding(message: str, claims: tuple[_Claim, _Claim], item: ChecklistItem | None) -> Finding:
    return Finding(
        code=CODE,
        check=CHECK,
        category=Category.CONSISTENCY,
        severity=Severity.WARNING,
        message=message,
        line=claims[0].line,
        question=claims[0].question,
        questions=(claims[0].question, claims[1].question),
        checklist_item=item.text if item is not None else None,
        checked=item.checked if item is not None else None,
        verdict=Verdict.INTERNAL,
        confidence=0.7,
        evidence=(claims[0].quote, claims[1].quote),
    )


# ---------------------------------------------------------------------------------------------- identifiers

# the members' study numbers: "s214997" or a bare "214997" in the answer that lists them; elsewhere only with the "s"
_LISTED_ID = re.compile(r"(?<![\w.@/])s?(\d{5,7})(?![\w@/])")
_NAMED_ID = re.compile(r"s(\d{5,7})\b")  # not after a letter, digit or "_.@/" (checked by hand: it is faster)
_GROUP_ID = re.compile(r"(?<![\w.])(\d{1,4})(?![\w.])")
_GROUP_NAMED = re.compile(r"group[ _-]?(?:number|no\.?|nr\.?|#)?[ _-]?:?[ _-]?(\d{1,3})(?![\w.])")
_URL = re.compile(r"https?://\S+|\]\([^)\s]*\)|\bwww\.\S+")
# "see question 1", "#12": a number that refers to something else is not the group's number
_REFERENCE = re.compile(r"\b(?:questions?|q|section|page|figure|fig\.?|line|step|week|module|m)\s*#?\d+\b|#\d+")
# which questions ask for the identifiers (the prompt's words, as rule FB206 reads them)
_MEMBER_PROMPT = re.compile(r"\b(?:study|student|matriculation)\s*(?:numbers?|ids?|no\.?)\b", re.I)
_GROUP_PROMPT = re.compile(r"\bgroup\s*(?:number|no\.?|id)\b", re.I)

IDENTIFIER_NAMES = ("the study numbers", "the group number")
_IDENTIFIER_LABELS = (
    re.compile(r"\b(?:study|student)\s*(?:numbers?|ids?)\b"),
    re.compile(r"\bgroup\s*(?:number|no\.?|id)\b"),
)


def names_for(words: str) -> set[str]:
    """The names (as findings word them) of the attributes a few words refer to ("documentation generator": the
    documentation tool), for matching hand labels."""
    words = words.lower()
    named = {a.name for a in ATTRIBUTES if a.label is not None and a.label.search(words)}
    return named | {n for n, rx in zip(IDENTIFIER_NAMES, _IDENTIFIER_LABELS, strict=True) if rx.search(words)}


def _spaces(m: re.Match[str]) -> str:
    return " " * len(m.group(0))


def _blank_urls(text: str) -> str:
    """The text with links and URLs blanked out, offsets kept (a repository's name is no statement)."""
    return _URL.sub(_spaces, text) if "http" in text or "](" in text or "www." in text else text


def _line_of(report: Report, ans: AnswerText, pos: int) -> tuple[int, str]:
    line, text = ans.quote(ans.line_start_of(pos), len(ans.raw))
    return (line, text) if text and text in report.line_text(line) else (line, "")


@lru_cache(maxsize=512)
def _asks(prompt: re.Pattern[str], title: str) -> bool:
    """Whether a question's title asks for the identifier (the template's titles repeat in every report)."""
    return prompt.search(title) is not None


def _identifier_findings(report: Report, answers: dict[int, AnswerText], joined: Joined) -> list[Finding]:
    out: list[Finding] = []
    members = next((a for a in answers.values() if _asks(_MEMBER_PROMPT, a.question.title)), None)
    if members is not None:
        listed = {m.group(1): m.start() for m in _LISTED_ID.finditer(_blank_urls(members.norm))}
        found = _unlisted(report, joined, members, listed) if listed else None
        if found is not None:
            out.append(found)
    group = next((a for a in answers.values() if _asks(_GROUP_PROMPT, a.question.title)), None)
    if group is not None:
        given = _GROUP_ID.search(_REFERENCE.sub(_spaces, _blank_urls(group.norm)))
        found = _other_group(report, joined, group, given) if given is not None else None
        if found is not None:
            out.append(found)
    return out


def _in_link(ans: AnswerText, rel: int) -> bool:
    return _blank_urls(ans.norm)[rel] == " "


def _unlisted(report: Report, joined: Joined, members: AnswerText, listed: dict[str, int]) -> Finding | None:
    """A study number named in another answer that the members' answer does not list."""
    text = joined.text
    for m in _NAMED_ID.finditer(text):
        if m.group(1) in listed or (m.start() and (text[m.start() - 1].isalnum() or text[m.start() - 1] in "_.@/")):
            continue
        ans, rel = joined.locate(m.start())
        if ans is members or _in_link(ans, rel):
            continue
        near = min(listed, key=lambda d: sum(x != y for x, y in zip(d, m.group(1), strict=False)))
        there = _line_of(report, members, listed[near])
        here = _line_of(report, ans, rel)
        if not (there[1] and here[1]):
            continue
        n = ans.question.number
        first, other = _Claim("", members.question.number, *there), _Claim("", n, *here)
        return _finding(
            f"Answers disagree about the study numbers: Q{n} names s{m.group(1)}, which the members' study "
            f"numbers in Q{members.question.number} do not include (lines {there[0]} and {here[0]}).",
            (first, other),
            None,
        )
    return None


def _other_group(report: Report, joined: Joined, group: AnswerText, given: re.Match[str]) -> Finding | None:
    """Another answer that calls the group by another number ("group 12" against the group number 21)."""
    number = given.group(1).lstrip("0")
    text = joined.text
    for at in joined.positions("group"):
        m = _GROUP_NAMED.match(text, at)
        if m is None or _word_before(text, at) or m.group(1).lstrip("0") == number:
            continue
        ans, rel = joined.locate(at)
        if ans is group or _in_link(ans, rel):
            continue
        there = _line_of(report, group, given.start())
        here = _line_of(report, ans, rel)
        if not (there[1] and here[1]):
            continue
        n = ans.question.number
        first, other = _Claim("", group.question.number, *there), _Claim("", n, *here)
        return _finding(
            f"Answers disagree about the group number: Q{group.question.number} gives {number}, Q{n} says "
            f"group {m.group(1)} (lines {there[0]} and {here[0]}).",
            (first, other),
            None,
        )
    return None
