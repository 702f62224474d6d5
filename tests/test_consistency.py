"""The offline consistency engine on invented reports: each verdict, negation and hedging, no checklist, a replaced
catalog, the helpers for the LLM stage, and (when ../shared is present) verbatim evidence on every corpus report."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedback.consistency import CONSISTENCY_CHECKS, analyse, load_catalog, related_items, topics_for_question
from feedback.consistency.evidence import Polarity, mention_polarity, split_answer, states_doing
from feedback.errors import ConfigError
from feedback.findings import Category, Finding, Severity, Verdict
from feedback.pipeline import check_text
from feedback.report import parse, read_report
from feedback.report.model import Report
from tests.conftest import FIXTURES, blank_templates, corpus_reports, needs_corpus

CASES = FIXTURES / "consistency"


def findings_for(name: str) -> tuple[Report, list[Finding]]:
    report = read_report(CASES / f"{name}.md")
    return report, analyse(report)


def by_item(findings: list[Finding], prefix: str) -> Finding | None:
    return next((f for f in findings if f.checklist_item and f.checklist_item.startswith(prefix)), None)


def assert_verbatim(report: Report, finding: Finding) -> None:
    assert finding.evidence, finding
    assert finding.line is not None and finding.evidence[0] in report.line_text(finding.line)
    for quote in finding.evidence:
        assert any(quote in line for line in report.lines), quote


def test_ticked_items_denied_by_the_answers_are_contradicted() -> None:
    report, findings = findings_for("contradicted")
    dvc = by_item(findings, "Put the data under version control")
    assert dvc is not None and dvc.code == "FB501" and dvc.check == "claim-contradicted"
    assert dvc.verdict is Verdict.CONTRADICTED and dvc.checked is True and dvc.severity is Severity.WARNING
    assert dvc.category is Category.CONSISTENCY and dvc.questions == (10,)
    assert dvc.evidence[0] == "No, we did not use DVC for our data."
    assert dvc.checklist_item == "Put the data under version control, or at least part of it (M8)"
    cloud = by_item(findings, "Run the model training in GCP")
    assert cloud is not None and cloud.verdict is Verdict.CONTRADICTED and 22 in cloud.questions
    for f in findings:
        assert_verbatim(report, f)


def test_unticked_items_the_answers_describe_are_contradicted() -> None:
    _report, findings = findings_for("contradicted")
    hydra = by_item(findings, "Use Hydra")
    api = by_item(findings, "Build a FastAPI application")
    assert hydra is not None and hydra.checked is False and hydra.verdict is Verdict.CONTRADICTED
    assert "Hydra" in hydra.evidence[0]
    assert api is not None and api.checked is False and api.questions == (23,)
    # the ticked config-files item is backed by the same answer: no finding
    assert by_item(findings, "Write one or more configuration files") is None


def test_ticked_item_whose_question_describes_something_else_is_unsupported() -> None:
    report, findings = findings_for("unsupported")
    assert [(f.code, f.checklist_item) for f in findings] == [
        ("FB502", "Use Hydra to load configurations and manage hyperparameters (M11)")
    ]
    hydra = findings[0]
    assert hydra.verdict is Verdict.UNSUPPORTED and hydra.questions == (12,) and hydra.confidence is not None
    assert "argparser" in hydra.evidence[0]  # what the answer describes instead
    assert_verbatim(report, hydra)


def test_report_without_checklist_gives_only_internal_findings() -> None:
    report, findings = findings_for("internal")
    assert not report.checklist
    assert [f.code for f in findings] == ["FB503"]
    f = findings[0]
    assert f.verdict is Verdict.INTERNAL and f.check == "answers-disagree"
    assert f.checklist_item is None and f.checked is None and set(f.questions) == {18, 22}
    assert len(f.evidence) == 2 and f.evidence[1].startswith("No. We did not manage to train in the cloud")
    assert_verbatim(report, f)


def test_hypothetical_answers_are_not_claims_and_failed_attempts_are_not_done() -> None:
    _report, findings = findings_for("hedged")
    # "DVC would help ... in the future we plan to": not a claim, the unticked item stays consistent
    assert by_item(findings, "Put the data under version control") is None
    # "Monitoring would let us see ...": hypothetical after "we did not manage", unticked item consistent
    assert by_item(findings, "Watch the instrumented application") is None
    # "We wrote unit tests for the API": the ticked item is backed
    assert by_item(findings, "Write API tests") is None
    load = by_item(findings, "Load test the application")
    assert load is not None and load.verdict is Verdict.CONTRADICTED and "Locust" in load.evidence[0]


def _polarity(sentence: str, term: str) -> Polarity:
    report = parse(f"### Question 1\n> **Did you use it?**\n>\n> Answer:\n\n{sentence}\n")
    question = report.questions[0]
    s = split_answer(question).sentences[0]
    start = s.text.index(term.lower())
    return mention_polarity(s, start, start + len(term))


@pytest.mark.parametrize(
    ("sentence", "term", "expected"),
    [
        ("We used DVC to version the images.", "DVC", Polarity.CLAIM),
        ("No, we did not use DVC in this project.", "DVC", Polarity.NEGATED),
        ("We didn't manage to deploy the API in the cloud.", "cloud", Polarity.NEGATED),
        ("We didnt use the cloud build history at all.", "cloud build", Polarity.NEGATED),  # no apostrophe
        ("The bucket wasnt used for training data.", "bucket", Polarity.NEGATED),
        ("We were not able to set up Hydra in time.", "Hydra", Polarity.NEGATED),
        ("Sadly we could not get Vertex AI to accept our container.", "Vertex AI", Polarity.NEGATED),
        ("We failed to configure Prometheus on Cloud Run.", "Prometheus", Polarity.NEGATED),
        ("We never added pre-commit hooks.", "pre-commit", Polarity.NEGATED),
        ("We passed the settings with argparse instead of Hydra.", "Hydra", Polarity.NEGATED),
        ("Profiling the training script was not deemed necessary.", "Profiling", Polarity.NEGATED),
        ("It was not considered important to profile our training script.", "profile", Polarity.NEGATED),
        ("We tried Locust but it crashed on our laptops.", "Locust", Polarity.NEGATED),
        ("We tried Locust on the deployed service.", "Locust", Polarity.ATTEMPT),
        ("DVC would help us go back to the data a model saw.", "DVC", Polarity.HYPOTHETICAL),
        ("In the future we plan to add drift detection with Evidently.", "Evidently", Polarity.HYPOTHETICAL),
        ("If we had more time, we could add ONNX export.", "ONNX", Polarity.HYPOTHETICAL),
        ("The dataset did not fit in git, so we used DVC with a bucket.", "DVC", Polarity.CLAIM),
        ("We did not need a GPU because Vertex AI trained the model fast.", "Vertex AI", Polarity.CLAIM),
        ("Our model is not complex, so Cloud Functions were enough to serve it.", "Cloud Functions", Polarity.CLAIM),
    ],
)
def test_negation_hedging_and_attempts(sentence: str, term: str, expected: Polarity) -> None:
    assert _polarity(sentence, term) is expected


def test_if_not_answers_that_open_with_no_are_hypothetical_afterwards() -> None:
    text = (CASES / "hedged.md").read_text(encoding="utf-8")
    ticked = text.replace("* [ ] Put the data under version control", "* [x] Put the data under version control")
    result = check_text(ticked)
    dvc = next(f for f in result.findings if f.checklist_item and f.checklist_item.startswith("Put the data under"))
    # the answer says "No." and only describes how DVC would help: the ticked item is contradicted
    assert dvc.code == "FB501" and dvc.checked is True and dvc.evidence[0].startswith("No. DVC would help")


def test_pipeline_runs_the_engine_and_selectors_know_its_codes() -> None:
    text = (CASES / "contradicted.md").read_text(encoding="utf-8")
    codes = {f.code for f in check_text(text).findings}
    assert {"FB501"} <= codes
    assert {code for code, _name in CONSISTENCY_CHECKS} == {"FB501", "FB502", "FB503"}
    from feedback.pipeline import Options

    only = check_text(text, Options(select=("claim-unsupported",))).findings
    assert all(f.code == "FB502" for f in only)


def test_related_items_and_topics_for_a_question() -> None:
    report = read_report(CASES / "contradicted.md")
    items = related_items(report, 12)
    assert [i.text for i in items] == [
        "Write one or more configuration files for the experiments (M11)",
        "Use Hydra to load configurations and manage hyperparameters (M11)",
    ]
    assert [i.text for i in related_items(report, report.question(22) or 22)] == [
        "Run the model training in GCP, on the Engine or with Vertex AI (M21)"
    ]
    ids = [t.id for t in topics_for_question(report, 23)]
    assert ids[0] == "api"
    assert related_items(read_report(CASES / "internal.md"), 22) == []
    assert related_items(report, 99) == []


CUSTOM_CATALOG = """
family = "invented"
[[topic]]
id = "notebooks"
name = "notebooks"
items = ['notebook']
questions = ['notebooks?']
terms = ['jupyter', 'notebooks?']
"""

CUSTOM_REPORT = """# Invented course report

