"""Deterministic checks: a registry of small rules, one module per rule family."""

from __future__ import annotations

import importlib

from feedback.checks.registry import RULES, Context, Hit, Rule, all_rules, rule

FAMILIES = ("structure", "answers", "examples", "images", "leftovers", "checklist", "template", "security")


def load_rules() -> None:
    for family in FAMILIES:
        importlib.import_module(f"feedback.checks.{family}")


__all__ = ["RULES", "Context", "Hit", "Rule", "all_rules", "load_rules", "rule"]
