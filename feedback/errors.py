"""One exception hierarchy; every subclass carries a message fit to show a user on one line."""

from __future__ import annotations


class FeedbackError(Exception):
    """Base class: anything the CLI reports as a one-line error with exit code 2."""


class InputError(FeedbackError):
    """A report or option file that cannot be read or decoded."""


class WriteError(FeedbackError):
    """An output file or folder that cannot be written (read-only, a file in the way, a name too long)."""


class UsageError(FeedbackError):
    """Bad command-line usage: unknown codes, incompatible options."""


class ConfigError(FeedbackError):
    """Invalid settings in feedback.toml / [tool.feedback] / environment."""


class LLMError(FeedbackError):
    """The LLM stage failed for a question; the deterministic findings are still produced."""


class LLMOutputTruncated(LLMError):
    """The model stopped because it hit the token limit (finish_reason == "length")."""


class LLMOutputInvalid(LLMError):
    """The model's output did not validate against the response schema, even after the re-ask."""


class LLMRefusal(LLMError):
    """The model refused to answer."""


class TransientError(LLMError):
    """429, 5xx, a timeout or a dropped connection: worth retrying after a pause."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StructuredOutputUnsupported(LLMError):
    """The server rejected ``response_format: json_schema``; the caller falls back to JSON mode."""
