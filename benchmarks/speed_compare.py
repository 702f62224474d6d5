"""Side-by-side speed comparison, all in one run, ratios only (absolute times depend on the machine and its load):

1. one report as a whole process (`feedback check --format json`) against a script that does what the course's own
   checker does (reads the file, splits on ``Answer:`` and headings, counts words and images, imports typer and
   pydantic like it does), on a 27- and a 31-question report;
2. the current code against an older commit (default 162b534, the commit before the speed work), checked out by
   this script as a temporary ``git worktree``: one report as a whole process, and a course of reports in one
   process (whole check, and the share of it the consistency engine takes), plus a linearity probe (one answer
   made 1x, 4x and 16x longer);
3. ``feedback batch`` on a replicated corpus (default 1,500 reports) for both versions, cold (empty output folder)
   and warm (rerun, nothing changed), as whole processes, with the peak memory of the parent process at 150 and at
   1,500 reports; and ``--jobs 1`` against ``--jobs 2`` for the current code.

Runs alternate between the versions and the medians are compared.

    python benchmarks/speed_compare.py [--rounds 7] [--course 150] [--batch 1500] [--base 162b534] [--no-batch]
        [--only-batch | --only-one-report]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from base_checkout import base_checkout

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"

# What the course's `report.py check` does, as described in ../shared/templates/MANIFEST.md (not its code).
COURSE_CHECKER = r"""
import logging
import re
import sys

import pydantic  # noqa: F401  (typer's own dependency; imported by the course checker's stack)
import typer

app = typer.Typer()
IMAGE = re.compile(r"!\[.*?\]\(.*?\)")


@app.command()
def check(path: str) -> None:
    text = open(path, encoding="utf-8").read()
    answers = []
    for chunk in text.split("Answer:")[1:]:
        chunk = chunk.split("###")[0].split("##")[0]
        answers.append(chunk)
    if len(answers) not in (27, 31):
        raise ValueError(f"expected 27 or 31 answers, found {len(answers)}")
    passed = 0
    for i, answer in enumerate(answers, 1):
        words, images = len(answer.split()), len(IMAGE.findall(answer))
        ok = i <= 2 or (words >= 0 and images >= 0)
        if not ok:
            logging.warning("question %d failed", i)
        passed += ok
    logging.warning("passed %d/%d", passed, len(answers))


@app.command()
def html() -> None:
    pass


if __name__ == "__main__":
    app()
"""

# runs inside one interpreter of each version: a course of reports checked in process
IN_PROCESS = r"""
import itertools, json, sys, time
from pathlib import Path
from feedback.pipeline import Options, check_file
from feedback.render import get
reports = sorted(Path(sys.argv[1]).glob("*.md"))
course = list(itertools.islice(itertools.cycle(reports), int(sys.argv[2])))
render = get("json")
render([check_file(course[0])])
def run(options):
    start = time.process_time()
    for path in course:
        render([check_file(path, options)])
    return time.process_time() - start
structural = min(run(Options(consistency=False)) for _ in range(2))
whole = min(run(Options()) for _ in range(2))
# linearity: one long answer repeated 1x, 4x, 16x, consistency engine only
from feedback.consistency import analyse, load_catalog
from feedback.report import parse
text = reports[0].read_text(encoding="utf-8")
question = max(parse(text).questions, key=lambda q: len(q.answer.text))
body = "\n".join(line.text for line in question.answer.lines)
per_char = []
catalog = load_catalog()
for k in (1, 4, 16):
    report = parse(text.replace(body, "\n\n".join([body] * k), 1))
    start = time.process_time()
    for _ in range(5):
        analyse(report, catalog)
    per_char.append((time.process_time() - start) / (len(body) * k))
print(json.dumps({"whole": whole, "structural": structural, "per_char": per_char}))
"""

# the parent process of a batch, with its own peak memory (workers are children and not counted)
PARENT_MEMORY = r"""
import resource, runpy, sys
module, out = sys.argv[1], sys.argv[2]
sys.argv = ["feedback", *sys.argv[3:]]
try:
    runpy.run_module(module, run_name="__main__")
except SystemExit:
    pass
