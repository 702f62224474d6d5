"""Console entry point. ``feedback check`` is parsed here with :mod:`argparse`, so a single check imports neither
typer nor pydantic (typer imports pydantic); every other command, ``--help`` and anything this parser does not
know go to the typer app in :mod:`feedback.cli`. What both front ends share (options from flags and config files,
checking, output and exit codes) lives here, free of typer.
"""

from __future__ import annotations

import gc
import os
import sys
from enum import IntEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from feedback.config import LoadedConfig, load_config, warn
from feedback.console import eprint, out
from feedback.errors import ConfigError, FeedbackError, UsageError

if TYPE_CHECKING:
    from feedback.pipeline import Options, Result


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1  # at least one error-severity finding
    USAGE = 2  # bad usage or unreadable input


INTERRUPTED = 130  # Ctrl-C: the shell's code for a process ended by SIGINT
BOOL_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "0", "1"})


def split_values(values: list[str] | None) -> tuple[str, ...]:
    return tuple(v.strip() for raw in values or () for v in raw.split(",") if v.strip())


HUMAN_FORMATS = ("text", "concise", "github")


def emit(text: str, output: Path | None, fmt: str = "text") -> None:
    if output is None:
        out(text, human=fmt in HUMAN_FORMATS)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{output}: cannot write ({exc.strerror or exc})") from exc


class Run(NamedTuple):
    """What a command runs with: flags first, then the project's config file, then the user's, then defaults."""

    options: Options
    fmt: str
    exit_zero: bool
    config: LoadedConfig


def _from_file(source: Path | None, exc: FeedbackError) -> FeedbackError:
    """An error about a value that came from a config file names that file."""
    return ConfigError(f"{source}: {exc}") if source is not None else exc


def prepare(
    select: list[str] | None,
    ignore: list[str] | None,
    template: Path | None,
    catalog: Path | None,
    fmt: str | None = None,
    exit_zero: bool | None = None,
) -> Run:
    from feedback import render
    from feedback.consistency import load_catalog
    from feedback.pipeline import Options

    config = load_config()
    warn(config.warnings)
    file = config.report
    sel, ign = split_values(select), split_values(ignore)
    try:
        render.get(fmt or file.format or "text")  # an unknown format is a usage error before any work
    except UsageError as exc:
        raise (exc if fmt else _from_file(file.source, exc)) from None
    topics = load_catalog(catalog)
    try:
        options = Options.from_args(sel or file.select, ign or file.ignore, template or file.template, topics)
    except FeedbackError as exc:
        from_file = (not sel and file.select) or (not ign and file.ignore) or (not template and file.template)
        raise (_from_file(file.source, exc) if from_file else exc) from None
    ez = exit_zero if exit_zero is not None else bool(file.exit_zero)
    return Run(options, fmt or file.format or "text", ez, config)


def check_all(reports: list[Path], options: Options) -> tuple[list[Result], bool]:
    """Check every readable report; unreadable ones get a one-line error and do not stop the others."""
    from feedback.pipeline import check_file

    results, failed = [], False
    for path in reports:
        try:
            results.append(check_file(path, options))
        except FeedbackError as exc:
            hint = ""
            if str(path).lower() in BOOL_WORDS and not path.exists():
                hint = " (flags such as --exit-zero and --quiet take no value)"
            eprint(f"feedback: error: {exc}{hint}")
            failed = True
    return results, failed


