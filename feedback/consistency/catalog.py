"""The topic catalog: which checklist items, questions and evidence words belong to one topic, loaded from TOML.

The catalog is data (``catalog.toml`` beside this module) so another template family can ship its own file; see the
comments at the top of that file for the meaning of every key.
"""

from __future__ import annotations

import re
import re._constants as sre_constants
import re._parser as sre_parse
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from feedback.errors import ConfigError
from feedback.report.model import ChecklistItem, Question

DEFAULT_CATALOG = Path(__file__).with_name("catalog.toml")

_FLAGS = re.IGNORECASE


def _word_before(text: str, pos: int) -> bool:
    return pos > 0 and (text[pos - 1].isalnum() or text[pos - 1] == "_")


def _match_at_leads(text: str, rx: re.Pattern[str], boundary: bool, leads: tuple[str, ...]) -> list[tuple[int, int]]:
    """Like ``finditer``, but only tries positions where one of the pattern's leading literals occurs: much faster
    than letting the regex engine try every position when the pattern does not start with a plain literal."""
    starts: set[int] = set()
    for lead in leads:
        i = text.find(lead)
        while i != -1:
            starts.add(i)
            i = text.find(lead, i + 1)
    out: list[tuple[int, int]] = []
    last = -1
    for i in sorted(starts):
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