## Checklist

* [x] Keep your analysis in a notebook

### Question 1
> **Did you use notebooks?**
>
> Answer:

No, we did not use Jupyter notebooks at all; everything is a plain script.
"""


def test_another_catalog_can_replace_the_shipped_one(tmp_path: Path) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text(CUSTOM_CATALOG, encoding="utf-8")
    report = parse(CUSTOM_REPORT)
    assert analyse(report) == []  # the MLOps catalog knows nothing about notebooks
    findings = analyse(report, catalog=path)
    assert [(f.code, f.checklist_item) for f in findings] == [("FB501", "Keep your analysis in a notebook")]
    assert [t.id for t in topics_for_question(report, 1, catalog=load_catalog(path))] == ["notebooks"]


@pytest.mark.parametrize(
    "text",
    ["[[topic]]\nid = 'x'\n", "[[topic]]\nid = 'x'\nterms = ['(']\n", "not toml [", "family = 'none'\n"],
)
def test_a_bad_catalog_is_a_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_catalog(path)


def test_the_shipped_catalog_recognises_every_template_checklist_item() -> None:
    catalog = load_catalog()
    assert len(catalog.topics) >= 28
    for text in [
        "Keep version control for your data, or a part of it",
        "Log training progress and metrics with Weights & Biases (M14)",
        "Deploy the model in GCP with Functions or Run behind it",
        "Find out how robust the model is to data drift (M27)",
        "Build a more specialised deployment API with ONNX, BentoML or both (M25)",
    ]:
        item = parse(f"## Checklist\n\n* [x] {text}\n").checklist[0]
        assert catalog.topics_for_item(item), text


@needs_corpus
def test_every_evidence_quote_on_the_corpus_is_verbatim() -> None:
    checked = 0
    for path in corpus_reports():
        report = read_report(path)
        for f in analyse(report):
            assert f.evidence, f"{path.name}: {f.code} without evidence"
            assert f.line is not None and f.evidence[0] in report.line_text(f.line), f"{path.name}: {f}"
            for quote in f.evidence:
                assert quote.strip() and any(quote in line for line in report.lines), f"{path.name}: {quote!r}"
            checked += len(f.evidence)
    assert checked > 50


def test_check_command_takes_another_catalog(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from feedback.cli import main

    catalog, report = tmp_path / "catalog.toml", tmp_path / "report.md"
    catalog.write_text(CUSTOM_CATALOG, encoding="utf-8")
    report.write_text(CUSTOM_REPORT, encoding="utf-8")
    assert main(["check", str(report), "--format", "json", "--exit-zero", "--catalog", str(catalog)]) == 0
    assert '"FB501"' in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text("[[topic]]\nid = 'x'\n", encoding="utf-8")
    assert main(["check", str(report), "--catalog", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("feedback: error:") and "terms" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("sentence", "term"),
    [
        ("We did not perform extensive profiling of our code.", "profiling"),
        ("We did not fully implement monitoring of the deployed model.", "monitoring"),
    ],
)
def test_a_qualified_negation_is_neither_claim_nor_denial(sentence: str, term: str) -> None:
    assert _polarity(sentence, term) is Polarity.MENTION


def test_untouched_checklist_names_the_items_the_answers_describe_as_information() -> None:
    text = (CASES / "contradicted.md").read_text(encoding="utf-8").replace("* [x]", "* [ ]")
    report = parse(text)
    assert report.checklist and not any(i.checked for i in report.checklist)
    found = [f for f in analyse(report) if f.code in ("FB501", "FB502")]
    # the answers describe config files, Hydra and FastAPI; they deny DVC and cloud training: those stay silent
    assert sorted((f.checklist_item or "")[:20] for f in found) == [
        "Build a FastAPI appl",
        "Use Hydra to load co",
        "Write one or more co",
    ]
    assert all(f.severity is Severity.INFO and f.verdict is Verdict.CONTRADICTED for f in found)
    assert all(f.message.startswith("Not ticked (no item of the checklist is)") for f in found)


def test_would_in_a_procedure_question_is_not_a_hypothetical() -> None:
    template = """# Invented
