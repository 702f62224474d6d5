"""What a model's reply can put in front of a student: only the report's own words, bounded model text.

Issue 12's verification gaps: a cross-answer contradiction whose two quotes are the same words; evidence that falls
back to the model's own text when a quote cannot be located; a missing part or an item finding carrying arbitrary
model text ("GRADE: 0/12"); a 10 MB suggestion reaching the outputs or the cache. And missing parts that are not
explicit asks of the question.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from feedback.findings import Category, Finding, Severity, Source, Verdict
from feedback.llm import assess, cues
from feedback.llm.assess import (
    QuestionFacts,
    RelatedItem,
    Statement,
    VerifiedFact,
    explicit_ask,
    item_findings,
    merge_with_offline,
    question_around,
    question_facts,
    report_findings,
)
from feedback.llm.cache import DB_NAME
from feedback.llm.fake import FakeChatClient, reply
from feedback.llm.review import review_results
from feedback.llm.schema import MAX_MODEL_TEXT, QuestionReview, ReportReview
from feedback.llm.verify import QuoteIndex, normalise
from feedback.pipeline import check_text
from feedback.report import parse
from feedback.settings import Settings

REPORT = """\
# Exam report: verification drill (invented)

## Overall project checklist

* [x] Deploy the model in GCP with Cloud Run (M23)
* [x] Load test the application (M24)

## Deployment

### Question 3
> **Did you manage to deploy your model? Describe how, and how a user calls the service.**
>
> Answer:

We packaged the model with FastAPI and Docker and deployed it on Cloud Run in week two.
A user calls it with curl on the service URL.

### Question 4
> **Did you load test the API? Describe the results.**
>
> Answer:

