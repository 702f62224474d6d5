"""Scope of denials and plans in the consistency engine: what a negation or a plan is about decides whether it
denies the group's work, and two answers disagree when one only plans or denies what another claims. Invented
reports only."""

from __future__ import annotations

from feedback.consistency import analyse
from feedback.findings import Finding
from feedback.report import parse
from tests.test_consistency_meaning import ARCH_PROMPT, CONTRIB_PROMPT, questions

CI_PROMPT = "Discuss your continuous integration setup."
LOAD_PROMPT = "Did you perform any unit testing and load testing of your API? If not, explain how you would do it."
DVC_PROMPT = "Did you use DVC for managing data in your project? If not, explain how it would help."
ENGINE_PROMPT = "The backbone of GCP is the Compute engine. Explain how you made use of this service."


def report(checklist: str, *answers: tuple[int, str, str]) -> str:
    return f"# Report\n\n## Checklist\n\n{checklist}\n\n{questions(*answers)}"


def findings(text: str, code: str) -> list[Finding]:
    return [f for f in analyse(parse(text)) if f.code == code]


CACHING = "* [x] Add caching and multi-os/python/pytorch testing to your continuous integration (M17)"


def test_a_denial_about_one_of_several_things_denies_nothing_of_the_group() -> None:
    one_of = "We have three workflows. Another is a docker build workflow that does not use caching between runs."
    assert findings(report(CACHING, (11, CI_PROMPT, one_of)), "FB501") == []
    # the group's own pipeline without caching is a plain denial
    plain = "Our CI workflow does not use caching, it installs everything on every run."
    (f,) = findings(report(CACHING, (11, CI_PROMPT, plain)), "FB501")
    assert f.evidence[0].startswith("Our CI workflow does not use caching")


DVC_ITEM = "* [ ] Setup version control for your data or part of your data (M8)"


def test_an_unticked_tool_replaced_by_another_in_its_own_answer_is_not_described_as_done() -> None:
    setup = "DVC has been linked to our data bucket, where the cache files have been created."
    replaced = setup + " However, dvc push kept failing, so the group instead used gsutil to upload the data."
    assert findings(report(DVC_ITEM, (10, DVC_PROMPT, replaced)), "FB501") == []
    (f,) = findings(report(DVC_ITEM, (10, DVC_PROMPT, setup + " It made sharing the data easy.")), "FB501")
    assert "DVC has been linked" in f.evidence[0]
    # "instead used it": the same tool, still used
    kept = setup + " However, we did not run every step with DVC and instead used it only for the raw images."
    assert findings(report(DVC_ITEM, (10, DVC_PROMPT, kept)), "FB501")


def test_a_plan_in_the_own_answer_disagrees_with_a_claim_elsewhere() -> None:
    plan = "For load testing, we would use Locust to simulate many users sending requests to the API."
    credit = "Student s1 worked on testing (unit tests, API tests, load tests) and on the docker images."
    (f,) = findings(report("", (25, LOAD_PROMPT, plan), (31, CONTRIB_PROMPT, credit)), "FB503")
    assert f.questions == (31, 25) and "planned" in f.message
    # the own answer also says it was done: its "would" is no plan against the credit
    done = "We load tested the API with Locust and reached 50 requests per second. " + plan
    assert findings(report("", (25, LOAD_PROMPT, done), (31, CONTRIB_PROMPT, credit)), "FB503") == []
    # a plan to do more of it is no plan against a claim
    more = "We will extend the load testing further with more users. We load tested the API with Locust."
    assert findings(report("", (25, LOAD_PROMPT, more), (31, CONTRIB_PROMPT, credit)), "FB503") == []


def test_a_service_denied_subject_first_disagrees_with_the_architecture_answer() -> None:
    denied = "In the end, Compute Engine was not used in the final setup. We used managed services instead."
    arch = "The training workflow builds an image. It executes a training job on Compute Engine resources."
    (f,) = findings(report("", (18, ENGINE_PROMPT, denied), (29, ARCH_PROMPT, arch)), "FB503")
    assert f.questions == (29, 18) and "Compute Engine was not used" in f.evidence[1]
    # "not ... directly": no plain denial
    weak = "We did not provision Compute Engine VMs directly. Cloud Run runs on top of them."
    assert findings(report("", (18, ENGINE_PROMPT, weak), (29, ARCH_PROMPT, arch)), "FB503") == []


TRAIN_PROMPT = "Did you manage to train your model in the cloud using either the Engine or Vertex AI?"
HARD_PROMPT = "Discuss the overall struggles of the project. Where did you spend most time and what did you do?"


def test_a_denial_of_a_resource_is_no_denial_of_the_work() -> None:
    credit = "Vertex AI: used to run our custom training jobs from the container image."
    for gpu in (
        "Moreover, we did not manage to run any training using a GPU on Vertex AI.",
        "No, we did not manage to train using a GPU on Vertex AI, only on CPUs.",
    ):
        for n, prompt in ((30, HARD_PROMPT), (22, TRAIN_PROMPT)):
            assert findings(report("", (17, ARCH_PROMPT, credit), (n, prompt, gpu)), "FB503") == []
    plain = "Moreover, we did not manage to run any training on Vertex AI."
    (f,) = findings(report("", (17, ARCH_PROMPT, credit), (30, HARD_PROMPT, plain)), "FB503")
    assert f.questions == (17, 30)
