"""A queue-driven fake :class:`~feedback.llm.client.ChatClient` for tests: scripted responses, recorded requests."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from feedback.llm.client import ChatRequest, ChatResponse

Scripted = ChatResponse | Exception | Callable[[ChatRequest], ChatResponse]


def reply(data: Any, finish_reason: str = "stop") -> ChatResponse:
    """A response whose content is ``data`` as JSON (or the string itself)."""
    content = data if isinstance(data, str) else json.dumps(data)
    return ChatResponse(content=content, finish_reason=finish_reason, prompt_tokens=100, completion_tokens=20)


class FakeChatClient:
    """Pops one scripted item per call; an exception is raised, a callable is called with the request."""

    def __init__(self, script: Iterable[Scripted] = (), delay: float = 0.0) -> None:
        self.queue: deque[Scripted] = deque(script)
        self.requests: list[ChatRequest] = []
        self.delay = delay

    async def complete(self, request: ChatRequest) -> ChatResponse:
        self.requests.append(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self.queue:
            raise AssertionError(f"FakeChatClient: no scripted response left for call {len(self.requests)}")
        item = self.queue.popleft()
        if isinstance(item, Exception):
            raise item
        if callable(item):
            return item(request)
        return item

    async def close(self) -> None:
        return None
