"""Measure the offline checks against the hand-made labels in benchmarks/labels/<part>/*.toml.

Each part (a sub-folder: `heldout/`, labelled blind and never tuned on, then `tuning/`) is scored on its own and
printed separately, held-out first: recall on items labelled contradicted and unsupported, the false-alarm rate on
items labelled consistent, recall on labelled disagreements between answers (`[[internal]]`), recall on labelled
leftovers (`[[leftover]]` lines against the leftover findings) and on labelled empty or identifier-less answers
(`[[answer]]` of kind unanswered / identifier-missing). Then, over every corpus report, the share of evidence quotes
that are verbatim pieces of one report line and the engine's time. Reads the reports from ../shared/corpus; prints a
skip message and exits 0 when it is absent.

Last, the **unticked variant** of the tuning part: every tuning report with all its checklist items unticked (in
memory), scored against labels derived from the real ones, to judge the engine on checklists nobody ticked without
looking at held-out reports. A ticked item labelled consistent with a quote (the answers show it done) becomes
"unticked but described as done" (contradicted); a ticked item labelled contradicted or unsupported becomes
consistent (not done, or nothing said); a ticked item labelled consistent without a quote is counted apart (the
label does not say whether it was done); partial items are left out; unticked items keep their labels.

`-v` lists every miss and false alarm of the tuning part only: held-out details are never printed, so nobody tunes
on them by accident.

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
from feedback.consistency.attributes import names_for  # noqa: E402
from feedback.findings import Category, Finding  # noqa: E402
from feedback.pipeline import Options, check_report  # noqa: E402
from feedback.report import read_report  # noqa: E402
from feedback.report.model import ChecklistItem, Mark, Report  # noqa: E402

ITEM_CODES = {"FB501": "contradicted", "FB502": "unsupported"}
LABELS = ("contradicted", "unsupported", "consistent")
INTERNAL_CODE = "FB503"
# [[answer]] kinds a rule can see, and the checks that count as finding them
ANSWER_KINDS = {"unanswered": {"unanswered"}, "identifier-missing": {"group-info", "unanswered"}}
PART_ORDER = ("heldout", "tuning")


@dataclass
class Tally:
    files: int = 0
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
    leftover: int = 0
    leftover_hit: int = 0
    leftover_files: int = 0
    leftover_findings: int = 0
    leftover_unlabelled: int = 0
    answers: int = 0
    answers_hit: int = 0
    unmatched_labels: int = 0
    # contradicted labels by the item's tick ("unticked, none ticked": a checklist with no tick at all)
    by_tick: dict[str, list[int]] = field(default_factory=dict)
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


def leftover_lines(report: Report, line: int, quote: str) -> set[int]:
    """The lines a leftover label may mean: its own line, and nearby lines holding its quote (a line number one off)."""
    out = {line}
    if quote:
        out |= {n for n in range(max(1, line - 3), line + 4) if quote in report.line_text(n)}
    return out


def score(label_file: Path, corpus: Path, catalog: Any, tally: Tally, verbose: bool) -> None:
    try:
        data = tomllib.loads(label_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:  # a label file still being written
        tally.notes.append(f"{label_file.name}: not readable, skipped ({type(exc).__name__})")
        return
    path = corpus / str(data.get("report", label_file.with_suffix(".md").name))
    if not path.is_file():
        tally.notes.append(f"{label_file.name}: report {path.name} not in the corpus, skipped")
        return
    tally.files += 1
    report = read_report(path)
    result = check_report(report, Options(catalog=catalog))
    findings = result.findings
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
            tick = item.state.value
            if not item.checked and not any(i.checked for i in report.checklist):
                tick += ", none ticked"
            counts = tally.by_tick.setdefault(tick, [0, 0])
            counts[0] += 1
            counts[1] += verdict == "contradicted"
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
                f"{path.name}: [{label} → {verdict}] ticked={item.state.value} {item.text[:60]!r}"
                + (f"\n      engine: {got.message[:160]}" if got else "")
            )
    internal = [f for f in findings if f.code == INTERNAL_CODE]
    for entry in data.get("internal", []):
        tally.internal += 1
        want = set(entry.get("questions", []))
        # same topic (the label's topic words read with the catalog's terms) and at least one shared question
        names = {t.name for t in catalog.topics if t.terms.search(str(entry.get("topic", "")).lower())}
        names |= names_for(str(entry.get("topic", "")))  # an attribute given two values: "the documentation tool"
        hit = any(want & set(f.questions) and any(n in f.message for n in names) for f in internal)
        tally.internal_hit += hit
        if verbose and not hit:
            tally.notes.append(f"{path.name}: internal missed: {entry.get('topic')} {sorted(want)}")

    leftovers = [f for f in findings if f.category == Category.LEFTOVER and f.line is not None]
    labelled: set[int] = set()
    for entry in data.get("leftover", []):
        if not isinstance(entry.get("line"), int):
            continue
        tally.leftover += 1
        lines = leftover_lines(report, entry["line"], str(entry.get("quote", "")))
        labelled |= lines
        hit = any(f.line in lines for f in leftovers)
        tally.leftover_hit += hit
        if verbose and not hit:
            tally.notes.append(f"{path.name}: leftover missed: line {entry['line']} {str(entry.get('quote'))[:60]!r}")
    # the older label files predate [[leftover]]; unlabelled leftover findings are counted on the newer ones only
    if "answered" in data:
        tally.leftover_files += 1
        tally.leftover_findings += len(leftovers)
        extra = [f for f in leftovers if f.line not in labelled]
        tally.leftover_unlabelled += len(extra)
        if verbose:
            for f in extra:
                tally.notes.append(f"{path.name}: leftover finding not labelled: line {f.line} {f.evidence[:1]}")

    for entry in data.get("answer", []):
        checks = ANSWER_KINDS.get(str(entry.get("kind")))
        if checks is None:
            continue
        tally.answers += 1
        hit = any(f.check in checks and f.question == entry.get("question") for f in findings)
        tally.answers_hit += hit
        if verbose and not hit:
            tally.notes.append(f"{path.name}: answer missed: Q{entry.get('question')} {entry.get('kind')}")


@dataclass
class Unticked:
    """The unticked variant's counts (see the module docstring)."""

    files: int = 0
    done: int = 0
    done_hit: int = 0
    not_done: int = 0
    not_done_hit: int = 0
    unclear: int = 0
    unclear_hit: int = 0
    notes: list[str] = field(default_factory=list)


