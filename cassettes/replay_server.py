"""Serve written model answers as an OpenAI-compatible ``/v1/chat/completions`` on 127.0.0.1, for recording.

    python cassettes/replay_server.py ANSWERS.json      # prints its base URL (a free port)

``ANSWERS.json`` maps a question number (``"0"`` for the report-level pass) to the JSON reply a capable model gave
for that request; each request is answered with the reply for the question its user message names. It accepts
``response_format: json_schema`` (as the OpenAI API does), so a recording shows the ordinary path, no fallback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fault_server import Fault, FaultServer, chat, question_of, serve


def responder(answers: dict[str, Any]) -> Any:
    def respond(body: dict[str, Any]) -> Fault:
        n = str(question_of(body))
        if n not in answers:
            return Fault(status=404, raw=json.dumps({"error": {"message": f"no answer for question {n}"}}).encode())
        return chat(answers[n])

    return respond


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("answers", type=Path)
    args = ap.parse_args()
    answers = json.loads(args.answers.read_text(encoding="utf-8"))
    server = FaultServer(default=responder(answers))
    with serve(server):
        print(f"serving {len(answers)} answers on {server.url}", flush=True)
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    raise SystemExit(main())
