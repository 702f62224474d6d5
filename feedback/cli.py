"""Command line: options → pipeline → renderer → exit code. No logic of its own lives here."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from feedback.console import eprint
from feedback.entry import INTERRUPTED, ExitCode, interrupted, run_check
from feedback.entry import check_all as _check_all
from feedback.entry import finish as _finish
from feedback.entry import prepare as _prepare
from feedback.errors import FeedbackError, UsageError

if TYPE_CHECKING:
    from feedback.pipeline import Options, Result
    from feedback.settings import Settings


def _plain_argument_help() -> None:
    """typer 0.29 writes a required argument as ``{REPORT...}...`` with a ``<list[Path]>`` type in the help; show
    the metavar as written instead (a no-op where typer's internals differ)."""
    from typer.core import TyperArgument

    setattr(TyperArgument, "_usage_display_name", lambda self: self.display_name_raw)  # noqa: B010
    setattr(TyperArgument, "display_type_rich", lambda self, ctx: None)  # noqa: B010


_plain_argument_help()

app = typer.Typer(
    add_completion=False,
    rich_markup_mode=None,  # plain help: metavars as written, no <bool>/<list[str]> type column
    no_args_is_help=True,
    help="Feedback on filled-in project reports: structure checks, checklist consistency and LLM review.",
)

Format = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        metavar="NAME",
        show_default=False,
        help="Output format: text (default), concise, github, sarif, json, markdown, html, csv.",
    ),
]
Select = Annotated[
    list[str] | None,
    typer.Option("--select", metavar="CODES", help="Only these codes, code prefixes or check names (comma-separated)."),
]
Ignore = Annotated[
    list[str] | None, typer.Option("--ignore", metavar="CODES", help="Skip these codes, code prefixes or check names.")
]
Template = Annotated[
    Path | None, typer.Option("--template", metavar="BLANK.md", help="Blank template to compare the report with.")
]
Output = Annotated[
    Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write to this file instead of stdout.")
]
ExitZero = Annotated[
    bool | None,
    typer.Option("--exit-zero/--no-exit-zero", show_default=False, help="Exit 0 even when errors are reported."),
]
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="Only what to fix first (errors, contradictions); for hooks.")
]
Reports = Annotated[list[Path], typer.Argument(metavar="REPORT...", help="Report Markdown files.", show_default=False)]
Catalog = Annotated[
    Path | None,
    typer.Option("--catalog", metavar="TOPICS.toml", help="Topic catalog for the consistency checks."),
]


@app.command()
def check(
    reports: Reports,
    fmt: Format = None,
    select: Select = None,
    ignore: Ignore = None,
    template: Template = None,
    output: Output = None,
    exit_zero: ExitZero = None,
    catalog: Catalog = None,
    quiet: Quiet = False,
) -> int:
    """Run the deterministic checks and the offline consistency engine."""
    return run_check(reports, fmt, select, ignore, template, output, exit_zero, catalog, quiet)


