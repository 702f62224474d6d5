"""Time `feedback check` on the corpus: in one process (reports per second, a 150-report course), with and without
the offline consistency engine, and as one process per report, measured side by side in the same run.

    python benchmarks/check_speed.py [--course 150] [--processes 8]
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--course", type=int, default=150, help="reports in a simulated course (corpus cycled)")
    ap.add_argument("--processes", type=int, default=8, help="reports timed as one process each")
    args = ap.parse_args()
    reports = sorted(CORPUS.glob("*.md")) if CORPUS.is_dir() else sorted((ROOT / "examples").glob("*.md"))
    if not reports:
        print("no reports found")
        return 0

    from feedback.pipeline import Options, check_file
    from feedback.render import get

    render = get("json")
    course = list(itertools.islice(itertools.cycle(reports), args.course))
    render([check_file(course[0])])  # imports and the catalog load are start-up, not per report

    def run(options: Options) -> float:
        start = time.perf_counter()
        for path in course:
            render([check_file(path, options)])
        return time.perf_counter() - start

    structural = run(Options(consistency=False))
    in_process = run(Options())

    sample = course[: args.processes]
    start = time.perf_counter()
    for path in sample:
        subprocess.run(
            [sys.executable, "-m", "feedback.cli", "check", str(path), "--format", "json"],
            check=False,
            stdout=subprocess.DEVNULL,
        )
    per_process = (time.perf_counter() - start) / len(sample)

    per_report = in_process / len(course)
    print(f"reports in the course:         {len(course)} (from {len(reports)} distinct files)")
    print(f"one process, parse + rules:    {structural:.2f} s  ({len(course) / structural:.0f} reports/s)")
    print(f"one process, whole check:      {in_process:.2f} s  ({len(course) / in_process:.0f} reports/s)")
    print(f"consistency engine share:      {(in_process - structural) / in_process:.0%} of the whole check")
    print(f"one process per report:        {per_process * 1000:.0f} ms per report ({1 / per_process:.1f} reports/s)")
    print(f"ratio per-process / in-process: {per_process / per_report:.1f}x")
    print(f"goal: course under 2 s in one process: {'met' if in_process < 2 else 'NOT met'} (whole check)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
