"""Code that dataclasses and named tuples generate, kept compiled between runs: a start-up shortcut.

Making a dataclass or a named tuple writes the source of its methods (``__init__``, ``__repr__``, ``__eq__``, ...)
and compiles it with ``exec``/``eval`` at every start, and ``typing.NamedTuple`` compiles each field's annotation
(a string under ``from __future__ import annotations``): about 200 compilations while a check imports its modules,
most of the cost of making those classes. Within :func:`active` (the package's imports, and the checks and the
catalog loaded for ``check``), ``dataclasses``, ``collections`` and ``typing`` get an ``exec``, ``eval`` and
``compile`` that look the source up in a store of code objects (``marshal``, per interpreter version and
installation, beside the compiled patterns) and compile only what the store lacks. The code run is what the
builtins would compile: the same source and file name, no ``__future__`` flags (none of those modules has any).
Outside that window the three modules use the builtins as usual; a damaged or foreign store just means compiling.
"""

from __future__ import annotations

import builtins
import marshal
import os
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

from feedback.user_cache import cache_home, prune

_FORMAT = 1  # also in the file name: a store written by another version of this module is never read
MAX_STORED = 600  # a check makes about 200; a process that made more than this (tests, a tool) writes nothing
KEPT_STORES = 4  # stores of other interpreters or installations beyond these are removed
_MAX_BYTES = 4 << 20  # a larger store (written by something else) is not read
_FILE = "<string>"  # the file name exec and eval give code compiled from a string

Key = tuple[str, str]  # (mode, source)
_stored: dict[Key, CodeType] = {}
_used: set[Key] = set()
_compiled: set[Key] = set()  # compiled by this process: the store lacked them
_loaded = False
_depth = 0


def _code(source: str, mode: str) -> CodeType:
    key = (mode, source)
    code = _stored.get(key)
    if code is None:
        code = builtins.compile(source, _FILE, mode, dont_inherit=True)
        _stored[key] = code
        _compiled.add(key)
    _used.add(key)
    return code


def _exec(source: Any, globals: Any = None, locals: Any = None, /, **kwargs: Any) -> None:
    if type(source) is str:
        source = _code(source, "exec")
    builtins.exec(source, globals, locals, **kwargs)


def _eval(source: Any, globals: Any = None, locals: Any = None, /) -> Any:
    if type(source) is str:
        source = _code(source, "eval")
    return builtins.eval(source, globals, locals)


def _compile(
    source: Any, filename: Any, mode: str, flags: int = 0, dont_inherit: bool = False, optimize: int = -1
) -> Any:
    if type(source) is str and filename == _FILE and flags == 0 and optimize == -1 and mode in ("exec", "eval"):
        return _code(source, mode)
    return builtins.compile(source, filename, mode, flags, dont_inherit, optimize)


def _targets() -> list[tuple[ModuleType, str, Any]]:
    import collections
    import dataclasses
    import typing

    return [(dataclasses, "exec", _exec), (collections, "eval", _eval), (typing, "compile", _compile)]


def _store() -> Path | None:
    home = cache_home()
    if home is None:
        return None
    # per installation: two checkouts (or a test session beside the command line) make different classes
    where = f"{zlib.crc32(os.path.dirname(os.path.abspath(__file__)).encode()):08x}"
    return home / f"code{_FORMAT}-{sys.implementation.cache_tag}-{sys.hexversion:x}-{where}.marshal"


def _load() -> None:
    global _loaded
    _loaded = True
    path = _store()
    if path is None:
        return
    try:
        if path.stat().st_size > _MAX_BYTES:
            return
        kept = marshal.loads(path.read_bytes())
        if kept[0] == _FORMAT and kept[1] == sys.version:
            for (mode, source), code in kept[2].items():
                if type(mode) is str and type(source) is str and type(code) is CodeType:
                    _stored[mode, source] = code
    except FileNotFoundError:
        pass
    except (OSError, EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError):
        _stored.clear()  # damaged or foreign: compile as usual, and the next save replaces it


@contextmanager
def active() -> Iterator[None]:
    """Within the block, generated code comes from the store (or is compiled and noted for :func:`save`)."""
    global _depth
    if not _loaded:
        _load()
    targets = _targets()
    if _depth == 0:
        for module, name, replacement in targets:
            setattr(module, name, replacement)  # a module global shadows the builtin of that name
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            for module, name, _replacement in targets:
                if name in vars(module):
                    delattr(module, name)


def save() -> None:
    """Write the store again when this process compiled code it lacked (nothing to do on a warm run): this run's
    code first, then the rest of the stored code, up to :data:`MAX_STORED` entries."""
    path = _store()
    if path is None or not _compiled or len(_used) > MAX_STORED:
        return
    kept = {key: _stored[key] for key in _used}
    for key, code in _stored.items():
        if len(kept) >= MAX_STORED:
            break
        kept.setdefault(key, code)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(marshal.dumps((_FORMAT, sys.version, kept)))
        os.replace(tmp, path)
    except (OSError, ValueError):
        return
    prune(path, "code*.marshal", KEPT_STORES)
    _compiled.clear()