def _step_summary(results: list[Result]) -> None:
    """In a GitHub Actions job, a short table on the run's summary page (a write error is only a warning)."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path or not results:
        return
    from feedback.render.github import step_summary

    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(step_summary(results))
    except OSError as exc:
        eprint(f"feedback: warning: cannot write GITHUB_STEP_SUMMARY {path} ({exc.strerror or exc})")


def finish(results: list[Result], failed: bool, run: Run, output: Path | None, quiet: bool) -> int:
    from feedback import render
    from feedback.render.order import fix_first_rank

    if quiet:
        for r in results:
            r.findings = [f for f in r.findings if fix_first_rank(f.severity, f.verdict) is not None]
    if results:
        emit(render.get(run.fmt)(results), output, run.fmt)
        _step_summary(results)
    if failed:
        return ExitCode.USAGE
    return ExitCode.FINDINGS if any(r.has_errors for r in results) and not run.exit_zero else ExitCode.OK


@cache  # registered once
def _rest_at_exit() -> None:
    """Freeze what the process holds when the interpreter exits: its last garbage collection would otherwise walk
    every object the check built (a few milliseconds of a one-report process) only to find nothing to free, the
    memory going back to the system anyway. At exit only: a caller that keeps going (tests, a tool built on the
    package) collects as usual."""
    import atexit

    atexit.register(gc.freeze)


def run_check(
    reports: list[Path],
    fmt: str | None = None,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    template: Path | None = None,
    output: Path | None = None,
    exit_zero: bool | None = None,
    catalog: Path | None = None,
    quiet: bool = False,
) -> int:
    """`feedback check`: the deterministic checks and the offline consistency engine."""
    from feedback import regex_cache

    collecting = gc.isenabled()
    gc.disable()  # prepare imports the checks and loads the catalog: see feedback/__init__.py
    try:
        run = prepare(select, ignore, template, catalog, fmt, exit_zero)
    finally:
        if collecting:
            gc.enable()
    results, failed = check_all(reports, run.options)
    code = finish(results, failed, run, output, quiet)
    regex_cache.save()
    _rest_at_exit()
    return code


# The options of `feedback check`, as the typer command declares them (a test keeps the two in step): option
# strings -> (keyword of run_check, what the option does). A table and a small loop instead of argparse, whose
# import and help formatter (shutil, gettext, locale) are a noticeable part of a one-report process.
_VALUE, _APPEND, _PATH, _TRUE, _FALSE = "value", "append", "path", "true", "false"
CHECK_OPTIONS: dict[str, tuple[str, str]] = {
    "--format": ("fmt", _VALUE),
    "-f": ("fmt", _VALUE),
    "--select": ("select", _APPEND),
    "--ignore": ("ignore", _APPEND),
    "--template": ("template", _PATH),
    "--output": ("output", _PATH),
    "-o": ("output", _PATH),
    "--exit-zero": ("exit_zero", _TRUE),
    "--no-exit-zero": ("exit_zero", _FALSE),
    "--catalog": ("catalog", _PATH),
    "--quiet": ("quiet", _TRUE),
    "-q": ("quiet", _TRUE),
}


def parse_check_args(args: list[str]) -> dict[str, Any] | None:
    """Keyword arguments of :func:`run_check` from `check`'s arguments, or None when they need the full command
    line (help, a bad or unknown option, a missing value, a report name that looks like an option)."""
    kwargs: dict[str, Any] = {}
    reports: list[Path] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if not arg.startswith("-") or arg == "-":
            reports.append(Path(arg))
            continue
        name, eq, inline = arg.partition("=")
        if name not in CHECK_OPTIONS:
            return None
        key, kind = CHECK_OPTIONS[name]
        if kind in (_TRUE, _FALSE):
            if eq:
                return None
            kwargs[key] = kind == _TRUE
            continue
        if not eq:
            if i >= len(args) or args[i].startswith("-"):
                return None  # the full command line words the error
            inline, i = args[i], i + 1
        if kind == _APPEND:
            kwargs.setdefault(key, []).append(inline)
        else:
            kwargs[key] = Path(inline) if kind == _PATH else inline
    if not reports or any(str(r) == "-" for r in reports):
        return None
    return {"reports": reports, **kwargs}


def interrupted() -> int:
    """Ctrl-C: one line on stderr and exit code 130, wherever the interrupt landed."""
    eprint("feedback: interrupted")
    # CPython remembers a KeyboardInterrupt that escaped code run by exec() or eval() of a string (dataclasses and
    # named tuples build their methods that way while a module imports) and, at the exit of `python -m feedback`,
    # ends the process by SIGINT (exit -2) instead of with the code returned here, although the interrupt was
    # handled; any later exec() of a string resets that memory, so an empty one does
    exec("")
    return INTERRUPTED


def _fast_check(args: list[str]) -> int | None:
    """Run `check` without typer, or None when the arguments need the full command line."""
    kwargs = parse_check_args(args)
    return None if kwargs is None else run_check(**kwargs)


def main(argv: list[str] | None = None) -> int:
    """Entry point: `check` on the fast path, everything else through the typer app; every failure is a one-line
    message and a named exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["check"]:
        try:
            rv = _fast_check(args[1:])
        except FeedbackError as exc:
            eprint(f"feedback: error: {exc}")
            return ExitCode.USAGE
        except KeyboardInterrupt:
            return interrupted()
        if rv is not None:
            return rv
    try:
        from feedback.cli import main as full_main
    except KeyboardInterrupt:  # while the full command line imports
        return interrupted()
    return full_main(args)


if __name__ == "__main__":
    sys.exit(main())
