"""The user's cache folder stays bounded: writing a new catalog analysis or pattern store removes the oldest of
its kind beyond a few, and nothing else."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from feedback.consistency import catalog as catalog_module
from feedback.consistency.catalog import DEFAULT_CATALOG, KEPT_CATALOGS, load_catalog
from feedback.user_cache import prune


def _old_files(folder: Path, pattern: str, n: int) -> list[Path]:
    """``n`` files named by ``pattern`` with mtimes one minute apart, the first the oldest."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(n):
        f = folder / pattern.replace("*", f"{i:04d}")
        f.write_text("{}", encoding="utf-8")
        os.utime(f, ns=(1_000_000_000_000 + i * 60_000_000_000,) * 2)
        files.append(f)
    return files


def test_a_new_catalog_analysis_removes_the_oldest_beyond_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = tmp_path / "feedback"
    old = _old_files(folder, "catalog-*.json", 12)
    other = folder / "regex3-someone-else.marshal"  # another kind of file is never touched
    other.write_bytes(b"x")
    edited = tmp_path / "catalog.toml"  # new bytes: a new analysis is written
    edited.write_bytes(DEFAULT_CATALOG.read_bytes() + b"\n# edited\n")
    catalog_module._load.cache_clear()
    load_catalog(edited)
    left = sorted(folder.glob("catalog-*.json"))
    assert len(left) == KEPT_CATALOGS
    written = [f for f in left if f not in old]
    assert len(written) == 1, "the analysis just written is kept"
    assert set(left) - set(written) == set(old[-(KEPT_CATALOGS - 1) :]), "the most recent others are kept"
    assert other.exists()
    extra = _old_files(folder, "catalog-x*.json", 1)[0]  # one over the bound: only a write would remove it
    catalog_module._load.cache_clear()
    load_catalog(edited)  # a warm run reads its analysis and removes nothing
    assert extra.exists()
    assert sorted(folder.glob("catalog-*.json")) == sorted([*left, extra])


def test_prune_keeps_the_written_file_even_when_it_looks_oldest(tmp_path: Path) -> None:
    files = _old_files(tmp_path, "regex*.marshal", 6)
    prune(files[0], "regex*.marshal", 2)
    assert sorted(tmp_path.iterdir()) == [files[0], files[-1]]
