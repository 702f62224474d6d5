"""Compiled regular expressions kept between runs: a start-up shortcut for the command line.

Compiling the few hundred patterns a check uses (the project's rules, the topic catalog, markdown-it's) is most of
the CPU time of a one-report ``feedback check`` process. Python cannot store a compiled pattern, but what
``re.compile`` computes before its last step (the pattern's flags, its SRE code and its groups) is plain data:
:func:`save` writes that, per interpreter version, beside the catalog cache, and :func:`load` builds the patterns
from it and puts them into the ``re`` module's own cache, so the later ``re.compile`` calls find them. A loaded
pattern equals the freshly compiled one (``Pattern.__eq__`` compares flags and code; :func:`save` checks it), and
any mismatch in format or version just means the patterns are compiled as usual.
"""

from __future__ import annotations

import gc
import marshal
import os
import re
import sys
import zlib
from pathlib import Path
from typing import Any

try:
    import _sre
    from re import _compiler, _parser  # type: ignore[attr-defined]
except ImportError:  # another Python implementation: nothing to keep
    _sre = None

_FORMAT = 2  # also in the file name: a store written by another version of this module is never read
# re keeps 512 patterns by default; one check of a long report uses more (the catalog's, the checklist wordings'),
# and a stored pattern pushed out would be compiled again on every run
_RE_CACHE_SIZE = 4096
# a process with more patterns than this (a test session, a tool built on the package) leaves the store alone
_MAX_STORED, _MAX_CODE = 1000, 200_000  # a check of a long report: 521 patterns, 50,000 code words
_MAX_BYTES = 2 << 20  # a larger store (written by something else) is not read: loading it would cost more than it saves
# pattern key -> (flags, code, groups, groupindex, indexgroup): the arguments of _sre.compile after the pattern
Entry = tuple[int, list[int], int, dict[str, int], tuple[str | None, ...]]
_known: dict[tuple[str, int], Entry] = {}


def _store() -> Path | None:
    """The cache file for this interpreter (None without a home directory)."""
    if _sre is None:
        return None
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:
            return None
    tag = f"{sys.implementation.cache_tag}-{sys.hexversion:x}-{_sre.MAGIC}"
    # one store per installation: two checkouts of different versions (or a test session beside the command line)
    # would otherwise keep replacing each other's patterns, and each run would compile what the other dropped
    where = f"{zlib.crc32(os.path.dirname(os.path.abspath(__file__)).encode()):08x}"
    return Path(base) / "feedback" / f"regex{_FORMAT}-{tag}-{where}.marshal"


def load() -> None:
    """Put every stored pattern into ``re``'s cache (quietly nothing when there is no usable store)."""
    path = _store()
    if path is None or _known:
        return
    if isinstance(getattr(re, "_MAXCACHE", None), int):
        re._MAXCACHE = max(re._MAXCACHE, _RE_CACHE_SIZE)  # type: ignore[attr-defined]
    enabled = gc.isenabled()
    gc.disable()  # the store is a few thousand small lists: collecting while they are built only costs time
    try:
        if path.stat().st_size > _MAX_BYTES:
            return
        kept = marshal.loads(path.read_bytes())
        if kept[0] != _FORMAT or kept[1] != sys.version:
            return
        cache: dict[Any, re.Pattern[Any]] = re._cache  # type: ignore[attr-defined]
        for (pattern, flags), entry in kept[2].items():
            cache[str, pattern, flags] = _sre.compile(pattern, *entry)
            _known[pattern, flags] = entry
    except (OSError, EOFError, ValueError, TypeError, IndexError, KeyError, RuntimeError, AttributeError):
        _known.clear()  # a damaged or foreign store: compile as usual, and the next save replaces it
    finally:
        if enabled:
            gc.enable()


def _entry(pattern: str, flags: int) -> Entry | None:
    """What ``re.compile`` computes for ``pattern`` before building it, when rebuilding from it gives an equal
    pattern (None otherwise)."""
    try:
        parsed = _parser.parse(pattern, flags)
        code = [int(op) for op in _compiler._code(parsed, flags)]  # named opcodes are int subclasses
        groupindex = dict(parsed.state.groupdict)
        indexgroup: list[str | None] = [None] * parsed.state.groups
        for name, i in groupindex.items():
            indexgroup[i] = name
        entry: Entry = (int(flags | parsed.state.flags), code, parsed.state.groups - 1, groupindex, tuple(indexgroup))
        if _sre.compile(pattern, *entry) != re.compile(pattern, flags):
            return None
        return entry
    except Exception:  # a shortcut only: any surprise means this pattern is not kept
        return None


def save() -> None:
    """Replace the store with the patterns this process holds when any of them was compiled here (nothing to do
    on a warm run). They include the ones loaded from the store, so the store grows by what other reports need; a
    process with very many patterns writes nothing."""
    path = _store()
    if path is None:
        return
    cache: dict[Any, re.Pattern[Any]] = re._cache  # type: ignore[attr-defined]
    keys = [(k[1], int(k[2])) for k in list(cache) if isinstance(k, tuple) and len(k) == 3 and k[0] is str]
    if len(keys) > _MAX_STORED:
        return
    if all(k in _known for k in keys):
        return  # warm
    kept: dict[tuple[str, int], Entry] = {}
    for pattern, flags in keys:
        entry = _known.get((pattern, flags)) or _entry(pattern, flags)
        if entry is not None:
            kept[pattern, flags] = entry
    if sum(len(e[1]) for e in kept.values()) > _MAX_CODE:
        return
    _known.clear()
    _known.update(kept)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(marshal.dumps((_FORMAT, sys.version, kept)))
        os.replace(tmp, path)
    except (OSError, ValueError):
        pass


load()  # on import: the package imports this module before any module that compiles patterns
