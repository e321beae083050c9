"""Rule logic: pure functions from facts and policy to findings, one module per family.

A check never opens a file and never asks which surface a fact came from. Each family module
exposes `CHECKS: tuple[Check, ...]`; add its name to `FAMILIES` to register it.
"""
from __future__ import annotations

import importlib
from typing import Callable, Iterable

from ..findings import Finding
from ..policy import Policy
from ..project import Project
from ..records import Frozen, record

FAMILIES: tuple[str, ...] = (
    "versions",
    "coherence",
    "resources",
    "tokens",
    "models",
    "images",
    "inputs",
    "cuda_cache",
    "observability",
    "alerts",
    "vectordb",
    "resilience",
)


@record(slots=False)
class Check(Frozen):
    rules: tuple[str, ...]  # the rule ids it may report
    run: Callable[[Project, Policy], Iterable[Finding]]


def all_checks() -> tuple[Check, ...]:
    checks: list[Check] = []
    for family in FAMILIES:
        checks.extend(importlib.import_module(f".{family}", __name__).CHECKS)
    return tuple(checks)
