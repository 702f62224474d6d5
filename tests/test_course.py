"""Course-level checks across groups: answers copied between groups (FB801) in a batch of invented reports."""

from __future__ import annotations

import json
from pathlib import Path

from feedback.batch import run_batch

PROMPT = """### Question {n}
> **Describe how you {topic}.**
>
> Recommended answer length: 50-150 words.
>
> Example:
> *We relied on ... to {topic} and we checked ... every time a change was merged into the main branch of the repo.*
>
> Answer:
"""

COPIED = (
    "Our pipeline starts with a nightly job that pulls the raw sensor files from the shared bucket, removes broken "
    "rows, resamples every series to one reading per minute and stores the cleaned tables as parquet files. A second "
    "job trains the gradient boosted model on the last ninety days, logs the metrics to our tracking server and "
    "promotes the model only when the validation error beats the current one by at least two percent."
)
OWN = [
    "We train a small convolutional network on spectrogram images that a preprocessing script renders from the audio "
    "clips. Training runs inside a container on a rented GPU machine, and the evaluation notebook compares each new "
    "checkpoint with the previous best one before we tag a release and upload it to the registry for the demo app.",
    "Data arrives as scanned invoices. An OCR step turns them into text, a rule based parser extracts amounts and "
    "dates, and the classifier assigns each invoice to a cost centre. We retrain it weekly from corrected labels "
    "that the finance team exports from their review tool, and keep every trained version with its data hash.",
]
SHARED_TEMPLATE_ANSWER = (
    "We relied on pytest to build our pipeline and we checked linting every time a change was merged into the main "
    "branch of the repo."
)


def _report(answer3: str, answer4: str) -> str:
    return (
        "# Exam report\n\n"
        + PROMPT.format(n=3, topic="build your pipeline")
        + "\n"
        + answer3
        + "\n\n"
        + PROMPT.format(n=4, topic="build your pipeline")
        + "\n"
        + answer4
        + "\n"
    )


def _findings(out: Path, slug: str) -> list[dict[str, object]]:
    data = json.loads((out / "reports" / f"{slug}.json").read_text(encoding="utf-8"))
    return [f for f in data["findings"] if f["code"] == "FB801"]


def test_planted_copy_is_found_in_both_groups_and_nowhere_else(tmp_path: Path) -> None:
    src = tmp_path / "course"
    for group, a3 in (("alpha", COPIED), ("beta", COPIED.replace("nightly", "daily")), ("gamma", OWN[0])):
        (src / group / "reports").mkdir(parents=True)
        a4 = SHARED_TEMPLATE_ANSWER if group != "gamma" else OWN[1]
        (src / group / "reports" / "README.md").write_text(_report(a3, a4), encoding="utf-8")
    out = tmp_path / "out"
    summary, _notice = run_batch(str(src), out, jobs=1, progress=False)
    assert not summary.failed
    slugs = {o.entry.group: o.entry.slug for o in summary.outcomes}
    alpha, beta, gamma = (_findings(out, slugs[g]) for g in ("alpha", "beta", "gamma"))
    # the copied Q3 is reported once in each of the two groups, naming the other and quoting both answers
    assert [f["question"] for f in alpha] == [3] and [f["question"] for f in beta] == [3]
    assert "beta" in str(alpha[0]["message"]) and "alpha" in str(beta[0]["message"])
    assert alpha[0]["evidence"] and str(alpha[0]["evidence"][0]).startswith("Our pipeline starts with a nightly")
    assert "Our pipeline starts with a daily" in str(alpha[0]["message"])
    # the Q4 answers are the prompt's example filled in alike: template text never counts as copying
    assert gamma == []
    assert "FB801" in (out / "findings.csv").read_text(encoding="utf-8")

    # a rerun finds the same pair and rewrites nothing; ignoring the check removes it everywhere
    before = {p.name: p.read_bytes() for p in (out / "reports").iterdir()}
    run_batch(str(src), out, jobs=1, progress=False)
    assert before == {p.name: p.read_bytes() for p in (out / "reports").iterdir()}


def test_ignoring_the_check_skips_it(tmp_path: Path) -> None:
    from feedback.pipeline import Options

    src = tmp_path / "course"
    for group in ("alpha", "beta"):
        (src / group).mkdir(parents=True)
        (src / group / "README.md").write_text(_report(COPIED, OWN[0]), encoding="utf-8")
    out = tmp_path / "out"
    summary, _ = run_batch(str(src), out, Options(ignore=("FB8",)), jobs=1, progress=False)
    assert all(_findings(out, o.entry.slug) == [] for o in summary.outcomes)
