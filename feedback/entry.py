"""Console entry point. ``feedback check`` is parsed here with :mod:`argparse`, so a single check imports neither
typer nor pydantic (typer imports pydantic); every other command, ``--help`` and anything this parser does not
know go to the typer app in :mod:`feedback.cli`. What both front ends share (options from flags and config files,
checking, output and exit codes) lives here, free of typer.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from feedback.config import LoadedConfig, load_config, warn
from feedback.console import eprint, out
from feedback.errors import ConfigError, FeedbackError, UsageError

if TYPE_CHECKING:
    import argparse

    from feedback.pipeline import Options, Result


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1  # at least one error-severity finding
    USAGE = 2  # bad usage or unreadable input


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


@dataclass(frozen=True, slots=True)
class Run:
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
    run = prepare(select, ignore, template, catalog, fmt, exit_zero)
    results, failed = check_all(reports, run.options)
    return finish(results, failed, run, output, quiet)


class _NotFast(Exception):
    """The arguments need the full command line."""


def check_parser() -> argparse.ArgumentParser:
    """The options of `feedback check`, as the typer command declares them (a test keeps the two in step)."""
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            raise _NotFast(message)  # the full command line reports it, in its own words

    p = Parser(prog="feedback check", add_help=False, allow_abbrev=False, exit_on_error=False)
    p.add_argument("reports", nargs="+", type=Path)
    p.add_argument("--format", "-f", dest="fmt")
    p.add_argument("--select", action="append")
    p.add_argument("--ignore", action="append")
    p.add_argument("--template", type=Path)
    p.add_argument("--output", "-o", type=Path)
    p.add_argument("--exit-zero", dest="exit_zero", action="store_const", const=True)
    p.add_argument("--no-exit-zero", dest="exit_zero", action="store_const", const=False)
    p.add_argument("--catalog", type=Path)
    p.add_argument("--quiet", "-q", action="store_true")
    return p


def _fast_check(args: list[str]) -> int | None:
    """Run `check` without typer, or None when the arguments need the full command line (help, errors, options
    this parser does not know)."""
    import argparse

    if any(a in ("--help", "-h") or a.startswith("--help") for a in args):
        return None
    try:
        ns, rest = check_parser().parse_known_args(args)
    except (argparse.ArgumentError, _NotFast):
        return None
    if rest or any(str(r).startswith("-") for r in ns.reports):
        return None
    return run_check(**vars(ns))


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
            eprint("feedback: interrupted")
            return 130
        if rv is not None:
            return rv
    from feedback.cli import main as full_main

    return full_main(args)


if __name__ == "__main__":
    sys.exit(main())