class Memo:
    """What one text has already been asked: literal look-ups and pattern matches."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.literals: dict[str, bool] = {}
        self.matches: dict[tuple[str, bool], list[tuple[int, int]]] = {}

    def has(self, literal: str) -> bool:
        found = self.literals.get(literal)
        if found is None:
            found = self.literals[literal] = literal in self.text
        return found


@dataclass(frozen=True, slots=True)
class Terms:
    """Patterns matched against lower-cased answer text, each pre-checked with literals it cannot match without.

    Python's regex engine only scans fast when a pattern starts with a literal, so a leading ``\\b`` is taken off
    and checked by hand after each match.
    """

    # (literals one of which every match contains, pattern, leading \\b taken off, literals every match starts with)
    patterns: tuple[tuple[frozenset[str] | None, re.Pattern[str], bool, tuple[str, ...] | None], ...]

    def finditer(self, text: str, memo: Memo | None = None) -> list[tuple[int, int]]:
        """(start, end) of every match in ``text``. ``memo`` (one per text) keeps literal look-ups and the matches
        of patterns that several topics share, so each runs once per text."""
        out: list[tuple[int, int]] = []
        for gate, rx, boundary, leads in self.patterns:
            key = (rx.pattern, boundary)
            if memo is not None and key in memo.matches:
                out += memo.matches[key]
                continue
            found: list[tuple[int, int]] = []
            if gate is None or any(memo.has(g) if memo is not None else g in text for g in gate):
                if leads is not None:
                    found = _match_at_leads(text, rx, boundary, leads)
                elif boundary:
                    found = [(m.start(), m.end()) for m in rx.finditer(text) if not _word_before(text, m.start())]
                else:
                    found = [(m.start(), m.end()) for m in rx.finditer(text)]
            if memo is not None:
                memo.matches[key] = found
            out += found
        return out

    def search(self, text: str) -> bool:
        for gate, rx, boundary, _leads in self.patterns:
            if gate is not None and not any(g in text for g in gate):
                continue
            if any(not (boundary and _word_before(text, m.start())) for m in rx.finditer(text)):
                return True
        return False


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

    def matches_item(self, item: ChecklistItem) -> bool:
        return self.items is not None and self.items.search(item_wording(item.text)) is not None

    def asks(self, question: Question) -> bool:
        return self.questions is not None and self.questions.search(question.title) is not None


@dataclass(frozen=True, slots=True)
class Catalog:
    family: str
    path: Path
    topics: tuple[Topic, ...]
    open_questions: re.Pattern[str] | None = None  # questions whose "no" denies none of their topics
    contribution_questions: re.Pattern[str] | None = None  # answers listing who did what: mentions are claims
    _memo: dict[tuple[str, str], tuple[Topic, ...]] = field(default_factory=dict, compare=False, repr=False)

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
        return (
            self.contribution_questions is not None and self.contribution_questions.search(question.title) is not None
        )

    def is_open(self, question: Question) -> bool:
        return self.open_questions is not None and self.open_questions.search(question.title) is not None

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


def _required(seq: Any) -> frozenset[str] | None:
    """Literal strings of which at least one occurs in every match of the parsed pattern ``seq`` (None: unknown)."""
    best: frozenset[str] | None = None

    def consider(cands: frozenset[str] | None) -> None:
        nonlocal best
        if cands and (best is None or min(map(len, cands)) > min(map(len, best))):
            best = cands

    run: list[str] = []
    for op, av in seq:
        if op is sre_constants.LITERAL:
            run.append(chr(av).lower())
            continue
        if run:
            consider(frozenset({"".join(run)}))
            run = []
        if op is sre_constants.SUBPATTERN:
            consider(_required(av[-1]))
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT) and av[0] >= 1:
            consider(_required(av[2]))
        elif op is sre_constants.BRANCH:
            subs = [_required(b) for b in av[1]]
            if all(subs):
                consider(frozenset().union(*(x for x in subs if x)))
    if run:
        consider(frozenset({"".join(run)}))
    return best


def _terms(where: str, patterns: Any) -> Terms | None:
    if patterns is None:
        return None
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise ConfigError(f"{where}: expected a list of regular expressions")
    out = []
    for p in patterns:
        boundary = p.startswith("\\b") and not p.startswith("\\b(")
        body = p[2:] if boundary else p
        try:
            rx = re.compile(body)
            parsed = sre_parse.parse(body)
        except re.error as exc:
            raise ConfigError(f"{where}: bad regular expression {p!r} ({exc})") from exc
        req, lead = _required(parsed), _leading(parsed)
        leads = tuple(sorted(lead)) if lead and min(map(len, lead)) >= 2 and lead.isdisjoint({""}) else None
        # a plain literal start is scanned fast by the regex engine itself; lead positions help the others
        if leads is not None and body.startswith(leads[0]) and len(leads) == 1:
            leads = None
        out.append((req if req and min(map(len, req)) >= 2 else None, rx, boundary, leads))
    return Terms(tuple(out)) if out else None


def _flag(where: str, raw: dict[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}.{key}: expected true or false")
    return value


def _topic(path: Path, index: int, raw: Any) -> Topic:
    where = f"{path.name}: topic {index + 1}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table")
    tid, name = raw.get("id"), raw.get("name", raw.get("id"))
    if not isinstance(tid, str) or not tid or not isinstance(name, str):
        raise ConfigError(f"{where}: needs a string 'id' (and 'name')")
    where = f"{path.name}: topic {tid!r}"
    terms = _terms(f"{where}.terms", raw.get("terms"))
    if terms is None:
        raise ConfigError(f"{where}: needs at least one pattern in 'terms'")
    unknown = set(raw) - {
        *("id", "name", "items", "questions", "terms", "strong", "local", "negative", "context"),
        *("ticked", "unticked", "unsupported", "internal"),
    }
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    return Topic(
        id=tid,
        name=name,
        items=_compile(f"{where}.items", raw.get("items", [])),
        questions=_compile(f"{where}.questions", raw.get("questions", [])),
        terms=terms,
        strong=_terms(f"{where}.strong", raw.get("strong")) or terms,
        local=_terms(f"{where}.local", raw.get("local")),
        negative=_terms(f"{where}.negative", raw.get("negative")),
        context=_terms(f"{where}.context", raw.get("context")),
        ticked=_flag(where, raw, "ticked", True),
        unticked=_flag(where, raw, "unticked", True),
        unsupported=_flag(where, raw, "unsupported", False),
        internal=_flag(where, raw, "internal", False),
    )


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int) -> Catalog:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read catalog ({exc.strerror or exc})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a valid TOML catalog ({exc})") from exc
    raw_topics = data.get("topic")
    if not isinstance(raw_topics, list) or not raw_topics:
        raise ConfigError(f"{path}: a catalog needs at least one [[topic]] table")
    topics = tuple(_topic(path, i, t) for i, t in enumerate(raw_topics))
    ids = [t.id for t in topics]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{path}: duplicate topic ids")
    return Catalog(
        family=str(data.get("family", path.stem)),
        path=path,
        topics=topics,
        open_questions=_compile(f"{path.name}: open_questions", data.get("open_questions", [])),
        contribution_questions=_compile(f"{path.name}: contribution_questions", data.get("contribution_questions", [])),
    )


def load_catalog(path: Path | str | None = None) -> Catalog:
    """The catalog at ``path`` (default: the one shipped for the MLOps report family), parsed once per file version."""
    p = Path(path) if path is not None else DEFAULT_CATALOG
    try:
        mtime = p.stat().st_mtime_ns
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read catalog ({exc.strerror or exc})") from exc
    return _load(p.resolve(), mtime)