## Checklist
* [x] Make a dedicated environment for the project to track its packages

### Question 4
> **Explain how you managed dependencies, and list the steps a new team member would have to take to get an exact**
> **copy of your environment.**
>
> Answer:

{answer}
"""
    procedure = "A new member would create a conda environment from our environment.yml and then run pip install -e ."
    assert analyse(parse(template.format(answer=procedure + " " + "More words here. " * 4))) == []
    hedged = "Maybe a new member could create a virtual environment first, but we installed everything globally."
    found = analyse(parse(template.format(answer=hedged + " " + "More words here. " * 4)))
    assert [f.code for f in found] == ["FB502"]


@pytest.mark.skipif(not blank_templates(), reason="../shared/templates is not present")
def test_every_template_item_and_topic_question_is_recognised() -> None:
    catalog = load_catalog()
    for path in blank_templates():
        template = read_report(path)
        for item in template.checklist:
            assert catalog.topics_for_item(item), f"{path.name}: no topic for {item.text!r}"
        asked = {t.id for q in template.questions for t in catalog.topics_for_question(q)}
        assert {"dvc", "config-files", "profiling", "ci", "experiment-tracking", "docker"} <= asked, path.name
        if len(template.questions) == 31:
            assert {"cloud-training", "api", "api-tests", "load-tests", "cloud-deployment"} <= asked, path.name
        # unanswered, the template claims nothing: no finding whether its items are ticked or not
        assert analyse(template) == []
        assert analyse(parse(path.read_text(encoding="utf-8").replace("* [ ]", "* [x]"))) == []


def test_sentences_keep_their_lines_and_quotes_are_verbatim() -> None:
    text = (
        "### Question 5\n> **How is your code laid out?**\n>\n> Answer:\n\n"
        "We used DVC, e.g. for the raw images. It ran on a\n"
        "laptop. however we moved to GCP later!\n\n"
        "- first item without a full stop\n"
        "```bash\ndvc pull\n```\n"
    )
    report = parse(text)
    answer = split_answer(report.questions[0])
    assert [s.text for s in answer.sentences] == [
        "we used dvc, e.g. for the raw images.",
        "it ran on a\nlaptop.",
        "however we moved to gcp later!",
        "- first item without a full stop",
        "dvc pull",
    ]
    assert answer.sentences[-1].code
    second = answer.sentences[1]
    line, quote = answer.quote(second.start, second.end)
    assert (line, quote) == (6, "It ran on a")
    assert quote in report.line_text(line)
    line, quote = answer.quote(answer.sentences[2].start, answer.sentences[2].end)
    assert line == 7 and quote == "however we moved to GCP later!"


def test_a_comment_appended_to_an_item_is_not_its_wording_but_is_quoted() -> None:
    text = (CASES / "unsupported.md").read_text(encoding="utf-8")
    commented = text.replace(
        "hyperparameters (M11)\n", "hyperparameters (M11) -> Comment: we used Weights and Biases instead\n", 1
    )
    report = parse(commented)
    hydra = next(f for f in analyse(report) if f.checklist_item and f.checklist_item.startswith("Use Hydra"))
    assert hydra.code == "FB502" and "-> Comment: we used Weights and Biases instead" in hydra.evidence
    assert_verbatim(report, hydra)


def test_a_huge_answer_without_punctuation_stays_fast() -> None:
    import time

    words = "we did not link the model with the frontend and tried to use dvc docker cloud run vertex training " * 1000
    text = (
        "## Checklist\n* [x] Put the data under version control\n* [ ] Build a frontend for the API\n\n"
        "### Question 10\n> **Was your data managed with DVC? If not, say why**\n>\n> Answer:\n\n"
        f"{words}\n"
    )
    report = parse(text)
    started = time.perf_counter()
    findings = analyse(report)
    assert time.perf_counter() - started < 10  # was minutes before the cue look-ups were windowed
    assert [f.code for f in findings] == ["FB501"]


def test_eval_script_scores_labels_against_the_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(
        "consistency_eval", FIXTURES.parent.parent / "benchmarks/consistency_eval.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    labels, corpus = tmp_path / "labels", tmp_path / "corpus"
    (labels / "heldout").mkdir(parents=True)
    (labels / "tuning").mkdir()
    corpus.mkdir()
    (corpus / "contradicted.md").write_bytes((CASES / "contradicted.md").read_bytes())
    (labels / "heldout" / "contradicted.toml").write_text(
        """report = "contradicted.md"
