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
from feedback import regex_cache  # loads the store into re's cache
loaded = [(k[1], k[2], p) for k, p in re._cache.items() if k[1] in (r"(?P<word>\w+)-(\d{2,})", "colou?r|grey", "é+")]
assert len(loaded) == 3, loaded
for pattern, flags, compiled in loaded:
    fresh = _compiler.compile(pattern, flags)
    assert compiled is not fresh and compiled == fresh, pattern
    assert (compiled.groups, compiled.groupindex, compiled.flags) == (fresh.groups, fresh.groupindex, fresh.flags)
assert re.compile(r"(?P<word>\w+)-(\d{2,})").match("ab-123").group("word") == "ab"
print("ok", len(regex_cache._known))
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
