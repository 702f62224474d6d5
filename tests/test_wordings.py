"""Remarks appended to checklist items: known wordings as fingerprints, the blank template's items, the module tag."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedback.checks.wordings import appended_remark, fingerprint, known
from feedback.pipeline import Options, check_text
from feedback.report import parse, read_report

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "shared" / "templates"

BLANK = """## Checklist
* [ ] Keep every experiment's settings in versioned files
* [ ] Time the slowest part of the pipeline

### Question 1
> **Group number?**
> Answer:

--- question 1 fill here ---
"""


def test_remark_against_the_blank_template_given() -> None:
    filled = BLANK.replace(
        "* [ ] Keep every experiment's settings in versioned files",
        "* [x] Keep every experiment's settings in versioned files -> only for training, ask Ola",
    ).replace("* [ ] Time the slowest", "* [x] DONE Time the slowest")
    options = Options(select=("leftover-note",), template=parse(BLANK), consistency=False)
    found = check_text(filled, options).findings
    assert [(f.line, f.evidence) for f in found] == [
        (2, ("-> only for training, ask Ola",)),
        (3, ("DONE",)),
    ]
    # without the template these wordings are unknown and untagged: nothing is claimed
    assert check_text(filled, Options(select=("leftover-note",), consistency=False)).findings == []


def test_punctuation_is_not_a_remark_and_unknown_wordings_are_left_alone() -> None:
    extra = ["Keep every experiment's settings in versioned files"]
    assert appended_remark("Keep every experiment's settings in versioned files.", extra) is None
    assert appended_remark("Keep every experiment's settings in versioned files :)", extra) == ":)"
    assert appended_remark("We wrote our own item here", extra) is None
    assert appended_remark("We wrote our own item here (M3) -- skipped", extra) == "-- skipped"


@pytest.mark.skipif(not TEMPLATES.is_dir(), reason="../shared/templates not present")
def test_every_template_wording_is_known_and_clean() -> None:
    texts = [item.text for path in sorted(TEMPLATES.glob("*.md")) for item in read_report(path).checklist]
    assert texts
    # the stored fingerprints are exactly the templates' wordings (regenerate with python -m feedback.checks.wordings)
    assert {fingerprint(t) for t in texts} == set(known())
    assert all(appended_remark(t) is None for t in texts)
    assert all(not item.notes for path in TEMPLATES.glob("*.md") for item in read_report(path).checklist)
    for t in texts[::7]:
        assert appended_remark(f"{t} - not useful for us") == "- not useful for us"
        assert appended_remark(f"{t} done :)") == "done :)"
