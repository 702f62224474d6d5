"""Batch runs: find many reports, check them concurrently, write per-report pages and course-wide CSVs + index.

Outputs in ``DIR``: ``reports/<slug>.{html,md,json}`` (written atomically as soon as each report is done),
``findings.csv``, ``summary.csv`` and ``index.html``. Everything is ordered by report path and carries no
timestamps, so a rerun writes identical files; a report whose input, options and tool code are unchanged is not
checked again (its JSON is read back instead). A report that fails is recorded in ``summary.csv`` with its error;
so is one that takes more than its CPU-time budget (``time_limit``), and the run goes on. A damaged cache entry
(key file, JSON page, sketches) is renamed aside (``NAME.damaged-N``) with one warning and rebuilt. Ctrl-C stops
the workers after the report each is on: the pages finished so far are kept, and the next run starts from them.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import json
import os
import re
import secrets
import signal
import sys
import threading
from array import array
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import FrameType
from typing import IO, Any, TypeGuard

from feedback.course import rerun
from feedback.course.rerun import file_state
from feedback.course.similar import kept_record
from feedback.errors import FeedbackError, InputError, WriteError
from feedback.findings import Finding
from feedback.pipeline import Options, Result, check_file
from feedback.report import Report, read_report
from feedback.report.parse import read_bytes

ReviewFn = Callable[[list[Result]], list[Result]]
REPORT_DIRS = frozenset({"reports", "report"})
SKIP_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__", ".feedback-cache"})
LLM_CHUNK = 8  # reports handed to the LLM stage at once: its own concurrency works across them
TIME_LIMIT = 60.0  # CPU seconds one report may take in the deterministic stages (batch --time-limit)


@dataclass(frozen=True, slots=True)
class Entry:
    """One report to check: where it is, the group it belongs to, how it is named in outputs."""

    path: Path
    group: str
    name: str  # shown in the CSVs and the index: the path relative to the input
    slug: str = ""  # file name stem of its outputs, unique within the batch
    template: Path | None = None  # this report's blank template (a CSV's template column), over --template


@dataclass(slots=True)
class Outcome:
    """How one report went. Its JSON shape lives in its page on disk once written (``page``); the parent process
    keeps only that path and a packed copy of the sketches, so its memory does not grow with the course."""

    entry: Entry
    held: dict[str, Any] | None = None  # the JSON shape while it is only in memory
    error: str = ""
    cached: bool = False
    packed: bytes = b""  # sketches of the answers, for answers copied between groups (course stage)
    page: Path | None = None  # the report's JSON page
    course: list[dict[str, Any]] = field(default_factory=list)  # its course-stage findings, as on the page
    warnings: list[str] = field(default_factory=list)  # damaged cache files set aside, one line each

    @property
    def ok(self) -> bool:
        return self.held is not None or self.page is not None

    @property
    def data(self) -> dict[str, Any] | None:
        """The report's JSON shape (read from its page); None when it failed."""
        if self.held is not None or self.page is None:
            return self.held
        data: dict[str, Any] = json.loads(self.page.read_bytes())
        return data

    @property
    def sketches(self) -> list[list[int]]:
        return _unpack(self.packed)

    def keep_on_disk(self, page: Path) -> None:
        self.held, self.page = None, page


def _course(data: dict[str, Any]) -> list[dict[str, Any]]:
    from feedback.course.crosscheck import COURSE_CODES

    return [f for f in data["findings"] if f["code"] in COURSE_CODES]


def _pack(sketches: list[list[int]]) -> bytes:
    """Sketch lists (question, line, crc32 hashes: all below 2**32) as one array: length, values, length, ..."""
    flat = array("I")
    for s in sketches:
        flat.append(len(s))
        flat.extend(s)
    return flat.tobytes()


def _unpack(raw: bytes) -> list[list[int]]:
    flat = array("I")
    flat.frombytes(raw)
    out, i = [], 0
    while i < len(flat):
        n = flat[i]
        out.append(flat[i + 1 : i + 1 + n].tolist())
        i += 1 + n
    return out


