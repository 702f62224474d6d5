"""Answers copied between groups (FB801) on a simulated course of 1,500 reports, in one run, two courses side by side:

- ``distinct``: each report is a corpus report whose answer words are 35% replaced at random (so groups differ, as in
  a real course), with ``--planted`` answers copied verbatim from one group to another;
- ``cycled``: the 44 corpus reports repeated (every report held 30+ times: the worst case for pair counting).

It prints the time the similar-answer stage adds to a batch (sketching every report's answers, which the batch does
in its workers, and matching across the course, in the parent), per 1,500 reports, next to the time to parse the
same reports; and the planted copies found, and the pairs reported that were not planted.

    python benchmarks/similar_speed.py [--course 1500] [--planted 20]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
sys.path.insert(0, str(ROOT))

from feedback.course.similar import find_similar, sketches  # noqa: E402
from feedback.report import parse  # noqa: E402


def perturb(text: str, rng: random.Random, vocabulary: list[str], share: float = 0.35) -> str:
    """Replace a share of the words on every line but headings and checklist items (answers are sometimes typed
    inside the prompt's quote, so quoted lines change too)."""
    out = []
    for line in text.splitlines():
        if line.lstrip().startswith(("#", "* [", "- [")) or not line.strip():
            out.append(line)
            continue
        out.append(re.sub(r"[A-Za-z]{3,}", lambda m: rng.choice(vocabulary) if rng.random() < share else m[0], line))
    return "\n".join(out)


def answer_block(text: str, number: int) -> tuple[int, int] | None:
    """Line range (start, end) of the body of question ``number`` in a report: after its prompt, to the next heading."""
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if re.match(rf"#+\s*Question\s+{number}\b", ln)), None)
    if start is None:
        return None
    body = next((i for i in range(start + 1, len(lines)) if lines[i].strip() and not lines[i].startswith(">")), None)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("#")), len(lines))
    return (body, end) if body is not None and body < end else None


def course(kind: str, n: int, planted: int, seed: int = 7) -> tuple[list[str], set[tuple[int, int, int]]]:
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(CORPUS.glob("*.md"))]
    if kind == "cycled":
        return [texts[i % len(texts)] for i in range(n)], set()
    rng = random.Random(seed)
    vocabulary = sorted({w.lower() for t in texts for w in re.findall(r"[A-Za-z]{4,}", t)})
    reports = [perturb(texts[i % len(texts)], rng, vocabulary) for i in range(n)]
    plants: set[tuple[int, int, int]] = set()
    while len(plants) < planted:
        a, b, q = rng.randrange(n), rng.randrange(n), rng.randrange(5, 20)
        src, dst = answer_block(reports[a], q), answer_block(reports[b], q)
        if a == b or src is None or dst is None or src[1] - src[0] < 3:
            continue
        la, lb = reports[a].splitlines(), reports[b].splitlines()
        reports[b] = "\n".join(lb[: dst[0]] + la[src[0] : src[1]] + lb[dst[1] :])
        plants.add((min(a, b), max(a, b), q))
    return reports, plants


def run(kind: str, n: int, planted: int) -> None:
    reports, plants = course(kind, n, planted)
    t0 = time.perf_counter()
    parsed = [parse(t) for t in reports]
    t_parse = time.perf_counter() - t0
    t0 = time.perf_counter()
    per_report = [(str(i), f"g{i}", sketches(r)) for i, r in enumerate(parsed)]
    t_sketch = time.perf_counter() - t0
    t0 = time.perf_counter()
    found = find_similar(per_report, lambda key: parse(reports[int(key)]))
    t_match = time.perf_counter() - t0
    pairs = {
        (min(int(k), int(g.removeprefix("g"))), max(int(k), int(g.removeprefix("g"))), f.question or 0)
        for k, fs in found.items()
        for f in fs
        for g in re.findall(r"\bg(\d+)\b", f.message)
        for g in [f"g{g}"]
    }
    flagged = sum(len(fs) for fs in found.values())
    print(
        f"{kind:9} {n} reports: parse {t_parse:6.2f} s | similar-answer stage {t_sketch + t_match:6.2f} s "
        f"(sketch {t_sketch:.2f} s in workers, match {t_match:.2f} s in the parent) = "
        f"{(t_sketch + t_match) / t_parse:.2f}x the parse time | answers flagged {flagged}"
    )
    if plants:
        hit = sum(1 for p in plants if p in pairs)
        extra = len({p for p in pairs if p not in plants})
        print(f"          planted copies found {hit}/{len(plants)}; pairs reported that were not planted: {extra}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--course", type=int, default=1500)
    ap.add_argument("--planted", type=int, default=20)
    args = ap.parse_args()
    if not CORPUS.is_dir():
        print(f"skip: corpus {CORPUS} not found")
        return 0
    for kind in ("distinct", "cycled"):
        run(kind, args.course, args.planted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
