"""Measure the offline consistency engine against the hand-made labels in benchmarks/labels/*.toml.

Prints, side by side from one run: recall on items labelled contradicted and (separately) unsupported, the false-alarm
rate on items labelled consistent, recall on labelled internal disagreements, the share of evidence quotes that are
verbatim substrings of one report line (over every corpus report, labelled or not), and the time for the whole
corpus. Reads the reports from ../shared/corpus; prints a skip message and exits 0 when it is absent.

    python benchmarks/consistency_eval.py [--labels DIR] [--corpus DIR] [--catalog FILE] [-v]
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feedback.consistency import analyse, load_catalog  # noqa: E402
from feedback.findings import Finding  # noqa: E402
from feedback.report import read_report  # noqa: E402
from feedback.report.model import ChecklistItem, Report  # noqa: E402

ITEM_CODES = {"FB501": "contradicted", "FB502": "unsupported"}
LABELS = ("contradicted", "unsupported", "consistent")
INTERNAL_CODE = "FB503"


@dataclass
class Tally:
    contradicted: int = 0
    contradicted_hit: int = 0
    contradicted_any: int = 0
    unsupported: int = 0
    unsupported_hit: int = 0
    unsupported_any: int = 0
    consistent: int = 0
    false_alarms: int = 0
    internal: int = 0
    internal_hit: int = 0
    unmatched_labels: int = 0
    notes: list[str] = field(default_factory=list)


def _norm(text: str) -> str:
    return " ".join(text.replace("\\", "").split()).lower()


def find_item(report: Report, text: str) -> ChecklistItem | None:
    """The report's item for a label: exact text, then same words, then one a prefix of the other."""
    for item in report.checklist:
        if item.text == text:
            return item
    want = _norm(text)
    for item in report.checklist:
        if _norm(item.text) == want:
            return item
    for item in report.checklist:
        have = _norm(item.text)
        if len(min(have, want, key=len)) >= 20 and (have.startswith(want) or want.startswith(have)):
            return item
    return None


def verbatim(report: Report, finding: Finding) -> tuple[int, int]:
    """(verbatim quotes, all quotes): the first quote must sit on the finding's line, the others on some line."""
    ok = 0
    for i, quote in enumerate(finding.evidence):
        if i == 0 and finding.line is not None:
            ok += quote in report.line_text(finding.line)
        else:
            ok += any(quote in line for line in report.lines)
    return ok, len(finding.evidence)


def score(label_file: Path, corpus: Path, catalog: Any, tally: Tally, verbose: bool) -> None:
    try:
        data = tomllib.loads(label_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:  # a label file still being written
        tally.notes.append(f"{label_file.name}: not readable, skipped ({exc})")
        return
    path = corpus / str(data.get("report", label_file.with_suffix(".md").name))
    if not path.is_file():
        tally.notes.append(f"{label_file.name}: report {path.name} not in the corpus, skipped")
        return
    report = read_report(path)
    findings = analyse(report, catalog)
    by_item: dict[str, Finding] = {}
    for f in findings:
        if f.code in ITEM_CODES and f.checklist_item is not None:
            by_item.setdefault(f.checklist_item, f)
    for entry in data.get("item", []):
        if not isinstance(entry.get("item"), str) or entry.get("label") not in LABELS:
            tally.notes.append(f"{label_file.name}: item without text or with an unknown label, skipped")
            continue
        item = find_item(report, entry["item"])
        if item is None:
            tally.unmatched_labels += 1
            if verbose:
                tally.notes.append(f"{path.name}: label item not found in report: {entry['item'][:60]!r}")
            continue
        label = entry["label"]
        got = by_item.get(item.text)
        verdict = ITEM_CODES[got.code] if got else None
        if label == "contradicted":
            tally.contradicted += 1
            tally.contradicted_hit += verdict == "contradicted"
            tally.contradicted_any += verdict is not None
        elif label == "unsupported":
            tally.unsupported += 1
            tally.unsupported_hit += verdict == "unsupported"
            tally.unsupported_any += verdict is not None
        elif label == "consistent":
            tally.consistent += 1
            tally.false_alarms += verdict is not None
        if (verbose and (label != "consistent") != (verdict is not None)) or (verbose and verdict not in (None, label)):
            tally.notes.append(
                f"{path.name}: [{label} → {verdict}] ticked={item.checked} {item.text[:60]!r}"
                + (f"\n      engine: {got.message[:160]}" if got else "")
            )
    internal = [f for f in findings if f.code == INTERNAL_CODE]
    for entry in data.get("internal", []):
        tally.internal += 1
        want = set(entry.get("questions", []))
        # same topic (the label's topic words read with the catalog's terms) and at least one shared question
        names = {t.name for t in catalog.topics if t.terms.search(str(entry.get("topic", "")).lower())}
        hit = any(want & set(f.questions) and any(n in f.message for n in names) for f in internal)
        tally.internal_hit += hit
        if verbose and not hit:
            tally.notes.append(f"{path.name}: internal missed: {entry.get('topic')} {sorted(want)}")


def ratio(a: int, b: int) -> str:
    return f"{a}/{b} = {a / b:.2f}" if b else f"{a}/0 = n/a"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, default=ROOT / "benchmarks" / "labels")
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--catalog", type=Path, default=None, help="topic catalog TOML (default: the packaged one)")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every miss and false alarm")
    args = ap.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"skip: corpus {args.corpus} not found")
        return 0
    catalog = load_catalog(args.catalog)
    labels = sorted(args.labels.rglob("*.toml"))
    tally = Tally()
    for lf in labels:
        score(lf, args.corpus, catalog, tally, args.verbose)

    reports = [read_report(p) for p in sorted(args.corpus.glob("*.md"))]
    t0, c0 = time.perf_counter(), time.process_time()
    all_findings = [(r, analyse(r, catalog)) for r in reports]
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    ok = total = 0
    for r, fs in all_findings:
        for f in fs:
            a, b = verbatim(r, f)
            ok, total = ok + a, total + b
    counts: dict[str, int] = {}
    for _r, fs in all_findings:
        for f in fs:
            counts[f.code] = counts.get(f.code, 0) + 1

    for note in tally.notes:
        print(note)
    print(f"label files: {len(labels)} (unmatched label items: {tally.unmatched_labels})")
    print(f"recall, contradicted (verdict contradicted): {ratio(tally.contradicted_hit, tally.contradicted)}")
    print(f"recall, contradicted (any finding):          {ratio(tally.contradicted_any, tally.contradicted)}")
    print(f"recall, unsupported (verdict unsupported):   {ratio(tally.unsupported_hit, tally.unsupported)}")
    print(f"recall, unsupported (any finding):           {ratio(tally.unsupported_any, tally.unsupported)}")
    print(f"false alarms on consistent items:            {ratio(tally.false_alarms, tally.consistent)}")
    print(f"recall, internal disagreements:              {ratio(tally.internal_hit, tally.internal)}")
    print(f"verbatim evidence quotes (all corpus):       {ratio(ok, total)}")
    print(
        f"corpus: {len(reports)} reports, findings "
        + ", ".join(f"{c} {n}" for c, n in sorted(counts.items()))
        + f", analysed in {elapsed:.3f} s ({cpu:.3f} s CPU; parsing not included)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
