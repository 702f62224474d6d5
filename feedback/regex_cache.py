"""Compiled regular expressions kept between runs: a start-up shortcut for the command line.

Compiling the few hundred patterns a check uses (the project's rules, the topic catalog, markdown-it's) is most of
the CPU time of a one-report ``feedback check`` process. Python cannot store a compiled pattern, but what
``re.compile`` computes before its last step (the pattern's flags, its SRE code and its groups) is plain data:
:func:`save` writes that, per interpreter version, beside the catalog cache. :func:`load` reads the store and gives
``re`` a pattern cache that builds a stored pattern the first time it is asked for (a lookup that would otherwise
miss), so a process pays only for the patterns it uses: ``batch``, ``review`` or ``--help`` as much as ``check``.
A loaded pattern equals the freshly compiled one (``Pattern.__eq__`` compares flags and code; :func:`save` checks
it), and any mismatch in format or version just means the patterns are compiled as usual.

The store is bounded: it keeps the patterns of the runs that wrote it, most recent first, up to a number of
patterns and of code words, so patterns of older versions of the package (or of a report seen once) drop out
instead of filling it up.
"""

from __future__ import annotations

import marshal
import os
import re
import sys
import zlib
from array import array
from pathlib import Path
from typing import Any

from feedback.user_cache import cache_home, prune

try:
    import _sre
    from re import _compiler, _parser  # type: ignore[attr-defined]
except ImportError:  # another Python implementation: nothing to keep
    _sre = None

_FORMAT = 3  # also in the file name: a store written by another version of this module is never read
# a process that used more patterns than this (a test session, a tool built on the package) leaves the store alone
_MAX_RUN = 1000  # a check of a long report: about 520 patterns
KEPT_STORES = 4  # stores of other interpreters, installations or formats beyond these are removed
# what the store keeps at most, the most recently used first: several runs' worth (one long report: 50,000 words)
_MAX_STORED, _MAX_CODE = 1500, 250_000
_MAX_BYTES = 2 << 20  # a larger store (written by something else) is not read
# the code is kept as raw bytes (one bytes object per pattern loads far faster than a list of ints), in the
# machine's word size for SRE code
_WORD = "I" if _sre is not None and array("I").itemsize == _sre.CODESIZE else ""
# (pattern, flags) -> (flags, code, groups, groupindex, indexgroup, generation of the last run that used it)
Entry = tuple[int, bytes, int, dict[str, int], tuple[str | None, ...], int]
_stored: dict[tuple[str, int], Entry] = {}
_generation = 0  # the store's: one more with every save
_used: set[tuple[str, int]] = set()  # stored patterns this process asked for
_compiled: set[tuple[str, int]] = set()  # patterns this process compiled that the store lacked


class _PatternCache(dict[Any, Any]):
    """``re``'s own pattern cache (keys ``(type, pattern, flags)``), which also finds the stored patterns: a miss
    builds the stored pattern (Python 3.11 looks up with ``[]``, 3.12 and later with ``pop``), and a pattern
    ``re`` compiled itself is noted for :func:`save`."""

    __slots__ = ()

    def _build(self, key: Any) -> Any:
        if key[0] is not str:
            return None
        entry = _stored.get(key[1:])
        if entry is None:
            return None
        flags, code, groups, groupindex, indexgroup, _ = entry
        _used.add(key[1:])
        return _sre.compile(key[1], flags, array(_WORD, code).tolist(), groups, groupindex, indexgroup)

    def __missing__(self, key: Any) -> Any:
        pattern = self._build(key)
        if pattern is None:
            raise KeyError(key)
        dict.__setitem__(self, key, pattern)
        return pattern

    def pop(self, key: Any, *default: Any) -> Any:
        if dict.__contains__(self, key):
            return dict.pop(self, key)
        pattern = self._build(key)
        if pattern is not None:
            return pattern
        return dict.pop(self, key, *default)

    def __setitem__(self, key: Any, value: Any) -> None:
        dict.__setitem__(self, key, value)
        if key[0] is str and key[1:] not in _stored and len(_compiled) <= _MAX_RUN:
            _compiled.add(key[1:])


