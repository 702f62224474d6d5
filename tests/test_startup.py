"""Start-up: a plain `feedback check` imports only what it uses, and its own command-line parser accepts exactly
the options of the typer `check` command (so the fast path and `feedback check --help` never disagree)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from feedback.cli import app
from feedback.entry import CHECK_OPTIONS, main, parse_check_args
from tests.conftest import FIXTURES

HEAVY = ("pydantic", "jinja2", "openai", "markdown_it", "tiktoken", "typer")
REPORT = FIXTURES / "consistency" / "contradicted.md"

_PROBE = """
import runpy, sys
sys.argv = ["feedback", *sys.argv[1:]]
try:
    runpy.run_module("feedback", run_name="__main__")
except SystemExit:
    pass
print(",".join(sorted(m for m in {heavy!r} if m in sys.modules)), file=sys.stderr)
"""


# standard modules a check needs only for some reports or options: OpenSSL's hash module (2 ms), the TOML parser
# (a config file), difflib (a --template, an answer close to the prompt's example), base64 (a base64-looking run)
ON_DEMAND = ("_hashlib", "tomllib", "difflib", "base64")


def _imported(*args: str, watch: tuple[str, ...] = HEAVY, cwd: Path | None = None) -> list[str]:
    # with cwd, the caches go beside it too: a first run parses the catalog (TOML) and must be able to keep it
    env = {**os.environ, "XDG_CACHE_HOME": str(cwd / "cache")} if cwd is not None else None
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=watch), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=env,
    )
    last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
    return [m for m in last.split(",") if m]


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_a_plain_check_imports_no_heavy_module(fmt: str) -> None:
    assert _imported("check", str(REPORT), "--format", fmt) == []


def test_a_plain_check_outside_a_project_loads_no_on_demand_module(tmp_path: Path) -> None:
    args = ("check", str(REPORT), "--format", "json")
    _imported(*args, cwd=tmp_path)  # a first run may parse the catalog (TOML) to fill the user's cache
    assert _imported(*args, watch=ON_DEMAND, cwd=tmp_path) == []
    template = ["--template", str(REPORT)]
    assert "difflib" in _imported("check", str(REPORT), *template, watch=ON_DEMAND, cwd=tmp_path)


def test_html_output_and_help_still_load_what_they_need() -> None:
    assert "jinja2" in _imported("check", str(REPORT), "--format", "html")
    assert "typer" in _imported("check", "--help")


def test_the_fast_parser_knows_exactly_the_typer_check_options() -> None:
    from typer.main import get_command

    command = get_command(app).commands["check"]  # type: ignore[attr-defined]
    typer_opts = {o for p in command.params for o in (*p.opts, *p.secondary_opts) if o.startswith("-")}
    fast_opts = set(CHECK_OPTIONS)
    assert fast_opts == typer_opts


def test_fast_and_full_check_give_the_same_output(capsys: pytest.CaptureFixture[str]) -> None:
    from feedback.cli import main as full_main

    args = ["check", str(REPORT), "--format", "json", "--ignore", "FB1"]
    fast_rc = main(args)
    fast = capsys.readouterr()
    full_rc = full_main(args)
    full = capsys.readouterr()
    assert (fast_rc, fast.out) == (full_rc, full.out)
    assert '"code": "FB5' in fast.out


def test_the_fast_parser_reads_values_and_hands_anything_unusual_on() -> None:
    kwargs = parse_check_args(["a.md", "--select=FB1", "--select", "FB2", "-f", "json", "-q", "b.md", "--no-exit-zero"])
    assert kwargs == {
        "reports": [Path("a.md"), Path("b.md")],
        "select": ["FB1", "FB2"],
        "fmt": "json",
        "quiet": True,
        "exit_zero": False,
    }
    for args in (["a.md", "--format"], ["a.md", "-fjson"], ["a.md", "--quiet=yes"], ["--format", "json"], ["-"]):
        assert parse_check_args(args) is None, args


def test_bad_usage_on_the_fast_path_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(REPORT), "--format", "nope"]) == 2
    assert main(["check", str(REPORT), "--no-such-option"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("feedback: error:") for line in err)


def test_batch_without_llm_imports_no_llm_stack(tmp_path: Path) -> None:
    imported = _imported("batch", str(REPORT), "--out", str(tmp_path / "out"), "--jobs", "1")
    assert "openai" not in imported and "tiktoken" not in imported
    assert (tmp_path / "out" / "index.html").is_file()
