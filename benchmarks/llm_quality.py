"""Measure the LLM review's judgment against the hand labels, with a capable model's answers kept in the repo.

There is no API here: a run exports the review requests of labelled reports, a capable model answers them (helper
sessions acting as the model, each given a slice of the requests), and the answers are scored. A run lives in
``benchmarks/llm_runs/<prompt version>/`` (requests, responses, scores), so it is tied to the prompts it answered.

    python benchmarks/llm_quality.py export --reports NAME... [--phase question|report] [--run DIR]
    python benchmarks/llm_quality.py slice REQUESTS.jsonl --parts 8 --out DIR
    python benchmarks/llm_quality.py assemble ANSWERS.jsonl... --out RESPONSES.jsonl [--requests REQUESTS.jsonl]
    python benchmarks/llm_quality.py score [--run DIR] [--write] [--cases CASES.jsonl]

``export --phase question`` writes the per-question requests (``requests-question.jsonl``); after the answers to
them are assembled into ``responses-question.jsonl`` in the run folder, ``export --phase report`` writes the
report-level requests (``requests-report.jsonl``), whose answers go into ``responses-report.jsonl``. ``slice``
keeps only what a stand-in model needs: ``custom_id``, the messages and the JSON schema. ``assemble`` turns answer
lines ``{"custom_id": ..., "content": "<the JSON reply as a string>"}`` into the Batch API output format that
``feedback batch --import-responses`` accepts. ``score`` replays the run (responses matched by ``custom_id``,
so a later change to the consistency engine's related items does not orphan them), renders every report and
compares the output with ``benchmarks/labels/{heldout,tuning}`` (held-out printed first). ``score --cases`` also
writes the shown consistency findings the labels do not confirm; a second reader who sees only the report and the
finding judges each, and the verdicts kept as ``second-look.jsonl`` in the run folder add the share of shown
findings that the labels confirm or the second look upholds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.consistency_eval import find_item  # noqa: E402
from feedback.course.batch_api import _response, check_reply, custom_id  # noqa: E402
from feedback.errors import LLMError  # noqa: E402
from feedback.findings import Category, Finding, Verdict, shown_findings  # noqa: E402
from feedback.llm import assess, tokens  # noqa: E402
from feedback.llm.assess import BOTH  # noqa: E402
from feedback.llm.cache import ResponseCache  # noqa: E402
from feedback.llm.client import ChatResponse  # noqa: E402
from feedback.llm.prompts import PromptSet, load_prompts  # noqa: E402
from feedback.llm.review import (  # noqa: E402
    DELIM_RE,
    DELIM_TOKEN,
    Job,
    chat_request,
    jobs_by_report,
    plan,
    report_jobs_from_cache,
    review_results,
)
from feedback.llm.schema import QuestionReview, ReportReview  # noqa: E402
from feedback.llm.verify import normalise  # noqa: E402
from feedback.pipeline import Result, check_file  # noqa: E402
from feedback.settings import Settings  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
LABELS = ROOT / "benchmarks" / "labels"
RUNS = ROOT / "benchmarks" / "llm_runs"
PARTS = ("heldout", "tuning")  # held-out first
MODEL = "capable-stand-in"
PHASES = ("question", "report")
SECOND_LOOK = "second-look.jsonl"  # a second reader's verdicts on the shown findings the labels do not confirm
LOOK_VERDICTS = ("upheld", "rejected", "unsure")

# The "done when" targets; `score` says which are met. FLOORS (in the test) guard the committed run.
TARGETS = {
    "contradicted_recall": 0.9,
    "unsupported_recall": 0.8,
    "internal_recall": 0.7,
    "consistency_confirmed": 0.9,
    "false_alarm_rate": 0.02,  # at most
    "missing_part_recall": 0.8,
    "unconfirmed_missing_max": 1,  # at most, per report
    "shown_median": 20,  # at most
    "token_ratio_max": 2.5,  # at most
}
# Choices measured and not adopted (feedback/llm/assess.py), for measuring them again: three policies for an offline
# and an LLM verdict that disagree, and code's rules for the cross-answer pairs; plus the adopted status cues switched
# off. name -> (module constant, its value under that choice).
POLICIES: dict[str, tuple[str, bool]] = {
    "llm-backing-clears-unsupported": ("LLM_BACKING_CLEARS_UNSUPPORTED", True),
    "llm-reading-clears-contradicted": ("LLM_READING_CLEARS_CONTRADICTED", True),
    "no-llm-only-unsupported": ("LLM_UNSUPPORTED_ALONE", False),
    "pair-rules": ("PAIR_RULES", True),
    "no-status-cues": ("STATUS_CUES", False),
}
AT_MOST = {"false_alarm_rate", "unconfirmed_missing_max", "shown_median", "token_ratio_max"}


def settings_for(cache_dir: Path) -> Settings:
    """Fixed settings, so the requests (and cache keys) of a run do not depend on the machine's configuration."""
    return Settings(model=MODEL, cache_dir=cache_dir, concurrency=8)


