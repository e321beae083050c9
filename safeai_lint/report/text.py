"""The default human format: one `path:line:col: level SAIxxx message [name]` line per finding
(editors and terminals turn it into a link), the source excerpt under it, and the rule's doc
link. `[*]` marks a finding `--fix` fixes. The grouped layout is `--format grouped`."""
from __future__ import annotations

from .textparts import clean, excerpt, paint, rule_names, statistics_lines, summary


def render(result, *, color: bool = False, quiet: bool = False, statistics: bool = False, fixable=frozenset(), **_options) -> str:  # noqa: ANN001
    out: list[str] = []
    if statistics:
        out += statistics_lines(result, fixable, color)
    else:
        names = rule_names(result)
        for f in result.findings:
            loc = f.location
            head = paint(f"{clean(loc.path)}:{loc.line}:{loc.column}:", "bold", color)
            mark = " [*]" if f in fixable else ""
            name = f" [{names[f.rule]}]" if names.get(f.rule) else ""
            out.append(f"{head} {paint(f.level, f.level, color)} {paint(f.rule, 'bold', color)}{mark} {clean(f.message)}{name}")
            out += excerpt(f, " ", color)
            out.append("")
    if not quiet:
        out.append(paint(summary(result, fixable), "bold", color))
    return "\n".join(out) + ("\n" if out else "")
