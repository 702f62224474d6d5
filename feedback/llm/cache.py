"""On-disk response cache (SQLite) and the JSONL exchange log; both disposable, neither ever fatal.

The cache key hashes everything that decides the answer: model, prompt version hash, the messages as sent (with
the per-call delimiter replaced by a fixed token, so a rerun hits), the response schema and sampling settings.

A damaged database file is renamed aside (``llm-cache.sqlite3.damaged-N``) with one warning and a fresh one is
started; a row that is not valid JSON of the right shape is deleted and counts as a miss. An exchange log that
cannot be written is a warning, and the run goes on without it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from feedback.console import warn
from feedback.llm.schema import QuestionReview, ReportReview

T = TypeVar("T")
DB_NAME = "llm-cache.sqlite3"


def content_hash(data: Any) -> str:
    raw = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def valid_review_row(value: Any) -> bool:
    """A cached response: ``{"content": <JSON text of a QuestionReview or, for the report-level pass, a
    ReportReview>}``."""
    if not isinstance(value, dict) or not isinstance(value.get("content"), str):
        return False
    for model in (QuestionReview, ReportReview):
        try:
            model.model_validate_json(value["content"])
        except ValidationError:
            continue
        return True
    return False


def quarantine(path: Path) -> Path | None:
    """Rename a damaged file aside (``NAME.damaged-N``) and return the new name; None when nothing was there."""
    if not path.exists():
        return None
    n = 1
    while path.with_name(f"{path.name}.damaged-{n}").exists():
        n += 1
    target = path.with_name(f"{path.name}.damaged-{n}")
    path.rename(target)
    return target


class ResponseCache:
    """``key -> response JSON``; a missing or disabled cache simply never hits."""

    def __init__(self, directory: Path | None, valid: Callable[[Any], bool] = valid_review_row) -> None:
        self._db: sqlite3.Connection | None = None
        self._valid = valid
        self.path = directory / DB_NAME if directory is not None else None
        if self.path is not None:
            self._open_or_rebuild()

    def _open(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: no fsync per commit; a crash may lose the last answers, which are simply asked again
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL)"
        )
        self._db.execute("SELECT key, value FROM responses LIMIT 1").fetchall()
        self._db.commit()

    def _open_or_rebuild(self) -> None:
        assert self.path is not None
        try:
            self._open(self.path)
        except sqlite3.DatabaseError as exc:
            self._rebuild(exc)
        except OSError as exc:
            self._disable(exc)

    def _disable(self, exc: Exception) -> None:
        warn(f"cannot use the LLM cache {self.path} ({exc}); continuing without a cache")
        self.close()

    def _rebuild(self, exc: Exception) -> None:
        """Move the damaged database (and its WAL files) aside and start an empty one."""
        assert self.path is not None
        self.close()
        try:
            aside = quarantine(self.path)
            for suffix in ("-wal", "-shm"):
                extra = self.path.with_name(self.path.name + suffix)
                if extra.exists():
                    extra.unlink()
            self._open(self.path)
        except (OSError, sqlite3.Error) as again:
            self._disable(again)
            return
        warn(f"the LLM cache {self.path} was damaged ({exc}); moved to {aside} and started afresh")

    def _guarded(self, op: Callable[[sqlite3.Connection], T], default: T) -> T:
        """Run ``op``; a damaged database is rebuilt once and ``op`` retried on the fresh one."""
        for attempt in (1, 2):
            if self._db is None:
                return default
            try:
                return op(self._db)
            except sqlite3.DatabaseError as exc:
                if attempt == 2:
                    self._disable(exc)
                    return default
                self._rebuild(exc)
            except OSError as exc:
                self._disable(exc)
                return default
        return default

    def get(self, key: str) -> dict[str, Any] | None:
        row = self._guarded(lambda db: db.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone(), None)
        if row is None:
            return None
        try:
            value = json.loads(row[0])
        except (TypeError, ValueError):
            value = None
        if value is None or not self._valid(value):
            warn(f"the LLM cache {self.path} holds damaged rows; they are dropped and asked again")
            self._guarded(lambda db: self._delete(db, key), None)
            return None
        return value  # type: ignore[no-any-return]

    @staticmethod
    def _delete(db: sqlite3.Connection, key: str) -> None:
        db.execute("DELETE FROM responses WHERE key = ?", (key,))
        db.commit()

    def put(self, key: str, value: dict[str, Any]) -> None:
        raw = json.dumps(value, ensure_ascii=False)

        def op(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT OR REPLACE INTO responses (key, value, created) VALUES (?, ?, ?)", (key, raw, time.time())
            )
            db.commit()

        self._guarded(op, None)

    def close(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None


class ExchangeLog:
    """Appends one JSON line per exchange (calls and cache hits alike); a log it cannot write is a warning."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                self._give_up(exc)

    def _give_up(self, exc: OSError) -> None:
        warn(f"cannot write the exchange log {self.path} ({exc.strerror or exc}); continuing without it")
        self.path = None

    def write(self, entry: dict[str, Any]) -> None:
        if self.path is None:
            return
        try:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"ts": round(time.time(), 3), **entry}, ensure_ascii=False) + "\n")
        except OSError as exc:
            self._give_up(exc)
