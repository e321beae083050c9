"""Annotations within GitHub's limits: per step GitHub shows at most 10 error, 10 warning and
10 notice annotations (and 50 per job); anything printed beyond that is dropped without a
word. So the findings on lines the pull request changed go first, each level stops at its
limit, and a last notice says how many findings were not annotated."""
from __future__ import annotations

from ..report.github import command
from .sarif_items import Item

PER_LEVEL = 10  # GitHub: per step, per annotation level
_KIND = {"error": "error", "warning": "warning", "note": "notice"}


def annotations(ordered_items: list[Item], per_level: int = PER_LEVEL) -> tuple[list[str], int]:
    """Workflow commands for the first `per_level` findings of each level, in the given
    order, and how many findings were left out. The closing notice takes one notice slot."""
    shown: dict[str, int] = {}
    lines: list[str] = []
    left_out = 0
    budget = {"error": per_level, "warning": per_level, "notice": per_level - 1}
    for item in ordered_items:
        kind = _KIND[item.level]
        if shown.get(kind, 0) >= budget[kind]:
            left_out += 1
            continue
        shown[kind] = shown.get(kind, 0) + 1
        title = f"{item.rule} {item.name}".strip()
        lines.append(command(item.level, item.path, item.line, item.column, item.end_line, item.end_column, title, item.message))
    if left_out:
        lines.append(
            f"::notice title=safeai-lint::{left_out} more finding(s) not annotated "
            f"(GitHub shows {per_level} errors, {per_level} warnings and {per_level} notices per step); "
            "see the job summary, the log or code scanning"
        )
    return lines, left_out
