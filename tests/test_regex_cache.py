"""The compiled-pattern store: a pattern rebuilt from it equals the one ``re`` compiles, and a damaged or foreign
store only means compiling as usual."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_SAVE = r"""
import re, sys
from feedback import regex_cache
for p, f in [(r"(?P<word>\w+)-(\d{2,})", 0), (r"colou?r|grey", re.I | re.M), ("é+", 0)]:
    re.compile(p, f)
regex_cache.save()
"""

_CHECK = r"""
import re
from re import _compiler
from feedback import regex_cache  # reads the store; patterns are built from it when asked for
three = [(r"(?P<word>\w+)-(\d{2,})", 0), ("colou?r|grey", re.I | re.M), ("é+", 0)]
fresh = {p: _compiler.compile(p, f) for p, f in three}
def refuse(pattern, flags=0):
    raise AssertionError(f"compiled again: {pattern}")
_compiler.compile = refuse  # every one of the three must come from the store
for pattern, f in three:
    loaded, new = re.compile(pattern, f), fresh[pattern]
    assert loaded is not new and loaded == new, pattern
    assert (loaded.groups, loaded.groupindex, loaded.flags) == (new.groups, new.groupindex, new.flags)
assert re.compile(r"(?P<word>\w+)-(\d{2,})").match("ab-123").group("word") == "ab"
print("ok", len(regex_cache._stored))
"""


def _run(code: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {"XDG_CACHE_HOME": str(cache), "PATH": "/usr/bin:/bin", "HOME": str(cache)}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)


def test_a_stored_pattern_is_the_pattern_re_compiles(tmp_path: Path) -> None:
    saved = _run(_SAVE, tmp_path)
    assert saved.returncode == 0, saved.stderr
    assert len(list((tmp_path / "feedback").glob("regex*.marshal"))) == 1
    checked = _run(_CHECK, tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("ok")


def test_a_damaged_store_is_ignored_and_replaced(tmp_path: Path) -> None:
    assert _run(_SAVE, tmp_path).returncode == 0
    (store,) = (tmp_path / "feedback").glob("regex*.marshal")
    for junk in (b"", b"\x00garbage", store.read_bytes()[:100]):
        store.write_bytes(junk)
        done = _run("import re\nfrom feedback import regex_cache\nassert re.compile('a+b').match('aab')", tmp_path)
        assert done.returncode == 0 and done.stderr == "", done.stderr
    assert _run(_SAVE, tmp_path).returncode == 0
    assert _run(_CHECK, tmp_path).returncode == 0


def test_a_second_check_finds_every_pattern_stored(tmp_path: Path) -> None:
    from tests.conftest import FIXTURES

    check = f"from feedback.entry import main\nmain(['check', {str(FIXTURES / 'consistency' / 'contradicted.md')!r}])"
    assert _run(check, tmp_path).returncode in (0, 1)
    (store,) = (tmp_path / "feedback").glob("regex*.marshal")
    written = store.stat().st_mtime_ns
    assert _run(check, tmp_path).returncode in (0, 1)
    assert store.stat().st_mtime_ns == written  # nothing was compiled that the store lacked


_ROUND = r"""
import re, sys
from feedback import regex_cache
tag, extra = sys.argv[1], int(sys.argv[2])
mine = [(f"{tag}{i}(x|y)+", 0) for i in range(8)]
for p, f in mine:
    re.compile(p, f)
own = regex_cache._compiled | regex_cache._used
regex_cache._MAX_STORED = len(own) + extra  # room for `extra` patterns of earlier runs
regex_cache.save()
stored = set(regex_cache._stored)
assert own <= stored, "this run's patterns are all kept"
print(len(stored) - len(own), sum(k[0].startswith("a") and k not in own for k in stored))
"""


def test_the_store_keeps_each_run_s_patterns_within_its_bound(tmp_path: Path) -> None:
    def round_(tag: str, extra: int) -> list[int]:
        done = subprocess.run(
            [sys.executable, "-c", _ROUND, tag, str(extra)],
            env={"XDG_CACHE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return [int(n) for n in done.stdout.split()]

    assert round_("a", 3) == [0, 0]  # the first store: only its own patterns
    assert round_("b", 3) == [3, 3]  # a full store still takes the next run's; three of the first run's stay
    assert round_("c", 0) == [0, 0]  # older patterns drop out first, however many there were
