"""Reporters: one module per output format. Each turns a `Result` into text; none judges."""
from __future__ import annotations

import importlib

FORMATS = ("text", "grouped", "json", "sarif", "github", "junit", "gitlab")


def render(fmt: str, result, **options) -> str:  # noqa: ANN001 - Result, imported lazily
    """The report in `fmt`. Only the module of the chosen format is imported."""
    module = importlib.import_module(f".{fmt}_report" if fmt == "json" else f".{fmt}", __name__)
    return module.render(result, **options)
