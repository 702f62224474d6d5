"""Settings for the LLM stage, from (highest first) command-line flags, the environment, and the user's own config.

The user's file is ``~/.config/feedback/config.toml`` (``$XDG_CONFIG_HOME`` honoured; see :mod:`feedback.config`).
A project file (``feedback.toml``, ``[tool.feedback]`` in ``pyproject.toml``) is never read here: it belongs to the
repository being checked, and must not move the key to another endpoint, pick the model or change the limits.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from feedback.config import LoadedConfig, load_config
from feedback.errors import ConfigError
from feedback.user_cache import cache_home

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_ENDPOINT = "https://api.openai.com/v1"  # the OpenAI SDK's default when no base_url is set
ENABLE_HINT = (
    "skipped: no endpoint configured; set OPENAI_API_KEY (or OPENAI_BASE_URL for a local "
    "OpenAI-compatible server) to enable it"
)

# USD per million tokens (input, output); unknown models fall back to the default model's price.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
}


def default_cache_dir() -> Path:
    env = os.environ.get("FEEDBACK_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    # without a home directory, Path.home() says why (the LLM response cache has nowhere else to go)
    return cache_home() or Path.home() / ".cache" / "feedback"


class Settings(BaseModel):
    """Everything the LLM stage reads; one immutable object passed down from the CLI (or the batch runner)."""

    # strict: a file's "8" is not a number, true is not a model name; inf is not a timeout or a budget
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    api_key: str | None = Field(default=None, repr=False)
    base_url: str | None = None
    model: str = Field(default=DEFAULT_MODEL, min_length=1, max_length=200)
    concurrency: int = Field(default=8, ge=1, le=256)
    max_cost: float | None = Field(default=None, ge=0)
    use_cache: bool = True
    cache_dir: Path = Field(default_factory=default_cache_dir)
    log_file: Path | None = None  # default: <cache_dir>/exchanges.jsonl
    timeout: float = Field(default=60.0, gt=0)
    retries: int = Field(default=4, ge=0, le=10)
    backoff: float = Field(default=0.5, ge=0)  # first retry delay in seconds, doubled each time
    seed: int = 1234
    max_output_tokens: int = Field(default=1200, ge=64)
    structured: Literal["auto", "json_schema", "json_object"] = "auto"
    price_input: float | None = Field(default=None, ge=0)  # USD per million tokens; None: from PRICES
    price_output: float | None = Field(default=None, ge=0)

    @field_validator("model")
    @classmethod
    def _model_name(cls, v: str) -> str:
        if not v.strip() or any(c.isspace() or not c.isprintable() for c in v):
            raise ValueError("must be a model name without spaces or control characters")
        return v

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            parts = urlsplit(v)
            port = parts.port  # raises on a port out of range or a malformed host
        except ValueError as exc:
            raise ValueError(f"{v!r} is not a valid URL ({exc})") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{v!r} is not an http(s) URL with a host")
        del port
        return v

    @property
    def endpoint(self) -> str:
        """The endpoint requests go to, normalised; part of the cache key (two servers may share a model name)."""
        return (self.base_url or DEFAULT_ENDPOINT).rstrip("/")

    @property
    def endpoint_host(self) -> str:
        """The endpoint's host (and port), printed with the model so a user sees where the key is sent."""
        parts = urlsplit(self.endpoint)
        return parts.netloc.rpartition("@")[2] or self.endpoint

    @property
    def endpoint_configured(self) -> bool:
        return bool(self.api_key or self.base_url)

    @property
    def exchange_log(self) -> Path:
        return self.log_file or self.cache_dir / "exchanges.jsonl"

    @property
    def prices(self) -> tuple[float, float]:
        default_in, default_out = PRICES.get(self.model, PRICES[DEFAULT_MODEL])
        return (
            self.price_input if self.price_input is not None else default_in,
            self.price_output if self.price_output is not None else default_out,
        )

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        p_in, p_out = self.prices
        return (prompt_tokens * p_in + completion_tokens * p_out) / 1_000_000


def _from_env() -> dict[str, Any]:
    env = os.environ
    out: dict[str, Any] = {}
    if env.get("OPENAI_API_KEY"):
        out["api_key"] = env["OPENAI_API_KEY"]
    if env.get("OPENAI_BASE_URL"):
        out["base_url"] = env["OPENAI_BASE_URL"]
    if env.get("FEEDBACK_MODEL"):
        out["model"] = env["FEEDBACK_MODEL"]
    if env.get("FEEDBACK_CACHE_DIR"):
        out["cache_dir"] = Path(env["FEEDBACK_CACHE_DIR"]).expanduser()
    return out


def load_settings(
    overrides: dict[str, Any] | None = None, start: Path | None = None, config: LoadedConfig | None = None
) -> Settings:
    """Merge defaults < the user's config file < environment < ``overrides`` (flags; None values are ignored).

    ``config`` is what :func:`feedback.config.load_config` read (looked up from ``start`` when not given); only its
    user-file part is used here.
    """
    if config is None:
        config = load_config(start)
    env = _from_env()
    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    merged: dict[str, Any] = {**config.llm, **env, **flags}
    from_file = config.llm.keys() - env.keys() - flags.keys()
    key = merged.get("api_key")
    if isinstance(key, str) and not key.isascii():
        raise ConfigError("OPENAI_API_KEY holds non-ASCII characters, which HTTP cannot send")
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "settings"
        msg, value = err["msg"].removeprefix("Value error, "), err.get("input")
        shown = isinstance(value, str | int | float | bool) and where != "api_key" and repr(value) not in msg
        source = f"{config.llm_source}: " if config.llm_source is not None and where in from_file else ""
        raise ConfigError(f"{source}invalid {where}: {msg}{f' (got {value!r})' if shown else ''}") from None
