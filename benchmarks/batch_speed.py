"""Time `feedback batch` (deterministic stages) on a simulated course, side by side in one run: one worker vs
``--jobs`` worker processes, then a warm rerun (nothing changed, every report skipped), and check that all three
runs wrote byte-identical outputs.

    python benchmarks/batch_speed.py [--course 132] [--jobs 2]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path

from feedback.course.rerun import INDEX

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


def snapshot(out: Path) -> dict[str, bytes]:
    """Every output file but the rerun index (it holds the stat data of the files, which differs by folder)."""
    files = (p for p in sorted(out.rglob("*")) if p.is_file() and p.relative_to(out).as_posix() != INDEX)
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in files}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--course", type=int, default=132, help="reports in the simulated course (corpus cycled)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes for the parallel run")
    args = ap.parse_args()
    reports = sorted(CORPUS.glob("*.md")) if CORPUS.is_dir() else sorted((ROOT / "examples").glob("*.md"))
    if not reports:
        print("no reports found")
        return 0

    from feedback.course.runner import run_batch

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        listing = work / "course.csv"
        rows = [f"g{i:03d},{p}" for i, p in enumerate(itertools.islice(itertools.cycle(reports), args.course))]
        listing.write_text("group,path\n" + "\n".join(rows) + "\n", encoding="utf-8")

        def timed(out: Path, jobs: int) -> float:
            start = time.perf_counter()
            summary, _ = run_batch(str(listing), out, jobs=jobs, progress=False)
            assert not summary.failed, summary.failed[0].error
            return time.perf_counter() - start

        serial = timed(work / "serial", 1)
        parallel = timed(work / "parallel", args.jobs)
        warm = timed(work / "parallel", args.jobs)
        same = snapshot(work / "serial") == snapshot(work / "parallel")

    print(f"reports in the course:        {args.course} (from {len(reports)} distinct files)")
    print(f"1 worker:                     {serial:.2f} s ({args.course / serial:.0f} reports/s)")
    print(f"{args.jobs} worker processes:           {parallel:.2f} s ({args.course / parallel:.0f} reports/s)")
    print(f"speed-up with {args.jobs} workers:        {serial / parallel:.2f}x")
    print(f"warm rerun (nothing changed): {warm:.2f} s ({parallel / warm:.1f}x faster than the cold run)")
    print(f"outputs byte-identical across runs: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