[[item]]
item = "Put the data under version control, or at least part of it (M8)"
checked = true
label = "contradicted"
[[item]]
item = "Write one or more configuration files for the experiments (M11)"
checked = true
label = "consistent"
[[item]]
item = "Build a FastAPI application that serves predictions from the model (M22)"
checked = false
label = "unsupported"
""",
        encoding="utf-8",
    )
    (corpus / "notes.md").write_text(
        "* [x] Use Hydra for the configs (M11)\n* [ ] Add a linter to CI (M17)\n\n### Question 1\n"
        "> **What did you do?**\n> Answer:\n\nWe trained a model. TODO: numbers\nAll went well.\n",
        encoding="utf-8",
    )
    (labels / "tuning" / "notes.toml").write_text(
        """report = "notes.md"
answered = true
[[leftover]]
line = 8
quote = "TODO: numbers"
[[leftover]]
line = 9
quote = "All went well."
""",
        encoding="utf-8",
    )
    assert module.main(["--labels", str(labels), "--corpus", str(corpus), "-v"]) == 0
    out = capsys.readouterr().out
    heldout, tuning = out.split("== heldout:")[1].split("== tuning:")
    assert "recall, contradicted (verdict contradicted): 1/1 = 1.00" in heldout
    assert "recall, unsupported (verdict unsupported):   0/1 = 0.00" in heldout
    assert "recall, unsupported (any finding):           1/1 = 1.00" in heldout
    assert "false alarms on consistent items:            0/1 = 0.00" in heldout
    assert "recall, leftovers (labelled lines):          1/2 = 0.50" in tuning
    assert "verbatim evidence quotes:                    " in out and "= 1.00" in out
    # -v lists the tuning part's misses, never a held-out detail
    assert "notes.md: leftover missed: line 9" in out
    assert "contradicted.md:" not in out
    assert module.main(["--labels", str(labels), "--corpus", str(tmp_path / "absent")]) == 0
    assert capsys.readouterr().out.startswith("skip:")


def test_partial_ticks_are_contradicted_only_by_a_plain_not_done() -> None:
    text = (CASES / "contradicted.md").read_text(encoding="utf-8")
    partial = text.replace("* [x] Put the data under version control", "* [~] Put the data under version control")
    dvc = by_item(analyse(parse(partial)), "Put the data under version control")
    assert dvc is not None and dvc.verdict is Verdict.CONTRADICTED and dvc.checked is True
    assert dvc.message.startswith("Marked partly done, but Q10") and "not done at all" in dvc.message
    # a denial of one part only ("not for the raw images") contradicts a full tick, not a partial mark
    part = partial.replace("No, we did not use DVC for our data.", "We kept it simple.").replace(
        "We made use of config files:", "We did not use DVC for the raw images. We made use of config files:"
    )
    assert by_item(analyse(parse(part)), "Put the data under version control") is None
    full = part.replace("* [~] Put the data", "* [x] Put the data")
    ticked = by_item(analyse(parse(full)), "Put the data under version control")
    assert ticked is not None and ticked.message.startswith("Ticked, but Q12")
    for f in analyse(parse(partial)):
        assert not (f.checklist_item or "").startswith("Put the data") or "Ticked, but" not in f.message


def test_quotes_in_messages_are_cut_between_words() -> None:
    from feedback.verdicts import short

    text = "We had one instance running all the time on the engine and later a second instance for the big runs"
    cut = short(text, 40)
    assert cut.endswith("…") and text.startswith(cut[:-1]) and text[len(cut) - 1] == " "
    assert short("short enough", 40) == "short enough"


UNTOUCHED_SETUP = """# Report

