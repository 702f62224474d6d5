"""The topic catalog: which checklist items, questions and evidence words belong to one topic, loaded from TOML.

The catalog is data (``catalog.toml`` beside this module) so another template family can ship its own file; see the
comments at the top of that file for the meaning of every key.
"""

from __future__ import annotations

import json
import os
import re
import re._constants as sre_constants
import re._parser as sre_parse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from feedback.consistency.attributes import GATES
from feedback.consistency.evidence import find_all
from feedback.errors import ConfigError
from feedback.hashing import blake2b
from feedback.report.model import ChecklistItem, Question
from feedback.user_cache import cache_home, prune

DEFAULT_CATALOG = Path(__file__).with_name("catalog.toml")

_FLAGS = re.IGNORECASE


def _word_before(text: str, pos: int) -> bool:
    return pos > 0 and (text[pos - 1].isalnum() or text[pos - 1] == "_")


def _match_at(text: str, rx: re.Pattern[str], boundary: bool, starts: list[int]) -> list[tuple[int, int]]:
    """Like ``finditer``, but only tries ``starts`` (sorted), the positions of the pattern's leading literals: much
    faster than letting the regex engine try every position when the pattern does not start with a plain literal."""
    out: list[tuple[int, int]] = []
    last = -1
    for i in starts:
        if i < last or (boundary and _word_before(text, i)):
            continue
        m = rx.match(text, i)
        if m is not None:
            out.append((i, m.end()))
            last = m.end()
    return out


def _leading(seq: Any) -> frozenset[str] | None:
    """Literals one of which every match of the parsed pattern starts with (None: unknown)."""
    run: list[str] = []
    for op, av in seq:
        if op is sre_constants.LITERAL:
            run.append(chr(av))
            continue
        if run:
            return frozenset({"".join(run)})
        if op is sre_constants.SUBPATTERN:
            return _leading(av[-1])
        if op is sre_constants.BRANCH:
            subs = [_leading(b) for b in av[1]]
            return frozenset().union(*(x for x in subs if x)) if all(subs) else None
        if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT) and av[0] >= 1:
            return _leading(av[2])
        return None
    return frozenset({"".join(run)}) if run else None


class Scanner:
    """Every literal the catalog's patterns need, found in a text in one pass (an Aho-Corasick automaton)."""

    def __init__(self, literals: set[str]) -> None:
        import ahocorasick

        self.literals = frozenset(literals)
        self._covers: dict[frozenset[str], bool] = {}
        self._automaton = ahocorasick.Automaton()
        for lit in sorted(self.literals):
            self._automaton.add_word(lit, lit)
        if self.literals:
            self._automaton.make_automaton()

    def __reduce__(self) -> tuple[type[Scanner], tuple[set[str]]]:
        return Scanner, (set(self.literals),)

    def scan(self, text: str) -> dict[str, list[int]]:
        """Start offsets of every (also overlapping) occurrence of every literal, in order, by literal."""
        at: dict[str, list[int]] = {}
        if self.literals:
            for end, lit in self._automaton.iter(text):
                found = at.get(lit)
                if found is None:
                    at[lit] = [end - len(lit) + 1]
                else:
                    found.append(end - len(lit) + 1)
        return at

    def covers(self, literals: frozenset[str]) -> bool:
        """Whether all of ``literals`` are the scanner's (asked once per set: the catalog's sets repeat)."""
        known = self._covers.get(literals)
        if known is None:
            known = self._covers[literals] = literals <= self.literals
        return known


class Memo:
    """What one text holds: where the catalog's literals occur (one scan for all of them, with ``scanner``) and the
    matches of every pattern asked so far."""

    def __init__(self, text: str, scanner: Scanner | None = None) -> None:
        self.text = text
        self.scanner = scanner
        self._at: dict[str, list[int]] | None = None
        self._present: frozenset[str] = frozenset()  # the scanner's literals that occur in the text
        self._found: dict[str, list[int]] = {}
        self.matches: dict[tuple[str, bool], list[tuple[int, int]]] = {}

    def positions(self, literal: str) -> list[int]:
        """Start offsets of every occurrence of ``literal`` in the text, in order (overlapping ones too)."""
        if self.scanner is not None and literal in self.scanner.literals:
            return self._scanned().get(literal, [])
        found = self._found.get(literal)
        if found is None:
            found = self._found[literal] = find_all(self.text, literal)
        return found

    def has(self, literal: str) -> bool:
        return bool(self.positions(literal))

    def found(self, pattern: Pattern) -> list[tuple[int, int]]:
        """(start, end) of every match of ``pattern`` in the text, run once per text (topics share patterns)."""
        key = (pattern.source, pattern.boundary)
        found = self.matches.get(key)
        if found is None:
            found = self.matches[key] = _run(pattern, self.text, self)
        return found

    def has_any(self, literals: frozenset[str]) -> bool:
        """Whether one of ``literals`` occurs in the text (for the scanner's literals: one set operation)."""
        scanner = self.scanner
        if scanner is not None and scanner.covers(literals):
            self._scanned()
            return not literals.isdisjoint(self._present)  # a set, not the dict: the smaller side is iterated
        return any(self.has(g) for g in literals)

    def _scanned(self) -> dict[str, list[int]]:
        if self._at is None:
            assert self.scanner is not None
            self._at = self.scanner.scan(self.text)
            self._present = frozenset(self._at)
        return self._at


