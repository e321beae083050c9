"""Errors the CLI turns into a one-line message and exit status 2 (no heavy imports here:
`--version` must stay fast)."""
from __future__ import annotations

from typing import Any, Callable, Iterable


class ConfigError(Exception):
    """A configuration we cannot use."""


def collect(items: Iterable[Any], check: Callable[[Any], Any]) -> list[Any]:
    """`check` of every item; the ConfigErrors of all items are raised together, one line
    each, so a config with several mistakes is fixed in one go."""
    out, problems = [], []
    for item in items:
        try:
            out.append(check(item))
        except ConfigError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError("\n".join(problems))
    return out
