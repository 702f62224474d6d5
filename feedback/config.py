"""Config files and the trust boundary between them (standard library only: ``check`` reads this on every run).

Two kinds of file, like ruff's project and user configuration:

- **project files**: ``feedback.toml`` (top-level keys or a ``[tool.feedback]`` table) or ``[tool.feedback]`` in a
  ``pyproject.toml``, the first found from the working directory upwards. They belong to whoever owns the
  repository, e.g. a student whose report a TA checks, so they may set **report options only** (``select``,
  ``ignore``, ``template``, ``format``, ``exit-zero``). An LLM key there (endpoint, model, limits, prices, cache or
  log location) is ignored with a warning naming it: a student's repository must never move the TA's API key to
  another server, pick the model or spend the budget.
- **the user's own file**: ``$XDG_CONFIG_HOME/feedback/config.toml`` (default ``~/.config/feedback/config.toml``),
  which may set everything, the LLM settings included.

Keys may be written with ``-`` or ``_``. An unknown key is an error naming the closest known key; every value is
checked here, with a one-line error naming the file and the key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

from feedback.console import eprint
from feedback.errors import ConfigError

REPORT_KEYS = ("select", "ignore", "template", "format", "exit-zero")
# Settings read by the LLM stage (feedback.settings.Settings): from flags, the environment and the user's file only.
LLM_KEYS = (
    "api_key",
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
)
_CANONICAL = {k.replace("-", "_"): k for k in (*REPORT_KEYS, *LLM_KEYS)}


def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "feedback" / "config.toml"


class ReportConfig(NamedTuple):
    """Report options from a config file; ``None``/empty means "not set" (the flag or the default applies)."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    template: Path | None = None
    format: str | None = None
    exit_zero: bool | None = None
    source: Path | None = None  # the file they came from, named in errors about a value

    def merged_over(self, base: ReportConfig) -> ReportConfig:
        """These options, falling back to ``base``'s for the ones not set here."""
        return ReportConfig(
            select=self.select or base.select,
            ignore=self.ignore or base.ignore,
            template=self.template or base.template,
            format=self.format or base.format,
            exit_zero=self.exit_zero if self.exit_zero is not None else base.exit_zero,
            source=self.source or base.source,
        )


class LoadedConfig(NamedTuple):
    report: ReportConfig
    llm: dict[str, Any]  # raw LLM values from the user's file, checked by Settings
    warnings: tuple[str, ...]
    llm_source: Path | None  # the user's file, named in an error about one of its LLM values


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # only when there is a file: most checks run with none

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config ({exc})") from exc


def find_project_config(start: Path | None = None) -> tuple[Path, dict[str, Any]] | None:
    """The first ``feedback.toml`` or ``pyproject.toml`` with a ``[tool.feedback]`` table, from ``start`` upwards."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        for name in ("feedback.toml", "pyproject.toml"):
            path = d / name
            if not path.is_file():
                continue
            data = _read_toml(path)
            tool = data.get("tool")
            table = tool.get("feedback") if isinstance(tool, dict) else None
            if table is None and name == "feedback.toml":
                table = {k: v for k, v in data.items() if k != "tool"}
            if table is None:
                continue
            if not isinstance(table, dict):
                raise ConfigError(f"{path}: [tool.feedback] must be a table")
            return path, table
    return None


def _canonical(path: Path, key: str) -> str:
    norm = key.replace("-", "_")
    if norm in _CANONICAL:
        return _CANONICAL[norm]
    import difflib

    close = difflib.get_close_matches(norm, list(_CANONICAL), n=1, cutoff=0.6)
    hint = f"; did you mean {_CANONICAL[close[0]]!r}?" if close else f"; known keys: {', '.join(REPORT_KEYS)}"
    raise ConfigError(f"{path}: unknown key {key!r}{hint}")


def _codes(path: Path, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = [part for v in value for part in v.split(",")]
    else:
        raise ConfigError(f'{path}: {key} must be a list of codes or check names, e.g. ["FB4", "too-long"]')
    return tuple(s.strip() for s in items if s.strip())


def _report_options(path: Path, values: dict[str, Any]) -> ReportConfig:
    select = _codes(path, "select", values["select"]) if "select" in values else ()
    ignore = _codes(path, "ignore", values["ignore"]) if "ignore" in values else ()
    template = None
    if "template" in values:
        raw = values["template"]
        if not isinstance(raw, str) or not raw.strip():
            raise ConfigError(f"{path}: template must be the path of a blank template (a non-empty string)")
        template = path.parent / Path(raw).expanduser()  # relative to the file that names it
    fmt = None
    if "format" in values:
        fmt = values["format"]
        if not isinstance(fmt, str) or not fmt.strip():
            raise ConfigError(f'{path}: format must be a format name such as "concise" (a string)')
    exit_zero = None
    if "exit-zero" in values:
        exit_zero = values["exit-zero"]
        if not isinstance(exit_zero, bool):
            raise ConfigError(f"{path}: exit-zero must be true or false, not {exit_zero!r}")
    return ReportConfig(select, ignore, template, fmt, exit_zero, path)


def _split(path: Path, table: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(report options, LLM settings) of one file's table, keys canonical; unknown keys are an error."""
    report: dict[str, Any] = {}
    llm: dict[str, Any] = {}
    for key, value in table.items():
        name = _canonical(path, key)
        (report if name in REPORT_KEYS else llm)[name] = value
    return report, llm


def load_config(start: Path | None = None, *, user_file: Path | None = None) -> LoadedConfig:
    """The project file's report options over the user file's, and the user file's LLM settings."""
    warnings: list[str] = []
    user_path = user_file or user_config_path()
    user_report, user_llm = ReportConfig(), dict[str, Any]()
    if user_path.is_file():
        table = _read_toml(user_path)
        tool = table.get("tool")
        if isinstance(tool, dict) and isinstance(tool.get("feedback"), dict):
            table = tool["feedback"]
        values, user_llm = _split(user_path, table)
        user_report = _report_options(user_path, values)
        for key in ("cache_dir", "log_file"):
            if key not in user_llm:
                continue
            if not isinstance(user_llm[key], str) or not user_llm[key].strip():
                raise ConfigError(f"{user_path}: {key} must be a path (a non-empty string), not {user_llm[key]!r}")
            user_llm[key] = (user_path.parent / user_llm[key]).expanduser()
    report = user_report
    found = find_project_config(start)
    if found is not None:
        path, table = found
        values, refused = _split(path, table)
        if refused:
            # a warning, not an error: a TA must still be able to check a report in a repository that carries one
            warnings.append(
                f"{path}: ignoring {', '.join(sorted(refused))}: a project file may set only "
                f"{', '.join(REPORT_KEYS)}; set LLM options with flags, the environment or {user_config_path()}"
            )
        report = _report_options(path, values).merged_over(user_report)
    return LoadedConfig(report, user_llm, tuple(warnings), user_path if user_llm else None)


def warn(warnings: tuple[str, ...]) -> None:
    for line in warnings:
        eprint(f"feedback: warning: {line}")
