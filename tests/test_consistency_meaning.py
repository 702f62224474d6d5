"""The consistency engine recognises work by what a sentence says, not by the catalog's exact words: a figure in
the architecture answer, the tests answer naming what its tests cover, synonyms per topic. Invented reports only."""

from __future__ import annotations

from feedback.consistency import analyse
from feedback.report import parse

CHECKLIST = """# Report

## Checklist

* [ ] Fill out the data file such that it downloads whatever data you need and preprocesses it (`data.py`)
* [ ] Use logging to log important events in your code (M14)
* [ ] Write unit tests related to the data part of your code (M16)
* [ ] Write unit tests related to model construction and or model training (M16)
* [ ] Create an architectural diagram over your MLOps pipeline

"""

QUESTION = """### Question {n}
> **{prompt}**
>
> Answer:

{answer}

"""

TESTS_PROMPT = "How many tests did you implement and what are they testing in your code?"
ARCH_PROMPT = "Include a figure that describes the overall architecture of your system and what services you use."
DEBUG_PROMPT = "When running into bugs while trying to run your experiments, how did you perform debugging?"
CONTRIB_PROMPT = "State the individual contributions of each team member."


def questions(*answers: tuple[int, str, str]) -> str:
    """Question blocks of the template's shape: (number, prompt, answer) each."""
    return "".join(QUESTION.format(n=n, prompt=p, answer=a) for n, p, a in answers)


def report(*answers: tuple[int, str, str]) -> str:
    return CHECKLIST + questions(*answers)


DATA_SCRIPT, LOGGING, DATA_TESTS, MODEL_TESTS, DIAGRAM = (
    "Fill out the data file",
    "Use logging",
    "Write unit tests related to the data",
    "Write unit tests related to model",
    "Create an architectural diagram",
)


def found(text: str) -> dict[str, tuple[str, ...]]:
    """The items found described as done, by their opening words above, with the evidence."""
    out = {}
    for f in analyse(parse(text)):
        if f.code == "FB501":
            key = next(
                k for k in (DATA_SCRIPT, LOGGING, DATA_TESTS, MODEL_TESTS, DIAGRAM) if f.checklist_item.startswith(k)
            )
            out[key] = f.evidence
    return out


def test_a_figure_in_the_architecture_answer_shows_the_diagram_was_made() -> None:
    shown = found(
        report((29, ARCH_PROMPT, "![our pipeline](figures/pipeline.png)\n\nThe figure starts at our laptops."))
    )
    assert shown[DIAGRAM] == ("![our pipeline](figures/pipeline.png)",)
    # words alone about some figure are no diagram, nor is an image in another answer
    assert DIAGRAM not in found(report((29, ARCH_PROMPT, "We did not get to draw it.")))
    elsewhere = report((7, TESTS_PROMPT, "![coverage](figures/cov.png) shows our coverage report."))
    assert DIAGRAM not in found(elsewhere)
    # a "no" to the question outweighs a leftover image
    denied = report((29, ARCH_PROMPT, "No, we did not make one. ![x](figures/x.png)"))
    assert DIAGRAM not in found(denied)


def test_the_tests_answer_names_what_its_tests_cover_in_its_own_words() -> None:
    answer = (
        "We wrote six tests. The first tests check that every sample of the data has the right shape, and for the "
        "model we tested that one forward pass gives one score per class."
    )
    got = found(report((7, TESTS_PROMPT, answer)))
    assert set(got) == {DATA_TESTS, MODEL_TESTS}
    # "train and test data" names data, not the training: no model test without the model
    data_only = "Our tests check that the train and test data sets load with the right number of images."
    got = found(report((7, TESTS_PROMPT, data_only)))
    assert set(got) == {DATA_TESTS} and got[DATA_TESTS][0].startswith("Our tests check")
    # outside the tests question the same words say nothing about unit tests
    assert found(report((14, DEBUG_PROMPT, "We tested the model on the data of the last week."))) == {}


def test_logging_and_the_data_script_in_other_words() -> None:
    debug = "We relied on logging to trace the flow of the program and to see where a request failed."
    assert LOGGING in found(report((16, DEBUG_PROMPT, debug)))
    # logging metrics to an experiment tracker is not the application's logging
    tracker = "We used W&B for logging of the training loss and we used logging to the wandb dashboard."
    assert LOGGING not in found(report((16, DEBUG_PROMPT, tracker)))
    contrib = "Student s123456 wrote a script to download the dataset from the public archive every night."
    assert DATA_SCRIPT in found(report((31, CONTRIB_PROMPT, contrib)))
    assert found(report((31, CONTRIB_PROMPT, "Student s123456 downloaded the dataset by hand."))) == {}


