"""End to end on the shipped example report: every deliberate mistake in it is found, with its line and quote."""

from __future__ import annotations

from pathlib import Path

from feedback.pipeline import check_file

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "report.md"


def test_example_report_findings() -> None:
    result = check_file(EXAMPLE)
    got = {(f.check, f.question, f.checklist_item, f.verdict) for f in result.findings}
    lines = result.report.lines

    expected = {
        ("unanswered", 7, None, None),
        ("missing-images", 6, None, None),
        ("image-as-link", 6, None, None),
        ("claim-contradicted", 4, "Put the data under version control (M8)", "contradicted"),
        ("claim-contradicted", 8, "Deploy the model in GCP with Cloud Run or Functions (M23)", "contradicted"),
        ("claim-contradicted", 8, "Create a FastAPI application that serves the model (M22)", "contradicted"),
        ("claim-unsupported", 5, "Use Hydra to load configurations and manage hyperparameters (M11)", "unsupported"),
        ("claim-unsupported", 9, "Load test the application (M24)", "unsupported"),
        ("leftover-note", None, "Load test the application (M24)", None),
    }
    assert expected <= got, expected - got
    # consistent claims raise nothing: W&B, CI and git are ticked and described
    items = {f.checklist_item for f in result.findings if f.category == "consistency"}
    assert not items & {
        "Log training progress and metrics with Weights & Biases (M14)",
        "Get continuous integration running on GitHub (M17)",
        "Create a git repository (M5)",
    }
    # the first quote is verbatim on the line the finding names; further quotes are verbatim in the report
    for f in result.findings:
        if f.evidence:
            assert f.line is not None and f.evidence[0] in lines[f.line - 1], (f.check, f.line, f.evidence)
        for quote in f.evidence:
            assert any(quote in line for line in lines), (f.check, quote)
    dvc = next(f for f in result.findings if f.checklist_item == "Put the data under version control (M8)")
    assert dvc.checked is True and dvc.line is not None and "did not use DVC" in lines[dvc.line - 1]
    leftovers = {f.evidence[0] for f in result.findings if f.check == "leftover-note"}
    assert {"TODO", "@maria", "remember to run locust again before the deadline"} <= leftovers
