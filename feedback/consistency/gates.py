"""Literal gates for the sentence-level cue patterns (hedges, attempts, denials, ...).

Most cue patterns open with a word boundary, so the regex engine tries them at every position of every sentence they
are asked about. But every match of such a pattern contains one of a few literals, found from the pattern itself
(:func:`~feedback.consistency.catalog.required_literals`), so a sentence holding none of them cannot match. One
Aho-Corasick scan per answer finds the literals of all gated patterns at once and gives each sentence a bit mask of
the patterns it may match; a pattern whose bit is clear is not run at all. The gate is a necessary condition only:
where it is open the pattern decides, so results are exactly those of running the pattern everywhere.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any, cast

from feedback.hashing import blake2b
from feedback.user_cache import cache_home, prune

KEPT_FILES = 4  # literal sets of other versions beyond these are removed when one is written


class Gates:
    """Bit masks of the patterns a text may match, from one scan for the literals every match of each contains."""

    def __init__(self, patterns: tuple[re.Pattern[str], ...]) -> None:
        self.patterns = patterns
        self._bits: dict[int, int] | None = None  # id(pattern) -> its bit (patterns without literals: none)
        self._automaton: Any = None

    def _build(self) -> dict[int, int]:
        import ahocorasick

        bits: dict[int, int] = {}
        by_literal: dict[str, int] = {}
        for i, (rx, literals) in enumerate(zip(self.patterns, _literal_sets(self.patterns), strict=True)):
            if not literals or "" in literals:
                continue  # nothing every match must contain: the pattern always runs
            bits[id(rx)] = 1 << i
            for lit in literals:
                by_literal[lit] = by_literal.get(lit, 0) | 1 << i
        automaton = ahocorasick.Automaton()
        for lit, b in by_literal.items():
            automaton.add_word(lit, (len(lit), b))
        if by_literal:
            automaton.make_automaton()
            self._automaton = automaton
        self._bits = bits
        return bits

    def may_match(self, rx: re.Pattern[str], mask: int) -> bool:
        """Whether a text with ``mask`` may hold a match of ``rx`` (always, for a pattern that is not gated)."""
        bits = self._bits if self._bits is not None else self._build()
        bit = bits.get(id(rx), 0)
        return not bit or bool(mask & bit)

    def masks(self, text: str, spans: list[tuple[int, int]]) -> list[int]:
        """For each ``(start, end)`` of ``spans`` (sorted, not overlapping), the bits of the gated patterns one of
        whose literals lies wholly inside ``text[start:end]``; ungated patterns' bits are set everywhere."""
        bits = self._bits if self._bits is not None else self._build()
        always = ~sum(bits.values())  # patterns without a gate
        out = [always] * len(spans)
        if self._automaton is None or not spans:
            return out
        k, n = 0, len(spans)
        for end, (length, b) in self._automaton.iter(text):  # hits come in order of their end
            start = end - length + 1
            while k < n and spans[k][1] <= end:
                k += 1
            if k == n:
                break
            if spans[k][0] <= start:
                out[k] |= b
        return out


def _literal_sets(patterns: tuple[re.Pattern[str], ...]) -> list[list[str] | None]:
    """The required literals of each pattern, kept in the user's cache folder between runs: parsing the patterns
    again would cost a one-report process a few milliseconds. The file is keyed by the patterns and the
    interpreter, so an edited pattern is simply parsed again."""
    # imported here: the catalog module imports modules that use this one
    from feedback.consistency import catalog

    h = blake2b("\0".join(f"{rx.flags}:{rx.pattern}" for rx in patterns).encode(), digest_size=16)
    h.update(sys.version.encode())
    h.update(Path(catalog.__file__).read_bytes())  # the code that finds the literals: a fix to it is not served stale
    home = cache_home()
    path = home / f"gates-{h.hexdigest()}.json" if home is not None else None
    if path is not None:
        try:
            kept = json.loads(path.read_bytes())
            if _well_formed(kept, len(patterns)):
                return cast(list[list[str] | None], kept)
        except (OSError, ValueError):
            pass
    found = [sorted(lits) if (lits := catalog.required_literals(rx)) is not None else None for rx in patterns]
    if path is not None:
        _write(path, found)
    return found


def _well_formed(kept: Any, n: int) -> bool:
    """Whether a kept file holds what :func:`_literal_sets` writes: anything else (a damaged or foreign file) is
    parsed again rather than trusted."""
    return (
        isinstance(kept, list)
        and len(kept) == n
        and all(k is None or (isinstance(k, list) and all(isinstance(w, str) for w in k)) for k in kept)
    )


def _write(path: Path, found: list[list[str] | None]) -> None:
    try:  # a start-up shortcut only: a failure means the next run parses the patterns again
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(found), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        return
    prune(path, "gates-*.json", KEPT_FILES)
