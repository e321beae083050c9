"""Rule logic: pure functions from facts and policy to findings, one module per family.

A check never opens a file and never asks which surface a fact came from.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from ..findings import Finding
from ..policy import Policy
from ..project import Project


@dataclass(frozen=True)
class Check:
    rules: tuple[str, ...]  # the rule ids it may report
    run: Callable[[Project, Policy], Iterable[Finding]]


def all_checks() -> tuple[Check, ...]:
    from . import versions

    return (*versions.CHECKS,)
