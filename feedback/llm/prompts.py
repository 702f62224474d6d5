"""Prompt files: jinja2 templates in ``prompts/`` with ``id`` and ``version`` in a ``---`` front matter block."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from feedback.errors import ConfigError

# Installed: the wheel carries prompts/ inside the package (pyproject's force-include). From a source checkout or an
# editable install: the top-level prompts/ folder, the one people edit.
PACKAGED_DIR = Path(__file__).resolve().parents[1] / "prompts"
SOURCE_DIR = Path(__file__).resolve().parents[2] / "prompts"
SYSTEM = "review_system.j2"
QUESTION = "question_review.j2"
REPORT_SYSTEM = "report_system.j2"
REPORT = "report_review.j2"


@dataclass(frozen=True, slots=True)
class PromptFile:
    id: str
    version: str
    source: str  # the template body, front matter removed
    template: jinja2.Template

    def render(self, **values: Any) -> str:
        return self.template.render(**values).strip() + "\n"


def _split_front_matter(path: Path, text: str) -> tuple[dict[str, str], str]:
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise ConfigError(f"{path}: a prompt file starts with a '---' front matter block (id, version)")
    meta: dict[str, str] = {}
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return meta, "".join(lines[i + 1 :])
        key, _, value = line.partition(":")
        meta[key.strip()] = value.strip()
    raise ConfigError(f"{path}: front matter block is not closed with '---'")


def prompts_dir() -> Path:
    """``$FEEDBACK_PROMPTS_DIR``, else the prompts shipped in the package, else the source checkout's."""
    env = os.environ.get("FEEDBACK_PROMPTS_DIR")
    if env:
        return Path(env)
    return PACKAGED_DIR if PACKAGED_DIR.is_dir() else SOURCE_DIR


def load(name: str, directory: Path | None = None) -> PromptFile:
    base = directory or prompts_dir()
    path = base / name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read prompt file ({exc.strerror or exc})") from exc
    meta, body = _split_front_matter(path, text)
    if not meta.get("id") or not meta.get("version"):
        raise ConfigError(f"{path}: front matter needs 'id' and 'version'")
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    return PromptFile(meta["id"], meta["version"], body, env.from_string(body))


@dataclass(frozen=True, slots=True)
class PromptSet:
    system: PromptFile
    question: PromptFile
    report_system: PromptFile  # the report-level pass
    report: PromptFile

    @property
    def id(self) -> str:
        return self.question.id

    def files(self) -> tuple[PromptFile, ...]:
        return (self.system, self.question, self.report_system, self.report)

    @property
    def version(self) -> str:
        """``<versions>+<hash of every source>``: any edit to a prompt changes it, and so the cache key."""
        digest = hashlib.sha256("\0".join(f.source for f in self.files()).encode("utf-8")).hexdigest()
        return ".".join(f.version for f in self.files()) + f"+{digest[:10]}"

    def for_kind(self, kind: str) -> tuple[PromptFile, PromptFile]:
        """(system, user) prompt files of a per-question call (``"question"``) or the report-level pass."""
        return (self.report_system, self.report) if kind == "report" else (self.system, self.question)


def load_prompts(directory: Path | None = None) -> PromptSet:
    return PromptSet(
        load(SYSTEM, directory), load(QUESTION, directory), load(REPORT_SYSTEM, directory), load(REPORT, directory)
    )
