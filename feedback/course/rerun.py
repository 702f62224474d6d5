"""The rerun index of a batch's output folder (``DIR/.cache/index.json``): what a rerun compares to see, without
reading any report or page, that nothing changed.

It is written at the end of every batch and holds, for each report checked without error, the stat data of the
report and of its blank template (taken before the report was read), its rerun key and the files its checks looked
at; for the course, a key over the report list (slugs, names, groups, paths, templates, in order), the options and
the tool's code; and the stat data of every output the run left. When a rerun finds all of it unchanged, every
output already is what the run would write: nothing is read, checked or written. Anything else (a report edited or
only touched, a page edited or removed, another report list) and the rerun takes the ordinary path, where each
report's key is computed from its bytes and the index is written again.

Stat data is the inode, the size and the modification and change times in nanoseconds: writing a file changes its
change time (which no tool can set back), so a report given new bytes is never taken for unchanged. The index
differs between two output folders of the same course (inodes and times), which is why comparisons of output
folders leave it out (:data:`INDEX`).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any, NamedTuple

INDEX = ".cache/index.json"  # relative to the output folder
FORMAT = 1
# the files a batch writes at the top of its output folder (tests/test_batch.py keeps this list complete)
COURSE_FILES = (
    "findings.csv",
    "summary.csv",
    "codes.csv",
    "checklist.csv",
    "checklist.html",
    "feedback.csv",
    "index.html",
)
# a report's own outputs, by slug
REPORT_FILES = (
    "reports/{}.json",
    "reports/{}.html",
    "reports/{}.md",
    "reports/{}.feedback.md",
    ".cache/{}.key",
    ".cache/{}.sketch.json",
)

Sig = list[int]


def sig(path: str | Path) -> Sig | None:
    """A file's stat data (None when it cannot be read)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


class Before(NamedTuple):
    """A report's and its template's stat data, taken before either is read (a file that changes while it is
    checked then differs next time, instead of the index pairing the new data with the old key)."""

    report: Sig | None
    template: Sig | None


def before(path: Path, template: Path | None) -> Before:
    return Before(sig(path), sig(template) if template is not None else None)


def file_state(path: Path) -> list[str]:
    """What a rerun compares for one path a report's checks looked at: what is there (a file, a folder, something
    else, nothing) and where it leads (the page shows only files inside the group's folder)."""
    try:
        mode = path.stat().st_mode
        real = os.path.realpath(path)
    except (OSError, ValueError):
        return [str(path), "none"]
    kind = "file" if stat.S_ISREG(mode) else "dir" if stat.S_ISDIR(mode) else "other"
    return [str(path), kind, real]


class FileStates:
    """:func:`file_state` with each folder's real path worked out once per run: the images of a course sit in a
    few folders per report, and resolving every component of every image path was most of a warm rerun."""

    def __init__(self) -> None:
        self._real: dict[str, str] = {}

    def __call__(self, name: str) -> list[str]:
        try:
            mode = os.lstat(name).st_mode
        except (OSError, ValueError):
            return [name, "none"]
        head, tail = os.path.split(name)
        if stat.S_ISLNK(mode) or tail in ("", ".", ".."):
            return file_state(Path(name))  # where a link leads is the link's business
        folder = head or "."
        real = self._real.get(folder)
        if real is None:
            real = self._real[folder] = os.path.realpath(folder)
        kind = "file" if stat.S_ISREG(mode) else "dir" if stat.S_ISDIR(mode) else "other"
        return [name, kind, os.path.join(real, tail)]


def course_key(code: str, options: str, entries: Iterable[Any]) -> str:
    """A key over what every course output depends on besides the reports' own keys."""
    h = hashlib.sha256(f"{FORMAT}\0{code}\0{options}".encode())
    for e in entries:
        h.update(f"\0{e.slug}\0{e.name}\0{e.group}\0{e.path}\0{e.template}".encode())
    return h.hexdigest()


class Index:
    """The index as read from an output folder (empty when there is none, or none this version can read)."""

    def __init__(self, out: Path, data: dict[str, Any] | None = None) -> None:
        self.out = out
        data = data or {}
        self.course: str = data.get("course", "")
        self.reports: dict[str, dict[str, Any]] = data.get("reports", {})
        self.outputs: dict[str, Sig | None] = data.get("outputs", {})

    @classmethod
    def load(cls, out: Path) -> Index:
        try:
            data = json.loads((out / INDEX).read_bytes())
        except (OSError, ValueError):
            return cls(out)  # none yet, or damaged: the ordinary path rebuilds it
        ok = isinstance(data, dict) and data.get("format") == FORMAT
        ok = ok and isinstance(data.get("reports"), dict) and isinstance(data.get("outputs"), dict)
        return cls(out, data if ok else None)

    def unchanged(self, course: str, entries: Sequence[Any], seen: dict[str, Before]) -> bool:
        """True when nothing any output depends on changed since the index was written (False for an index of
        another shape: it is only a shortcut)."""
        if not self.course or self.course != course or len(self.reports) != len(entries):
            return False
        try:
            return self._unchanged(entries, seen)
        except (AttributeError, TypeError, ValueError, IndexError, KeyError):
            return False

    def _unchanged(self, entries: Sequence[Any], seen: dict[str, Before]) -> bool:
        states = FileStates()
        for e in entries:
            r = self.reports.get(e.slug)
            b = seen[e.slug]
            if r is None or b.report is None or r.get("sig") != b.report or r.get("template") != b.template:
                return False
            if any(states(f[0]) != f for f in r.get("files", ())):
                return False
        base = os.path.join(self.out, "")
        return all(sig(base + name) == s for name, s in self.outputs.items())

    def forget(self) -> None:
        """Remove the file before outputs change, so an interrupted run never leaves an index that vouches for
        them."""
        with suppress(OSError):
            (self.out / INDEX).unlink()


def save(out: Path, course: str, seen: dict[str, Before], keys: dict[str, tuple[str, list[list[str]]]]) -> None:
    """Write the index of a finished run: ``keys`` holds each report's key and looked-at files, by slug, for the
    reports checked without error."""
    from feedback.course.runner import write_atomic
    from feedback.errors import WriteError

    reports: dict[str, dict[str, Any]] = {}
    outputs: dict[str, Sig | None] = {}
    for slug, (key, files) in keys.items():
        b = seen[slug]
        reports[slug] = {"sig": b.report, "template": b.template, "key": key, "files": files}
        for name in REPORT_FILES:
            outputs[name.format(slug)] = sig(out / name.format(slug))
    for name in COURSE_FILES:
        outputs[name] = sig(out / name)
    data = {"format": FORMAT, "course": course, "reports": reports, "outputs": outputs}
    with suppress(WriteError):  # only a shortcut: the next run takes the ordinary path
        write_atomic(out / INDEX, json.dumps(data, separators=(",", ":")))
