"""Command line: options → pipeline → renderer → exit code. No logic of its own lives here."""

from __future__ import annotations

import sys
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from feedback.errors import FeedbackError, UsageError

if TYPE_CHECKING:
    from feedback.pipeline import Options, Result


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1  # at least one error-severity finding
    USAGE = 2  # bad usage or unreadable input


app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Feedback on filled-in project reports: structure checks, checklist consistency and LLM review.",
)

Format = Annotated[str, typer.Option("--format", "-f", help="Output format: text, json, markdown, html, csv.")]
Select = Annotated[
    list[str] | None, typer.Option("--select", help="Only these codes/prefixes/check names (comma-separated).")
]
Ignore = Annotated[list[str] | None, typer.Option("--ignore", help="Skip these codes/prefixes/check names.")]
Template = Annotated[Path | None, typer.Option("--template", help="Blank template to compare the report with.")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")]
ExitZero = Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even when error findings are reported.")]
Reports = Annotated[list[Path], typer.Argument(help="Report Markdown files.", show_default=False)]
Catalog = Annotated[Path | None, typer.Option("--catalog", help="Topic catalog (TOML) for the consistency checks.")]


def _split(values: list[str] | None) -> tuple[str, ...]:
    return tuple(v.strip() for raw in values or () for v in raw.split(",") if v.strip())


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{output}: cannot write ({exc.strerror or exc})") from exc


def _options(
    select: list[str] | None, ignore: list[str] | None, template: Path | None, catalog: Path | None
) -> Options:
    from feedback.consistency import load_catalog
    from feedback.pipeline import Options

    return Options.from_args(_split(select), _split(ignore), template, load_catalog(catalog))


def _check_all(reports: list[Path], options: Options) -> tuple[list[Result], bool]:
    """Check every readable report; unreadable ones get a one-line error and do not stop the others."""
    from feedback.pipeline import check_file

    results, failed = [], False
    for path in reports:
        try:
            results.append(check_file(path, options))
        except FeedbackError as exc:
            print(f"feedback: error: {exc}", file=sys.stderr)
            failed = True
    return results, failed


def _finish(results: list[Result], failed: bool, fmt: str, output: Path | None, exit_zero: bool) -> int:
    from feedback import render

    if results:
        _emit(render.get(fmt)(results), output)
    if failed:
        return ExitCode.USAGE
    return ExitCode.FINDINGS if any(r.has_errors for r in results) and not exit_zero else ExitCode.OK


@app.command()
def check(
    reports: Reports,
    fmt: Format = "text",
    select: Select = None,
    ignore: Ignore = None,
    template: Template = None,
    output: Output = None,
    exit_zero: ExitZero = False,
    catalog: Catalog = None,
) -> int:
    """Run the deterministic checks and the offline consistency engine."""
    from feedback import render

    options = _options(select, ignore, template, catalog)
    render.get(fmt)  # an unknown format is a usage error before any work
    results, failed = _check_all(reports, options)
    return _finish(results, failed, fmt, output, exit_zero)


@app.command()
def review(
    reports: Reports,
    fmt: Format = "text",
    select: Select = None,
    ignore: Ignore = None,
    template: Template = None,
    output: Output = None,
    exit_zero: ExitZero = False,
    catalog: Catalog = None,
    model: Annotated[str | None, typer.Option("--model", help="Model name (env FEEDBACK_MODEL).")] = None,
    concurrency: Annotated[int | None, typer.Option("--concurrency", min=1, help="Requests at once.")] = None,
    estimate: Annotated[bool, typer.Option("--estimate", help="Print calls, tokens and cost; send nothing.")] = False,
    max_cost: Annotated[float | None, typer.Option("--max-cost", min=0, help="Budget in USD; stop before it.")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Ignore and do not fill the response cache.")] = False,
) -> int:
    """Run the checks, then the per-question LLM review (skipped with a notice when no endpoint is set)."""
    from feedback import render
    from feedback.llm.review import estimate_results, review_results
    from feedback.settings import load_settings

    options = _options(select, ignore, template, catalog)
    render.get(fmt)
    overrides = {"model": model, "concurrency": concurrency, "max_cost": max_cost, "use_cache": not no_cache}
    settings = load_settings(overrides)
    results, failed = _check_all(reports, options)
    if results:
        results = (
            estimate_results(results, settings) if estimate else review_results(results, settings, options=options)
        )
    return _finish(results, failed, fmt, output, exit_zero)


@app.command()
def rules() -> int:
    """List every check: code, name, category, severity and summary."""
    from feedback.checks import all_rules
    from feedback.consistency import CONSISTENCY_CHECKS, CONSISTENCY_SUMMARIES

    for r in all_rules():
        print(f"{r.code}  {r.name:24} {r.category.value:12} {r.severity.value:8} {r.summary}")
    from feedback.pipeline import COURSE_CHECKS, LLM_CHECKS

    for code, name in CONSISTENCY_CHECKS:
        severity, summary = CONSISTENCY_SUMMARIES[code]
        print(f"{code}  {name:24} {'consistency':12} {severity:8} {summary}")
    for code, name, category, summary in LLM_CHECKS:
        print(f"{code}  {name:24} {category:12} {'llm':8} {summary}")
    for code, name, category, severity, summary in COURSE_CHECKS:
        print(f"{code}  {name:24} {category:12} {severity:8} {summary} (batch only)")
    return ExitCode.OK


@app.command()
def batch(
    source: Annotated[
        str | None,
        typer.Argument(help="A folder (searched recursively), a glob, or a CSV with group and path columns."),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for the pages, CSVs and index.html.")] = None,
    select: Select = None,
    ignore: Ignore = None,
    template: Template = None,
    catalog: Catalog = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Reports checked at the same time.")] = 2,
    llm: Annotated[
        bool, typer.Option("--llm", "--review", help="Also run the LLM review (needs an endpoint).")
    ] = False,
    model: Annotated[str | None, typer.Option("--model", help="Model for the LLM review.")] = None,
    via: Annotated[
        str, typer.Option("--via", help="live: LLM calls now; batch-api: OpenAI Batch API (half price, within 24 h).")
    ] = "live",
    collect: Annotated[Path | None, typer.Option("--collect", help="Collect DIR's batches, then render.")] = None,
    status: Annotated[Path | None, typer.Option("--status", help="Progress of DIR's batches.")] = None,
    export_requests: Annotated[
        Path | None, typer.Option("--export-requests", help="Write the Batch API input file; upload nothing.")
    ] = None,
    import_responses: Annotated[
        list[Path] | None, typer.Option("--import-responses", help="Ingest a Batch-output-format file, render.")
    ] = None,
    requeue: Annotated[
        str, typer.Option("--requeue", help="With --collect, failed lines go: live, batch (a new batch) or none.")
    ] = "live",
) -> int:
    """Check many reports: per-report HTML/Markdown/JSON pages, findings.csv, summary.csv and index.html."""
    from feedback.batch import run_batch
    from feedback.llm.batch_api import Command, run_command

    options = _options(select, ignore, template, catalog)
    sel, ign = options.select, options.ignore
    imports = tuple(import_responses or ())
    cmd = Command(source, out, via, collect, status, export_requests, imports, requeue, sel, ign, template, model, jobs)
    if cmd.wanted and catalog is not None:
        raise UsageError("--catalog is not supported with --via batch-api or the file exchange yet")
    if cmd.wanted:  # the Batch API path or the file exchange (feedback/llm/batch_api.py)
        done = run_command(cmd)
        for line in done.errors:
            print(f"feedback: {line}", file=sys.stderr)
        print("\n".join(done.lines))
        return done.exit_code
    if source is None or out is None:
        raise UsageError("give INPUT and --out DIR")
    summary, notice = run_batch(source, out, options, jobs=jobs, llm=llm, model=model)
    if notice:
        print(f"feedback: LLM review {notice}", file=sys.stderr)
    for o in summary.failed:
        error = o.error if o.error.startswith(str(o.entry.path)) else f"{o.entry.name}: {o.error}"
        print(f"feedback: error: {error}", file=sys.stderr)
    print(
        f"{len(summary.outcomes)} reports ({summary.cached} unchanged, {len(summary.failed)} failed): "
        f"{out / 'index.html'}"
    )
    return ExitCode.USAGE if summary.failed else ExitCode.OK


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app and map every failure to a one-line message and a named exit code."""
    try:
        rv = app(args=argv if argv is not None else sys.argv[1:], prog_name="feedback", standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.TyperException as exc:  # usage errors from the argument parser
        if exc.format_message():  # bare `feedback` has printed the help already
            print(f"feedback: error: {exc.format_message()}", file=sys.stderr)
        return ExitCode.USAGE
    except (typer.Abort, KeyboardInterrupt):
        print("feedback: interrupted", file=sys.stderr)
        return 130
    except FeedbackError as exc:
        print(f"feedback: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    return int(rv or 0)


if __name__ == "__main__":
    sys.exit(main())
