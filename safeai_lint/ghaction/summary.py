"""The job summary (Markdown for $GITHUB_STEP_SUMMARY): counts by level and rule with each
rule's doc page, how many findings `--fix` fixes, and the findings themselves — those on lines
the pull request changed first. GitHub caps a step's summary at 1 MiB, so the tables stop at
`MAX_ROWS` findings and say so."""
from __future__ import annotations

import re
from collections import Counter

from .sarif_items import LEVEL_ORDER, Item, on_changed

MAX_ROWS = 300
_UNSAFE = re.compile(r"[|<>\\\r\n]")


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell (no column breaks, no HTML)."""
    return _UNSAFE.sub(lambda m: {"|": "\\|", "<": "&lt;", ">": "&gt;", "\\": "\\\\"}.get(m.group(), " "), text)


def _counts(found: list[Item]) -> str:
    levels = Counter(i.level for i in found)
    return ", ".join(f"{levels[lv]} {lv}{'s' if levels[lv] != 1 else ''}" for lv in LEVEL_ORDER if levels[lv])


def _rule_table(found: list[Item]) -> list[str]:
    rows = ["| Rule | Level | Findings | Fixable with `--fix` |", "|---|---|---:|---:|"]
    by_rule = Counter((i.rule, i.level) for i in found)
    fixable = Counter((i.rule, i.level) for i in found if i.fixable)
    first = {}
    for i in found:
        first.setdefault(i.rule, i)
    for (rule, level), n in sorted(by_rule.items(), key=lambda kv: (LEVEL_ORDER[kv[0][1]], -kv[1], kv[0][0])):
        head = first[rule]
        link = f"[{rule}]({head.help_uri})" if head.help_uri.startswith("https://") else rule
        rows.append(f"| {link} {_cell(head.name)} | {level} | {n} | {fixable[(rule, level)] or ''} |")
    return rows


def _finding_rows(chosen: list[Item]) -> list[str]:
    rows = ["| Level | Location | Rule | Message |", "|---|---|---|---|"]
    for i in chosen:
        mark = " [*]" if i.fixable else ""
        rows.append(f"| {i.level} | `{_cell(i.path)}:{i.line}:{i.column}` | {i.rule}{mark} | {_cell(i.message)} |")
    return rows


def render(found: list[Item], *, changed: dict[str, set[int]] | None, exit_code: int, not_annotated: int, notes: list[str] = ()) -> str:  # noqa: C901
    """The summary for `found` (already ordered: changed lines first)."""
    out = ["## safeai-lint", ""]
    if exit_code == 2:
        out += ["The scan failed (exit status 2): see the step's log.", ""]
    if not found:
        out += ["No findings." if exit_code != 2 else "", ""]
        out += list(notes)
        return "\n".join(out).rstrip() + "\n"
    fixes = sum(1 for i in found if i.fixable)
    gate = "fails the job" if exit_code == 1 else "does not fail the job"
    out += [f"**{len(found)} finding(s)** ({_counts(found)}); the scan {gate} (exit status {exit_code}).", ""]
    if fixes:
        out += [f"{fixes} of them can be fixed with `safeai-lint check --fix` (marked [*]).", ""]
    out += _rule_table(found) + [""]
    on_pr = [i for i in found if on_changed(i, changed)]
    rest = [i for i in found if not on_changed(i, changed)]
    room = MAX_ROWS
    if changed is not None:
        out += [f"### On lines this change touched ({len(on_pr)})", ""]
        out += (_finding_rows(on_pr[:room]) if on_pr else ["None."]) + [""]
        room -= min(len(on_pr), room)
        title = f"### Elsewhere ({len(rest)})"
    else:
        title = f"### Findings ({len(rest)})"
    out += [title, ""]
    if rest and room:
        out += _finding_rows(rest[:room]) + [""]
    shown = min(len(on_pr), MAX_ROWS) + min(len(rest), room)
    if shown < len(found):
        out += [f"{len(found) - shown} more finding(s) are not listed here: see the step's log or code scanning.", ""]
    if not_annotated:
        first = " (findings on changed lines were annotated first)" if changed is not None else ""
        out += [f"{not_annotated} finding(s) have no annotation: GitHub shows at most 10 of each level per step{first}.", ""]
    out += list(notes)
    return "\n".join(out).rstrip() + "\n"