open(out, "w").write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"""


# every "Done when" figure of issue 14 this run measured: (what, figure, goal, met)
GOALS: list[tuple[str, str, str, bool]] = []


def goal(what: str, figure: str, target: str, met: bool) -> None:
    GOALS.append((what, figure, target, met))
    print(f"   -> goal {target}: {'met' if met else 'NOT met'}")


class Version:
    """One version of the tool: where its code is and how its command line is started."""

    def __init__(self, name: str, src: Path, module: str, batch_flags: tuple[str, ...] = ()) -> None:
        self.name, self.src, self.module, self.batch_flags = name, src, module, batch_flags

    @property
    def env(self) -> dict[str, str]:
        # bytecode is written and used, as in an installed package (pip compiles it): a PYTHONDONTWRITEBYTECODE
        # inherited from the shell would make every run recompile the project's own modules from source
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        return {**env, "PYTHONPATH": str(self.src), "OPENAI_API_KEY": ""}

    def prepare(self) -> None:
        """Byte-compile the version's package, as an installation does."""
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(self.src / "feedback")], check=False)

    def cli(self, *args: str) -> list[str]:
        return [sys.executable, "-m", self.module, *args]


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    """CPU time (user + system) of the process and the processes it waited for: on a shared, loaded machine this
    varies far less than wall time, and one check is single-threaded anyway."""
    child = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, _status, usage = os.wait4(child.pid, 0)
    child.returncode = 0
    return usage.ru_utime + usage.ru_stime


