"""The package's layers: a module imports only from its own layer or the ones below it, never back up.

    0  errors, findings, console, report, verdicts, config, settings, regex_cache, hashing, user_cache
       (shared models, settings, start-up helpers)
    1  checks, consistency                                                (the deterministic stages)
    2  pipeline, the package root                                         (one report through the stages)
    3  llm, render                                                        (the model; output formats)
    4  course                                                             (many reports: runner, Batch API, pages)
    5  cli, entry, __main__                                               (the command line)

Imports inside functions count too: a lazy import back up is still a dependency back up.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "feedback"
LAYERS = {
    **dict.fromkeys(
        (
            "errors",
            "findings",
            "console",
            "report",
            "verdicts",
            "config",
            "settings",
            "regex_cache",
            "hashing",
            "user_cache",
        ),
        0,
    ),
    **dict.fromkeys(("checks", "consistency"), 1),
    **dict.fromkeys(("pipeline", ""), 2),
    **dict.fromkeys(("llm", "render"), 3),
    "course": 4,
    **dict.fromkeys(("cli", "entry", "__main__"), 5),
}


def _part(module: str) -> str:
    """The top-level part of a feedback module name: 'feedback.llm.review' -> 'llm', 'feedback' -> ''."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "feedback":
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "feedback")
    return found


def test_every_module_has_a_layer() -> None:
    for path in PACKAGE.rglob("*.py"):
        part = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        assert (part if part != "__init__" else "") in LAYERS, f"{path}: add its folder to LAYERS"


def test_no_import_goes_back_up() -> None:
    violations = []
    for path in sorted(PACKAGE.rglob("*.py")):
        part = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        own = LAYERS[part if part != "__init__" else ""]
        for module in _imports(path):
            if LAYERS[_part(module)] > own:
                violations.append(f"{path.relative_to(PACKAGE.parent)} imports {module}")
    assert violations == []


def test_only_llm_imports_openai() -> None:
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).parts[0] == "llm":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not any(n.split(".")[0] == "openai" for n in names), path