def score_unticked(label_file: Path, corpus: Path, catalog: Any, tally: Unticked, verbose: bool) -> None:
    try:
        data = tomllib.loads(label_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return
    path = corpus / str(data.get("report", label_file.with_suffix(".md").name))
    if not path.is_file():
        return
    tally.files += 1
    report = read_report(path)
    bare = report._replace(checklist=tuple(i._replace(state=Mark.UNCHECKED, mark=" ") for i in report.checklist))
    found = {f.checklist_item: f for f in analyse(bare, catalog) if f.code in ITEM_CODES}
    for entry in data.get("item", []):
        item = find_item(report, str(entry.get("item")))
        label = entry.get("label")
        if item is None or item.state is Mark.PARTIAL or label not in LABELS:
            continue
        if item.checked:
            expect = "unclear" if label == "consistent" and not entry.get("quotes") else label == "consistent"
        else:
            expect = label == "contradicted"
        got = found.get(item.text)
        if expect == "unclear":
            tally.unclear += 1
            tally.unclear_hit += got is not None
        elif expect:
            tally.done += 1
            tally.done_hit += got is not None
        else:
            tally.not_done += 1
            tally.not_done_hit += got is not None
        if verbose and expect is not (got is not None) and not (expect == "unclear" and got is None):
            tally.notes.append(
                f"unticked variant {path.name}: [{'done' if expect is True else expect or 'not done'} → "
                f"{'finding' if got else 'none'}] {item.text[:60]!r}"
                + (f"\n      engine: {got.evidence[0][:100]!r}" if got else "")
            )


def ratio(a: int, b: int) -> str:
    return f"{a}/{b} = {a / b:.2f}" if b else f"{a}/0 = n/a"


def print_part(name: str, tally: Tally) -> None:
    print(f"== {name}: {tally.files} labelled reports (unmatched label items: {tally.unmatched_labels})")
    print(f"recall, contradicted (verdict contradicted): {ratio(tally.contradicted_hit, tally.contradicted)}")
    print(f"recall, contradicted (any finding):          {ratio(tally.contradicted_any, tally.contradicted)}")
    for tick, (n, hit) in sorted(tally.by_tick.items()):
        print(f"  of which {tick + ':':<24}         {ratio(hit, n)}")
    print(f"recall, unsupported (verdict unsupported):   {ratio(tally.unsupported_hit, tally.unsupported)}")
    print(f"recall, unsupported (any finding):           {ratio(tally.unsupported_any, tally.unsupported)}")
    print(f"false alarms on consistent items:            {ratio(tally.false_alarms, tally.consistent)}")
    print(f"recall, internal disagreements:              {ratio(tally.internal_hit, tally.internal)}")
    print(f"recall, leftovers (labelled lines):          {ratio(tally.leftover_hit, tally.leftover)}")
    print(
        f"leftover findings on unlabelled lines:       {ratio(tally.leftover_unlabelled, tally.leftover_findings)}"
        f" (in the {tally.leftover_files} files labelled for leftovers)"
    )
    print(f"recall, unanswered / identifier answers:     {ratio(tally.answers_hit, tally.answers)}")


def parts_of(labels: Path) -> list[tuple[str, list[Path]]]:
    """(part name, label files): the sub-folders, held-out first; files directly in the folder form their own part."""
    rank = {name: i for i, name in enumerate(PART_ORDER)}
    subdirs = sorted((d for d in labels.iterdir() if d.is_dir()), key=lambda d: (rank.get(d.name, len(rank)), d.name))
    out = [(d.name, sorted(d.rglob("*.toml"))) for d in subdirs]
    top = sorted(labels.glob("*.toml"))
    if top:
        out.append((labels.name, top))
    return [(name, files) for name, files in out if files]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, default=ROOT / "benchmarks" / "labels")
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--catalog", type=Path, default=None, help="topic catalog TOML (default: the packaged one)")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every miss and false alarm (tuning part only)")
    args = ap.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"skip: corpus {args.corpus} not found")
        return 0
    if not args.labels.is_dir():
        print(f"error: labels folder {args.labels} not found", file=sys.stderr)
        return 2
    catalog = load_catalog(args.catalog)
    parts = parts_of(args.labels)
    tallies: list[tuple[str, Tally]] = []
    for name, files in parts:
        tally = Tally()
        for lf in files:
            score(lf, args.corpus, catalog, tally, args.verbose and name != "heldout")
        tallies.append((name, tally))

    variant = Unticked()
    for name, files in parts:
        if name == "tuning":
            for lf in files:
                score_unticked(lf, args.corpus, catalog, variant, args.verbose)

    reports = [read_report(p) for p in sorted(args.corpus.glob("*.md"))]
    t0, c0 = time.perf_counter(), time.process_time()
    all_findings = [(r, analyse(r, catalog)) for r in reports]
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    ok = total = 0
    counts: dict[str, int] = {}
    for r, fs in all_findings:
        for f in fs:
            a, b = verbatim(r, f)
            ok, total = ok + a, total + b
            counts[f.code] = counts.get(f.code, 0) + 1

    for _name, tally in tallies:
        for note in tally.notes:
            print(note)
    for note in variant.notes:
        print(note)
    for name, tally in tallies:
        print_part(name, tally)
    if variant.files:
        print(f"== tuning, every item unticked (labels derived): {variant.files} reports")
        print(f"recall, items the answers show done:         {ratio(variant.done_hit, variant.done)}")
        print(f"false alarms on items not done:              {ratio(variant.not_done_hit, variant.not_done)}")
        print(f"findings on items labelled without a quote:  {ratio(variant.unclear_hit, variant.unclear)}")
    print("== all corpus reports")
    print(f"verbatim evidence quotes:                    {ratio(ok, total)}")
    print(
        f"corpus: {len(reports)} reports, findings "
        + ", ".join(f"{c} {n}" for c, n in sorted(counts.items()))
        + f", analysed in {elapsed:.3f} s ({cpu:.3f} s CPU; parsing not included)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