Search = Callable[[str, int, int], "re.Match[str] | None"]  # rx.search(text, pos, endpos)


def _windowed(text: str, search: Search, starts: list[int], back: int, reach: int) -> list[tuple[int, int]]:
    """Exactly ``[(m.start(), m.end()) for m in rx.finditer(text)]`` (``search`` is ``rx.search``, or one that
    checks a word boundary) for a pattern every match of which starts at most ``back`` characters before one of
    ``starts`` (sorted occurrences of literals every match contains) and whose
    matching looks at most ``reach`` characters past its start: only the windows around those occurrences are
    searched. A search cut off at ``b + reach`` decides every start up to ``b`` as the whole text would, so only a
    match starting by ``b`` is taken from it."""
    out: list[tuple[int, int]] = []
    pos, n = 0, len(text)
    windows: list[list[int]] = []
    for q in starts:
        a = q - back
        if windows and a <= windows[-1][1] + 1:
            windows[-1][1] = q
        else:
            windows.append([a, q])
    for a, b in windows:
        lo = max(a, pos, 0)
        while lo <= b:
            m = search(text, lo, min(n, b + reach))
            if m is None or m.start() > b:
                break
            out.append((m.start(), m.end()))
            pos = lo = m.end()
    return out


_AT_END = {sre_constants.AT_END, sre_constants.AT_END_LINE, sre_constants.AT_END_STRING}
_ONE_CHAR = {sre_constants.LITERAL, sre_constants.NOT_LITERAL, sre_constants.IN, sre_constants.ANY}
_UNBOUNDED = 10_000


def _lookahead(seq: Any) -> int | None:
    """How far past the matched text the pattern may look (None: too far to tell, or an end anchor)."""
    extra = 0
    for op, av in seq:
        if op in _ONE_CHAR:
            continue
        if op is sre_constants.AT:
            if av in _AT_END:
                return None
            extra = max(extra, 1)
            continue
        if op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            inner = _lookahead(av[1])
            width = av[1].getwidth()[1]
            if inner is None or width >= _UNBOUNDED:
                return None
            extra = max(extra, inner + (width if av[0] == 1 else 0))
            continue
        if op is sre_constants.SUBPATTERN:
            subs = [av[-1]]
        elif op is sre_constants.BRANCH:
            subs = list(av[1])
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            subs = [av[2]]
        else:
            return None  # back-references, conditionals, atomic groups: not worth reasoning about
        for sub in subs:
            inner = _lookahead(sub)
            if inner is None:
                return None
            extra = max(extra, inner)
    return extra


def _ignores_case(parsed: Any) -> bool:
    if parsed.state.flags & re.IGNORECASE:
        return True
    stack = list(parsed)
    while stack:
        op, av = stack.pop()
        if op is sre_constants.SUBPATTERN:
            if av[1] & re.IGNORECASE:
                return True
            stack.extend(av[-1])
        elif op is sre_constants.BRANCH:
            for b in av[1]:
                stack.extend(b)
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            stack.extend(av[2])
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            stack.extend(av[1])
    return False