def run_dir(prompts: PromptSet | None = None) -> Path:
    return RUNS / (prompts or load_prompts()).version


def corpus_path(name: str, corpus: Path = CORPUS) -> Path:
    """The corpus report of a label or report name (``owner`` or ``owner__repo.md``)."""
    if (corpus / name).is_file():
        return corpus / name
    matches = sorted(corpus.glob(f"{name}__*.md"))
    if len(matches) != 1:
        raise SystemExit(f"llm_quality: {name!r} names {len(matches)} corpus reports, not one")
    return matches[0]


def check(paths: list[Path]) -> list[Result]:
    results = []
    for p in paths:
        r = check_file(p)
        r.source = p.name
        results.append(r)
    return results


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


# --- requests and responses of a run ------------------------------------------------------------------------------


@dataclass(slots=True)
class Replay:
    """A run's responses loaded into a response cache under the current requests' keys, with the jobs planned once:
    ``jobs`` (per question) and ``report_jobs`` (the report-level passes the loaded replies make possible)."""

    results: list[Result]
    settings: Settings
    prompts: PromptSet
    cache: ResponseCache
    jobs: list[Job] = field(default_factory=list)
    report_jobs: list[Job] = field(default_factory=list)
    stored: int = 0
    drifted: list[str] = field(default_factory=list)  # custom ids whose request text changed since the export
    invalid: dict[str, str] = field(default_factory=dict)  # custom id -> why the response was refused

    def cid(self, job: Job) -> str:
        return custom_id(self.results[job.result_index].source, job.number, self.prompts.version)


def _user_text(messages: list[dict[str, Any]]) -> str:
    return DELIM_RE.sub(DELIM_TOKEN, str(messages[-1].get("content", "")))


def load(replay: Replay, jobs: list[Job], run: Path, phase: str) -> None:
    """Store the run's ``phase`` responses for ``jobs`` in the cache, checked as ``feedback batch
    --import-responses`` checks them (``_response``, ``check_reply``); refused ones and requests whose text changed
    since the export are counted."""
    responses = {str(r.get("custom_id")): r for r in read_jsonl(run / f"responses-{phase}.jsonl")}
    requests = {str(r.get("custom_id")): r for r in read_jsonl(run / f"requests-{phase}.jsonl")}
    for job in jobs:
        cid = replay.cid(job)
        line = responses.get(cid)
        if line is None:
            continue
        resp, why = _response(line)
        if resp is None:
            replay.invalid[cid] = why
            continue
        try:
            _review, content = check_reply(resp, replay.settings, job.model)
        except LLMError as exc:
            replay.invalid[cid] = str(exc)
            continue
        sent = requests.get(cid)
        if sent is not None and _user_text(sent["body"]["messages"]) != _user_text(job.messages):
            replay.drifted.append(cid)
        replay.cache.put(job.key, {"content": content})
        replay.stored += 1


def replay(paths: list[Path], run: Path, cache_dir: Path, *, phases: tuple[str, ...] = PHASES) -> Replay:
    prompts = load_prompts()
    settings = settings_for(cache_dir)
    results = check(paths)
    rp = Replay(results, settings, prompts, ResponseCache(cache_dir))
    rp.jobs = plan(results, settings, prompts)
    if "question" in phases:
        load(rp, rp.jobs, run, "question")
    # the report-level passes of the reports whose per-question replies are all loaded
    rp.report_jobs = report_jobs_from_cache(results, rp.jobs, rp.cache, settings, prompts)
    if "report" in phases:
        load(rp, rp.report_jobs, run, "report")
    return rp