def alternate(runs: dict[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    """Median time of each run, the runs taking turns so that load changes hit all of them alike (after one
    untimed round that fills each version's caches, as any earlier run would have)."""
    for f in runs.values():
        f()
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(rounds):
        for k, f in runs.items():
            times[k].append(f())
    return {k: statistics.median(v) for k, v in times.items()}


def pick(questions: str) -> Path:
    with (CORPUS / "MANIFEST.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["template_questions"] == questions]
    full = [r for r in rows if r["answered_questions"] == questions and r["has_checklist"] == "yes"]
    return CORPUS / (full or rows)[-1]["file"]


def whole_process(cur: Version, base: Version, work: Path, rounds: int) -> None:
    script = work / "course_check.py"
    script.write_text(COURSE_CHECKER, encoding="utf-8")
    print("1. one report, whole process, CPU time (median of alternating runs; ratio < 1: current is faster)")
    for questions in ("27", "31"):
        report = str(pick(questions))
        med = alternate(
            {
                "current": partial(timed, cur.cli("check", report, "--format", "json"), cur.env, work),
                "course": partial(timed, [sys.executable, str(script), "check", report], cur.env, work),
                "base": partial(timed, base.cli("check", report, "--format", "json"), base.env, work),
            },
            rounds,
        )
        print(
            f"   {questions}-question report: current / course-checker script = {med['current'] / med['course']:.2f}x"
            f"   current / {base.name} = {med['current'] / med['base']:.2f}x"
        )
        ratio = med["current"] / med["course"]
        goal(
            f"one {questions}-question report, whole process / course checker", f"{ratio:.2f}x", "<= 0.6x", ratio <= 0.6
        )


def in_process(cur: Version, base: Version, work: Path, course: int, rounds: int) -> None:
    def run(v: Version) -> dict[str, object]:
        # started outside the checkout: "python -c" puts the working directory first on sys.path, which from the
        # repository root would import the current code for both versions
        out = subprocess.run(
            [sys.executable, "-c", IN_PROCESS, str(CORPUS), str(course)],
            env=v.env,
            cwd=work,
            capture_output=True,
            text=True,
            check=True,
        )
        data: dict[str, object] = json.loads(out.stdout)
        return data

    results: dict[str, list[dict[str, object]]] = {"current": [], "base": []}
    for _ in range(max(1, rounds // 2)):
        results["base"].append(run(base))
        results["current"].append(run(cur))

    def med(name: str, key: str) -> float:
        return statistics.median(float(r[key]) for r in results[name])  # type: ignore[arg-type]

    print(f"2. {course} reports in one process (CPU time, median of {len(results['base'])} alternating runs)")
    speedup = med("base", "whole") / med("current", "whole")
    print(f"   whole check (consistency included): {speedup:.1f}x faster than {base.name}")
    goal(f"{course} reports in one process, {base.name} / current", f"{speedup:.1f}x", ">= 4x", speedup >= 4)
    print(f"   parse + rules only: {med('base', 'structural') / med('current', 'structural'):.1f}x faster")
    for name in ("base", "current"):
        share = 1 - med(name, "structural") / med(name, "whole")
        print(f"   consistency engine share of the whole check, {name}: {share:.0%}")
    share = 1 - med("current", "structural") / med("current", "whole")
    goal("consistency share of the whole check (current)", f"{share:.0%}", "<= 35%", share <= 0.35)
    per_char = [statistics.median(float(r["per_char"][i]) for r in results["current"]) for i in range(3)]  # type: ignore[index]
    print(
        "   consistency time per character, answer 4x / 16x longer vs 1x: "
        f"{per_char[1] / per_char[0]:.2f} / {per_char[2] / per_char[0]:.2f} (1.0 = linear)"
    )
    growth = per_char[2] / per_char[0]
    goal("consistency time per character, answer 16x longer / 1x", f"{growth:.2f}", "linear (<= 1.5)", growth <= 1.5)


def replicate(n: int, dest: Path) -> Path:
    reports = sorted(CORPUS.glob("*.md"))
    for i in range(n):
        folder = dest / f"g{i:04d}" / "reports"
        folder.mkdir(parents=True)
        shutil.copyfile(reports[i % len(reports)], folder / "README.md")
    return dest


def batch(cur: Version, base: Version, work: Path, n: int) -> None:
    big = replicate(n, work / f"course{n}")
    small = replicate(150, work / "course150")

    def run(v: Version, src: Path, out: Path, *extra: str) -> tuple[float, float, int]:
        """Wall time, CPU time (workers included) and the parent's peak memory (KiB) of one batch process."""
        mem = work / "rss.txt"
        start = time.perf_counter()
        cmd = [sys.executable, "-c", PARENT_MEMORY, v.module, str(mem), "batch", str(src), "--out", str(out)]
        cmd += [*v.batch_flags, *extra]
        cpu = timed(cmd, v.env, work)
        return time.perf_counter() - start, cpu, int(mem.read_text())

    print(f"3. feedback batch, whole process, {n} reports (corpus replicated; current with --ignore FB801)")
    j1 = run(cur, small, work / "j1", "--jobs", "1")
    j2 = run(cur, small, work / "j2", "--jobs", "2")
    print(f"   current, 150 reports cold, --jobs 2 / --jobs 1: wall {j2[0] / j1[0]:.2f}x, CPU {j2[1] / j1[1]:.2f}x")
    times: dict[str, dict[str, tuple[float, float]]] = {}
    memory: dict[str, dict[int, int]] = {}
    for v in (base, cur):
        out = work / f"out-{v.name}"
        cold = run(v, big, out)
        warm = run(v, big, out)
        small_run = run(v, small, work / f"small-{v.name}")
        times[v.name] = {"cold": cold[:2], "warm": warm[:2]}
        memory[v.name] = {150: small_run[2], n: cold[2]}
    for kind, target in (("cold", 3.0), ("warm", 5.0)):
        (bw, bc), (cw, cc) = times[base.name][kind], times[cur.name][kind]
        print(f"   {kind}: current is {bw / cw:.1f}x faster than {base.name} in wall time, {bc / cc:.1f}x in CPU time")
        goal(
            f"batch of {n}, {kind}, {base.name} / current (wall)",
            f"{bw / cw:.1f}x",
            f">= {target:.0f}x",
            bw / cw >= target,
        )
    for name, mem in memory.items():
        print(f"   parent peak memory, {name}: {n} reports = 150 reports + {(mem[n] - mem[150]) / 1024:.0f} MiB")
    grown = (memory[cur.name][n] - memory[cur.name][150]) / 1024
    goal(f"batch parent peak memory, {n} reports minus 150", f"+{grown:.0f} MiB", "<= +20 MiB", grown <= 20)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--course", type=int, default=150, help="reports checked in one process")
    ap.add_argument("--batch", type=int, default=1500, help="reports in the batch run")
    ap.add_argument("--base", default="162b534", help="the commit to compare with")
    ap.add_argument("--no-batch", action="store_true", help="skip the batch runs (the slowest part)")
    ap.add_argument("--only-batch", action="store_true", help="only the batch runs")
    ap.add_argument("--only-one-report", action="store_true", help="only part 1 (one report, whole process)")
    args = ap.parse_args()
    if not CORPUS.is_dir():
        print("skipped: ../shared/corpus is not present")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with base_checkout(args.base, work / "base") as base_src:
            # a replicated corpus makes every report a copy of dozens of others: the course stage that reports
            # answers copied between groups (FB801, newer than the base commit) is left out so both do the same
            # work; benchmarks/similar_speed.py times that stage on a course with planted copies
            cur = Version("current", ROOT, "feedback", ("--ignore", "FB801"))
            base = Version(args.base, base_src, "feedback.cli")
            cur.prepare()
            base.prepare()
            if not args.only_batch:
                whole_process(cur, base, work, args.rounds)
                if not args.only_one_report:
                    in_process(cur, base, work, args.course, args.rounds)
            if not args.no_batch and not args.only_one_report:
                batch(cur, base, work, args.batch)
    print(
        "\nDone when (issue 14), as measured in this run (load average at the end: "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}):"
    )
    for what, figure, target, met in GOALS:
        print(f"   {'met    ' if met else 'NOT met'}  {what}: {figure} (goal {target})")
    print(
        "   (the LLM stub goal is printed by benchmarks/llm_stub_bench.py; findings: benchmarks/findings_identical.py)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