@dataclass(slots=True, eq=False)
class Pattern:
    """One evidence pattern and what makes it fast to run; compiled on first use (most never run on a report)."""

    source: str  # the pattern, without a leading \b taken off
    boundary: bool  # a leading \b was taken off: checked by hand after each match
    gate: frozenset[str] | None  # lower-cased literals one of which every match contains
    leads: tuple[str, ...] | None  # literals every match starts with (their positions are the only ones tried)
    anchors: frozenset[str] | None = None  # literals as written, one of which every match contains (for windows)
    back: int = 0  # how far before an anchor's start a match may start
    reach: int = 0  # how far past its start matching may look
    literal: str | None = None  # the pattern is this plain string: its matches are its occurrences
    _rx: re.Pattern[str] | None = field(default=None, init=False, repr=False)  # compiled on first use

    @property
    def rx(self) -> re.Pattern[str]:
        if self._rx is None:
            self._rx = re.compile(self.source)
        return self._rx

    def literals(self) -> set[str]:
        return {
            *(self.gate or ()),
            *(self.leads or ()),
            *(self.anchors or ()),
            *([self.literal] if self.literal else ()),
        }


@dataclass(frozen=True, slots=True)
class Terms:
    """Patterns matched against lower-cased answer text, each pre-checked with literals it cannot match without.

    Python's regex engine only scans fast when a pattern starts with a literal, so a leading ``\\b`` is taken off
    and checked by hand after each match; and a pattern whose matches are short and contain a known literal is only
    searched around that literal's occurrences (found for all patterns at once by :class:`Memo`).
    """

    patterns: tuple[Pattern, ...]

    def finditer(self, text: str, memo: Memo | None = None) -> list[tuple[int, int]]:
        """(start, end) of every match in ``text``. ``memo`` (one per text) keeps literal look-ups and the matches
        of patterns that several topics share, so each runs once per text."""
        memo = memo if memo is not None else Memo(text)
        out: list[tuple[int, int]] = []
        for p in self.patterns:
            out += memo.found(p)
        return out

    def search(self, text: str) -> bool:
        for p in self.patterns:
            if p.gate is not None and not any(g in text for g in p.gate):
                continue
            if any(not (p.boundary and _word_before(text, m.start())) for m in p.rx.finditer(text)):
                return True
        return False


def _run(p: Pattern, text: str, memo: Memo) -> list[tuple[int, int]]:
    if p.gate is not None and not memo.has_any(p.gate):
        return []
    if p.leads is not None:
        leads = p.leads
        # one literal's positions are already in order and distinct
        starts = memo.positions(leads[0]) if len(leads) == 1 else sorted({i for x in leads for i in memo.positions(x)})
        return _match_at(text, p.rx, p.boundary, starts)
    if p.literal is not None:
        found, last, n = [], 0, len(p.literal)
        for i in memo.positions(p.literal):
            if i >= last and not (p.boundary and _word_before(text, i)):  # matches do not overlap
                found.append((i, i + n))
                last = i + n
        return found
    search = partial(_at_boundary, p.rx) if p.boundary else p.rx.search
    if p.anchors is not None:
        anchors = p.anchors
        if len(anchors) == 1:
            starts = memo.positions(next(iter(anchors)))
        else:
            starts = sorted({i for lit in anchors for i in memo.positions(lit)})
        return _windowed(text, search, starts, p.back, p.reach)
    if not p.boundary:
        return [(m.start(), m.end()) for m in p.rx.finditer(text)]
    found, pos = [], 0
    while (m := search(text, pos, len(text))) is not None:
        found.append((m.start(), m.end()))
        pos = m.end()  # a match starts with a word character: never empty
    return found


def _at_boundary(rx: re.Pattern[str], text: str, pos: int, endpos: int) -> re.Match[str] | None:
    """What ``\\b`` + ``rx`` finds first from ``pos``, for a pattern that starts with a word character: a match
    that starts inside a word is dropped and the search goes on from the next position (a match found from there
    may overlap the dropped one, so dropping matches afterwards would lose it)."""
    m = rx.search(text, pos, endpos)
    while m is not None and _word_before(text, m.start()):
        m = rx.search(text, m.start() + 1, endpos)
    return m


_ITEM_COMMENT = re.compile(r"\s+(?:->|=>|--|—|\(?comment:|\(?note:)", re.IGNORECASE)


def item_wording(text: str) -> str:
    """The template's wording of an item, without a comment the group appended ("... -> Comment: we used W&B")."""
    m = _ITEM_COMMENT.search(text)
    return text[: m.start()] if m else text


