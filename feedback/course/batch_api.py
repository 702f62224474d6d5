"""Course-scale review through the OpenAI Batch API, and a file exchange in the Batch API's formats.

The Batch path sends exactly the requests a live run sends: the jobs come from :func:`feedback.llm.review.plan`
and each body from :func:`feedback.llm.review.chat_request` (same prompts, messages, schema, model, seed). A
``custom_id`` names report, question and prompt version; ``batch_manifest.json`` maps it back to the report, the
question and the live cache key. Every output line is checked like a live reply (refusal, truncation, the response
schema, quote verification) and stored in the live response cache under the live request's key, so the rendering
that follows is an ordinary review run that finds those questions in the cache and sends nothing for them.

Files in the output folder: ``batch_state.json`` (input, options, model, every batch and its progress),
``batch_manifest.json`` and ``batch/`` (request parts as uploaded, downloaded output and error files).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from feedback.course.runner import BatchSummary, Entry, Runner, discover, write_atomic
from feedback.errors import FeedbackError, InputError, LLMError, LLMOutputInvalid, UsageError
from feedback.llm.cache import ResponseCache
from feedback.llm.client import BatchClient, ChatResponse, Mode, make_batch_client
from feedback.llm.prompts import PromptSet, load_prompts
from feedback.llm.review import (
    EXPECTED_COMPLETION,
    REPORT,
    Job,
    _validation_summary,
    chat_request,
    dropped_unverified,
    plan,
    reply_content,
    report_jobs_from_cache,
    review_results,
)
from feedback.llm.schema import QuestionReview, ReportReview
from feedback.llm.verify import QuoteIndex
from feedback.pipeline import Options, Result, check_file
from feedback.settings import Settings, load_settings

ENDPOINT = "/v1/chat/completions"
COMPLETION_WINDOW = "24h"
MAX_REQUESTS = 50_000  # per input file (OpenAI's limit)
MAX_BYTES = 200 * 1024 * 1024  # per input file (OpenAI's limit)
BATCH_DISCOUNT = 0.5  # Batch API price relative to live calls
MAX_ATTEMPTS = 3  # batches a question is sent in before it is left to a live run
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
STATE_FILE = "batch_state.json"
MANIFEST_FILE = "batch_manifest.json"
FILES_DIR = "batch"
Requeue = Literal["live", "batch", "none"]
REQUEUE: dict[str, Requeue] = {"live": "live", "batch": "batch", "none": "none"}


def custom_id(report: str, question: int, prompt_version: str, occurrence: int = 0) -> str:
    """Stable id of one request: the report's name in the input, the question number (0: the report-level pass)
    and the prompt version."""
    raw = f"{report}\0{question}\0{prompt_version}" + (f"\0{occurrence}" if occurrence else "")
    head = "report" if question == REPORT else f"q{question}"
    return f"{head}-{hashlib.sha256(raw.encode('utf-8')).hexdigest()[:24]}"


# --- planning: the live jobs of a whole course ------------------------------------------------------------------


@dataclass(slots=True)
class Planned:
    custom_id: str
    report: str  # the entry's name (path relative to the input)
    job: Job
    result: Result


@dataclass(slots=True)
class Course:
    entries: list[Entry]
    planned: dict[str, Planned]  # by custom_id, in plan order
    unreadable: list[str]


def plan_course(
    spec: str, out: Path, options: Options, settings: Settings, prompts: PromptSet, cache: ResponseCache | None = None
) -> Course:
    """Check every report named by ``spec`` and plan its per-question requests exactly as a live run would, and
    the report-level pass of every report whose per-question replies are all in ``cache`` (the second phase)."""
    entries = discover(spec, exclude=out)
    results: list[Result] = []
    names: list[str] = []
    unreadable = []
    for e in entries:
        try:
            result = check_file(e.path, options)
        except FeedbackError as exc:
            unreadable.append(f"{e.name}: {exc}")
            continue
        except OSError as exc:
            unreadable.append(f"{e.name}: cannot read ({exc.strerror or exc})")
            continue
        result.source = e.name
        results.append(result)
        names.append(e.name)
    planned: dict[str, Planned] = {}
    seen: dict[tuple[str, int], int] = {}
    jobs = plan(results, settings, prompts)
    if cache is not None:
        jobs += report_jobs_from_cache(results, jobs, cache, settings, prompts)
    for job in jobs:
        name = names[job.result_index]
        n = seen[name, job.number] = seen.get((name, job.number), -1) + 1
        cid = custom_id(name, job.number, prompts.version, n)
        planned[cid] = Planned(cid, name, job, results[job.result_index])
    return Course(entries, planned, unreadable)


def request_line(p: Planned, settings: Settings, prompts: PromptSet) -> dict[str, Any]:
    """One line of a Batch API input file: the live request's body under the question's ``custom_id``."""
    mode: Mode = "json_object" if settings.structured == "json_object" else "json_schema"  # as a live run starts
    body = chat_request(p.job.messages, settings, prompts, mode, p.job.kind).body()
    return {"custom_id": p.custom_id, "method": "POST", "url": ENDPOINT, "body": body}


def split(lines: Iterable[bytes], max_requests: int = MAX_REQUESTS, max_bytes: int = MAX_BYTES) -> list[list[bytes]]:
    """Group encoded JSONL lines into files within the per-file limits, keeping their order."""
    parts: list[list[bytes]] = []
    current: list[bytes] = []
    size = 0
    for line in lines:
        if len(line) > max_bytes:
            raise UsageError(f"one request is {len(line)} bytes, more than the {max_bytes}-byte file limit")
        if current and (len(current) >= max_requests or size + len(line) > max_bytes):
            parts.append(current)
            current, size = [], 0
        current.append(line)
        size += len(line)
    if current:
        parts.append(current)
    return parts


def part_paths(path: Path, count: int) -> list[Path]:
    """``FILE`` itself for one part; ``FILE-001.jsonl`` ... when the requests had to be split."""
    if count == 1:
        return [path]
    return [path.with_name(f"{path.stem}-{i:03d}{path.suffix or '.jsonl'}") for i in range(1, count + 1)]


# --- state and manifest -----------------------------------------------------------------------------------------


class ManifestEntry(BaseModel):
    report: str
    question: int
    key: str  # the live cache key of the request
    prompt_version: str
    model: str


class BatchRecord(BaseModel):
    id: str
    input_file_id: str
    file: str  # the uploaded part, relative to the output folder
    ids: list[str]
    status: str = "validating"
    output_file_id: str | None = None
    error_file_id: str | None = None
    completed: int = 0
    failed: int = 0
    ingested: bool = False
    requeued: bool = False


class State(BaseModel):
    version: int = 1
    input: str
    model: str
    prompt_version: str
    select: list[str] = []
    ignore: list[str] = []
    template: str | None = None
    batches: list[BatchRecord] = []
    attempts: dict[str, int] = {}  # custom_id → batches it was sent in

    def options(self) -> Options:
        return Options.from_args(self.select, self.ignore, self.template)

    def pending_ids(self) -> set[str]:
        return {cid for b in self.batches if not b.ingested for cid in b.ids}


class Folder:
    """The output folder's batch files; every write is atomic, so an interrupted command leaves a usable state."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.files = out / FILES_DIR

    def load_state(self) -> State:
        path = self.out / STATE_FILE
        if not path.is_file():
            raise InputError(
                f"{path}: no batch state here (start with `feedback batch INPUT --out DIR --via batch-api`)"
            )
        try:
            return State.model_validate_json(path.read_bytes())
        except (OSError, ValidationError) as exc:
            raise InputError(f"{path}: unreadable batch state ({type(exc).__name__})") from None

    def state_or_none(self) -> State | None:
        return self.load_state() if (self.out / STATE_FILE).is_file() else None

    def save_state(self, state: State) -> None:
        write_atomic(self.out / STATE_FILE, state.model_dump_json(indent=1) + "\n")

    def load_manifest(self) -> dict[str, ManifestEntry]:
        path = self.out / MANIFEST_FILE
        if not path.is_file():
            return {}
        try:
            raw = json.loads(path.read_bytes())
            return {k: ManifestEntry.model_validate(v) for k, v in raw.items()}
        except (OSError, ValueError, AttributeError) as exc:
            raise InputError(f"{path}: unreadable manifest ({type(exc).__name__})") from None

    def save_manifest(self, manifest: dict[str, ManifestEntry]) -> None:
        data = {k: v.model_dump() for k, v in sorted(manifest.items())}
        write_atomic(self.out / MANIFEST_FILE, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


# --- building and sending requests ------------------------------------------------------------------------------


@dataclass(slots=True)
class Context:
    """What every command shares: the folder, settings, prompts, the planned course and the live cache."""

    folder: Folder
    settings: Settings
    prompts: PromptSet
    options: Options
    course: Course
    cache: ResponseCache

    def cached(self, p: Planned) -> bool:
        return self.cache.get(p.job.key) is not None

    def close(self) -> None:
        self.cache.close()


def _context(spec: str, out: Path, options: Options, settings: Settings) -> Context:
    if not settings.use_cache:
        raise UsageError("the Batch API path keeps every reply in the response cache: set use_cache = true")
    prompts = load_prompts()
    cache = ResponseCache(settings.cache_dir if settings.use_cache else None)
    try:
        course = plan_course(spec, out, options, settings, prompts, cache)
    except BaseException:
        cache.close()
        raise
    return Context(Folder(out), settings, prompts, options, course, cache)


def _new_state(spec: str, ctx: Context, select: Sequence[str], ignore: Sequence[str], template: Path | None) -> State:
    old = ctx.folder.state_or_none()
    fresh = State(
        input=spec,
        model=ctx.settings.model,
        prompt_version=ctx.prompts.version,
        select=list(select),
        ignore=list(ignore),
        template=str(template.resolve()) if template else None,
    )
    if old is None:
        return fresh
    same = (old.input, old.model, old.select, old.ignore, old.template) == (
        fresh.input,
        fresh.model,
        fresh.select,
        fresh.ignore,
        fresh.template,
    )
    if not same and old.pending_ids():
        raise UsageError(
            f"{ctx.folder.out} has batches for another input, model or options still to collect; "
            "collect them first or use another --out folder"
        )
    return fresh.model_copy(update={"batches": old.batches, "attempts": old.attempts}) if same else fresh


@dataclass(slots=True)
class Built:
    requests: list[Planned]
    cached: int
    pending: int  # already in a batch that is not collected yet
    shared: int  # the same request as another question's (copied text): answered by that one
    prompt_tokens: int
    parts: list[list[bytes]] = field(default_factory=list)

    def cost_line(self, settings: Settings) -> str:
        completion = EXPECTED_COMPLETION * len(self.requests)
        live = settings.cost(self.prompt_tokens, completion)
        return (
            f"{len(self.requests)} requests ({self.cached} questions already cached, {self.pending} waiting in "
            f"earlier batches, {self.shared} identical to another request), "
            f"{self.prompt_tokens} prompt tokens: ≈ ${live * BATCH_DISCOUNT:.4f} at Batch API prices "
            f"(≈ ${live:.4f} live)"
        )


def build(ctx: Context, skip: set[str], max_requests: int, max_bytes: int, only: set[str] | None = None) -> Built:
    """Requests for every planned question not in the cache and whose cache key is not in ``skip``, in files."""
    todo: list[Planned] = []
    cached = pending = shared = 0
    keys: set[str] = set()
    for cid, p in ctx.course.planned.items():
        if only is not None and cid not in only:
            continue
        if ctx.cached(p):
            cached += 1
        elif p.job.key in skip:
            pending += 1
        elif p.job.key in keys:  # identical requests (copied answers) are sent once and share the reply
            shared += 1
        else:
            keys.add(p.job.key)
            todo.append(p)
    lines = (
        (json.dumps(request_line(p, ctx.settings, ctx.prompts), ensure_ascii=False) + "\n").encode("utf-8")
        for p in todo
    )
    built = Built(todo, cached, pending, shared, sum(p.job.prompt_tokens for p in todo))
    built.parts = split(lines, max_requests, max_bytes)
    return built


def _record(manifest: dict[str, ManifestEntry], ctx: Context, planned: Iterable[Planned]) -> None:
    for p in planned:
        manifest[p.custom_id] = ManifestEntry(
            report=p.report,
            question=p.job.number,
            key=p.job.key,
            prompt_version=ctx.prompts.version,
            model=ctx.settings.model,
        )


def _submit(ctx: Context, state: State, built: Built, client: BatchClient) -> list[BatchRecord]:
    """Upload each part and create its batch; the state is saved after every batch, so none is ever lost."""
    manifest = ctx.folder.load_manifest()
    _record(manifest, ctx, built.requests)
    ctx.folder.save_manifest(manifest)
    created = []
    first = sum(1 for _ in ctx.folder.files.glob("requests-*.jsonl")) + 1 if ctx.folder.files.is_dir() else 1
    for n, part in enumerate(built.parts, start=first):
        path = ctx.folder.files / f"requests-{n:04d}.jsonl"
        data = b"".join(part)
        write_atomic(path, data)
        ids = [json.loads(line)["custom_id"] for line in part]
        file_id = client.upload(path.name, data)
        info = client.create_batch(file_id, ENDPOINT, COMPLETION_WINDOW, {"tool": "feedback", "part": path.name})
        record = BatchRecord(
            id=str(info["id"]), input_file_id=file_id, file=path.relative_to(ctx.folder.out).as_posix(), ids=ids
        )
        _update(record, info)
        state.batches.append(record)
        for cid in ids:
            state.attempts[cid] = state.attempts.get(cid, 0) + 1
        ctx.folder.save_state(state)
        created.append(record)
    return created


def _update(record: BatchRecord, info: dict[str, Any]) -> None:
    record.status = str(info.get("status") or record.status)
    record.output_file_id = info.get("output_file_id") or record.output_file_id
    record.error_file_id = info.get("error_file_id") or record.error_file_id
    counts = info.get("request_counts") or {}
    record.completed = int(counts.get("completed") or 0)
    record.failed = int(counts.get("failed") or 0)


# --- ingesting output lines -------------------------------------------------------------------------------------


@dataclass(slots=True)
class Ingested:
    stored: int = 0
    already: int = 0  # in the cache before (ingested earlier): not stored again
    failed: dict[str, str] = field(default_factory=dict)  # custom_id → why
    missing: list[str] = field(default_factory=list)  # expected, but no line came back
    unknown: int = 0  # a custom_id this input does not have
    stale: int = 0  # the report, prompts or settings changed since the request was built
    unreadable: int = 0
    dropped_quotes: int = 0  # quotes not found in the report (dropped at rendering, as in a live run)
    seen: set[str] = field(default_factory=set)

    def add(self, other: Ingested) -> None:
        self.stored += other.stored
        self.already += other.already
        self.failed.update(other.failed)
        self.missing.extend(other.missing)
        self.unknown += other.unknown
        self.stale += other.stale
        self.unreadable += other.unreadable
        self.dropped_quotes += other.dropped_quotes
        self.seen |= other.seen

    def line(self) -> str:
        parts = [f"{self.stored} responses stored in the cache", f"{self.already} already there"]
        for n, what in (
            (len(self.failed), "failed or invalid"),
            (len(self.missing), "missing"),
            (self.stale, "stale (input changed since export)"),
            (self.unknown, "with an unknown custom_id"),
            (self.unreadable, "unreadable lines"),
        ):
            if n:
                parts.append(f"{n} {what}")
        if self.dropped_quotes:
            parts.append(f"{self.dropped_quotes} unverifiable quotes (dropped as in a live run)")
        return ", ".join(parts)


def _response(obj: dict[str, Any]) -> tuple[ChatResponse | None, str]:
    """The chat completion of one Batch output line, or why there is none."""
    err = obj.get("error")
    if err:
        if isinstance(err, dict):
            return None, f"batch error {err.get('code') or ''}: {err.get('message') or ''}".strip()
        return None, f"batch error: {err}"
    response = obj.get("response")
    if not isinstance(response, dict):
        return None, "no response in the line"
    body = response.get("body")
    if response.get("status_code") != 200 or not isinstance(body, dict):
        message = body.get("error", {}).get("message", "") if isinstance(body, dict) else ""
        return None, f"HTTP {response.get('status_code')}: {' '.join(str(message).split())[:160]}".rstrip(": ")
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None, "the response has no choices"
    message = choices[0].get("message") or {}
    usage = body.get("usage") or {}
    return (
        ChatResponse(
            content=str(message.get("content") or ""),
            finish_reason=str(choices[0].get("finish_reason")),
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            refusal=message.get("refusal"),
        ),
        "",
    )


def check_reply(
    resp: ChatResponse, settings: Settings, model: type[QuestionReview] | type[ReportReview] = QuestionReview
) -> tuple[QuestionReview | ReportReview, str]:
    """The same checks as a live reply: refusal, truncation, then the response schema (no re-ask in a batch).

    Returns the review and the JSON text a live call would cache for it (the validated reply, model text cut).
    """
    content = reply_content(resp, settings)
    try:
        review = model.model_validate_json(content)
        return review, review.model_dump_json()
    except ValidationError as exc:
        raise LLMOutputInvalid(f"output did not match the schema ({_validation_summary(exc)})") from None


def ingest(lines: Iterable[str], ctx: Context, manifest: dict[str, ManifestEntry]) -> Ingested:
    """Validate each Batch output line like a live reply and store the good ones under the live cache key."""
    res = Ingested()
    indexes: dict[str, QuoteIndex] = {}
    for raw in lines:
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
            cid = str(obj["custom_id"])
        except (ValueError, TypeError, KeyError):
            res.unreadable += 1
            continue
        res.seen.add(cid)
        p = ctx.course.planned.get(cid)
        known = manifest.get(cid)
        if p is None or (known is not None and known.key != p.job.key):
            if known is None:
                res.unknown += 1
            else:
                res.stale += 1
            continue
        if ctx.cached(p):
            res.already += 1
            continue
        resp, why = _response(obj)
        if resp is None:
            res.failed[cid] = why
            continue
        try:
            review, content = check_reply(resp, ctx.settings, p.job.model)
        except LLMError as exc:
            res.failed[cid] = str(exc)
            continue
        index = indexes.setdefault(p.report, QuoteIndex(p.result.report))
        res.dropped_quotes += dropped_unverified(review, p.job, index)
        ctx.cache.put(p.job.key, {"content": content})
        res.stored += 1
    return res


def _missing(ctx: Context, expected: Iterable[str], seen: set[str]) -> list[str]:
    out = []
    for cid in expected:
        p = ctx.course.planned.get(cid)
        if cid not in seen and p is not None and not ctx.cached(p):
            out.append(cid)
    return out


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None


# --- rendering ------------------------------------------------------------------------------------------------


def render(ctx: Context, spec: str, *, live: bool, jobs: int = 2, progress: bool | None = None) -> BatchSummary:
    """Write the pages, CSVs and index like ``feedback batch --llm``; questions not in the cache are sent live
    when ``live``, otherwise they are marked as not reviewed and nothing is sent."""
    settings = ctx.settings

    def review(results: list[Result]) -> list[Result]:
        return review_results(results, settings, cache_only=not live)

    runner = Runner(ctx.folder.out, ctx.options, jobs=jobs, review=review, llm_key=f"{settings.model}|batch")
    return runner.run(ctx.course.entries, progress)


def _summary_line(summary: BatchSummary) -> str:
    return (
        f"{len(summary.outcomes)} reports ({len(summary.failed)} failed): {summary.out / 'index.html'}"
        if summary.outcomes
        else "no reports"
    )


# --- the commands ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Done:
    """What a command did, as lines for the terminal, and its exit code."""

    lines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    exit_code: int = 0


def _settings(model: str | None) -> Settings:
    return load_settings({"model": model})


@contextmanager
def _planned(
    spec: str, out: Path, select: Sequence[str], ignore: Sequence[str], template: Path | None, model: str | None
) -> Iterator[tuple[Context, State]]:
    """What sending and exporting requests start from: the course planned with its settings and its cache open, and
    a new state file's content; the cache is closed afterwards."""
    ctx = _context(spec, out, Options.from_args(select, ignore, template), _settings(model))
    try:
        yield ctx, _new_state(spec, ctx, select, ignore, template)
    finally:
        ctx.close()


def _started(built: Built, ctx: Context) -> Done:
    return Done([built.cost_line(ctx.settings)], [f"unreadable: {u}" for u in ctx.course.unreadable])


def submit(
    spec: str,
    out: Path,
    *,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    template: Path | None = None,
    model: str | None = None,
    client: BatchClient | None = None,
    max_requests: int = MAX_REQUESTS,
    max_bytes: int = MAX_BYTES,
) -> Done:
    """``feedback batch INPUT --out DIR --via batch-api``: send every uncached question as Batch API jobs."""
    with _planned(spec, out, select, ignore, template, model) as (ctx, state):
        manifest = ctx.folder.load_manifest()
        waiting = {manifest[cid].key for cid in state.pending_ids() if cid in manifest}
        built = build(ctx, waiting, max_requests, max_bytes)
        done = _started(built, ctx)
        if not built.requests:
            ctx.folder.save_state(state)
            done.lines.append("nothing to send: every question is cached or waiting in a batch")
            return done
        if not ctx.settings.endpoint_configured and client is None:
            raise UsageError("the Batch API needs OPENAI_API_KEY (or OPENAI_BASE_URL); see --export-requests")
        created = _submit(ctx, state, built, client or make_batch_client(ctx.settings))
        done.lines += [f"batch {b.id}: {len(b.ids)} requests ({b.file}), {b.status}" for b in created]
        done.lines.append(f"state in {out / STATE_FILE}; collect with `feedback batch --collect {out}`")
        return done


def export_requests(
    spec: str,
    out: Path,
    file: Path,
    *,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    template: Path | None = None,
    model: str | None = None,
    max_requests: int = MAX_REQUESTS,
    max_bytes: int = MAX_BYTES,
) -> Done:
    """``--export-requests FILE``: the Batch API input file(s) for every uncached question, nothing uploaded."""
    with _planned(spec, out, select, ignore, template, model) as (ctx, state):
        built = build(ctx, set(), max_requests, max_bytes)
        paths = part_paths(file, len(built.parts))
        for path, part in zip(paths, built.parts, strict=True):
            write_atomic(path, b"".join(part))  # a WriteError names the file
        manifest = ctx.folder.load_manifest()
        _record(manifest, ctx, built.requests)
        ctx.folder.save_manifest(manifest)
        ctx.folder.save_state(state)
        done = _started(built, ctx)
        done.lines += [f"wrote {path} ({len(part)} requests)" for path, part in zip(paths, built.parts, strict=True)]
        if not built.parts:
            done.lines.append("nothing to export: every question is cached")
        return done


def import_responses(
    spec: str | None, out: Path, files: Sequence[Path], *, jobs: int = 2, progress: bool | None = None
) -> Done:
    """``--import-responses FILE``: ingest Batch-output-format lines, then render from the cache (no calls)."""
    state = Folder(out).state_or_none()
    if spec is None and state is None:
        raise UsageError(f"give INPUT: {out} has no {STATE_FILE} from an --export-requests run")
    if state is None:
        assert spec is not None
        settings, options, source = _settings(None), Options(), spec
    else:
        settings, options, source = _settings(state.model), state.options(), spec or state.input
    ctx = _context(source, out, options, settings)
    try:
        manifest = ctx.folder.load_manifest()
        res = Ingested()
        for f in files:
            res.add(ingest(_read_lines(f), ctx, manifest))
        exported = [cid for cid in manifest if cid in ctx.course.planned]
        res.missing = _missing(ctx, exported, res.seen)
        done = Done([res.line()], [f"{cid}: {why}" for cid, why in sorted(res.failed.items())])
        summary = render(ctx, source, live=False, jobs=jobs, progress=progress)
        done.lines.append(_summary_line(summary))
        done.exit_code = 2 if summary.failed else 0
        return done
    finally:
        ctx.close()


def status(out: Path, *, client: BatchClient | None = None) -> Done:
    """``--status DIR``: each batch's progress (refreshed from the API when an endpoint is configured)."""
    folder = Folder(out)
    state = folder.load_state()
    settings = _settings(state.model)
    if client is None and settings.endpoint_configured:
        client = make_batch_client(settings)
    done = Done()
    for b in state.batches:
        if client is not None and not b.ingested and b.status not in TERMINAL:
            _update(b, client.retrieve_batch(b.id))
        where = "ingested" if b.ingested else ("ready to collect" if b.status in TERMINAL else "waiting")
        done.lines.append(f"{b.id}: {b.status}, {b.completed}/{len(b.ids)} done, {b.failed} failed; {where}")
    folder.save_state(state)
    # counted from the manifest, without checking the reports again, so a status is quick on a whole course
    manifest = folder.load_manifest()
    keys = {manifest[cid].key for b in state.batches for cid in b.ids if cid in manifest}
    cache = ResponseCache(settings.cache_dir if settings.use_cache else None)
    try:
        cached = sum(cache.get(k) is not None for k in keys)
    finally:
        cache.close()
    head = f"{state.input} ({state.model}): {cached} of {len(keys)} requests sent have a response in the cache"
    done.lines.insert(0, head + ("" if client is not None else " (batch status as last recorded: no endpoint)"))
    return done


def collect(
    out: Path,
    *,
    requeue: Requeue = "live",
    client: BatchClient | None = None,
    jobs: int = 2,
    progress: bool | None = None,
    max_requests: int = MAX_REQUESTS,
    max_bytes: int = MAX_BYTES,
) -> Done:
    """``--collect DIR``: download finished batches, ingest them, re-queue what failed, then render.

    Resumable: downloads are kept in ``DIR/batch/`` and a batch is marked ingested only when all its lines are in
    the cache (or recorded as failed); lines already in the cache are never stored or requested again.
    """
    folder = Folder(out)
    state = folder.load_state()
    settings = _settings(state.model)
    client = client or make_batch_client(settings)
    ctx = _context(state.input, out, state.options(), settings)
    try:
        manifest = folder.load_manifest()
        done = Done()
        running = []
        for b in state.batches:
            if b.ingested:
                continue
            _update(b, client.retrieve_batch(b.id))
            folder.save_state(state)
            if b.status not in TERMINAL:
                running.append(b)
                done.lines.append(f"{b.id}: {b.status}, {b.completed}/{len(b.ids)} done so far")
                continue
            res = Ingested()
            for file_id, kind in ((b.output_file_id, "output"), (b.error_file_id, "errors")):
                if not file_id:
                    continue
                path = folder.files / f"{b.id}-{kind}.jsonl"
                if not path.is_file():
                    write_atomic(path, client.download(file_id))
                res.add(ingest(_read_lines(path), ctx, manifest))
            res.missing = _missing(ctx, b.ids, res.seen)
            b.ingested = True
            folder.save_state(state)
            done.lines.append(f"{b.id}: {b.status}; {res.line()}")
            done.errors += [f"{cid}: {why}" for cid, why in sorted(res.failed.items())]
        failed = {cid for b in state.batches if b.ingested and not b.requeued for cid in b.ids}
        failed = {cid for cid in failed if cid in ctx.course.planned and not ctx.cached(ctx.course.planned[cid])}
        if requeue == "batch" and failed:
            again = {cid for cid in failed if state.attempts.get(cid, 0) < MAX_ATTEMPTS}
            built = build(ctx, set(), max_requests, max_bytes, only=again)
            for b in state.batches:
                b.requeued = b.requeued or b.ingested  # their failures are in the new batch: never re-queued twice
            created = _submit(ctx, state, built, client) if built.requests else []
            folder.save_state(state)
            done.lines += [f"re-queued {len(b.ids)} failed requests as batch {b.id}" for b in created]
            if len(again) < len(failed):
                done.lines.append(
                    f"{len(failed) - len(again)} requests failed {MAX_ATTEMPTS} times: left to a live run"
                )
        if running:
            done.lines.append(f"{len(running)} batches still running: run `feedback batch --collect {out}` later")
            return done
        if requeue == "live" and failed:
            done.lines.append(f"re-sending {len(failed)} failed requests as live calls")
        summary = render(ctx, state.input, live=requeue == "live", jobs=jobs, progress=progress)
        done.lines.append(_summary_line(summary))
        done.exit_code = 2 if summary.failed else 0
        return done
    finally:
        ctx.close()


@dataclass(frozen=True, slots=True)
class Command:
    """The ``feedback batch`` options that select the Batch API path or the file exchange."""

    source: str | None = None
    out: Path | None = None
    via: str = "live"
    collect: Path | None = None
    status: Path | None = None
    export_requests: Path | None = None
    import_responses: tuple[Path, ...] = ()
    requeue: str = "live"
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    template: Path | None = None
    model: str | None = None
    jobs: int = 2

    @property
    def wanted(self) -> bool:
        """Whether this is a Batch API / file-exchange command at all (else the live ``feedback batch``)."""
        return self.via != "live" or bool(self.collect or self.status or self.export_requests or self.import_responses)


def run_command(cmd: Command) -> Done:
    """Check the combination of options and run the one command they name."""
    if cmd.via not in ("live", "batch-api"):
        raise UsageError(f"--via must be 'live' or 'batch-api', not {cmd.via!r}")
    if cmd.requeue not in REQUEUE:
        raise UsageError(f"--requeue must be 'live', 'batch' or 'none', not {cmd.requeue!r}")
    modes = [
        name
        for name, on in (
            ("--via batch-api", cmd.via == "batch-api"),
            ("--collect", cmd.collect is not None),
            ("--status", cmd.status is not None),
            ("--export-requests", cmd.export_requests is not None),
            ("--import-responses", bool(cmd.import_responses)),
        )
        if on
    ]
    if len(modes) != 1:
        raise UsageError(
            f"use one of --via batch-api, --collect, --status, --export-requests, --import-responses, "
            f"not {' and '.join(modes)}"
        )
    if cmd.collect is not None:
        return collect(cmd.collect, requeue=REQUEUE[cmd.requeue], jobs=cmd.jobs)
    if cmd.status is not None:
        return status(cmd.status)
    if cmd.out is None:
        raise UsageError(f"{modes[0]} needs --out DIR")
    if cmd.import_responses:
        return import_responses(cmd.source, cmd.out, cmd.import_responses, jobs=cmd.jobs)
    if cmd.source is None:
        raise UsageError(f"{modes[0]} needs INPUT (a folder, glob, CSV or report)")
    common: dict[str, Any] = {"select": cmd.select, "ignore": cmd.ignore, "template": cmd.template, "model": cmd.model}
    if cmd.export_requests is not None:
        return export_requests(cmd.source, cmd.out, cmd.export_requests, **common)
    return submit(cmd.source, cmd.out, **common)
