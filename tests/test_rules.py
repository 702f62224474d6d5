"""Each rule's pass/fail cases live in tests/rules/<check-name>.toml; this module expands them into tests."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from feedback.checks import all_rules
from feedback.cli import main
from feedback.pipeline import Options, check_file, check_text

RULES_DIR = Path(__file__).parent / "rules"
# rules that need files beside the report or a template: tested below with tmp_path; encoding-error needs bytes
# that are not UTF-8 (tests/test_robustness.py)
SPECIAL = {"image-file-missing", "template-changed", "encoding-error"}


def _cases() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(RULES_DIR.glob("*.toml")):
        for case in tomllib.loads(path.read_text(encoding="utf-8"))["case"]:
            out.append((path.stem, case))
    return out


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "rule_case" in metafunc.fixturenames:
        cases = _cases()
        metafunc.parametrize("rule_case", cases, ids=[f"{check}: {c['name']}" for check, c in cases])


def test_rule_case(rule_case: tuple[str, dict[str, Any]]) -> None:
    check, case = rule_case
    result = check_text(case["report"], Options(select=(check,), consistency=False))
    got = sorted((f.line, f.question) for f in result.findings)
    want = sorted((e.get("line"), e.get("question")) for e in case["expect"])
    assert got == want, [f.message for f in result.findings]
    assert all(f.check == check for f in result.findings)


def test_every_rule_has_fixture_cases() -> None:
    covered = {check for check, _ in _cases()}
    for r in all_rules():
        if r.name in SPECIAL:
            continue
        assert r.name in covered, f"no tests/rules/{r.name}.toml"
        kinds = {bool(c["expect"]) for check, c in _cases() if check == r.name}
        assert kinds == {True, False}, f"{r.name} needs both a failing and a passing case"


def test_image_file_missing(tmp_path: Path) -> None:
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "here one.png").write_bytes(b"png")
    report = tmp_path / "README.md"
    report.write_text(
        "### Question 1\n> Answer:\n\n![a](<figures/here one.png>)\n![b](figures/here%20one.png)\n"
        "![c](figures/gone.png)\n![d](https://example.org/x.png)\n",
        encoding="utf-8",
    )
    result = check_file(report, Options(select=("image-file-missing",), consistency=False))
    assert [(f.line, f.evidence) for f in result.findings] == [(6, ("figures/gone.png",))]


def test_template_changed(tmp_path: Path) -> None:
    blank = tmp_path / "blank.md"
    blank.write_text(
        "* [ ] Use Hydra to load the configurations (M11)\n* [ ] Use profiling to optimize your code (M12)\n\n"
        "### Question 1\n> **How did you configure experiments?**\n>\n> Answer:\n\n--- question 1 fill here ---\n"
        "### Question 2\n> **How many tests did you write?**\n>\n> Answer:\n\n--- question 2 fill here ---\n",
        encoding="utf-8",
    )
    filled = tmp_path / "filled.md"
    filled.write_text(
        "* [x] Use Hydra to load the configurations (M11)\n* [x] We used Docker everywhere\n\n"
        "### Question 1\n> **How did you configure experiments?**\n>\n> Answer:\n\nWith Hydra.\n"
        "### Question 2\n> **What is your favourite colour?**\n>\n> Answer:\n\nBlue.\n",
        encoding="utf-8",
    )
    from feedback.report import read_report

    result = check_file(filled, Options(select=("template-changed",), template=read_report(blank), consistency=False))
    messages = " | ".join(f.message for f in result.findings)
    assert any(f.question == 2 for f in result.findings), messages  # reworded question
    assert any(f.checklist_item == "Use profiling to optimize your code (M12)" for f in result.findings), messages
    assert any(f.checklist_item == "We used Docker everywhere" for f in result.findings), messages
    assert not any(f.question == 1 for f in result.findings), messages


def test_select_and_ignore_by_prefix(tmp_path: Path) -> None:
    text = "### Question 1\n> Recommended answer length: 5-9 words.\n> Answer:\n\n--- question 1 fill here ---\n"
    only_fb2 = check_text(text, Options(select=("FB2",), consistency=False))
    assert {f.code[:3] for f in only_fb2.findings} == {"FB2"}
    none = check_text(text, Options(select=("FB2",), ignore=("unanswered",), consistency=False))
    assert "unanswered" not in {f.check for f in none.findings}


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["check", "examples/report.md"], 1),
        (["check", "examples/report.md", "--exit-zero"], 0),
        (["check", "examples/report.md", "--ignore", "FB2,FB3"], 0),
        (["check", "does-not-exist.md"], 2),
        (["check", "examples"], 2),
        (["check", "examples/report.md", "--select", "no-such-check"], 2),
        (["check", "examples/report.md", "--format", "yaml"], 2),
        (["check", "--no-such-option"], 2),
    ],
)
def test_exit_codes(argv: list[str], code: int, capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parent.parent
    argv = [str(root / a) if a.startswith("examples") or a.endswith(".md") else a for a in argv]
    assert main(argv) == code
    err = capsys.readouterr().err
    if code == 2:
        assert err.startswith("feedback: error:") and err.count("\n") == 1


def test_readme_lists_every_rule() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for r in all_rules():
        assert f"| {r.code} | `{r.name}` | {r.category.value} | {r.severity.value} |" in readme, r.code
