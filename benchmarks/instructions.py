"""Count the instructions of the in-process check with valgrind (cachegrind): deterministic, so a busy shared machine
does not blur small differences the way it blurs timings. Side by side in one run: the current code against another
commit (default 162b534, the state before the speed work), checked out as a temporary ``git worktree``.

For each version, the corpus reports are checked in one process (parse, rules, consistency engine, JSON rendering,
as ``benchmarks/check_speed.py`` does) and once more without the consistency engine; the start-up and the first,
untimed report are counted in a separate process and subtracted.

    python benchmarks/instructions.py [--base 162b534] [--reports 44]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from base_checkout import base_checkout

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"

_RUN = r"""
import sys
from pathlib import Path
from feedback.pipeline import Options, check_file
from feedback.render import get
reports = sorted(Path(sys.argv[1]).glob("*.md"))[: int(sys.argv[2])]
render = get("json")
render([check_file(reports[0])])  # imports, catalog and patterns: start-up, not per report
options = {"setup": None, "whole": Options(), "structural": Options(consistency=False)}[sys.argv[3]]
if options is not None:
    for path in reports:
        render([check_file(path, options)])
"""


def count(src: Path, cache: Path, mode: str, reports: int) -> int:
    """Instructions (cachegrind's ``I refs``) of one process running ``_RUN`` in ``mode`` on version ``src``, with
    its caches (catalog analysis, compiled patterns) in ``cache``."""
    valgrind = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    out = subprocess.run(
        [*valgrind, sys.executable, "-c", _RUN, str(CORPUS), str(reports), mode],
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin", "HOME": str(cache), "XDG_CACHE_HOME": str(cache)},
        cwd=cache.parent,  # not the checkout: "python -c" puts the working directory first on sys.path
        capture_output=True,
        text=True,
        check=True,
    )
    m = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
    if m is None:
        raise SystemExit(f"no instruction count from valgrind:\n{out.stderr[-2000:]}")
    return int(m.group(1).replace(",", ""))


def measure(src: Path, cache: Path, reports: int) -> dict[str, int]:
    count(src, cache, "whole", 1)  # fills the version's caches, as any earlier run would have
    setup = count(src, cache, "setup", reports)
    return {mode: count(src, cache, mode, reports) - setup for mode in ("whole", "structural")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="162b534", help="the commit to compare with")
    ap.add_argument("--reports", type=int, default=44, help="corpus reports checked (in name order)")
    args = ap.parse_args()
    if not CORPUS.is_dir():
        print("skipped: ../shared/corpus is not present")
        return 0
    if shutil.which("valgrind") is None:
        print("skipped: valgrind is not installed")
        return 0
    with tempfile.TemporaryDirectory() as tmp, base_checkout(args.base, Path(tmp) / "base") as base_src:
        base = measure(base_src, Path(tmp) / "cache-base", args.reports)
        cur = measure(ROOT, Path(tmp) / "cache-current", args.reports)
    print(f"instructions, {args.reports} corpus reports checked in one process (millions; start-up subtracted)")
    for name, v in ((args.base, base), ("current", cur)):
        share = 1 - v["structural"] / v["whole"]
        print(
            f"   {name:>8}: whole check {v['whole'] / 1e6:,.0f}, parse + rules {v['structural'] / 1e6:,.0f},"
            f" consistency engine {share:.0%} of the whole"
        )
    print(f"   whole check, {args.base} / current: {base['whole'] / cur['whole']:.2f}x")
    print(f"   parse + rules, {args.base} / current: {base['structural'] / cur['structural']:.2f}x")
    consistency = (base["whole"] - base["structural"]) / (cur["whole"] - cur["structural"])
    print(f"   consistency engine alone, {args.base} / current: {consistency:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
