"""The user's cache folder for start-up shortcuts (the catalog's analysis, compiled patterns), kept bounded.

Each file there is keyed by what it was built from (the catalog's bytes, the code, the interpreter, the
installation), so every upgrade or edited catalog writes a new one; without pruning they pile up for good (a
developer's folder held 120 files, 19 MB). Pruning runs only when a new file is written, which is rare, so a
warm run pays nothing for it.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_home() -> Path | None:
    """``$XDG_CACHE_HOME/feedback`` or ``~/.cache/feedback``; None without a home directory."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home directory to speak of
            return None
    return Path(base) / "feedback"


def prune(written: Path, pattern: str, keep: int) -> None:
    """Remove the files of ``written``'s folder that match ``pattern`` beyond the ``keep`` most recently written,
    never ``written`` itself. Another process pruning at the same time, or a file that cannot be removed, is not an
    error: the next write tries again."""
    from contextlib import suppress  # only when a new file was written

    try:
        files = sorted(written.parent.glob(pattern), key=_mtime, reverse=True)
    except OSError:
        return
    old = [f for f in files if f != written][max(0, keep - 1) :]
    for f in old:
        with suppress(OSError):
            f.unlink()


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0