def _store() -> Path | None:
    """The cache file for this interpreter (None without a home directory)."""
    if _sre is None or not _WORD:
        return None
    home = cache_home()
    if home is None:
        return None
    tag = f"{sys.implementation.cache_tag}-{sys.hexversion:x}-{_sre.MAGIC}"
    # one store per installation: two checkouts of different versions (or a test session beside the command line)
    # would otherwise keep replacing each other's patterns, and each run would compile what the other dropped
    where = f"{zlib.crc32(os.path.dirname(os.path.abspath(__file__)).encode()):08x}"
    return home / f"regex{_FORMAT}-{tag}-{where}.marshal"


def load() -> None:
    """Give ``re`` a pattern cache that finds the stored patterns (quietly nothing when there is no usable store
    or ``re`` keeps its patterns some other way)."""
    global _generation
    path = _store()
    if path is None or isinstance(re._cache, _PatternCache):  # type: ignore[attr-defined]
        return
    if not isinstance(getattr(re, "_cache", None), dict):
        return
    # the store is a few thousand small tuples; the collector is already resting while the package imports this
    # module (feedback/__init__.py), so building them costs no collections
    try:
        if path.stat().st_size <= _MAX_BYTES:
            kept = marshal.loads(path.read_bytes())
            if kept[0] == _FORMAT and kept[1] == sys.version:
                _generation, stored = int(kept[2]), kept[3]
                _stored.update(stored)
    except FileNotFoundError:
        pass  # no store yet: the patterns this run compiles are noted for save
    except (OSError, EOFError, ValueError, TypeError, IndexError, KeyError, RuntimeError, AttributeError):
        _stored.clear()  # a damaged or foreign store: compile as usual, and the next save replaces it
    re._cache = _PatternCache(re._cache)  # type: ignore[attr-defined]


def _entry(pattern: str, flags: int, generation: int) -> Entry | None:
    """What ``re.compile`` computes for ``pattern`` before building it, when rebuilding from it gives an equal
    pattern (None otherwise)."""
    try:
        parsed = _parser.parse(pattern, flags)
        code = [int(op) for op in _compiler._code(parsed, flags)]  # named opcodes are int subclasses
        groupindex = dict(parsed.state.groupdict)
        indexgroup: list[str | None] = [None] * parsed.state.groups
        for name, i in groupindex.items():
            indexgroup[i] = name
        full = int(flags | parsed.state.flags)
        if _sre.compile(pattern, full, code, parsed.state.groups - 1, groupindex, tuple(indexgroup)) != re.compile(
            pattern, flags
        ):
            return None
        raw = array(_WORD, code).tobytes()
        return (full, raw, parsed.state.groups - 1, groupindex, tuple(indexgroup), generation)
    except Exception:  # a shortcut only: any surprise means this pattern is not kept
        return None


def save() -> None:
    """Write the store again when this process compiled a pattern the store lacked (nothing to do on a warm
    run): this run's patterns first, then the stored ones most recently used, within the store's bounds. A
    process that used very many patterns writes nothing."""
    global _generation
    path = _store()
    if path is None or not _compiled or len(_compiled) + len(_used) > _MAX_RUN:
        return
    generation = _generation + 1
    kept: dict[tuple[str, int], Entry] = {}
    for key in sorted(_compiled):
        entry = _entry(*key, generation)
        if entry is not None:
            kept[key] = entry
    for key in _used:
        kept[key] = (*_stored[key][:5], generation)
    words = sum(len(e[1]) for e in kept.values()) // array(_WORD).itemsize
    older = sorted((e[5], k) for k, e in _stored.items() if k not in kept)
    while older and len(kept) < _MAX_STORED:
        key = older.pop()[1]  # the most recently used of the rest
        words += len(_stored[key][1]) // array(_WORD).itemsize
        if words > _MAX_CODE:
            break
        kept[key] = _stored[key]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(marshal.dumps((_FORMAT, sys.version, generation, kept)))
        os.replace(tmp, path)
    except (OSError, ValueError):
        return
    prune(path, "regex*.marshal", KEPT_STORES)
    # this process goes on as if it had loaded what it wrote (a second save writes only what is new again)
    _generation = generation
    _stored.clear()
    _stored.update(kept)
    _compiled.clear()


load()  # on import: the package imports this module before any module that compiles patterns