@app.command()
def review(
    reports: Reports,
    fmt: Format = None,
    select: Select = None,
    ignore: Ignore = None,
    template: Template = None,
    output: Output = None,
    exit_zero: ExitZero = None,
    catalog: Catalog = None,
    quiet: Quiet = False,
    model: Annotated[
        str | None, typer.Option("--model", metavar="NAME", help="Model name (env FEEDBACK_MODEL).")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", metavar="N", min=1, help="Requests at once.")
    ] = None,
    estimate: Annotated[bool, typer.Option("--estimate", help="Print calls, tokens and cost; send nothing.")] = False,
    max_cost: Annotated[
        float | None, typer.Option("--max-cost", metavar="USD", min=0, help="Budget in USD; stop before it.")
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Ignore and do not fill the response cache.")] = False,
) -> int:
    """Run the checks, then the per-question LLM review (skipped with a notice when no endpoint is set)."""
    from feedback.settings import load_settings

    run = _prepare(select, ignore, template, catalog, fmt, exit_zero)
    overrides = {
        "model": model,
        "concurrency": concurrency,
        "max_cost": max_cost,
        "use_cache": False if no_cache else None,
    }
    settings = load_settings(overrides, config=run.config)
    checking = _Checking(reports, run.options)
    results = _llm_stage(checking, settings, run.options, estimate)
    return _finish(results, checking.failed, run, output, quiet)


class _Checking:
    """The reports, checked one at a time as the LLM stage asks for them: their checks overlap the calls already
    sent instead of all coming first. An unreadable report gets its one-line error, as in ``check``. Iterating
    again gives the reports checked so far first."""

    def __init__(self, reports: list[Path], options: Options) -> None:
        self._reports, self._options = iter(reports), options
        self.done: list[Result] = []
        self.failed = False

    def __iter__(self) -> Iterator[Result]:
        i = 0
        while True:
            while i >= len(self.done):
                path = next(self._reports, None)
                if path is None:
                    return
                results, failed = _check_all([path], self._options)
                self.failed |= failed
                self.done.extend(results)
            yield self.done[i]
            i += 1

    def any(self) -> bool:
        """Whether a report is readable (checking reports until one is)."""
        return next(iter(self), None) is not None

    def all(self) -> list[Result]:
        """Every readable report's result, checking the ones not asked for yet."""
        return list(self)


def _llm_stage(checking: _Checking, settings: Settings, options: Options, estimate: bool) -> list[Result]:
    """The LLM review (or its estimate); a setup error (missing prompt, unreadable cache) degrades like an endpoint
    error: the deterministic findings are still printed, with the reason."""
    from feedback.pipeline import LLMStatus

    try:
        from feedback.llm.review import estimate_results, review_results

        if estimate:
            return estimate_results(checking.all(), settings)
        if not checking.any():
            return []  # nothing readable: no client is made
        return review_results(checking, settings, options=options)
    except FeedbackError as exc:
        eprint(f"feedback: warning: LLM review not run: {exc}")
        results = checking.all()
        for r in results:
            r.llm = LLMStatus(status="failed", message=f"not run: {exc}", model=settings.model)
        return results


@app.command()
def rules(
    code: Annotated[
        str | None, typer.Argument(metavar="[CODE]", help="Explain one check (code or name).", show_default=False)
    ] = None,
) -> int:
    """List every check in code order: code, name, category, severity and summary."""
    from feedback.pipeline import check_table

    table = check_table()
    if code is None:
        for c in table:
            print(f"{c.code}  {c.name:22} {c.category:12} {c.severity:13} {c.summary}")
        return ExitCode.OK
    found = [c for c in table if code.upper() == c.code or code.lower() == c.name]
    if not found:
        raise UsageError(f"unknown check {code!r} (see `feedback rules`)")
    c = found[0]
    print(f"{c.code} {c.name}: {c.summary}")
    print(f"  stage: {c.stage}, category: {c.category}, severity: {c.severity}")
    print(f"  select or ignore it with --select/--ignore {c.code} (or {c.name}, or a prefix such as {c.code[:3]})")
    from feedback.checks.cases import examples

    for label, case in zip(("fails", "passes"), examples(c.name), strict=True):
        if case is not None:
            body = "".join(f"    | {line}\n" for line in case.report.splitlines())
            print(f"\n  {label} ({case.name}):\n{body}", end="")
    return ExitCode.OK


@app.command()
def batch(
    source: Annotated[
        str | None,
        typer.Argument(
            metavar="[INPUT]",
            help="A folder (searched recursively), a glob, or a CSV with group, path (and template) columns.",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", metavar="DIR", help="Folder for the pages, CSVs and index.html.")
    ] = None,
    select: Select = None,
    ignore: Ignore = None,
    template: Template = None,
    catalog: Catalog = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", "-j", metavar="N", min=1, help="Reports checked at the same time (default: one per core)."
        ),
    ] = None,
    llm: Annotated[
        bool, typer.Option("--llm", "--review", help="Also run the LLM review (needs an endpoint).")
    ] = False,
    time_limit: Annotated[
        float,
        typer.Option(
            "--time-limit",
            metavar="SECONDS",
            min=0,
            help="CPU seconds one report may take before it fails and the batch goes on (0: no limit).",
        ),
    ] = 60.0,
    model: Annotated[str | None, typer.Option("--model", metavar="NAME", help="Model for the LLM review.")] = None,
    via: Annotated[
        str,
        typer.Option(
            "--via",
            metavar="live|batch-api",
            help="live: LLM calls now; batch-api: OpenAI Batch API (half price, within 24 h).",
        ),
    ] = "live",
    collect: Annotated[
        Path | None, typer.Option("--collect", metavar="DIR", help="Collect DIR's batches, then render.")
    ] = None,
    status: Annotated[Path | None, typer.Option("--status", metavar="DIR", help="Progress of DIR's batches.")] = None,
    export_requests: Annotated[
        Path | None,
        typer.Option("--export-requests", metavar="FILE", help="Write the Batch API input file; upload nothing."),
    ] = None,
    import_responses: Annotated[
        list[Path] | None,
        typer.Option("--import-responses", metavar="FILE", help="Ingest a Batch-output-format file, render."),
    ] = None,
    requeue: Annotated[
        str,
        typer.Option(
            "--requeue",
            metavar="live|batch|none",
            help="With --collect, failed lines go: live, batch (a new batch) or none.",
        ),
    ] = "live",
) -> int:
    """Check many reports: per-report HTML/Markdown/JSON pages, findings.csv, summary.csv and index.html."""
    from feedback.course.runner import default_jobs, run_batch

    options = _prepare(select, ignore, template, catalog).options
    sel, ign = options.select, options.ignore
    imports = tuple(import_responses or ())
    # the Batch API path or the file exchange (Command.wanted in feedback/course/batch_api.py); only it, or --llm,
    # imports the LLM stack
    if via != "live" or collect or status or export_requests or imports:
        from feedback.course.batch_api import Command, run_command

        if catalog is not None:
            raise UsageError("--catalog is not supported with --via batch-api or the file exchange yet")
        cmd = Command(
            source,
            out,
            via,
            collect,
            status,
            export_requests,
            imports,
            requeue,
            sel,
            ign,
            template,
            model,
            jobs or default_jobs(),
        )
        done = run_command(cmd)
        for line in done.errors:
            eprint(f"feedback: {line}")
        print("\n".join(done.lines))
        return done.exit_code
    if source is None or out is None:
        raise UsageError("give INPUT and --out DIR")
    summary, notice = run_batch(source, out, options, jobs=jobs, llm=llm, model=model, time_limit=time_limit or None)
    for line in summary.warnings:
        eprint(f"feedback: warning: {line}")
    if notice:
        eprint(f"feedback: LLM review {notice}")
    for why in summary.llm_errors:
        eprint(f"feedback: warning: LLM review failed: {why}")
    for o in summary.failed:
        error = o.error if o.error.startswith(str(o.entry.path)) else f"{o.entry.name}: {o.error}"
        eprint(f"feedback: error: {error}")
    print(
        f"{len(summary.outcomes)} reports ({summary.cached} unchanged, {len(summary.failed)} failed): "
        f"{out / 'index.html'}"
    )
    return ExitCode.USAGE if summary.failed else ExitCode.OK


def _version(value: bool) -> None:
    if value:
        from feedback import __version__

        print(f"feedback {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = None,
) -> None:
    """Feedback on filled-in project reports: structure checks, checklist consistency and LLM review."""


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app and map every failure to a one-line message and a named exit code."""
    try:
        rv = app(args=argv if argv is not None else sys.argv[1:], prog_name="feedback", standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.TyperException as exc:  # usage errors from the argument parser
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `feedback` or a bare command: its help, plainly
            eprint(exc.format_message())
        elif exc.format_message():
            eprint(f"feedback: error: {exc.format_message()}")
        return ExitCode.USAGE
    except (typer.Abort, KeyboardInterrupt):
        return interrupted()
    except FeedbackError as exc:
        eprint(f"feedback: error: {exc}")
        return ExitCode.USAGE
    if rv == INTERRUPTED:  # typer returns Ctrl-C inside a command as this code, silently
        return interrupted()
    return int(rv or 0)


if __name__ == "__main__":
    sys.exit(main())