def request_line(rp: Replay, job: Job) -> dict[str, Any]:
    body = chat_request(job.messages, rp.settings, rp.prompts, "json_schema", job.kind).body()
    return {"custom_id": rp.cid(job), "method": "POST", "url": "/v1/chat/completions", "body": body}


def cmd_export(args: argparse.Namespace) -> int:
    run = args.run or run_dir()
    paths = [corpus_path(n, args.corpus) for n in args.reports]
    with tempfile.TemporaryDirectory() as tmp:
        rp = replay(paths, run, Path(tmp), phases=("question",))
        if args.phase == "report":
            todo = rp.report_jobs
            for cid, why in sorted(rp.invalid.items()):
                print(f"llm_quality: {cid}: response refused: {why}", file=sys.stderr)
            missing = [rp.cid(j) for j in rp.jobs if rp.cache.get(j.key) is None]
            if missing:
                print(
                    f"llm_quality: {len(missing)} per-question requests have no usable response yet; their reports "
                    "get no report-level request",
                    file=sys.stderr,
                )
        else:
            todo = rp.jobs
        lines = [request_line(rp, j) for j in todo]
        rp.cache.close()
    (run / "reports.txt").parent.mkdir(parents=True, exist_ok=True)
    (run / "reports.txt").write_text("".join(p.name + "\n" for p in paths), encoding="utf-8")
    out = run / f"requests-{args.phase}.jsonl"
    write_jsonl(out, lines)
    toks = sum(tokens.count_messages(line["body"]["messages"]) for line in lines)
    print(f"wrote {out}: {len(lines)} requests, {toks} prompt tokens, {len(paths)} reports")
    return 0


def cmd_slice(args: argparse.Namespace) -> int:
    rows = read_jsonl(args.requests)
    slim = [
        {
            "custom_id": r["custom_id"],
            "messages": r["body"]["messages"],
            "schema": r["body"]["response_format"]["json_schema"]["schema"],
        }
        for r in rows
    ]
    parts: list[list[dict[str, Any]]] = [[] for _ in range(args.parts)]
    sizes = [0] * args.parts
    for row in sorted(slim, key=lambda r: -len(json.dumps(r))):  # greedy: the biggest request to the lightest part
        i = sizes.index(min(sizes))
        parts[i].append(row)
        sizes[i] += len(json.dumps(row))
    args.out.mkdir(parents=True, exist_ok=True)
    for n, part in enumerate(parts, start=1):
        path = args.out / f"slice-{n:02d}.jsonl"
        write_jsonl(path, part)
        print(f"{path}: {len(part)} requests")
    return 0


def refused(cid: str, content: str, settings: Settings) -> str:
    """Why ``feedback batch --import-responses`` would refuse this answer (its schema is told by the custom id's
    head), or ""."""
    model = ReportReview if cid.startswith("report-") else QuestionReview
    try:
        check_reply(ChatResponse(content=content, finish_reason="stop"), settings, model)
    except LLMError as exc:
        return str(exc)
    return ""


def cmd_assemble(args: argparse.Namespace) -> int:
    out: dict[str, dict[str, Any]] = {}
    bad = 0
    invalid: dict[str, str] = {}
    settings = settings_for(Path(tempfile.gettempdir()))
    for path in args.answers:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                cid = str(row["custom_id"])
                content = row["content"]
            except (ValueError, KeyError, TypeError):
                bad += 1
                continue
            text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
            if why := refused(cid, text, settings):
                invalid[cid] = why
            else:
                invalid.pop(cid, None)
            message = {"role": "assistant", "content": text}
            body = {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}], "model": MODEL}
            out[cid] = {"id": f"resp-{cid}", "custom_id": cid, "response": {"status_code": 200, "body": body}}
    write_jsonl(args.out, list(out.values()))
    print(f"wrote {args.out}: {len(out)} responses ({bad} unreadable answer lines, {len(invalid)} refused)")
    for cid, why in sorted(invalid.items()):
        print(f"  refused {cid}: {why}")
    if args.requests:
        wanted = {str(r["custom_id"]) for r in read_jsonl(args.requests)}
        missing = sorted(wanted - set(out))
        print(f"{len(missing)} requests without an answer" + (f": {', '.join(missing[:10])}" if missing else ""))
    return 0