@dataclass(slots=True)
class BatchSummary:
    out: Path
    outcomes: list[Outcome] = field(default_factory=list)
    llm_errors: list[str] = field(default_factory=list)  # LLM-stage failures (a missing prompt, the cache), once each

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def cached(self) -> int:
        return sum(o.cached for o in self.outcomes)

    @property
    def warnings(self) -> list[str]:
        return [w for o in self.outcomes for w in o.warnings]


# --- finding the reports ---------------------------------------------------------------------------------------


def discover(spec: str, exclude: Path | None = None) -> list[Entry]:
    """Reports named by INPUT: a folder (searched recursively), a glob, a CSV with group and path columns, or a file."""
    path = Path(spec)
    if path.is_dir():
        entries = sorted(_from_folder(path, exclude), key=lambda e: e.name)
    elif path.is_file() and path.suffix.lower() == ".csv":
        entries = _from_csv(path)  # in the listing's own order
    elif path.is_file():
        entries = [Entry(path, _group_of(path, path.parent), path.as_posix())]
    elif glob.has_magic(spec):
        matches = sorted(Path(p) for p in glob.glob(spec, recursive=True) if Path(p).is_file())
        entries = [Entry(p, _group_of(p, Path(".")), p.as_posix()) for p in matches]
    else:
        try:
            path.stat()
        except FileNotFoundError:
            raise InputError(f"{spec}: no such folder, file or glob") from None
        except (OSError, ValueError) as exc:  # a link loop, a name too long
            raise InputError(f"{spec}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
        raise InputError(f"{spec}: not a folder, a file or a glob")  # a pipe, a device
    if not entries:
        raise InputError(f"{spec}: no reports found (looked for README.md / *.md in reports/ folders, then *.md)")
    return _with_slugs(entries)


def _walk(root: Path, exclude: Path | None) -> Iterator[Path]:
    # the batch's own output folder, and its pages folder when --out is the input folder itself (its Markdown drafts
    # are not reports)
    skip = {os.path.realpath(exclude), os.path.realpath(exclude / "reports")} if exclude is not None else set()
    # os.walk enters no linked folder, so a folder's real path is its parent's and its name: one lookup for the
    # root instead of resolving every folder of the course
    real = {str(root): os.path.realpath(root)}
    for dirpath, dirnames, filenames in os.walk(root):
        here, there = Path(dirpath), real.pop(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".") and os.path.join(there, d) not in skip
        )
        real.update((os.path.join(dirpath, d), os.path.join(there, d)) for d in dirnames)
        for name in sorted(filenames):
            if name.lower().endswith(".md"):
                yield here / name


def _from_folder(root: Path, exclude: Path | None) -> list[Entry]:
    files = list(_walk(root, exclude))
    in_report_dirs: dict[Path, list[Path]] = {}
    for f in files:
        if f.parent.name.lower() in REPORT_DIRS:
            in_report_dirs.setdefault(f.parent, []).append(f)
    if in_report_dirs:
        chosen = []
        for folder_files in in_report_dirs.values():
            readme = [f for f in folder_files if f.name.lower() == "readme.md"]
            chosen.extend(readme or folder_files)
    else:
        chosen = files  # a folder of loose reports, one file per group
    return [Entry(f, _group_of(f, root), f.relative_to(root).as_posix()) for f in chosen]


def _group_of(path: Path, root: Path) -> str:
    """The group's folder (``<group>/reports/README.md``), else the file name without ``.md``."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        parts = path.parts
    dirs = [p for p in parts[:-1] if p.lower() not in REPORT_DIRS]
    return dirs[-1] if dirs else Path(parts[-1]).stem


def _from_csv(path: Path) -> list[Entry]:
    """Rows of ``group,path[,template]``; paths relative to the CSV; a template per row lets one course mix eras."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            columns = {c.strip().lower(): c for c in reader.fieldnames or ()}
            if "group" not in columns or "path" not in columns:
                raise InputError(f"{path}: a batch CSV needs 'group' and 'path' columns (and may have 'template')")
            tcol = columns.get("template")
            rows = [
                (row[columns["group"]] or "", row[columns["path"]] or "", (row[tcol] or "") if tcol else "")
                for row in reader
            ]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read CSV ({exc})") from exc

    def beside(raw: str) -> Path:
        p = Path(raw.strip())
        return p if p.is_absolute() else path.parent / p

    entries = []
    for group, raw, template in rows:
        if not raw.strip():
            continue
        blank = beside(template) if template.strip() else None
        entries.append(Entry(beside(raw), group.strip(), raw.strip(), template=blank))
    return entries