SETUP = """# Report

## Checklist

* [ ] Create the initial file structure using cookiecutter
* [ ] Create a dedicated environment for you project to keep track of your packages
* [ ] Create a FastAPI application that can do inference using your model
* [ ] Setup version control for your data or part of your data
* [ ] Add caching and multi-os/python/pytorch testing to your continuous integration
* [ ] Add a linting step to your continuous integration

""" + questions(
    (
        4,
        "Explain how you managed dependencies in your project and the steps a new team member would have to go "
        "through to get an exact copy of your environment.",
        "{env}",
    ),
    (
        5,
        "We expect that you initialized your project using the cookiecutter template. Explain the overall structure.",
        "{structure}",
    ),
    (10, "Did you use DVC for managing data in your project? If yes, explain how it helped.", "{dvc}"),
    (
        11,
        "Discuss your continuous integration setup: unit testing, linting, several operating systems, caching?",
        "{ci}",
    ),
    (31, CONTRIB_PROMPT, "{people}"),
)
PARTS = {
    "env": "A newcomer clones the repository and then runs:\n\n* `conda create -n ourproject python=3.11`",
    "structure": "The project was initialized using the cookiecutter template, and an API that could classify "
    "images was written with FastAPI in the first week.",
    "dvc": "Yes, we used DVC, but we did not really get much benefit from it as the data set was small.",
    "ci": "Our GitHub workflow runs the tests on Ubuntu, Windows and macOS, and we use caching of the pip "
    "dependencies to make every run faster.",
    "people": "Student s111111: GitHub workflows, pre-commit hooks, the data loader and the README.",
}


def untouched(**changes: str) -> set[str]:
    text = SETUP.format(**{**PARTS, **changes})
    return {(f.checklist_item or "")[:30] for f in analyse(parse(text)) if f.code == "FB501"}


def test_setup_work_stated_in_passive_commands_and_with_a_negated_gain_is_done() -> None:
    assert untouched() == {
        "Create the initial file struct",  # "was initialized using"
        "Create a dedicated environment",  # an inline command in the environment answer
        "Create a FastAPI application t",  # "an API that could classify": what it does, not a maybe
        "Setup version control for your",  # "did not get much benefit" denies the gain, not the use
        "Add caching and multi-os/pytho",  # both parts named in the CI answer
    }
    # the linting step is not claimed: the contributions list names workflows and hooks as separate entries


def test_the_same_words_denied_or_only_planned_stay_silent() -> None:
    found = untouched(
        env="A newcomer would maybe run `conda create -n ourproject` if we ever made one.",
        structure="We could have initialized it with cookiecutter, and we wanted an API that could classify images.",
        dvc="No, we did not use DVC, the data never changed.",
        ci="Our GitHub workflow runs the tests on Ubuntu only; we did not add caching.",
        people="Student s111111: the linting step in the GitHub workflow, the data loader and the README.",
    )
    # only the contributions entry that names linting in the workflow itself says the linting step was done
    assert found == {"Add a linting step to your con"}


SERVICES = """# Report

""" + questions(
    (18, "The backbone of GCP is the Compute engine. Explain how you made use of this service.", "{engine}"),
    (
        22,
        "Did you manage to train your model in the cloud using either the Engine or Vertex AI? If not, describe why.",
        "{training}",
    ),
    (27, "How many credits did you end up using during the project and what service was most expensive?", "{credits}"),
)


def disagreements(**parts: str) -> list[str]:
    text = SERVICES.format(**{"engine": "We read.", "training": "We read.", "credits": "We read.", **parts})
    return [f.message for f in analyse(parse(text)) if f.code == "FB503"]


def test_a_service_denied_in_one_answer_and_named_as_used_in_another_disagrees() -> None:
    denial = "Compute Engine has not been used in this project, since we trained with Vertex AI instead."
    credits = "We used 40 dollars; the most expensive service was Compute Engine, then Vertex AI."
    [message] = disagreements(engine=denial, credits=credits)
    assert message.startswith("Answers disagree about Compute Engine (training in the cloud): Q27 says it was done")
    # a weak denial ("did not directly use", "did not need") or a conditional claim is no disagreement
    weak = "We did not directly use Compute Engine, since Vertex AI started the machines for us."
    assert disagreements(engine=weak, credits=credits) == []
    conditional = "If we leave out the forgotten Compute Engine instance, the most expensive was Vertex AI."
    assert disagreements(engine=denial, credits=conditional) == []