# --- scoring --------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Tally:
    reports: int = 0
    labelled: dict[str, int] = field(default_factory=lambda: {"contradicted": 0, "unsupported": 0})
    hit: dict[str, int] = field(default_factory=lambda: {"contradicted": 0, "unsupported": 0})
    hit_llm: dict[str, int] = field(default_factory=lambda: {"contradicted": 0, "unsupported": 0})
    shown_consistency: int = 0
    confirmed: int = 0
    consistent: int = 0
    false_alarms: int = 0
    internal: int = 0
    internal_hit: int = 0
    internal_hit_llm: int = 0
    missing: int = 0
    missing_hit: int = 0
    unconfirmed_missing: list[int] = field(default_factory=list)
    shown: list[int] = field(default_factory=list)
    token_ratio: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)  # shown findings the labels do not confirm


# what a second reader sees of a finding (its JSON shape's fields); the case id is a hash of them
CASE_FIELDS = ("code", "verdict", "checklist_item", "checked", "questions", "line", "message", "evidence")


def case(report: str, f: Finding) -> dict[str, Any]:
    """A shown consistency finding the labels do not confirm, for a second look: what a reader needs to judge it
    against the report (never the label), under an id that stays the same while the finding does."""
    d = f.to_dict()
    what = {"report": report, **{k: d[k] for k in CASE_FIELDS}}
    key = json.dumps(what, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return {"id": hashlib.blake2b(key, digest_size=6).hexdigest(), **what}


def _ratio(a: int | float, b: int | float) -> float | None:
    return round(a / b, 3) if b else None


def _by_llm(f: Finding) -> bool:
    return f.source.value == "llm" or f.message.endswith(BOTH)


def _questions_of(f: Finding) -> set[int]:
    return set(f.questions) or ({f.question} if f.question is not None else set())


def _same_pair(f: Finding, questions: set[int]) -> bool:
    got = _questions_of(f)
    return got == questions or len(got & questions) >= 2


SAME_PAIR_ONLY = False  # `score --same-pair-only`: the earlier, narrower match (the labelled pair of questions only)


def _lines_of(normalised_lines: list[str], quote: str) -> set[int]:
    """The report lines (1-based) holding ``quote``, given the report's lines already normalised."""
    q = normalise(quote).rstrip(".")
    if len(q) < 8:
        return set()
    return {n for n, text in enumerate(normalised_lines, start=1) if q in text}


def _same_conflict(f: Finding, want: dict[str, Any], report_lines: list[str]) -> bool:
    """Whether a shown cross-answer finding names a labelled contradiction: the same questions (``_same_pair``), or
    one claim of the label, the label's own quote, set against a claim in another answer. The labels name one
    pair of questions per conflict; "Q9 says no pull requests" against Q29 instead of the labelled Q11 is the same
    conflict. A side matches when a quote of the finding is on the same report line as the label's quote, or holds
    it. ``report_lines`` are normalised (``normalise``)."""
    questions = {int(q) for q in want.get("questions", [])}
    if _same_pair(f, questions):
        return True
    if SAME_PAIR_ONLY:
        return False
    got = _questions_of(f)
    if len(got) < 2 or not got & questions:
        return False
    quotes = [str(q) for q in want.get("quotes", [])]
    labelled = {n for quote in quotes for n in _lines_of(report_lines, quote)}
    for quote in f.evidence:
        mine = normalise(quote).rstrip(".")
        if _lines_of(report_lines, quote) & labelled or any(normalise(q).rstrip(".") in mine for q in quotes):
            return True
    return False


def score_report(result: Result, label: dict[str, Any], jobs_tokens: int, tally: Tally, verbose: bool) -> None:
    report = result.report
    name = result.source
    shown = shown_findings(result.findings)
    tally.reports += 1
    tally.shown.append(len(shown))
    tally.token_ratio.append(jobs_tokens / max(1, tokens.count("\n".join(report.lines))))
    items = [f for f in shown if f.category is Category.CONSISTENCY and f.checklist_item]
    by_item: dict[str, list[Finding]] = {}
    for f in items:
        by_item.setdefault(f.checklist_item or "", []).append(f)
    labels: dict[str, str] = {}
    for entry in label.get("item", []):
        item = find_item(report, str(entry.get("item", "")))
        if item is None or entry.get("label") not in ("consistent", "contradicted", "unsupported"):
            continue
        lab = labels[item.text] = str(entry["label"])
        got = [f for f in by_item.get(item.text, []) if f.verdict in (Verdict.CONTRADICTED, Verdict.UNSUPPORTED)]
        if lab == "consistent":
            tally.consistent += 1
            tally.false_alarms += bool(got)
            if got and verbose:
                tally.notes.append(f"{name}: false alarm [{got[0].code}] {item.text[:60]!r}: {got[0].message[:120]}")
            continue
        tally.labelled[lab] += 1
        match = [f for f in got if f.verdict == lab]
        tally.hit[lab] += bool(match)
        tally.hit_llm[lab] += any(_by_llm(f) for f in match)
        if verbose and not match:
            tally.notes.append(f"{name}: missed {lab} {item.text[:60]!r}" + (f" (got {got[0].verdict})" if got else ""))
    for f in items:
        if f.verdict in (Verdict.CONTRADICTED, Verdict.UNSUPPORTED) and f.checklist_item in labels:
            tally.shown_consistency += 1
            confirmed = labels[f.checklist_item] == f.verdict
            tally.confirmed += confirmed
            if not confirmed:
                tally.cases.append(case(name, f))
    internal = [f for f in shown if f.verdict is Verdict.INTERNAL]
    conflicts = list(label.get("internal", []))
    lines = [normalise(text) for text in report.lines]
    # which shown finding names which labelled conflict, worked out once for recall and for confirmed
    names = [[_same_conflict(f, want, lines) for want in conflicts] for f in internal]
    for j, want in enumerate(conflicts):
        tally.internal += 1
        hits = [f for f, row in zip(internal, names, strict=True) if row[j]]
        tally.internal_hit += bool(hits)
        tally.internal_hit_llm += any(_by_llm(f) for f in hits)
        if verbose and not hits:
            tally.notes.append(f"{name}: missed internal {sorted(want.get('questions', []))}")
    for f, row in zip(internal, names, strict=True):
        tally.shown_consistency += 1
        confirmed = any(row)
        tally.confirmed += confirmed
        if not confirmed:
            tally.cases.append(case(name, f))
        if verbose and not confirmed:
            tally.notes.append(f"{name}: unconfirmed internal {f.questions}: {f.message[:120]}")
    if label.get("answers_labelled", True) is False:  # an older label file: answers were never labelled
        return
    wanted = {int(e["question"]) for e in label.get("answer", []) if e.get("kind") == "missing-part"}
    missing = [f for f in shown if f.verdict is Verdict.MISSING_PART]
    tally.missing += len(wanted)
    tally.missing_hit += sum(1 for q in wanted if any(f.question == q for f in missing))
    extra = [f for f in missing if f.question not in wanted]
    tally.unconfirmed_missing.append(len(extra))
    if verbose:
        for q in sorted(wanted - {f.question for f in missing}):
            tally.notes.append(f"{name}: missed missing part Q{q}")
        for f in extra:
            tally.notes.append(f"{name}: unconfirmed missing part Q{f.question}: {f.message[:120]}")


def figures(t: Tally) -> dict[str, Any]:
    return {
        "reports": t.reports,
        "contradicted_recall": _ratio(t.hit["contradicted"], t.labelled["contradicted"]),
        "contradicted_recall_llm": _ratio(t.hit_llm["contradicted"], t.labelled["contradicted"]),
        "contradicted_labelled": t.labelled["contradicted"],
        "unsupported_recall": _ratio(t.hit["unsupported"], t.labelled["unsupported"]),
        "unsupported_recall_llm": _ratio(t.hit_llm["unsupported"], t.labelled["unsupported"]),
        "unsupported_labelled": t.labelled["unsupported"],
        "consistency_confirmed": _ratio(t.confirmed, t.shown_consistency),
        "consistency_shown": t.shown_consistency,
        "false_alarm_rate": _ratio(t.false_alarms, t.consistent),
        "false_alarms": t.false_alarms,
        "consistent_labelled": t.consistent,
        "internal_recall": _ratio(t.internal_hit, t.internal),
        "internal_recall_llm": _ratio(t.internal_hit_llm, t.internal),
        "internal_labelled": t.internal,
        "missing_part_recall": _ratio(t.missing_hit, t.missing),
        "missing_part_labelled": t.missing,
        "unconfirmed_missing_max": max(t.unconfirmed_missing, default=0),
        "unconfirmed_missing_mean": _ratio(sum(t.unconfirmed_missing), len(t.unconfirmed_missing)),
        "shown_median": statistics.median(t.shown) if t.shown else None,
        "shown_max": max(t.shown, default=None),
        "token_ratio_median": round(statistics.median(t.token_ratio), 2) if t.token_ratio else None,
        "token_ratio_max": round(max(t.token_ratio), 2) if t.token_ratio else None,
    }


def read_looks(run: Path) -> dict[str, str]:
    """The second look's verdicts kept in the run folder (``second-look.jsonl``: one ``{"id", "verdict",
    "reason"}`` per case), by case id."""
    path = run / SECOND_LOOK
    if not path.is_file():
        return {}
    looks: dict[str, str] = {}
    for row in read_jsonl(path):
        verdict = row.get("verdict")
        if verdict not in LOOK_VERDICTS:
            raise SystemExit(f"llm_quality: {path}: verdict {verdict!r} of {row.get('id')!r} is not in {LOOK_VERDICTS}")
        looks[str(row["id"])] = str(verdict)
    return looks


def second_look(t: Tally, looks: dict[str, str]) -> dict[str, Any]:
    """How the shown consistency findings the labels do not confirm fared on a second reader's look at the report.
    The labels are written blind and conservatively, so a finding they do not name may still be right; a case with
    no verdict counts as not upheld. Reported beside ``consistency_confirmed``, which stays the target's figure."""
    if not looks:
        return {}
    verdicts = [looks.get(c["id"]) for c in t.cases]
    upheld = verdicts.count("upheld")
    return {
        "second_look_cases": len(t.cases),
        "second_look_judged": len(verdicts) - verdicts.count(None),
        "second_look_upheld": upheld,
        "consistency_upheld": _ratio(t.confirmed + upheld, t.shown_consistency),
    }


def met(name: str, value: Any) -> str:
    if name not in TARGETS or value is None:
        return ""
    ok = value <= TARGETS[name] if name in AT_MOST else value >= TARGETS[name]
    return f"  (target {'≤' if name in AT_MOST else '≥'} {TARGETS[name]}: {'met' if ok else 'NOT met'})"


def score(
    run: Path,
    labels: Path = LABELS,
    corpus: Path = CORPUS,
    verbose: bool = False,
    parts: tuple[str, ...] = PARTS,
    cases: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Replay the run and score each part of the labels; the figures per part, and the replay's bookkeeping.
    ``cases`` collects the shown consistency findings the labels do not confirm (:func:`case`)."""
    out: dict[str, Any] = {}
    looks = read_looks(run)
    with tempfile.TemporaryDirectory() as tmp:
        for part in parts:
            files = sorted((labels / part).glob("*.toml"))
            named = [(f, tomllib.loads(f.read_text(encoding="utf-8"))) for f in files]
            pairs = [(corpus / str(d.get("report", f.with_suffix(".md").name)), d) for f, d in named]
            listed = run / "reports.txt"  # only the reports the run answered
            if listed.is_file():
                names = set(listed.read_text(encoding="utf-8").split())
                pairs = [(p, d) for p, d in pairs if p.name in names]
            pairs = [(p, d) for p, d in pairs if p.is_file()]
            if not pairs:
                continue
            rp = replay([p for p, _d in pairs], run, Path(tmp) / part)
            jobs = rp.jobs + rp.report_jobs
            # counted per job: two reports may send the very same request (one cache entry answers both)
            answered = [j for j in jobs if rp.cache.get(j.key) is not None]
            rp.cache.close()
            results = review_results(rp.results, rp.settings, cache_only=True)
            tally = Tally()
            by_report = jobs_by_report(jobs)
            for idx, (result, (_p, label)) in enumerate(zip(results, pairs, strict=True)):
                mine = sum(j.prompt_tokens for j in by_report.get(idx, []))
                score_report(result, label, mine, tally, verbose and part == "tuning")
            figs = figures(tally)
            figs.update(second_look(tally, looks))
            if cases is not None:
                cases.extend({"part": part, **c} for c in tally.cases)
            figs["requests"] = len(jobs)
            figs["answered"] = len(answered)
            figs["drifted"] = len(rp.drifted)
            figs["invalid"] = len(rp.invalid)
            out[part] = figs
            if verbose and part == "tuning":  # never the held-out part: its misses are not for reading
                for note in tally.notes:
                    print(f"  [{part}] {note}")
    return out


def print_scores(scores: dict[str, Any], run: Path) -> None:
    print(f"run {run.relative_to(ROOT) if run.is_relative_to(ROOT) else run}")
    for part, figs in scores.items():
        print(f"\n{part} ({figs['reports']} reports; {figs['answered']}/{figs['requests']} requests answered)")
        for name, value in figs.items():
            print(f"  {name:28} {value}{met(name, value)}")


def cmd_score(args: argparse.Namespace) -> int:
    run = args.run or run_dir()
    if not (run / "responses-question.jsonl").is_file():
        print(f"llm_quality: no responses in {run} (prompt version {load_prompts().version})")
        return 0
    global SAME_PAIR_ONLY
    SAME_PAIR_ONLY = args.same_pair_only
    for name in args.policy or []:
        attribute, value = POLICIES[name]
        setattr(assess, attribute, value)
    cases: list[dict[str, Any]] = []
    scores = score(run, args.labels, args.corpus, args.verbose, tuple(args.part or PARTS), cases)
    print_scores(scores, run)
    if args.cases:
        write_jsonl(args.cases, cases)
        print(f"\nwrote {args.cases}: {len(cases)} shown consistency findings the labels do not confirm")
    if args.write and (args.part or args.policy or args.same_pair_only):
        print("llm_quality: --write needs every part and the adopted choices", file=sys.stderr)
        return 2
    if args.write:
        (run / "scores.json").write_text(json.dumps(scores, indent=1) + "\n", encoding="utf-8")
        print(f"\nwrote {run / 'scores.json'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("export", help="write the review requests of the named reports")
    ex.add_argument("--reports", nargs="+", required=True, help="corpus report names or owner prefixes")
    ex.add_argument("--phase", choices=PHASES, default="question")
    ex.add_argument("--run", type=Path, default=None, help="run folder (default: llm_runs/<prompt version>)")
    ex.add_argument("--corpus", type=Path, default=CORPUS)
    sl = sub.add_parser("slice", help="split a request file into N files for stand-in models")
    sl.add_argument("requests", type=Path)
    sl.add_argument("--parts", type=int, default=8)
    sl.add_argument("--out", type=Path, required=True)
    asm = sub.add_parser("assemble", help="answer lines -> Batch API output lines")
    asm.add_argument("answers", type=Path, nargs="+")
    asm.add_argument("--out", type=Path, required=True)
    asm.add_argument("--requests", type=Path, default=None, help="list the requests left without an answer")
    sc = sub.add_parser("score", help="replay the run and score it against the labels")
    sc.add_argument("--run", type=Path, default=None)
    sc.add_argument("--labels", type=Path, default=LABELS)
    sc.add_argument("--corpus", type=Path, default=CORPUS)
    sc.add_argument("--write", action="store_true", help="write scores.json into the run folder")
    sc.add_argument("-v", "--verbose", action="store_true", help="list misses and false alarms (tuning part only)")
    sc.add_argument("--part", choices=PARTS, action="append", help="score only this label part (repeatable)")
    sc.add_argument(
        "--cases",
        type=Path,
        default=None,
        help=f"write the shown consistency findings the labels do not confirm, for a second look ({SECOND_LOOK})",
    )
    sc.add_argument(
        "--same-pair-only",
        action="store_true",
        help="a cross-answer finding matches a labelled conflict only through the labelled pair of questions",
    )
    sc.add_argument(
        "--policy",
        choices=sorted(POLICIES),
        action="append",
        help="score under a choice measured and not adopted (repeatable; see POLICIES)",
    )
    args = ap.parse_args(argv)
    if args.cmd in ("export", "score") and not args.corpus.is_dir():
        print(f"skip: corpus {args.corpus} not found")
        return 0
    handler = {"export": cmd_export, "slice": cmd_slice, "assemble": cmd_assemble, "score": cmd_score}[args.cmd]
    return handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
