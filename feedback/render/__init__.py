"""Renderers in a registry: ``--format NAME`` looks the name up here; each renderer is one small module."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from feedback.errors import UsageError

if TYPE_CHECKING:
    from feedback.pipeline import Result

Renderer = Callable[[Sequence["Result"]], str]
RENDERERS: dict[str, Renderer] = {}
MODULES = ("text", "json", "markdown", "html", "csv", "concise", "github", "sarif")


def renderer(name: str) -> Callable[[Renderer], Renderer]:
    def deco(func: Renderer) -> Renderer:
        RENDERERS[name] = func
        return func

    return deco


def get(name: str) -> Renderer:
    """The renderer of one format; only its module is imported (``--format json`` needs no template engine)."""
    if name not in RENDERERS and name in MODULES:
        importlib.import_module(f"feedback.render.{name}")
    if name not in RENDERERS:
        names()  # a renderer registered under another name than its module's
    try:
        return RENDERERS[name]
    except KeyError:
        raise UsageError(f"unknown format {name!r}; choose from {', '.join(sorted(RENDERERS))}") from None


def names() -> list[str]:
    for mod in MODULES:
        importlib.import_module(f"feedback.render.{mod}")
    return sorted(RENDERERS)