def test_two_different_services_of_one_topic_do_not_disagree() -> None:
    used = "We used Compute Engine to run our experiments on an e2-standard-4 machine."
    failed = "We tried to train the model with Vertex AI, but we did not manage to make it work."
    assert disagreements(engine=used, training=failed) == []
    # the same service on both sides does
    failed_engine = "We tried to train on the Compute Engine VM, but we did not manage to make it work."
    assert len(disagreements(engine=used, training="No. " + failed_engine)) == 1


def test_a_negation_with_its_own_object_denies_nothing_named_after_the_comma() -> None:
    text = SERVICES.format(
        engine="We trained our model on a Compute Engine VM with one GPU.",
        training="Although we did not change the data during the project, Compute Engine was handy for training.",
        credits="We used 40 dollars.",
    )
    assert [f for f in analyse(parse(text)) if f.code == "FB503"] == []


MONITORING = """# Report

## Checklist

* [ ] Load test your application (M24)
* [ ] Create one or more alert systems in GCP to alert you if your app is not behaving correctly (M28)
* [ ] Setup cloud monitoring of your instrumented application (M28)
* [ ] Use profiling to optimize your code (M12)

""" + questions(
    (16, "When running into bugs, how did you perform debugging? Did you try profiling your code?", "{profiling}"),
    (25, "Did you perform any unit testing and load testing of your API? If yes, explain how.", "{load}"),
    (
        26,
        "Did you manage to implement monitoring of your deployed model? If yes, explain how it works.",
        "{monitoring}",
    ),
    (31, CONTRIB_PROMPT, "{people}"),
)
MONITORING_PARTS = {
    "profiling": "We read the tracebacks. The notes are in `docs/profiling.md`.",
    "load": "For load testing we would use Locust against the deployed service.",
    "monitoring": "The API exposes Prometheus metrics on /metrics, which we read by hand.",
    "people": "Student s1 emphasized operations (storage, cloud runs, load tests, alerts) and helped with the API.",
}


def monitoring_found(**parts: str) -> set[str]:
    text = MONITORING.format(**{**MONITORING_PARTS, **parts})
    return {(f.checklist_item or "")[:20] for f in analyse(parse(text)) if f.code == "FB501"}


def test_listings_and_file_names_do_not_outweigh_what_the_own_answer_says() -> None:
    # load tests only planned in their answer, alerts only in a bracketed list, Prometheus metrics are not cloud
    # monitoring, and a file named profiling.md is no profiling
    assert monitoring_found() == set()
    # stated plainly, each is found
    assert monitoring_found(
        load="We load tested the API with Locust: 100 users gave a median response time of 80 ms.",
        monitoring="We built a Cloud Monitoring dashboard for the service and set up alerts on the error rate.",
        profiling="We profiled the training loop with cProfile and found the data loading was slow.",
    ) == {"Load test your appli", "Create one or more a", "Setup cloud monitori", "Use profiling to opt"}
    # the contributions answer still counts outside brackets when the own answer does not deny it
    assert "Create one or more a" in monitoring_found(people="Student s1 set up the alerts in GCP for the API.")


def test_a_ticked_item_its_own_answer_only_plans_is_contradicted() -> None:
    ticked = MONITORING.replace("* [ ] Load test", "* [x] Load test")
    text = ticked.format(**MONITORING_PARTS)
    [f] = [f for f in analyse(parse(text)) if f.code == "FB501"]
    assert f.checklist_item.startswith("Load test") and f.checked is True
    assert "only as a plan" in f.message and f.evidence[0].startswith("For load testing we would use Locust")
    # a plain claim anywhere (not only a bracketed listing) keeps the tick
    done = ticked.format(**{**MONITORING_PARTS, "people": "Student s1 ran the load tests with Locust."})
    assert [f for f in analyse(parse(done)) if f.code == "FB501"] == []


def test_a_ticked_registry_trigger_no_answer_names_is_unsupported_in_a_complete_report() -> None:
    def complete(ci_answer: str) -> str:
        item = "Add a continues workflow that triggers when changes to the model registry is made"
        head = f"# Report\n\n## Checklist\n\n* [x] {item}\n\n"
        body = "".join(
            QUESTION.format(n=n, prompt=f"Question about part {n} of the project?", answer=f"Answer number {n} here.")
            for n in range(1, 21)
        )
        return (
            head + body + QUESTION.format(n=21, prompt="Discuss your continuous integration setup.", answer=ci_answer)
        )

    [f] = [f for f in analyse(parse(complete("Our workflow runs the tests on every push."))) if f.code == "FB502"]
    assert "no question asks about it directly" in f.message
    # a workflow started when the model files change is that trigger, in other words
    other_words = "A second workflow is triggered when the model files or the data files change, and retrains."
    assert [f for f in analyse(parse(complete(other_words))) if f.code == "FB502"] == []
