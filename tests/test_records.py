"""The parsed report's pieces and the other immutable records are named tuples (cheap to create at start-up), and a
named tuple equals any tuple with the same values: a record of another kind, or a plain tuple. That is harmless only
while no code compares records of two kinds or a record with a plain tuple (in ``==``, ``in``, a set or a dict):
the checks, every renderer and a batch run here with every record class reporting such a comparison."""

from __future__ import annotations

import importlib
import pkgutil
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import feedback
from feedback.cli import main
from feedback.pipeline import check_file
from feedback.render import get
from tests.conftest import FIXTURES, ROOT, corpus_reports


def _record_classes() -> list[type[tuple[Any, ...]]]:
    found = []
    for info in pkgutil.walk_packages(feedback.__path__, "feedback."):
        if info.name.endswith("__main__"):
            continue
        for value in vars(importlib.import_module(info.name)).values():
            record = isinstance(value, type) and issubclass(value, tuple) and hasattr(value, "_fields")
            if record and value.__module__ == info.name:
                found.append(value)
    return found


def test_records_of_two_kinds_are_never_compared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mixed: Counter[tuple[str, str]] = Counter()

    def eq(self: tuple[Any, ...], other: object) -> Any:
        if isinstance(other, tuple) and type(other) is not type(self):
            mixed[type(self).__name__, type(other).__name__] += 1
        return tuple.__eq__(self, other)

    def ne(self: tuple[Any, ...], other: object) -> Any:
        same = eq(self, other)
        return same if same is NotImplemented else not same

    classes = _record_classes()
    assert {"Line", "Question", "Report", "Hit", "Options"} <= {c.__name__ for c in classes}
    for cls in classes:
        monkeypatch.setattr(cls, "__eq__", eq)
        monkeypatch.setattr(cls, "__ne__", ne)
        monkeypatch.setattr(cls, "__hash__", tuple.__hash__)

    reports = [ROOT / "examples" / "report.md", *sorted(FIXTURES.glob("consistency/*.md")), *corpus_reports()[:6]]
    for path in reports:
        result = check_file(path)
        for fmt in ("json", "text", "concise", "github", "sarif", "markdown", "html", "csv"):
            get(fmt)([result])
    course = tmp_path / "course"
    for i, path in enumerate(reports):
        (course / f"g{i}").mkdir(parents=True)
        shutil.copyfile(path, course / f"g{i}" / "README.md")
        shutil.copyfile(reports[0], course / f"g{i}" / "COPY.md")  # answers copied between groups (FB801)
    for _run in range(2):  # the second run reads the first run's index
        assert main(["batch", str(course), "--out", str(tmp_path / "out"), "--jobs", "1"]) in (0, 1)
    assert not mixed, mixed