@dataclass(frozen=True, slots=True, eq=False)  # compared by identity: one object per topic of a loaded catalog
class Topic:
    id: str
    name: str
    items: re.Pattern[str] | None
    questions: re.Pattern[str] | None
    terms: Terms
    strong: Terms
    local: Terms | None
    negative: Terms | None
    context: Terms | None
    ticked: bool
    unticked: bool
    unsupported: bool
    internal: bool
    confirm: Terms | None = None  # with one of these in the sentence, a local word in an own question is strong
    figure: bool = False  # an image in the answer to its own question shows it was done (a diagram)
    services: tuple[re.Pattern[str], ...] = ()  # the distinct services or tools of the topic, each with its synonyms

    def services_in(self, text: str) -> frozenset[int]:
        """Which of the topic's services ``text`` names (indexes into ``services``)."""
        return frozenset(i for i, rx in enumerate(self.services) if rx.search(text))

    def matches_item(self, item: ChecklistItem) -> bool:
        # a real item is a line or two: the first MAX_ITEM characters decide (a 100 KB "item" costs no more)
        return self.items is not None and self.items.search(item_wording(item.text[:MAX_ITEM])) is not None

    def asks(self, question: Question) -> bool:
        return self.questions is not None and self.questions.search(question.title) is not None


MAX_ITEM = 1_000


@dataclass(frozen=True, slots=True)
class Catalog:
    family: str
    path: Path
    topics: tuple[Topic, ...]
    open_questions: re.Pattern[str] | None = None  # questions whose "no" denies none of their topics
    contribution_questions: re.Pattern[str] | None = None  # answers listing who did what: mentions are claims
    usage_questions: re.Pattern[str] | None = None  # answers listing the services used: claims of use
    scanner: Scanner | None = field(default=None, compare=False, repr=False)  # every literal of every pattern
    _memo: dict[tuple[str, str], tuple[Topic, ...]] = field(default_factory=dict, compare=False, repr=False)
    _titles: dict[tuple[str, str], bool] = field(default_factory=dict, compare=False, repr=False)

    def topics_for_item(self, item: ChecklistItem) -> tuple[Topic, ...]:
        key = ("item", item.text)
        if key not in self._memo:
            self._memo[key] = tuple(t for t in self.topics if t.matches_item(item))
        return self._memo[key]

    def topics_for_question(self, question: Question) -> tuple[Topic, ...]:
        key = ("question", question.title)
        if key not in self._memo:
            self._memo[key] = tuple(t for t in self.topics if t.asks(question))
        return self._memo[key]

    def lists_contributions(self, question: Question) -> bool:
        return self._titled("contributions", self.contribution_questions, question.title)

    def lists_usage(self, question: Question) -> bool:
        return self._titled("usage", self.usage_questions, question.title)

    def is_open(self, question: Question) -> bool:
        return self._titled("open", self.open_questions, question.title)

    def _titled(self, kind: str, pattern: re.Pattern[str] | None, title: str) -> bool:
        """Whether ``pattern`` finds the question title, asked once per title (every report repeats the prompts)."""
        key = (kind, title)
        found = self._titles.get(key)
        if found is None:
            found = self._titles[key] = pattern is not None and pattern.search(title) is not None
        return found

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)


# What the public functions accept as ``catalog``: a loaded catalog, a path to a TOML file, or None (the default).
CatalogArg = Catalog | Path | str | None


def _compile(where: str, patterns: Any) -> re.Pattern[str] | None:
    if patterns is None:
        return None
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise ConfigError(f"{where}: expected a list of regular expressions")
    if not patterns:
        return None
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns), _FLAGS)
    except re.error as exc:
        raise ConfigError(f"{where}: bad regular expression ({exc})") from exc


def _required(seq: Any, lower: bool = True) -> frozenset[str] | None:
    """Literal strings of which at least one occurs in every match of the parsed pattern ``seq`` (None: unknown),
    lower-cased unless ``lower`` is false."""
    best: frozenset[str] | None = None

    def consider(cands: frozenset[str] | None) -> None:
        nonlocal best
        if cands and (best is None or min(map(len, cands)) > min(map(len, best))):
            best = cands

    run: list[str] = []
    for op, av in seq:
        if op is sre_constants.LITERAL:
            run.append(chr(av).lower() if lower else chr(av))
            continue
        if run:
            consider(frozenset({"".join(run)}))
            run = []
        if op is sre_constants.SUBPATTERN:
            consider(_required(av[-1], lower))
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT) and av[0] >= 1:
            consider(_required(av[2], lower))
        elif op is sre_constants.BRANCH:
            subs = [_required(b, lower) for b in av[1]]
            if all(subs):
                consider(frozenset().union(*(x for x in subs if x)))
    if run:
        consider(frozenset({"".join(run)}))
    return best


