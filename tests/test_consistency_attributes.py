"""Answers that give one attribute two values (FB503): the documentation tool, the service the API runs on, the
members' study numbers, the group number. Invented reports only."""

from __future__ import annotations

import time

from feedback.consistency import analyse
from feedback.consistency.attributes import names_for
from feedback.findings import Finding, Verdict
from feedback.report import parse
from tests.test_consistency_meaning import ARCH_PROMPT, CONTRIB_PROMPT, questions

GROUP_PROMPT = "Enter the group number you signed up on <learn.inside.dtu.dk>"
MEMBERS_PROMPT = "Enter the study number for each member in the group"
PACKAGES_PROMPT = "Did you end up using any open-source frameworks/packages not covered in the course?"
DEPLOY_PROMPT = "Did you manage to deploy your model, either locally or in the cloud? If not, describe why."
EXTRA_PROMPT = "Did you implement anything extra in your project that is not covered by other questions?"


def disagreements(*answers: tuple[int, str, str]) -> list[Finding]:
    text = f"# Report\n\n{questions(*answers)}"
    return [f for f in analyse(parse(text)) if f.code == "FB503"]


def test_two_documentation_tools_in_two_answers_disagree() -> None:
    mkdocs = "For the documentation we used MkDocs, which builds a small site from our Markdown files."
    sphinx = "We wrote the documentation of our code with Sphinx and its autodoc extension."
    (f,) = disagreements((3, PACKAGES_PROMPT, mkdocs), (28, EXTRA_PROMPT, sphinx))
    assert f.verdict is Verdict.INTERNAL and f.questions == (3, 28)
    assert "documentation tool" in f.message and "MkDocs" in f.message and "Sphinx" in f.message
    assert f.evidence == (mkdocs, sphinx)
    # the same tool twice, or a move from one to the other, or a plan: no disagreement
    same = "We wrote the documentation of our code with MkDocs and its autodoc plugin."
    assert disagreements((3, PACKAGES_PROMPT, mkdocs), (28, EXTRA_PROMPT, same)) == []
    moved = "We first wrote the documentation with Sphinx but later switched to MkDocs."
    assert disagreements((3, PACKAGES_PROMPT, mkdocs), (28, EXTRA_PROMPT, sphinx + " " + moved)) == []
    plan = "In the future we would write the documentation with Sphinx."
    assert disagreements((3, PACKAGES_PROMPT, mkdocs), (28, EXTRA_PROMPT, plan)) == []
    # an answer naming both says the group used both
    both = sphinx + " The user guide is built with MkDocs."
    assert disagreements((3, PACKAGES_PROMPT, mkdocs), (28, EXTRA_PROMPT, both)) == []


def test_the_api_deployed_on_two_services_disagrees_but_another_role_does_not() -> None:
    run = "We deployed our FastAPI inference API to Cloud Run, where it scales to zero when idle."
    functions = "Cloud Functions: we used this service to deploy our model's prediction API."
    (f,) = disagreements((24, DEPLOY_PROMPT, run), (29, ARCH_PROMPT, functions))
    assert "the service the API is deployed on" in f.message and f.questions == (24, 29)
    # the frontend on another service is another role; a denial is no second value
    frontend = "Cloud Functions: we used this service to deploy our Streamlit frontend."
    assert disagreements((24, DEPLOY_PROMPT, run), (29, ARCH_PROMPT, frontend)) == []
    denied = "We did not deploy our model with Cloud Functions."
    assert disagreements((24, DEPLOY_PROMPT, run), (29, ARCH_PROMPT, denied)) == []


def test_a_study_number_the_members_answer_does_not_list_disagrees() -> None:
    members = "s123456, s234567, 345678"
    credit = "Student s123465 set up the data pipeline and student s345678 wrote the API."
    (f,) = disagreements((2, MEMBERS_PROMPT, members), (31, CONTRIB_PROMPT, credit))
    assert "study numbers" in f.message and "s123465" in f.message and f.questions == (2, 31)
    assert f.evidence == (members, credit)
    # every number listed (with or without the "s"), or a number inside a link: nothing to say
    listed = "Student s123456 set up the data pipeline and s345678 wrote the API."
    assert disagreements((2, MEMBERS_PROMPT, members), (31, CONTRIB_PROMPT, listed)) == []
    linked = "We reused a script from [a course repo](https://github.com/s999999/tools) for the data."
    assert disagreements((2, MEMBERS_PROMPT, members), (31, CONTRIB_PROMPT, linked)) == []


def test_another_group_number_in_another_answer_disagrees() -> None:
    other = "Our bucket is named after us: it holds the data of group 21 and the trained models."
    (f,) = disagreements((1, GROUP_PROMPT, "12"), (29, ARCH_PROMPT, other))
    assert "group number" in f.message and f.questions == (1, 29)
    same = "Our bucket is named after us: it holds the data of group 12 and the trained models."
    assert disagreements((1, GROUP_PROMPT, "12"), (29, ARCH_PROMPT, same)) == []


def test_label_words_name_the_attributes() -> None:
    assert names_for("documentation generator") == {"the documentation tool"}
    assert names_for("student numbers of the group members") == {"the study numbers"}
    assert names_for("group number") == {"the group number"}
    assert names_for("unit tests of the data") == set()


def test_a_long_clause_of_role_words_without_a_verb_is_read_in_linear_time() -> None:
    # untrusted input: "model model ..." after a value, with no deploy verb, once made the role search quadratic
    hosted = "We used Heroku to host the API."
    started = time.process_time()
    disagreements((24, DEPLOY_PROMPT, hosted), (28, EXTRA_PROMPT, "We used Cloud Run for the " + "model " * 20_000))
    elapsed = time.process_time() - started
    assert elapsed < 2.0, f"{elapsed:.2f} s"


def test_a_python_lambda_is_not_a_cloud_service() -> None:
    run = "We deployed our FastAPI inference API to Cloud Run, where it scales to zero when idle."
    lam = "We wrote a lambda function in our app that we deployed to clean the inputs before prediction."
    assert disagreements((24, DEPLOY_PROMPT, run), (28, EXTRA_PROMPT, lam)) == []