## Checklist

* [ ] Create the initial file structure using cookiecutter
* [ ] Remember to comply with good coding practices (`pep8`) while doing the project
* [ ] Add command line interfaces and project commands to your code where it makes sense
* [ ] Build the docker files locally and make sure they work as intended
* [ ] Create a git repository

### Question 1
> **Did you structure your code with the course template? Explain.**
>
> Answer:

We used the cookiecutter template for our layout and kept its folders for data, models and reports.

### Question 2
> **Did you implement any rules for code quality and format? Explain.**
>
> Answer:

We used ruff to lint and format every file, checked on each pull request. Typer was only discussed, and we
did not get to a command line interface. We used docker to attempt to build the images but gave up.
"""


def test_untouched_checklist_reads_setup_items_by_their_own_tools_only() -> None:
    found = {(f.checklist_item or "")[:25] for f in analyse(parse(UNTOUCHED_SETUP)) if f.code == "FB501"}
    # cookiecutter and ruff are stated as done; the CLI is denied, docker only attempted, the repository unnamed
    assert found == {"Create the initial file s", "Remember to comply with g"}


@pytest.mark.parametrize(
    ("sentence", "term", "doing"),
    [
        ("We tracked every experiment in W&B.", "W&B", True),
        ("We are testing the data loader on every push.", "data loader", True),
        ("The total code coverage of our code is 81%.", "coverage", True),
        ("So far we lack integration tests for the pipeline.", "integration", False),  # a noun, not a verb
        ("Our coverage configuration lives in pyproject.", "coverage", False),
        ("Total coverage of the code is 85%.", "coverage", True),  # a measured result, no "we" needed
        ("Even if the coverage is 100%, bugs remain.", "coverage", False),
        ("*test_model.py* tests that the model returns the right shape.", "test_model", True),
    ],
)
def test_verbs_of_doing_and_measured_results_state_work_done(sentence: str, term: str, doing: bool) -> None:
    report = parse(f"### Question 1\n> **Did you use it?**\n>\n> Answer:\n\n{sentence}\n")
    s = split_answer(report.questions[0]).sentences[0]
    assert states_doing(s, s.text.index(term.lower())) is doing


PLANNED = """# Report