def required_literals(rx: re.Pattern[str]) -> frozenset[str] | None:
    """Literal strings, as written, one of which every match of ``rx`` contains (None: unknown, or the pattern
    ignores case)."""
    if rx.flags & re.IGNORECASE:
        return None
    parsed = sre_parse.parse(rx.pattern, rx.flags)
    return None if _ignores_case(parsed) else _required(parsed, lower=False)


# What _analyse found out about each pattern, in a form JSON keeps: see _load's cache.
Analysis = dict[str, list[Any]]


def _terms(where: str, patterns: Any, analysis: Analysis) -> Terms | None:
    if patterns is None:
        return None
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise ConfigError(f"{where}: expected a list of regular expressions")
    out = []
    for p in patterns:
        if p not in analysis:
            analysis[p] = _analyse(where, p)
        body, boundary, gate, leads, anchors, back, reach, literal = analysis[p]
        out.append(
            Pattern(
                body,
                boundary,
                frozenset(gate) if gate is not None else None,
                tuple(leads) if leads is not None else None,
                frozenset(anchors) if anchors is not None else None,
                back,
                reach,
                literal,
            )
        )
    return Terms(tuple(out)) if out else None


def _analyse(where: str, p: str) -> list[Any]:
    """How to run pattern ``p`` fast: [body, boundary, gate, leads, anchors, back, reach, literal] (see Pattern)."""
    boundary = p.startswith("\\b") and not p.startswith("\\b(")
    body = p[2:] if boundary else p
    try:
        re.compile(body)
        parsed = sre_parse.parse(body)
    except re.error as exc:
        raise ConfigError(f"{where}: bad regular expression {p!r} ({exc})") from exc
    req, lead = _required(parsed), _leading(parsed)
    if not boundary and p.startswith("\\b("):
        # "\b(scripts?|code|...)": with several words to start from, the \b is checked by hand and only those
        # words' positions are tried (a \b before a group is kept otherwise: the regex engine checks it)
        inner = sre_parse.parse(p[2:])
        words = _leading(inner)
        if words and len(words) > 1 and all(len(w) >= 2 and (w[0].isalnum() or w[0] == "_") for w in words):
            boundary, body, parsed, req, lead = True, p[2:], inner, _required(inner), words
    leads = sorted(lead) if lead and min(map(len, lead)) >= 2 and lead.isdisjoint({""}) else None
    # a plain literal start: the pattern is tried only where the literal scan found that literal (a plain string
    # is read off the scan directly, below)
    gate = sorted(req) if req and min(map(len, req)) >= 2 else None
    plain = all(op is sre_constants.LITERAL for op, _av in parsed) and not _ignores_case(parsed)
    literal = "".join(chr(av) for _op, av in parsed) if plain and len(parsed) else None
    if literal is not None:
        leads = None
    anchors, back, reach = _window(parsed)
    return [body, boundary, gate, leads, sorted(anchors) if anchors else None, back, reach, literal]


def _window(parsed: Any) -> tuple[frozenset[str] | None, int, int]:
    """The literals a windowed search of the pattern may start from, with how far before and past them it looks
    (no literals: the pattern is searched through the whole text)."""
    anchors = None if _ignores_case(parsed) else _required(parsed, lower=False)
    shortest, widest = parsed.getwidth()
    ahead = _lookahead(parsed)
    # a one-letter anchor would open a window almost everywhere; a rare sign ("%") is a good one
    rare = anchors is not None and all(len(a) >= 2 or not (a.isalnum() or a.isspace()) for a in anchors)
    if not anchors or not rare or shortest == 0 or widest >= _UNBOUNDED or ahead is None:
        return None, 0, 0
    return anchors, widest - min(map(len, anchors)), widest + ahead + 2


