"""The grouped human format (`--format grouped`): findings under their file, each with its
source line, a caret and the rule's doc link."""
from __future__ import annotations

from itertools import groupby

from .textparts import clean, excerpt, paint, rule_names, statistics_lines, summary


def render(result, *, color: bool = False, quiet: bool = False, statistics: bool = False, fixable=frozenset(), **_options) -> str:  # noqa: ANN001
    names = rule_names(result)
    out: list[str] = []
    if statistics:
        out += statistics_lines(result, fixable, color)
    else:
        for path, group in groupby(result.findings, key=lambda f: f.location.path):
            out.append(paint(clean(path), "underline", color))
            for f in group:
                loc = f.location
                mark = " [*]" if f in fixable else ""
                out.append(
                    paint(f"  {loc.line}:{loc.column}", "dim", color)
                    + f"  {paint(f'{f.level:<7}', f.level, color)}  {paint(f.rule, 'bold', color)}{mark}  {clean(f.message)}  "
                    + paint(f"[{names.get(f.rule, '')}]", "dim", color)
                )
                out += excerpt(f, "    ", color)
            out.append("")
    if not quiet:
        out.append(paint(summary(result, fixable), "bold", color))
    return "\n".join(out) + ("\n" if out else "")
