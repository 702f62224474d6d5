"""A scripted OpenAI-compatible ``/v1/chat/completions`` on 127.0.0.1 that injects faults, for tests only.

It is not a model: each request is answered by the next :class:`Fault` scripted for the question the request is
about (``Question N`` opens the user message), or by ``default`` once that script is used up. Faults: a pause
longer than the client's timeout, an HTTP error status with headers (429 + ``retry-after``, 500, 503), a raw body
that is not JSON, and a chat completion with any content, ``finish_reason`` or ``refusal``. Every request is
recorded (body, headers, arrival time) and counted by the hash of its body with the random delimiter replaced, so a
test can tell whether the same question was asked twice.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DELIM_RE = re.compile(r"<<<ANSWER-[0-9a-f]{16}>>>")
QUESTION_RE = re.compile(r"Question (\d+)")


@dataclass(frozen=True, slots=True)
class Fault:
    """One scripted reply. ``delay`` is slept before replying (a timeout when it exceeds the client's)."""

    status: int = 200
    content: str | None = None  # the assistant message's content (a chat completion)
    finish_reason: str = "stop"
    refusal: str | None = None
    raw: bytes | None = None  # sent as the body instead of a chat completion
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    drip: float = 0.0  # seconds between the body's bytes, sent one at a time after the headers (a slow-drip server)
    content_type: str = "application/json"


Responder = Callable[[dict[str, Any]], Fault]


def timeout(seconds: float) -> Fault:
    return Fault(delay=seconds, content="{}")


def status(code: int, retry_after: float | None = None) -> Fault:
    headers = (("retry-after", f"{retry_after:g}"),) if retry_after is not None else ()
    raw = json.dumps({"error": {"message": f"fault server: HTTP {code}", "type": "server_error"}}).encode()
    return Fault(status=code, raw=raw, headers=headers)


def chat(content: str | dict[str, Any], finish_reason: str = "stop", refusal: str | None = None) -> Fault:
    text = content if isinstance(content, str) else json.dumps(content)
    return Fault(content=text, finish_reason=finish_reason, refusal=refusal)


def quoting_answer(body: dict[str, Any]) -> Fault:
    """A valid review: one suggestion quoting the first six words of the answer (a quote that verifies)."""
    quote = " ".join(answer_of(body).split()[:6])
    empty: dict[str, Any] = {"parts": [], "items": [], "facts": []}
    suggestion = {"prompt_quote": "", "quote": quote, "suggestion": "Say how you measured it.", "importance": "medium"}
    return chat({**empty, "suggestions": [suggestion]})


def body_hash(body: dict[str, Any]) -> str:
    """The request's identity: its JSON with the per-call random delimiter replaced by a fixed token."""
    text = DELIM_RE.sub("<<<ANSWER>>>", json.dumps(body, sort_keys=True, ensure_ascii=False))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def question_of(body: dict[str, Any]) -> int:
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    m = QUESTION_RE.match(user)
    return int(m.group(1)) if m else 0


def answer_of(body: dict[str, Any]) -> str:
    """The answer: the part after ``Answer:`` of the data block between the delimiters of the first user message."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    found = DELIM_RE.findall(user)
    block = user.split(found[0])[1] if found else ""
    return block.split("\nAnswer:\n", 1)[-1].strip()


@dataclass(slots=True)
class Seen:
    body: dict[str, Any]
    headers: dict[str, str]
    at: float
    hash: str
    answered: bool = False  # the full reply was written to the socket


@dataclass(slots=True)
class FaultServer:
    """Scripts per question; ``default`` answers everything else. ``url`` is set while :func:`serve` runs."""

    default: Responder
    scripts: dict[int, list[Fault]] = field(default_factory=dict)
    delay: float = 0.0  # added to every reply: a slow server
    on_request: Callable[[int], None] | None = None  # called with the running count before replying
    hold: threading.Event = field(default_factory=threading.Event)  # once set, nothing more is answered
    requests: list[Seen] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_fault(self, body: dict[str, Any]) -> Fault:
        with self._lock:
            script = self.scripts.get(question_of(body))
            if script:
                return script.pop(0)
        return self.default(body)

    def record(self, body: dict[str, Any], headers: dict[str, str]) -> tuple[Seen, int]:
        seen = Seen(body, headers, time.monotonic(), body_hash(body))
        with self._lock:
            self.requests.append(seen)
            return seen, len(self.requests)

    def counts(self) -> Counter[str]:
        """Requests per body hash."""
        with self._lock:
            return Counter(s.hash for s in self.requests)

    def of_question(self, number: int) -> list[Seen]:
        with self._lock:
            return [s for s in self.requests if question_of(s.body) == number]


def completion(body: dict[str, Any], fault: Fault) -> bytes:
    message = {"role": "assistant", "content": fault.content, "refusal": fault.refusal}
    return json.dumps(
        {
            "id": "chatcmpl-fault",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", "fault"),
            "choices": [{"index": 0, "message": message, "finish_reason": fault.finish_reason}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
        }
    ).encode()


def _handler(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            return

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._reply(Fault(status=404, raw=b'{"error": {"message": "fault server: no such path"}}'), b"")
                return
            body = json.loads(raw)
            seen, count = server.record(body, {k.lower(): v for k, v in self.headers.items()})
            if server.on_request is not None:
                server.on_request(count)
            fault = server.next_fault(body)
            time.sleep(server.delay + fault.delay)
            if server.hold.is_set():
                self.close_connection = True
                return
            data = fault.raw if fault.raw is not None else completion(body, fault)
            try:
                self._reply(fault, data)
                seen.answered = True
            except OSError:  # the client gave up (its timeout) and closed the connection
                self.close_connection = True

        def _reply(self, fault: Fault, data: bytes) -> None:
            self.send_response(fault.status)
            self.send_header("Content-Type", fault.content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in fault.headers:
                self.send_header(name, value)
            self.end_headers()
            if fault.drip:
                for i in range(len(data)):
                    self.wfile.write(data[i : i + 1])
                    self.wfile.flush()
                    time.sleep(fault.drip)
                return
            self.wfile.write(data)
            self.wfile.flush()

    return Handler


@contextmanager
def serve(server: FaultServer) -> Iterator[FaultServer]:
    """Run ``server`` on a free port of 127.0.0.1 for the duration of the block; ``server.url`` is its base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
