"""The one place that imports ``openai`` and builds a client; everything else talks to :class:`ChatClient`.

The SDK's own retries are off: :mod:`feedback.llm.review` retries :class:`TransientError` with backoff itself,
so the policy is the same for the real client and the scripted fake used in tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import openai

from feedback.errors import ConfigError, LLMError, StructuredOutputUnsupported, TransientError
from feedback.settings import Settings

Mode = Literal["json_schema", "json_object"]


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    messages: list[dict[str, str]]
    mode: Mode
    schema: dict[str, Any]
    schema_name: str
    seed: int
    max_tokens: int
    temperature: float = 0.0
    schema_in_json_mode: bool = False  # llama.cpp and others constrain decoding with response_format.schema

    def body(self) -> dict[str, Any]:
        """Keyword arguments for ``chat.completions.create`` (also what the cache and cassettes see)."""
        if self.mode == "json_schema":
            fmt: dict[str, Any] = {
                "type": "json_schema",
                "json_schema": {"name": self.schema_name, "strict": True, "schema": self.schema},
            }
        else:
            fmt = {"type": "json_object"}
            if self.schema_in_json_mode:
                fmt["schema"] = self.schema
        return {
            "model": self.model,
            "messages": self.messages,
            "temperature": self.temperature,
            "seed": self.seed,
            "max_tokens": self.max_tokens,
            "response_format": fmt,
        }


@dataclass(frozen=True, slots=True)
class ChatResponse:
    content: str
    finish_reason: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    refusal: str | None = None


class ChatClient(Protocol):
    async def complete(self, request: ChatRequest) -> ChatResponse: ...

    async def close(self) -> None: ...


def _retry_after(exc: openai.APIStatusError) -> float | None:
    value = exc.response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


MAX_CONTENT = 100_000  # characters of model output accepted; a reply of 1200 tokens is about 5,000


def scrub(text: str, secret: str | None) -> str:
    """``text`` with the API key replaced: a server may echo the key in any string it sends back."""
    return text.replace(secret, "[API key]") if secret else text


def _short(exc: Exception, secret: str | None = None) -> str:
    """The error on one line; the API key taken out (some servers echo a wrong key in their error message)."""
    return scrub(" ".join(str(exc).split()), secret)[:200]


class OpenAIChatClient:
    """:class:`ChatClient` over ``openai.AsyncOpenAI``.

    ``deadline`` bounds a whole call (connect, headers and body): the SDK's own timeout applies to each read, so a
    server that sends one byte a second would otherwise never time out.
    """

    def __init__(self, client: openai.AsyncOpenAI, deadline: float | None = None) -> None:
        self._client = client
        self._deadline = deadline

    def _err(self, exc: Exception) -> str:
        return _short(exc, self._client.api_key)

    async def complete(self, request: ChatRequest) -> ChatResponse:
        key = self._client.api_key
        try:
            async with asyncio.timeout(self._deadline):
                resp = await self._client.chat.completions.create(**request.body())
        except TimeoutError as exc:
            raise TransientError("timeout") from exc
        except openai.APIStatusError as exc:
            if request.mode == "json_schema" and (
                exc.status_code in (400, 422) or "json_schema" in str(exc) or "response_format" in str(exc)
            ):
                raise StructuredOutputUnsupported(self._err(exc)) from exc
            if exc.status_code == 429 or exc.status_code >= 500:
                raise TransientError(f"HTTP {exc.status_code}", _retry_after(exc)) from exc
            raise LLMError(f"the endpoint answered HTTP {exc.status_code}: {self._err(exc)}") from exc
        except openai.APITimeoutError as exc:
            raise TransientError("timeout") from exc
        except openai.APIConnectionError as exc:
            raise TransientError(f"connection failed ({self._err(exc)})") from exc
        except openai.OpenAIError as exc:
            raise LLMError(self._err(exc)) from exc
        except UnicodeEncodeError as exc:  # before ValueError: a key or header the HTTP layer cannot send
            raise LLMError("the API key or a header holds non-ASCII characters, which HTTP cannot send") from exc
        except ValueError as exc:  # the SDK lets a body that is not JSON through as json.JSONDecodeError
            raise TransientError(f"the endpoint's reply is not JSON ({self._err(exc)})") from exc
        if isinstance(resp, str):  # the SDK hands back the raw text of a reply that is not JSON (an HTML page)
            raise TransientError(f"the endpoint's reply is not JSON ({scrub(' '.join(resp.split()), key)[:80]!r})")
        try:
            if not resp.choices:
                raise LLMError("the endpoint returned no choices")
            choice = resp.choices[0]
            usage = resp.usage
            content = choice.message.content or ""
            refusal = getattr(choice.message, "refusal", None)
            finish = str(choice.finish_reason)
            prompt_tokens = usage.prompt_tokens if usage else None
            completion_tokens = usage.completion_tokens if usage else None
        except (AttributeError, TypeError, IndexError) as exc:  # JSON, but not a chat completion
            raise LLMError(f"the endpoint's reply is not a chat completion ({type(exc).__name__})") from exc
        if not isinstance(content, str) or not isinstance(refusal, str | None):
            raise LLMError("the endpoint's reply is not a chat completion (content is not text)")
        if len(content) > MAX_CONTENT:
            raise LLMError(f"the reply is {len(content)} characters long (more than {MAX_CONTENT}); not used")
        return ChatResponse(
            content=scrub(content, key),
            finish_reason=scrub(finish, key)[:40],
            prompt_tokens=prompt_tokens if isinstance(prompt_tokens, int) else None,
            completion_tokens=completion_tokens if isinstance(completion_tokens, int) else None,
            refusal=scrub(refusal, key)[:MAX_CONTENT] if refusal else None,
        )

    async def close(self) -> None:
        await self._client.close()


FAKE_KEY = "sk-feedback-no-key"  # local servers need no key, but the SDK insists on one


def check_endpoint(settings: Settings) -> None:
    """A base URL the HTTP layer cannot use, or a key it cannot send, as a one-line :class:`ConfigError`."""
    url = settings.base_url
    if url is not None:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
        except ValueError as exc:
            raise ConfigError(f"invalid base_url {url!r}: {exc}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"invalid base_url {url!r}: expected http(s)://host[:port]/path")
    if settings.api_key is not None and not settings.api_key.isascii():
        raise ConfigError("OPENAI_API_KEY holds non-ASCII characters, which HTTP cannot send")


def _sdk_args(settings: Settings) -> dict[str, Any]:
    """Key, base URL and timeout: the same for the chat and the Batch API clients."""
    check_endpoint(settings)
    return {"api_key": settings.api_key or FAKE_KEY, "base_url": settings.base_url, "timeout": settings.timeout}


def make_client(settings: Settings) -> ChatClient:
    """The single client factory."""
    return OpenAIChatClient(openai.AsyncOpenAI(**_sdk_args(settings), max_retries=0), deadline=call_deadline(settings))


def call_deadline(settings: Settings) -> float:
    """Seconds a whole call may take: ``timeout`` bounds each wait for bytes, this bounds their sum (a server that
    drips one byte a second); generous enough that a reply arriving steadily is never cut off."""
    return 2 * settings.timeout + 1


class BatchClient(Protocol):
    """Files and batches of the OpenAI Batch API, as :mod:`feedback.course.batch_api` uses them."""

    def upload(self, name: str, data: bytes) -> str: ...

    def create_batch(self, file_id: str, endpoint: str, window: str, metadata: dict[str, str]) -> dict[str, Any]: ...

    def retrieve_batch(self, batch_id: str) -> dict[str, Any]: ...

    def download(self, file_id: str) -> bytes: ...


@contextmanager
def _batch_errors(what: str, secret: str | None) -> Iterator[None]:
    try:
        yield
    except openai.APIStatusError as exc:
        raise LLMError(f"Batch API: {what} failed, HTTP {exc.status_code}: {_short(exc, secret)}") from exc
    except openai.OpenAIError as exc:
        raise LLMError(f"Batch API: {what} failed ({_short(exc, secret)})") from exc


class OpenAIBatchClient:
    """:class:`BatchClient` over the synchronous ``openai.OpenAI`` (a few SDK retries: these calls are cheap)."""

    def __init__(self, client: openai.OpenAI) -> None:
        self._client = client

    def upload(self, name: str, data: bytes) -> str:
        with _batch_errors(f"uploading {name}", self._client.api_key):
            return self._client.files.create(file=(name, data), purpose="batch").id

    def create_batch(self, file_id: str, endpoint: str, window: str, metadata: dict[str, str]) -> dict[str, Any]:
        with _batch_errors(f"creating the batch for {file_id}", self._client.api_key):
            batch = self._client.batches.create(
                input_file_id=file_id,
                endpoint=endpoint,  # type: ignore[arg-type]
                completion_window=window,  # type: ignore[arg-type]
                metadata=metadata,
            )
            return batch.model_dump()

    def retrieve_batch(self, batch_id: str) -> dict[str, Any]:
        with _batch_errors(f"reading batch {batch_id}", self._client.api_key):
            return self._client.batches.retrieve(batch_id).model_dump()

    def download(self, file_id: str) -> bytes:
        with _batch_errors(f"downloading {file_id}", self._client.api_key):
            return self._client.files.content(file_id).content


def make_batch_client(settings: Settings) -> BatchClient:
    """The Batch API client, built from the same settings (key, base URL, timeout) as the chat client."""
    return OpenAIBatchClient(openai.OpenAI(**_sdk_args(settings), max_retries=2))