def _flag(where: str, raw: dict[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}.{key}: expected true or false")
    return value


def _topic(path: Path, index: int, raw: Any, analysis: Analysis) -> Topic:
    where = f"{path.name}: topic {index + 1}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table")
    tid, name = raw.get("id"), raw.get("name", raw.get("id"))
    if not isinstance(tid, str) or not tid or not isinstance(name, str):
        raise ConfigError(f"{where}: needs a string 'id' (and 'name')")
    where = f"{path.name}: topic {tid!r}"
    terms = _terms(f"{where}.terms", raw.get("terms"), analysis)
    if terms is None:
        raise ConfigError(f"{where}: needs at least one pattern in 'terms'")
    unknown = set(raw) - {
        *("id", "name", "items", "questions", "terms", "strong", "local", "negative", "context", "confirm"),
        *("ticked", "unticked", "unsupported", "internal", "figure", "services"),
    }
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    return Topic(
        id=tid,
        name=name,
        items=_compile(f"{where}.items", raw.get("items", [])),
        questions=_compile(f"{where}.questions", raw.get("questions", [])),
        terms=terms,
        strong=_terms(f"{where}.strong", raw.get("strong"), analysis) or terms,
        local=_terms(f"{where}.local", raw.get("local"), analysis),
        negative=_terms(f"{where}.negative", raw.get("negative"), analysis),
        context=_terms(f"{where}.context", raw.get("context"), analysis),
        ticked=_flag(where, raw, "ticked", True),
        unticked=_flag(where, raw, "unticked", True),
        unsupported=_flag(where, raw, "unsupported", False),
        internal=_flag(where, raw, "internal", False),
        confirm=_terms(f"{where}.confirm", raw.get("confirm"), analysis),
        figure=_flag(where, raw, "figure", False),
        services=_services(f"{where}.services", raw.get("services", [])),
    )


def _services(where: str, patterns: Any) -> tuple[re.Pattern[str], ...]:
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise ConfigError(f"{where}: expected a list of regular expressions")
    return tuple(rx for i, p in enumerate(patterns) if (rx := _compile(f"{where}[{i}]", [p])) is not None)


KEPT_CATALOGS = 8  # analyses of other catalogs or versions beyond these are removed when one is written


def _cache_file(raw: bytes) -> Path | None:
    """Where a loaded catalog's parsed TOML and pattern analysis are kept between runs, keyed by the catalog's bytes,
    this module's code and the Python version (so any change to them is a new file); None without a home."""
    home = cache_home()
    if home is None:
        return None
    h = blake2b(raw, digest_size=16)
    h.update(Path(__file__).read_bytes())
    h.update(sys.version.encode())
    return home / f"catalog-{h.hexdigest()}.json"


def _read_cache(cache: Path | None) -> tuple[dict[str, Any], Analysis] | None:
    if cache is None:
        return None
    try:
        kept = json.loads(cache.read_bytes())
        return kept["data"], kept["analysis"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_cache(cache: Path | None, data: dict[str, Any], analysis: Analysis) -> None:
    if cache is None:
        return
    try:  # a start-up shortcut only: any failure just means the next run analyses the patterns again
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"data": data, "analysis": analysis}), encoding="utf-8")
        os.replace(tmp, cache)
    except (OSError, TypeError, ValueError):
        return
    prune(cache, "catalog-*.json", KEPT_CATALOGS)


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int) -> Catalog:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read catalog ({exc.strerror or exc})") from exc
    cache = _cache_file(raw)
    kept = _read_cache(cache)
    if kept is not None:
        data, analysis = kept
    else:
        import tomllib  # the cached analysis holds the parsed file: only a changed catalog is parsed

        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not a valid TOML catalog ({exc})") from exc
        analysis = {}
    catalog = _build(path, data, analysis)
    if kept is None:
        _write_cache(cache, data, analysis)
    return catalog


def _build(path: Path, data: dict[str, Any], analysis: Analysis) -> Catalog:
    raw_topics = data.get("topic")
    if not isinstance(raw_topics, list) or not raw_topics:
        raise ConfigError(f"{path}: a catalog needs at least one [[topic]] table")
    topics = tuple(_topic(path, i, t, analysis) for i, t in enumerate(raw_topics))
    ids = [t.id for t in topics]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{path}: duplicate topic ids")
    terms = [x for t in topics for x in (t.terms, t.strong, t.local, t.negative) if x is not None]
    return Catalog(
        family=str(data.get("family", path.stem)),
        path=path,
        topics=topics,
        # the attributes' literals too (feedback.consistency.attributes): found in the same one scan of a report
        scanner=Scanner({lit for x in terms for p in x.patterns for lit in p.literals()} | GATES),
        open_questions=_compile(f"{path.name}: open_questions", data.get("open_questions", [])),
        contribution_questions=_compile(f"{path.name}: contribution_questions", data.get("contribution_questions", [])),
        usage_questions=_compile(f"{path.name}: usage_questions", data.get("usage_questions", [])),
    )


def load_catalog(path: Path | str | None = None) -> Catalog:
    """The catalog at ``path`` (default: the one shipped for the MLOps report family), parsed once per file version."""
    p = Path(path) if path is not None else DEFAULT_CATALOG
    try:
        mtime = p.stat().st_mtime_ns
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read catalog ({exc.strerror or exc})") from exc
    return _load(p.resolve(), mtime)