### Question 23
> **Did you manage to implement monitoring of your deployed model? If yes, explain how it works.**
>
> Answer:

We implemented drift detection with Evidently: a /drift endpoint compares the last week of requests with the
training data.

### Question 29
> **Include a figure that describes the overall architecture of your system and what services that you make use of.**
>
> Answer:

Requests go to Cloud Run, which serves the model. Planned drift checks would read the request log every night.
The future retraining step would be triggered from there.
"""


def test_a_thing_one_answer_calls_planned_disagrees_with_another_that_says_it_was_done() -> None:
    [f] = [f for f in analyse(parse(PLANNED)) if f.code == "FB503"]
    assert set(f.questions) == {23, 29} and "data drift" in f.message and "describes it as planned" in f.message
    assert f.evidence[1].startswith("Planned drift checks")
    # without the claim of doing it, a plan alone disagrees with nothing
    plan_only = PLANNED.replace("We implemented drift detection with Evidently: a /drift endpoint compares", "We log")
    assert [f for f in analyse(parse(plan_only)) if f.code == "FB503"] == []


CONTRIBUTIONS = """# Report

## Checklist

* [x] Create a git repository
* [ ] Add pre-commit hooks to your version control setup
* [ ] Get your model training in GCP using either the Engine or Vertex AI

### Question 17
> **List all the GCP services that you made use of in your project and shortly explain what each service does?**
>
> Answer:

Vertex AI: a managed service for training jobs. Cloud Storage: buckets for the data.

### Question 31
> **State the individual contributions of each team member.**
>
> Answer:

Student s123456 added the pre-commit hooks and the linting workflow; student s654321 wrote the data loader.
"""


def test_the_contributions_answer_says_what_was_done_but_a_list_of_services_does_not() -> None:
    found = [f.checklist_item for f in analyse(parse(CONTRIBUTIONS)) if f.code == "FB501"]
    assert found == ["Add pre-commit hooks to your version control setup"]
