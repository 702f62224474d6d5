"""The store of generated code (dataclass and named-tuple methods): a second start compiles none of it, the classes
built from it behave as freshly built ones, and a damaged store only means compiling as usual."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES

# counts what is compiled from a string while the package imports, then exercises classes built in that window
_PROBE = r"""
import builtins
compiled = []
real = builtins.compile
def counting(source, filename, mode, *args, **kwargs):
    if filename == "<string>":
        compiled.append(source)
    return real(source, filename, mode, *args, **kwargs)
builtins.compile = counting
import dataclasses
from feedback import Finding, code_cache
from feedback.report.model import Line
builtins.compile = real
f = Finding(code="FB101", check="question-missing", category="structure", severity="error", message="m", line=3)
assert f == dataclasses.replace(f) and hash(f) == hash(dataclasses.replace(f)) and "line=3" in repr(f)
try:
    f.line = 4
except dataclasses.FrozenInstanceError:
    pass
else:
    raise AssertionError("a frozen dataclass took an assignment")
assert Line(3, "x") == (3, "x") and Line(3, "x").text == "x" and repr(Line(3, "x")) == "Line(number=3, text='x')"
import typing
assert typing.get_type_hints(Line) == {"number": int, "text": str}  # annotations compiled from the store
code_cache.save()
print(len(compiled), len(code_cache._stored))
"""


def _run(code: str, cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"XDG_CACHE_HOME": str(cache), "PATH": "/usr/bin:/bin", "HOME": str(cache)}
    return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=False)


def _counts(cache: Path) -> list[int]:
    done = _run(_PROBE, cache)
    assert done.returncode == 0, done.stderr
    return [int(n) for n in done.stdout.split()]


def test_a_second_start_compiles_no_generated_code(tmp_path: Path) -> None:
    first, stored = _counts(tmp_path)
    assert first > 20 and stored >= first  # methods and annotations compiled once, and kept
    assert _counts(tmp_path) == [0, stored]


def test_a_damaged_store_is_ignored_and_replaced(tmp_path: Path) -> None:
    first, _stored = _counts(tmp_path)
    (store,) = (tmp_path / "feedback").glob("code*.marshal")
    for junk in (b"", b"\x00garbage", store.read_bytes()[:100]):
        store.write_bytes(junk)
        assert _counts(tmp_path)[0] == first
        store.write_bytes(junk)  # the run above wrote a good store again
    assert _counts(tmp_path)[0] == first
    assert _counts(tmp_path)[0] == 0


def test_a_warm_check_writes_nothing(tmp_path: Path) -> None:
    check = f"from feedback.entry import main\nmain(['check', {str(FIXTURES / 'consistency' / 'contradicted.md')!r}])"
    assert _run(check, tmp_path).returncode in (0, 1)
    (store,) = (tmp_path / "feedback").glob("code*.marshal")
    written = store.stat().st_mtime_ns
    assert _run(check, tmp_path).returncode in (0, 1)
    assert store.stat().st_mtime_ns == written
    import collections
    import dataclasses
    import typing

    # outside the windows of the package's imports and loading, the standard modules use the builtins again
    assert not {"exec", "eval", "compile"} & (set(vars(dataclasses)) | set(vars(collections)) | set(vars(typing)))