def _with_slugs(entries: list[Entry]) -> list[Entry]:
    seen: set[str] = set()
    out = []
    for e in entries:
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", e.name.removesuffix(".md").replace("/", "-")).strip("._-") or "report"
        slug, n = base, 1
        while slug.lower() in seen:
            n += 1
            slug = f"{base}-{n}"
        seen.add(slug.lower())
        out.append(Entry(e.path, e.group, e.name, slug, e.template))
    return out


# --- writing ---------------------------------------------------------------------------------------------------


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write via a temporary file in the same folder and rename, so readers never see half a file."""
    with _atomic(path, "wb") as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)


_FINDING_KEYS = frozenset({"code", "check", "category", "severity", "source", "message", "questions", "evidence"})


def _page_shape(data: object) -> TypeGuard[dict[str, Any]]:
    """True when a cached JSON page has the shape the course pages read (anything else is checked again)."""
    if not isinstance(data, dict):
        return False
    parts = (data.get("report"), data.get("llm"), data.get("findings"), data.get("questions"), data.get("checklist"))
    if not (isinstance(parts[0], dict) and isinstance(parts[1], dict)):
        return False
    if not all(isinstance(p, list) for p in parts[2:]):
        return False
    return all(isinstance(f, dict) and f.keys() >= _FINDING_KEYS for f in data["findings"])


@contextmanager
def _atomic(path: Path, mode: str = "w") -> Iterator[Any]:
    """A file written (in pieces, if need be) under a temporary name in the same folder and renamed into place when
    complete. A failure is a :class:`WriteError` naming the output, never taken for a problem with a report."""
    # the temporary name is chosen before the file exists, so an interruption anywhere (Ctrl-C) can remove it
    tmp = path.parent / f".{path.name[:64]}.{secrets.token_hex(6)}.tmp"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        fh: IO[Any] = os.fdopen(fd, mode) if "b" in mode else os.fdopen(fd, mode, encoding="utf-8", newline="")
        with fh:
            yield fh
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        raise WriteError(f"{path}: cannot write ({exc.strerror or exc})") from exc
    except BaseException:
        _remove(tmp)
        raise


def _remove(path: Path) -> None:
    with suppress(OSError):
        path.unlink()


@cache
def code_fingerprint() -> str:
    """A hash of the tool's own code and templates: outputs cached by an older version are not reused."""
    h = hashlib.sha256()
    pkg = Path(__file__).resolve().parent.parent  # the whole feedback package, not only this folder
    for f in sorted(pkg.rglob("*")):
        if f.suffix in (".py", ".j2", ".toml") and "__pycache__" not in f.parts:
            h.update(f.relative_to(pkg).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def _options_key(options: Options, llm: str) -> str:
    from feedback.consistency import Catalog, load_catalog

    template = "\n".join(options.template.lines) if options.template is not None else ""
    catalog = options.catalog if isinstance(options.catalog, Catalog) else load_catalog(options.catalog)
    catalog_hash = hashlib.sha256(catalog.path.read_bytes()).hexdigest()  # another catalog: other findings
    return repr((options.select, options.ignore, options.consistency, template, catalog_hash, llm))


def _key_record(key: str, result: Result, entry: Entry) -> str:
    """A key file: the report's key and the state of every file its checks looked at besides the report (its
    images' paths). Files it does not name (other reports of a loose folder, the batch's own outputs) never make
    a rerun check it again, and no report lists its folder, so a rerun is linear in files."""
    from feedback.checks.images import looked_up

    folder = result.report.path.parent if result.report.path is not None else entry.path.parent
    files = [file_state(p) for p in looked_up(result.report, folder)]
    return json.dumps({"key": key, "files": files}, ensure_ascii=False, separators=(",", ":"))


def _read_key(raw: bytes) -> tuple[str, list[list[str]]] | None:
    """(key, files) of a key file; None when it is not one (damaged)."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("key"), str) or not isinstance(data.get("files"), list):
        return None
    files = data["files"]
    if not all(isinstance(f, list) and f and all(isinstance(x, str) for x in f) for f in files):
        return None
    return data["key"], files


OLD_KEY_RE = re.compile(rb"[0-9a-f]{64}")  # an earlier version's key file: a miss, not damage


def set_aside(path: Path, why: str) -> str:
    """Rename a damaged cache file to ``NAME.damaged-N`` (it is rebuilt); the one-line warning to show."""
    n = 1
    while path.with_name(f"{path.name}.damaged-{n}").exists():
        n += 1
    target = path.with_name(f"{path.name}.damaged-{n}")
    try:
        path.rename(target)
    except OSError as exc:
        return f"{path}: damaged cache file ({why}) could not be moved aside ({exc.strerror or exc}); rebuilt"
    return f"{path}: damaged cache file ({why}); moved to {target.name} and rebuilt"


class ReportTimeout(BaseException):
    """A report's time budget ran out. A BaseException, so that no ``except Exception`` inside a check takes it."""


@contextmanager
def time_budget(seconds: float | None) -> Iterator[None]:
    """Raise :class:`ReportTimeout` inside the block once this process has spent ``seconds`` of CPU time in it.
    CPU, not wall time, so a machine busy with other work does not fail reports. A POSIX interval timer, so only in
    the main thread (worker processes run reports there); elsewhere, or with no limit, the block runs unbounded."""
    if not seconds or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return
    armed = [True]

    def expire(_signum: int, _frame: FrameType | None) -> None:
        if armed[0]:
            raise ReportTimeout

    previous = signal.signal(signal.SIGPROF, expire)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        armed[0] = False
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


@dataclass(frozen=True, slots=True)
class Worker:
    """What checking one report needs; picklable, so reports can be checked in worker processes."""

    out: Path
    options: Options
    options_key: str
    reviewing: bool = False  # an LLM review follows: results go back to the parent instead of being written
    llm_notice: str = ""  # why a requested LLM review did not run, shown in every report
    time_limit: float | None = TIME_LIMIT  # CPU seconds per report; None: no limit
    course_stage: bool = True  # the course stage (answers copied between groups) is selected: keep sketches

    @property
    def pages(self) -> Path:
        return self.out / "reports"

    def options_for(self, entry: Entry) -> Options:
        """The batch's options, with the report's own blank template when its CSV row names one."""
        if entry.template is None:
            return self.options
        return self.options._replace(template=_blank(str(entry.template), _version(entry.template)))

    def key(self, entry: Entry) -> str:
        h = hashlib.sha256()
        for part in (code_fingerprint(), self.options_key, entry.name, entry.group):
            h.update(part.encode("utf-8"))
            h.update(b"\0")
        h.update(read_bytes(entry.path))  # refuses folders, pipes and devices with a one-line error
        if entry.template is not None:
            h.update(read_bytes(entry.template))
        return h.hexdigest()  # the files beside it that its checks look at are compared by cached()

    def cached(self, entry: Entry, key: str, warnings: list[str]) -> dict[str, Any] | None:
        """The saved JSON shape when nothing it depends on changed; a damaged key file or page (bytes that are not
        UTF-8, JSON of another shape) is set aside with a warning and the report checked again."""
        key_file = self.out / ".cache" / f"{entry.slug}.key"
        pages = [self.pages / f"{entry.slug}.{ext}" for ext in ("json", "html", "md")]
        try:
            raw = key_file.read_bytes() if key_file.is_file() else None
        except OSError:
            return None
        saved = _read_key(raw) if raw is not None else None
        if saved is None:
            if raw is not None and not OLD_KEY_RE.fullmatch(raw):
                warnings.append(set_aside(key_file, "not a key file"))
            return None
        old_key, files = saved
        if old_key != key or any(file_state(Path(f[0])) != f for f in files):
            return None
        if not all(p.is_file() for p in pages):
            return None
        try:
            data = json.loads(pages[0].read_bytes())
        except OSError:
            return None
        except ValueError:
            data = None
        if not _page_shape(data):
            warnings.append(set_aside(pages[0], "not a report page of this tool"))
            return None
        return data

    def write(self, entry: Entry, result: Result, key: str) -> dict[str, Any]:
        data = self._write_pages(entry, result)
        # the key is written last, so an interrupted write is never taken for finished work; a review that did
        # not succeed is not cached, so the next run tries it again
        if not self.reviewing or result.llm.status == "ok":
            write_atomic(self.out / ".cache" / f"{entry.slug}.key", _key_record(key, result, entry))
        return data

    def _write_pages(self, entry: Entry, result: Result) -> dict[str, Any]:
        from feedback.render.html import html_page, page_title
        from feedback.render.json import result_to_dict
        from feedback.render.markdown import markdown_draft
        from feedback.render.view import report_view

        result.source = entry.name
        result.page_dir = self.pages
        if self.llm_notice and not result.llm.message:
            result.llm.message = self.llm_notice
        data = result_to_dict(result)
        # the page and the draft from one arrangement of the report (what report_view gives each renderer)
        view = report_view(result, data)
        write_atomic(self.pages / f"{entry.slug}.html", html_page(page_title([result]), [view]))
        write_atomic(self.pages / f"{entry.slug}.md", markdown_draft([view]))
        # read by programs (and by the next run), so compact: C-encoded and a third smaller than indented JSON
        write_atomic(self.pages / f"{entry.slug}.json", json.dumps(data, ensure_ascii=False, separators=(",", ":")))
        return data

    def rewrite(
        self, entry: Entry, data: dict[str, Any], extra: list[Finding], codes: frozenset[str]
    ) -> dict[str, Any]:
        """A report's pages again, its saved findings (LLM ones included) with the course-stage ones replaced."""
        from feedback.course.crosscheck import restore

        result = check_file(entry.path, self.options_for(entry))
        restore(result, data, extra, codes)
        key_file = self.out / ".cache" / f"{entry.slug}.key"
        saved = _read_key(key_file.read_bytes()) if key_file.is_file() else None
        return self.write(entry, result, saved[0]) if saved else self._write_pages(entry, result)

    def packed(self, sketches: list[list[int]]) -> bytes:
        """The sketches the parent keeps for the course stage; none when that stage is not selected (a course of
        1,500 reports would otherwise hold a few MiB it never reads)."""
        return _pack(sketches) if self.course_stage else b""

    def check(self, entry: Entry) -> tuple[Outcome, Result | None, str]:
        """The deterministic stages for one report; writes its pages unless an LLM review follows."""
        warnings: list[str] = []
        try:
            key = self.key(entry)
            data = self.cached(entry, key, warnings)
            sketch_file = self.out / ".cache" / f"{entry.slug}.sketch.json"
            page = self.pages / f"{entry.slug}.json"
            if data is not None:
                try:
                    kept = json.loads(sketch_file.read_bytes())
                    if isinstance(kept, dict):  # a list was kept by a version without quotes: check it again
                        packed = self.packed(kept["sketches"])
                        outcome = Outcome(entry, cached=True, packed=packed, page=page, course=_course(data))
                        return outcome, None, key
                except OSError:
                    pass  # no sketches kept: check it again
                except (ValueError, TypeError, KeyError, OverflowError):
                    warnings.append(set_aside(sketch_file, "not a sketch list"))
            try:
                with time_budget(self.time_limit):
                    result = check_file(entry.path, self.options_for(entry))
                    # sketches only for the course stage: without it (its options are in the key, so a run that
                    # selects it checks the report again) they would be worked out and written for nothing
                    record = kept_record(result.report) if self.course_stage else {"sketches": [], "quotes": {}}
                    sketches = record["sketches"]
            except ReportTimeout:
                why = f"not checked: it took more than {self.time_limit:g} s of CPU time (batch --time-limit)"
                return Outcome(entry, error=why, warnings=warnings), None, ""
            write_atomic(sketch_file, json.dumps(record, ensure_ascii=False, separators=(",", ":")))
            if not self.reviewing:
                data = self.write(entry, result, key)
                packed = self.packed(sketches)
                return Outcome(entry, packed=packed, page=page, course=_course(data), warnings=warnings), None, key
            return Outcome(entry, packed=self.packed(sketches), warnings=warnings), result, key
        except FeedbackError as exc:
            return Outcome(entry, error=str(exc), warnings=warnings), None, ""
        except OSError as exc:
            why = f"{entry.path}: cannot read ({exc.strerror or exc})"
            return Outcome(entry, error=why, warnings=warnings), None, ""
        except Exception as exc:  # a bug on one report must not stop the batch; it is recorded instead
            return Outcome(entry, error=f"internal error: {type(exc).__name__}: {exc}", warnings=warnings), None, ""


def default_jobs() -> int:
    """Worker processes when --jobs is not given: one per core this process may use. Measured side by side with
    benchmarks/speed_compare.py on a 2-core machine: idle, two workers took 0.55x the wall time of one; kept busy by
    other work, 0.87x and 1.14x in two runs (the same CPU time). A default taken from the load average gave one
    worker on a machine that had just become idle, so the load is not consulted."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


_WORKER: list[Any] = []  # the worker of this process and the batch's stop event, set once by _start_worker


def _start_worker(worker: Worker, stop: Any) -> None:
    # Ctrl-C reaches every process of the terminal's group: the parent alone handles it (no worker tracebacks)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER[:] = [worker, stop]


def _check_in_worker(entry: Entry) -> tuple[Outcome, Result | None, str]:
    worker, stop = _WORKER
    if stop.is_set():  # interrupted: the reports not begun are left for the next run
        return Outcome(entry, error="interrupted"), None, ""
    result: tuple[Outcome, Result | None, str] = worker.check(entry)
    return result


def _version(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError:
        return (0, 0)  # reading it gives the one-line error
    return (st.st_mtime_ns, st.st_size)


@cache
def _blank(path: str, version: tuple[int, int]) -> Report:
    """A blank template read once per process and file version (a course uses a few, for hundreds of reports; a
    batch run in the same process as an earlier one after the blank changed reads it again)."""
    try:
        return read_report(Path(path))
    except FeedbackError as exc:
        raise InputError(f"template: {exc}") from None


def _warm_up() -> None:
    """Import the renderers, compile the templates and load the checks once, before workers are forked."""
    from feedback import render
    from feedback.pipeline import check_text
    from feedback.render.view import environment

    code_fingerprint()
    render.names()
    environment(html=True).get_template("report.html.j2")
    environment(html=False).get_template("report.md.j2")
    check_text("# warm-up\n")


class Runner:
    """Runs one batch: deterministic stages in ``jobs`` worker processes, then the LLM stage in chunks."""

    def __init__(
        self,
        out: Path,
        options: Options,
        *,
        jobs: int = 2,
        review: ReviewFn | None = None,
        llm_key: str = "",
        llm_notice: str = "",
        time_limit: float | None = TIME_LIMIT,
    ) -> None:
        self.out = out
        self.jobs = max(1, jobs)
        self.review = review
        key = _options_key(options, llm_key if review is not None else llm_notice)
        from feedback.course.crosscheck import enabled

        self.worker = Worker(
            out,
            options,
            key,
            reviewing=review is not None,
            llm_notice=llm_notice,
            time_limit=time_limit,
            course_stage=enabled(options),
        )
        self.llm_errors: list[str] = []

    def _review(self, pending: list[tuple[Outcome, Result, str]]) -> None:
        assert self.review is not None
        try:
            reviewed = self.review([r for _o, r, _k in pending])
        except FeedbackError as exc:
            reviewed = [r for _o, r, _k in pending]
            for r in reviewed:
                r.llm.status, r.llm.message = "failed", str(exc)
            if str(exc) not in self.llm_errors:
                self.llm_errors.append(str(exc))
        for (outcome, _r, key), result in zip(pending, reviewed, strict=True):
            try:
                outcome.course = _course(self.worker.write(outcome.entry, result, key))
                outcome.keep_on_disk(self.worker.pages / f"{outcome.entry.slug}.json")
            except (OSError, FeedbackError) as exc:
                outcome.error = str(exc)

    def _across_groups(self, summary: BatchSummary) -> None:
        """Course-stage findings (answers copied between groups) added to the pages of the reports they concern."""
        from feedback.course.crosscheck import across_groups

        @cache  # only reports with a flagged answer are read, each once
        def quoted(slug: str) -> dict[str, str]:
            """A report's answer quotes, as its worker kept them beside its sketches."""
            try:
                data = json.loads((self.out / ".cache" / f"{slug}.sketch.json").read_bytes())
                return {str(k): str(v) for k, v in data["quotes"].items()}
            except (OSError, ValueError, TypeError, KeyError, AttributeError):
                return {}

        wanted = across_groups(summary.outcomes, self.worker.options, quoted)
        for o in summary.outcomes:
            if not o.ok:
                continue
            have = [f for f in o.course if f["code"] in wanted.codes]
            new = wanted.findings.get(o.entry.slug, [])
            if have == [f.to_dict() for f in new]:
                continue
            try:
                data = o.data
                assert data is not None
                self.worker.rewrite(o.entry, data, new, wanted.codes)
            except (OSError, FeedbackError) as exc:
                o.error = str(exc)

    def _checked(self, entries: list[Entry]) -> Generator[tuple[Outcome, Result | None, str], None, None]:
        """Each report's deterministic outcome, in the order they finish."""
        if self.jobs == 1 or len(entries) == 1:
            yield from map(self.worker.check, entries)
            return
        # processes, not threads: the checks are pure Python and would otherwise share one core. Each process gets
        # the worker (options, catalog) once, then report paths in chunks: nothing is pickled per report but the
        # path and a small outcome (pages are written by the worker itself)
        import multiprocessing

        jobs = min(self.jobs, len(entries))
        chunk = max(1, min(16, len(entries) // (jobs * 8)))
        stop = multiprocessing.get_context().Event()
        pool = ProcessPoolExecutor(jobs, initializer=_start_worker, initargs=(self.worker, stop))
        try:
            yield from pool.map(_check_in_worker, entries, chunksize=chunk)
        except BaseException:
            # Ctrl-C (or the consumer gone): each worker finishes the report it is on, so its pages are whole, and
            # skips the rest
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown()

    def run(self, entries: list[Entry], progress: bool | None = None) -> BatchSummary:
        summary = BatchSummary(self.out)
        seen = {e.slug: rerun.before(e.path, e.template) for e in entries}  # before any report is read
        course = rerun.course_key(code_fingerprint(), self.worker.options_key, entries)
        index = rerun.Index.load(self.out)
        if index.unchanged(course, entries, seen):  # every output is already what this run would write
            pages = self.worker.pages
            summary.outcomes = [Outcome(e, cached=True, page=pages / f"{e.slug}.json") for e in entries]
            return summary
        index.forget()
        _warm_up()
        outcomes: dict[str, Outcome] = {}
        pending: list[tuple[Outcome, Result, str]] = []
        checked = self._checked(entries)
        with closing(checked), _progress(len(entries), progress) as advance:
            for outcome, result, key in checked:
                outcomes[outcome.entry.slug] = outcome
                if result is None:
                    advance(outcome.entry.name)
                    continue
                pending.append((outcome, result, key))
                if len(pending) >= LLM_CHUNK:
                    self._review(pending)
                    for o, _r, _k in pending:
                        advance(o.entry.name)
                    pending = []
            if pending:
                self._review(pending)
                for o, _r, _k in pending:
                    advance(o.entry.name)
        summary.outcomes = [outcomes[e.slug] for e in entries]
        self._across_groups(summary)
        summary.llm_errors = list(self.llm_errors)
        write_summaries(summary)
        rerun.save(self.out, course, seen, self._keys(summary))
        return summary

    def _keys(self, summary: BatchSummary) -> dict[str, tuple[str, list[list[str]]]]:
        """Each report's key and looked-at files as its key file holds them (reports that failed, or whose review
        failed, have none)."""
        keys = {}
        for o in summary.outcomes:
            if not o.ok or o.error:
                continue
            try:
                saved = _read_key((self.out / ".cache" / f"{o.entry.slug}.key").read_bytes())
            except OSError:
                continue
            if saved is not None:
                keys[o.entry.slug] = saved
        return keys


@contextmanager
def _progress(total: int, enabled: bool | None) -> Iterator[Callable[[str], None]]:
    """A progress bar on stderr; silent when stderr is not a terminal (logs, CI, tests)."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield lambda _name: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]feedback batch"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=Console(stderr=True),
        transient=False,
    ) as bar:
        task = bar.add_task("", total=total)
        yield lambda name: bar.update(task, advance=1, description=name)


def write_summaries(summary: BatchSummary) -> None:
    """findings.csv, summary.csv, the course pages and each group's feedback text, in report order. Each report's
    page is read once, its rows written at once; what is kept for the course pages is small (see Course)."""
    from feedback.course.pages import Course
    from feedback.render.csv import (
        FINDING_COLUMNS,
        SUMMARY_COLUMNS,
        finding_rows,
        neutralise,
        result_group,
        summary_row,
    )

    course = Course()
    out = summary.out
    # UTF-8 with a byte-order mark so spreadsheet programs pick the right encoding
    with _atomic(out / "findings.csv") as ff, _atomic(out / "summary.csv") as sf, _atomic(out / "feedback.csv") as lf:
        findings, summaries, letters = (csv.writer(fh, quoting=csv.QUOTE_MINIMAL) for fh in (ff, sf, lf))
        for fh, writer, columns in (
            (ff, findings, FINDING_COLUMNS),
            (sf, summaries, SUMMARY_COLUMNS),
            (lf, letters, ("group", "report", "text")),
        ):
            fh.write("\ufeff")
            writer.writerow(columns)
        for o in summary.outcomes:
            e = o.entry
            data = o.data
            group = e.group or (result_group(data) if data is not None else "")
            page = f"reports/{e.slug}.html" if data is not None else ""
            if data is not None:
                for f in finding_rows(data, group, e.name):
                    findings.writerow([neutralise(f.get(c)) for c in FINDING_COLUMNS])
            row = summary_row(data, group, e.name, o.error, page)
            summaries.writerow([neutralise(row.get(c)) for c in SUMMARY_COLUMNS])
            letter = course.add(group, e.name, page, data, o.error, row)
            if letter is not None:
                letters.writerow([neutralise(v) for v in (group, e.name, letter)])
                if letter:
                    _write_if_changed(out / "reports" / f"{e.slug}.feedback.md", letter)
    course.write(out, _atomic)


def _write_if_changed(path: Path, text: str) -> None:
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except (OSError, UnicodeDecodeError):
        pass
    write_atomic(path, text)


def make_reviewer(model: str | None = None) -> tuple[ReviewFn | None, str, str]:
    """The LLM stage when it is installed and an endpoint is configured: (review, cache key, notice if not)."""
    try:
        from feedback.llm.review import review_results
        from feedback.settings import ENABLE_HINT, load_settings
    except ImportError:
        return None, "", "skipped: the LLM stage (feedback.llm.review) is not installed"
    settings = load_settings({"model": model})
    if not settings.endpoint_configured:
        return None, "", ENABLE_HINT

    def review(results: list[Result]) -> list[Result]:
        return list(review_results(results, settings))

    return review, f"{settings.model}|{settings.base_url}", ""


def run_batch(
    spec: str,
    out: Path,
    options: Options | None = None,
    *,
    jobs: int | None = None,
    llm: bool = False,
    model: str | None = None,
    progress: bool | None = None,
    time_limit: float | None = TIME_LIMIT,
) -> tuple[BatchSummary, str]:
    """Find the reports named by ``spec``, check (and optionally review) them, write everything to ``out``."""
    entries = discover(spec, exclude=out)
    review, llm_key, notice = make_reviewer(model) if llm else (None, "", "")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{out}: cannot create output folder ({exc.strerror or exc})") from exc
    runner = Runner(
        out,
        options or Options(),
        jobs=jobs or default_jobs(),
        review=review,
        llm_key=llm_key,
        llm_notice=notice,
        time_limit=time_limit,
    )
    return runner.run(entries, progress), notice