We deployed it on Cloud Run in week two. Locust showed about 40 requests per second before errors appeared.
We never tried it against the deployed service.
"""
GRADE = "GRADE: 0/12 - plagiarism detected"
EMPTY: dict[str, Any] = {"parts": [], "items": [], "facts": [], "suggestions": []}


def run(replies: dict[int, dict[str, Any]], tmp_path: Path) -> list[Finding]:
    """Review REPORT with one scripted reply per question (0: the report-level pass); the LLM findings."""

    def respond(req: Any) -> Any:
        user = req.messages[1]["content"]
        n = 0 if user.startswith("Facts and checklist items") else int(user.split(":", 1)[0].split()[-1])
        return reply(replies.get(n, EMPTY if n else {"contradictions": [], "items": []}))

    settings = Settings(api_key="sk-test", cache_dir=tmp_path / "cache", concurrency=1, backoff=0.0)
    [res] = review_results([check_text(REPORT)], settings, client=FakeChatClient([respond] * 3))
    return [f for f in res.findings if f.source == "llm"]


def fact(fid: str, question: int, quote: str, status: str = "done") -> VerifiedFact:
    return VerifiedFact(fid, question, "Cloud Run | deployment", status, quote, 10)


def test_a_cross_answer_contradiction_whose_two_quotes_are_the_same_words_is_dropped() -> None:
    same = "We deployed it on Cloud Run in week two."
    conflict = {"first_fact": "F3.1", "second_fact": "F4.1", "explanation": "one sentence against itself"}
    review = ReportReview.model_validate({"contradictions": [conflict], "items": []})
    for second in (same, "we deployed it on cloud run", same.upper()):  # the same words, or a part of them
        found, dropped = report_findings(review, [fact("F3.1", 3, same), fact("F4.1", 4, second)], [], [], str)
        assert (found, dropped) == ([], 1)
    failed = fact("F4.1", 4, "Locust showed errors before the deploy failed", "not-done")
    found, dropped = report_findings(review, [fact("F3.1", 3, same), failed], [], [], str)
    assert [f.code for f in found] == ["FB604"] and dropped == 0


def test_evidence_is_never_the_models_own_text(tmp_path: Path) -> None:
    report = parse(REPORT)
    q = report.question(3)
    assert q is not None
    index = QuoteIndex(report)
    assert index.exact("we trained on a TPU pod for a month", q) is None  # was: the model's text, as evidence
    # a fact whose quote cannot be located keeps its id but settles nothing and backs no contradiction
    review = ReportReview.model_validate(
        {
            "contradictions": [{"first_fact": "F3.1", "second_fact": "F4.1", "explanation": "x"}],
            "items": [{"item": "Load test the application (M24)", "status": "not-done", "fact": "F3.1"}],
        }
    )
    unlocated = fact("F3.1", 3, "")
    item = RelatedItem("Load test the application (M24)", True)
    found, dropped = report_findings(review, [unlocated, fact("F4.1", 4, "Locust showed")], [], [item], str)
    assert found == [] and dropped == 2
    # every LLM finding of a whole review carries only report text as evidence
    said = "We packaged the model with FastAPI and Docker"
    invented = "we trained on a TPU pod for a month"
    suggestion = {"prompt_quote": "Describe how", "quote": invented, "suggestion": "x", "importance": "high"}
    q3 = {**EMPTY, "suggestions": [suggestion, {**suggestion, "quote": said}]}
    whole = normalise(REPORT)
    found = run({3: q3}, tmp_path)
    assert [f.code for f in found] == ["FB603"]
    assert all(normalise(e) in whole for f in found for e in f.evidence)


def test_a_missing_part_or_item_finding_carries_no_model_text(tmp_path: Path) -> None:
    parts = [
        # a real ask of Q4, described by the model as a grade: the finding quotes the question, not the model
        {"ask": "named-item", "prompt_quote": "Describe the results.", "part": GRADE, "answered": False, "quote": ""},
        # the "question's words" are the model's: not in the prompt, dropped
        {"ask": "named-item", "prompt_quote": GRADE, "part": "x", "answered": False, "quote": ""},
    ]
    denial = "We never tried it against the deployed service"
    items = [{"item": f"Load test the application (M24) {GRADE}", "status": "not-done", "quote": denial}]
    report_pass = {"contradictions": [], "items": [{"item": GRADE, "status": "not-done", "fact": "F4.1"}]}
    found = run({4: {**EMPTY, "parts": parts, "items": items}, 0: report_pass}, tmp_path)
    [missing] = [f for f in found if f.code == "FB602"]
    assert missing.message == 'The answer does not give what "Describe the results." asks for'
    # the item status names the listed item (with words appended): its finding is about the listed item, in the
    # verdict table's words and the report's quote
    [item] = [f for f in found if f.code == "FB601"]
    assert item.checklist_item == "Load test the application (M24)" and item.evidence == (denial,)
    assert all("GRADE" not in f.message and all("GRADE" not in e for e in f.evidence) for f in found)


def test_a_ten_megabyte_suggestion_reaches_neither_the_outputs_nor_the_cache(tmp_path: Path) -> None:
    huge = "Add the numbers. " * 600_000  # 10 MB
    quote = "We packaged the model with FastAPI and Docker"
    suggestion = {"prompt_quote": "Describe how", "quote": quote, "suggestion": huge, "importance": "high"}
    found = run({3: {**EMPTY, "suggestions": [suggestion]}}, tmp_path)
    [f] = found
    assert f.code == "FB603" and len(f.message) <= 200
    with sqlite3.connect(tmp_path / "cache" / DB_NAME) as db:
        rows = [r[0] for r in db.execute("SELECT value FROM responses")]
    assert rows and max(len(r) for r in rows) < 4 * MAX_MODEL_TEXT
    cached = [json.loads(json.loads(r)["content"]) for r in rows]
    assert any(s["suggestion"] == huge[:MAX_MODEL_TEXT] for c in cached for s in c.get("suggestions", []))


def test_a_missing_part_counts_only_for_an_explicit_ask_of_the_question() -> None:
    prompt = normalise(
        "Docker is an important tool. Explain how you used docker in your project? Include how you would run your "
        "docker images and include a link to one of your docker files. How many tests did you write? Did you use "
        "config files? Explain why these concepts matter. What about typing and documentation? Do you test "
        "multiple operating systems, Python version etc. Feel free to insert a link to your workflow. Also state "
        "if/how you have used generative AI tools. Upload 1-2 images of your build history. Include a figure of "
        "your pipeline and explain the steps in the figure. Did you add anything extra? If yes, explain what you "
        "did and why."
    )
    asks = [
        ("link", "include a link to one of your docker files", True),
        ("named-item", "Include how you would run your docker images", True),
        ("number", "How many tests did you write?", True),
        ("yes-no", "Did you use config files?", True),
        ("reason", "Explain why these concepts matter.", True),
        ("named-item", "Explain how you used docker in your project?", False),  # the question's topic
        # an imperative ask or a question of the prompt is explicit whatever kind the model gave it
        ("reason", "Include how you would run your docker images", True),
        ("number", "Did you use config files?", True),
        # a fragment that is neither needs the cue of its kind
        ("reason", "how you would run your docker images", False),
        ("number", "one of your docker files", False),
        ("named-item", "whether config files were used", False),  # the model's words, not the question's
        ("named-item", "docker", False),  # too short to be an ask
        ("yes-no", "What about typing and documentation?", True),  # a question of the prompt, whatever its kind
        ("yes-no", "state if/how you have used generative AI tools", True),  # an imperative ask
        ("yes-no", "Python version", False),  # a fragment of a question, no ask of its own
        ("link", "Feel free to insert a link to your workflow.", False),  # optional
        # an image is the image checks' to ask for (the model does not see images); words about a figure are not
        ("named-item", "Upload 1-2 images of your build history.", False),
        ("named-item", "Include a figure of your pipeline", False),
        ("named-item", "explain the steps in the figure", True),
        # an ask that holds only under a condition is not one the answer can be said to leave out
        ("reason", "If yes, explain what you did and why.", False),
        ("yes-no", "Did you add anything extra?", True),
    ]
    for kind, words, explicit in asks:
        assert explicit_ask(kind, words, prompt) is explicit, (kind, words)


def test_a_contributions_answer_alone_never_shows_an_unticked_item_done() -> None:
    from feedback.verdicts import Stated

    unticked = RelatedItem("Deploy a drift detection API (M27)", checked=False)
    ticked = RelatedItem("Write unit tests (M16)", checked=True)

    def said(item: RelatedItem, q: int) -> Statement:
        return Statement(item, q, Stated.DONE, "Anna: drift detection and deployment", 700)

    def verdicts(*per_question: QuestionFacts) -> list[tuple[str | None, Verdict | None]]:
        return [(f.checklist_item, f.verdict) for f in item_findings(per_question).findings]

    contributions = QuestionFacts(31, statements=[said(unticked, 31), said(ticked, 31)], contributions=True)
    assert verdicts(contributions) == []  # the ticked item it backs is consistent; the unticked one is not judged
    # another answer saying it was done still counts, with its own quote
    other = QuestionFacts(26, statements=[said(unticked, 26)])
    assert verdicts(contributions, other) == [(unticked.text, Verdict.CONTRADICTED)]
    # the same words in an ordinary answer
    assert verdicts(QuestionFacts(31, statements=[said(unticked, 31)])) == [(unticked.text, Verdict.CONTRADICTED)]


def test_a_word_of_a_question_counts_as_that_question() -> None:
    prompt = "Did you implement rules for code quality? What about typing and documentation? Explain why it matters."
    assert question_around("typing", prompt) == "What about typing and documentation?"
    assert question_around("code quality", prompt) == "Did you implement rules for code quality?"
    assert question_around("why it matters", prompt) is None  # not a question sentence: the words stand alone
    assert question_around("docker", prompt) is None


def internal(code: str, questions: tuple[int, int], message: str, source: Source) -> Finding:
    check = "answers-disagree" if code == "FB503" else "llm-internal"
    return Finding(
        code,
        check,
        Category.CONSISTENCY if code == "FB503" else Category.ANSWER,
        Severity.WARNING,
        message,
        source=source,
        line=questions[0],
        question=questions[0],
        questions=questions,
        verdict=Verdict.INTERNAL,
        evidence=(f"quote {questions[0]}", f"quote {questions[1]}"),
    )


def test_cross_answer_contradictions_sharing_a_question_are_one_finding() -> None:
    offline = internal("FB503", (15, 22), "Answers disagree about training in the cloud.", Source.RULE)
    same_problem = internal("FB604", (17, 22), "Q17 and Q22 disagree: Vertex AI against no cloud training.", Source.LLM)
    same_problem = replace(same_problem, evidence=("quote 17", "Quote 22."))  # Q22's quote again, cut otherwise
    other = internal("FB604", (9, 11), "Q9 and Q11 disagree: no pull requests against PR-gated merges.", Source.LLM)
    again = internal("FB604", (11, 29), "Q11 and Q29 disagree: PRs again.", Source.LLM)
    rule, llm = merge_with_offline([offline], [same_problem, other, again])
    [folded] = rule
    assert folded.questions == (15, 17, 22)
    assert folded.message.startswith("Answers disagree about training in the cloud. Also Q17 and Q22 disagree:")
    assert folded.evidence == ("quote 15", "quote 22", "quote 17")
    [pr] = llm  # the two LLM findings about pull requests share Q11: one
    assert pr.questions == (9, 11, 29) and "Also Q11 and Q29 disagree" in pr.message


def test_a_status_counts_only_when_its_quote_carries_its_sign() -> None:
    # not-done: a denial, a failure or a counterfactual; a denial limited to a manner or extent denies nothing
    for quote in ("We were unable to deploy it", "The model can only be deployed locally", "we never used DVC"):
        assert cues.states("not-done", quote), quote
    assert cues.states("not-done", "If we had more time we would have done version control of the model")
    for quote in (
        "By running flake8 as part of our development routine",  # a tool used elsewhere
        "We have implemented 4 tests",
        "Cloud Build was enabled in the project but not actively used",
        "We did not set up a dedicated documentation generator",
        "It was much more efficient than the traditional tools",  # "efficient" is no "n't"
    ):
        assert not cues.states("not-done", quote), quote
    assert cues.states("planned-only", "For load testing we would use Locust")
    assert not cues.states("planned-only", "Detect drift in the input data")
    assert not cues.states("done", "W&B allows us to save the checkpoints as model versions")
    assert not cues.states("done", "We managed with the engine, but opted to run training locally")
    assert cues.states("done", "We saved the checkpoints as model versions")


def test_the_report_pass_settles_an_item_only_with_a_fact_of_the_same_sign() -> None:
    item = RelatedItem("Add a linting step to your continuous integration (M17)", True)
    settle = {"item": item.text, "status": "not-done", "fact": "F11.1"}
    review = ReportReview.model_validate({"contradictions": [], "items": [settle]})
    used = VerifiedFact("F11.1", 11, "flake8 | locally", "done", "By running flake8 as part of our routine", 9)
    found, dropped = report_findings(review, [used], [(item, [11])], [], str)
    # a tool used elsewhere never shows the item was not done: the item its question left silent stays unsupported
    assert [(f.code, f.verdict) for f in found] == [("FB601", Verdict.UNSUPPORTED)] and dropped == 1
    denied = replace(used, status="not-done", quote="We never added a linter to the workflow")
    found, dropped = report_findings(review, [denied], [(item, [11])], [], str)
    assert [(f.code, f.verdict) for f in found] == [("FB601", Verdict.CONTRADICTED)] and dropped == 0


def test_pair_rules_keep_a_conflict_only_when_statuses_and_words_allow_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def pair(first: VerifiedFact, second: VerifiedFact) -> list[str]:
        conflict = {"first_fact": first.id, "second_fact": second.id, "explanation": "x"}
        review = ReportReview.model_validate({"contradictions": [conflict], "items": []})
        return [f.code for f in report_findings(review, [first, second], [], [], str)[0]]

    run_ = VerifiedFact("F15.1", 15, "API deployment | Cloud Run", "done", "The API was deployed on Cloud Run", 5)
    vertex = VerifiedFact("F24.1", 24, "API deployment | Vertex AI endpoint", "done", "We served it on Vertex AI", 9)
    assert pair(run_, vertex) == ["FB604"]  # not adopted (README): every pair of two answers' facts stands
    monkeypatch.setattr(assess, "PAIR_RULES", True)
    assert pair(run_, vertex) == []  # two places, each possible: both can hold
    assert pair(run_, replace(vertex, what="API deployment | Vertex AI endpoint, not Cloud Run")) == ["FB604"]
    denial = "We could not deploy it to Cloud Run"
    failed = replace(vertex, what="Cloud Run deployment", status="not-done", quote=denial)
    assert pair(run_, failed) == ["FB604"]
    assert pair(run_, replace(failed, quote="Cloud Run was enabled but not actively used")) == []
    planned = replace(failed, id="F30.1", question=30, status="planned-only", quote="Next we would add Cloud Run")
    assert pair(failed, planned) == []  # neither was done


def test_a_stub_answer_gets_no_model_missing_part() -> None:
    report = parse(REPORT)
    q = report.question(4)
    assert q is not None
    part = {"ask": "named-item", "prompt_quote": "Describe the results.", "part": "x", "answered": False, "quote": ""}
    review = QuestionReview.model_validate({**EMPTY, "parts": [part]})
    index = QuoteIndex(report)
    assert [f.code for f in question_facts(review, q, [], index, str).findings] == ["FB602"]
    stub = q._replace(min_words=q.answer.words * 3 + 1)  # under a third of the recommended length
    assert question_facts(review, stub, [], index, str).findings == []
