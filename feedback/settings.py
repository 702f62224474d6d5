"""Settings for the LLM stage, from (highest first) command-line flags, the environment, and a config file.

Config files: ``feedback.toml`` (top-level keys, or a ``[tool.feedback]`` table) or ``[tool.feedback]`` in a
``pyproject.toml``, looked up from the working directory upwards; the first file found wins. The API key is read
from the environment only, never from a file that might be committed.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from feedback.errors import ConfigError

DEFAULT_MODEL = "gpt-4o-mini"
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
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "feedback"


class Settings(BaseModel):
    """Everything the LLM stage reads; one immutable object passed down from the CLI (or the batch runner)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_key: str | None = Field(default=None, repr=False)
    base_url: str | None = None
    model: str = DEFAULT_MODEL
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
    price_input: float | None = None  # USD per million tokens; None: from PRICES
    price_output: float | None = None

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


FILE_KEYS = {
    "base_url",
    "model",
    "concurrency",
    "max_cost",
    "use_cache",
    "cache_dir",
    "log_file",
    "timeout",
    "retries",
    "backoff",
    "seed",
    "max_output_tokens",
    "structured",
    "price_input",
    "price_output",
}


def find_config(start: Path | None = None) -> tuple[Path, dict[str, Any]] | None:
    """The first feedback.toml or pyproject.toml with a [tool.feedback] table, from ``start`` upwards."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        for name in ("feedback.toml", "pyproject.toml"):
            path = d / name
            if not path.is_file():
                continue
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"{path}: cannot read config ({exc})") from exc
            table = data.get("tool", {}).get("feedback")
            if table is None and name == "feedback.toml":
                table = {k: v for k, v in data.items() if k != "tool"}
            if isinstance(table, dict):
                return path, table
    return None


def _from_file(start: Path | None) -> dict[str, Any]:
    found = find_config(start)
    if found is None:
        return {}
    path, table = found
    # [tool.feedback] may carry settings of other stages; only the LLM keys are read here, but a key that
    # must never live in a file is refused loudly.
    if "api_key" in table:
        raise ConfigError(f"{path}: api_key must not be stored in a file; set OPENAI_API_KEY instead")
    out = {k: v for k, v in table.items() if k in FILE_KEYS}
    for key in ("cache_dir", "log_file"):
        if key in out:
            out[key] = (path.parent / str(out[key])).expanduser()
    return out


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


def load_settings(overrides: dict[str, Any] | None = None, start: Path | None = None) -> Settings:
    """Merge defaults < config file < environment < ``overrides`` (flags; None values are ignored)."""
    merged: dict[str, Any] = {}
    merged.update(_from_file(start))
    merged.update(_from_env())
    merged.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return Settings(**merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "settings"
        raise ConfigError(f"invalid setting {where}: {err['msg']}") from None
