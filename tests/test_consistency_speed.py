"""The consistency engine's shortcuts decide exactly what the plain computation decides: a cue pattern skipped by its
literal gate could not have matched, on generated text and on every corpus sentence."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.consistency import evidence, gates
from feedback.consistency.catalog import required_literals
from feedback.consistency.evidence import split_answer
from feedback.consistency.gates import Gates
from feedback.report import read_report
from tests.conftest import CORPUS, needs_corpus

GATED = evidence._GATES.patterns


def test_required_literals_are_what_every_match_holds() -> None:
    assert required_literals(re.compile(r"\b(?:tried|attempt(?:ed)?)\b")) == {"tried", "attempt"}
    assert required_literals(re.compile(r"\bwe (?:use|used)\b")) == {"we use"}  # the common prefix, as re parses it
    assert required_literals(re.compile(r"\d+%?")) is None  # a match may hold no literal at all
    assert required_literals(re.compile(r"tried", re.IGNORECASE)) is None  # the scan is case-sensitive


def test_a_span_without_the_literals_is_gated_shut_and_one_with_them_open() -> None:
    tried, would = re.compile(r"\btr(?:ied|y)\b"), re.compile(r"\bwould\b")
    gates = Gates((tried, would, re.compile(r"\d")))
    text = "we tried it. it would help. nothing here. 42"
    spans = [(0, 12), (13, 27), (28, 41), (42, 44)]
    masks = gates.masks(text, spans)
    assert [gates.may_match(tried, m) for m in masks] == [True, False, False, False]
    assert [gates.may_match(would, m) for m in masks] == [False, True, False, False]
    assert all(gates.may_match(re.compile(r"\d"), m) for m in masks)  # not one of the gated patterns: never skipped
    # a literal running over the end of a span opens neither span
    assert not any(gates.may_match(tried, m) for m in gates.masks("xx tried", [(0, 4), (4, 8)]))


def _agree(text: str, spans: list[tuple[int, int]]) -> None:
    masks = evidence._GATES.masks(text, spans)
    for (a, b), mask in zip(spans, masks, strict=True):
        for rx in GATED:
            if rx.search(text, a, b) is not None:
                assert evidence._GATES.may_match(rx, mask), (rx.pattern[:40], text[a:b])


_PIECES = [
    *sorted({lit for rx in GATED for lit in required_literals(rx) or ()}),
    *(" ", ". ", "\n", "we ", "not ", "was ", "has been ", "did ", "x", "s", "ed"),
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30), st.integers(0, 40), st.integers(0, 40))
def test_every_match_of_a_gated_pattern_lies_in_an_open_span_on_generated_text(
    parts: list[str], cut1: int, cut2: int
) -> None:
    text = "".join(parts)
    a, b = sorted((min(cut1, len(text)), min(cut2, len(text))))
    _agree(text, [(0, a), (a, b), (b, len(text))])


@needs_corpus
def test_every_gated_fact_of_a_corpus_sentence_is_what_the_pattern_says() -> None:
    for path in sorted(CORPUS.glob("*.md")):
        for q in read_report(path).questions:
            if not (q.answered and q.answer.lines):
                continue
            answer = split_answer(q)
            for s in answer.sentences:
                for rx in GATED:
                    if rx.search(s.text) is not None:
                        assert evidence._GATES.may_match(rx, s.gates), (path.name, rx.pattern[:40], s.text)


def test_each_consistency_module_imports_first_in_a_fresh_interpreter() -> None:
    """No import cycle among the engine's modules, whichever of them a program imports first."""
    import subprocess
    import sys
    from pathlib import Path

    import feedback.consistency

    folder = Path(feedback.consistency.__file__).parent
    for path in sorted(folder.glob("*.py")):
        name = "feedback.consistency" + ("" if path.stem == "__init__" else f".{path.stem}")
        done = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True, check=False)
        assert done.returncode == 0, (name, done.stderr[-500:])


_MARKUP_TABLE = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "*": " ", "`": " "})


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab_ *`’‘“”'\"\nÉé1-"), max_size=40))
def test_normalise_maps_marks_and_quotes_as_one_translation_table_would(text: str) -> None:
    expected = text.translate(_MARKUP_TABLE)
    expected = re.sub(r"(?<![\w])_|_(?![\w])", " ", expected).lower()
    assert evidence.normalise(text) == expected
    assert len(evidence.normalise(text)) == len(text)


def test_a_damaged_literal_store_is_parsed_again_not_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    patterns = (re.compile(r"\btr(?:ied|y)\b"), re.compile(r"\d"))
    fresh = gates._literal_sets(patterns)
    assert fresh == [["tr"], None]
    (store,) = (tmp_path / "feedback").glob("gates-*.json")
    for damaged in ("[1, 2]", '[["tr"], [3]]', '{"a": 1}', "not json"):
        store.write_text(damaged, encoding="utf-8")
        assert gates._literal_sets(patterns) == fresh
