"""A STUB of OpenAI's ``/v1/files`` and ``/v1/batches`` endpoints on 127.0.0.1, for tests only.

It is not the real API: it keeps uploaded files and batches in memory, answers every request line with a function
the test supplies (so the answers are scripted, not generated), and finishes a batch after a set number of status
polls. Output lines the function marks as errors go to the batch's error file, as the real service does.
"""

from __future__ import annotations

import email.parser
import itertools
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# request line → output line (``{"custom_id", "response", "error"}``), or None to drop the line from both files
Answer = Callable[[dict[str, Any]], dict[str, Any] | None]


def ok_line(request: dict[str, Any], content: str, finish_reason: str = "stop") -> dict[str, Any]:
    """A successful Batch output line carrying ``content`` as the chat completion's message."""
    body = {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "model": request["body"]["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "finish_reason": finish_reason,
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
    }
    return {
        "id": f"batch_req_{request['custom_id']}",
        "custom_id": request["custom_id"],
        "response": {"status_code": 200, "request_id": "req-stub", "body": body},
        "error": None,
    }


def error_line(request: dict[str, Any], code: str = "server_error", message: str = "stub failure") -> dict[str, Any]:
    return {
        "id": f"batch_req_{request['custom_id']}",
        "custom_id": request["custom_id"],
        "response": None,
        "error": {"code": code, "message": message},
    }


class BatchStub:
    """State of the stub server; ``calls`` counts requests by (method, endpoint kind)."""

    def __init__(self, answer: Answer, polls_until_done: int = 1) -> None:
        self.answer = answer
        self.polls_until_done = polls_until_done
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.polls: Counter[str] = Counter()
        self.calls: Counter[tuple[str, str]] = Counter()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.url = ""

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"

    def upload(self, content_type: str, raw: bytes) -> dict[str, Any]:
        msg = email.parser.BytesParser().parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
        data, name, purpose = b"", "upload.jsonl", ""
        for part in msg.walk():
            field = part.get_param("name", header="content-disposition")
            if field == "file":
                payload = part.get_payload(decode=True)
                data = payload if isinstance(payload, bytes) else b""
                name = str(part.get_filename() or name)
            elif field == "purpose":
                purpose = str(part.get_payload())
        fid = self._new_id("file")
        self.files[fid] = data
        return {
            "id": fid,
            "object": "file",
            "bytes": len(data),
            "created_at": 0,
            "filename": name,
            "purpose": purpose,
            "status": "processed",
        }

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("input_file_id") not in self.files:
            raise KeyError(body.get("input_file_id"))
        bid = self._new_id("batch")
        self.batches[bid] = {
            "id": bid,
            "object": "batch",
            "endpoint": body["endpoint"],
            "input_file_id": body["input_file_id"],
            "completion_window": body["completion_window"],
            "status": "validating",
            "created_at": 0,
            "output_file_id": None,
            "error_file_id": None,
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "metadata": body.get("metadata"),
        }
        return self.batches[bid]

    def retrieve(self, bid: str) -> dict[str, Any]:
        batch = self.batches[bid]
        self.polls[bid] += 1
        if batch["status"] != "completed" and self.polls[bid] >= self.polls_until_done:
            self._finish(batch)
        elif batch["status"] == "validating":
            batch["status"] = "in_progress"
        return batch

    def _finish(self, batch: dict[str, Any]) -> None:
        requests = [json.loads(line) for line in self.files[batch["input_file_id"]].decode().splitlines() if line]
        out: list[str] = []
        err: list[str] = []
        for req in requests:
            line = self.answer(req)
            if line is None:
                continue
            failed = line.get("error") is not None or (line.get("response") or {}).get("status_code") != 200
            (err if failed else out).append(json.dumps(line))
        for kind, lines in (("output_file_id", out), ("error_file_id", err)):
            if lines:
                fid = self._new_id("file")
                self.files[fid] = ("\n".join(lines) + "\n").encode()
                batch[kind] = fid
        batch["status"] = "completed"
        batch["request_counts"] = {"total": len(requests), "completed": len(out), "failed": len(err)}


def _handler(stub: BatchStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            return

        def _send(self, status: int, payload: Any, raw: bytes | None = None) -> None:
            data = raw if raw is not None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream" if raw is not None else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _missing(self) -> None:
            self._send(404, {"error": {"message": f"stub: no such resource {self.path}", "type": "not_found"}})

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with stub._lock:
                if self.path == "/v1/files":
                    stub.calls["POST", "files"] += 1
                    self._send(200, stub.upload(self.headers.get("Content-Type", ""), raw))
                elif self.path == "/v1/batches":
                    stub.calls["POST", "batches"] += 1
                    try:
                        self._send(200, stub.create(json.loads(raw)))
                    except KeyError:
                        self._send(400, {"error": {"message": "stub: unknown input_file_id"}})
                else:
                    stub.calls["POST", "other"] += 1  # e.g. /v1/chat/completions: never expected here
                    self._missing()

        def do_GET(self) -> None:
            parts = self.path.strip("/").split("/")
            with stub._lock:
                if parts[:2] == ["v1", "batches"] and len(parts) == 3 and parts[2] in stub.batches:
                    stub.calls["GET", "batch"] += 1
                    self._send(200, stub.retrieve(parts[2]))
                elif parts[:2] == ["v1", "files"] and parts[3:] == ["content"] and parts[2] in stub.files:
                    stub.calls["GET", "content"] += 1
                    self._send(200, None, raw=stub.files[parts[2]])
                else:
                    self._missing()

    return Handler


@contextmanager
def serve(stub: BatchStub) -> Iterator[BatchStub]:
    """Run the stub on a free port of 127.0.0.1 for the duration of the block; ``stub.url`` is its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stub.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
