"""Pieces both human formats share: the caret under a span, the summary line, the per-rule
statistics, and plain ANSI colour (no rich: colouring thousands of findings must stay cheap)."""
from __future__ import annotations

import re
from collections import Counter

_ANSI = {"error": "1;31", "warning": "33", "note": "36", "bold": "1", "dim": "2", "blue": "34", "underline": "1;4"}


# control characters from a scanned file (an ESC could drive the reader's terminal)
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """`text` on one line (line breaks as spaces) with other control characters shown as
    U+FFFD, so a file cannot drive the terminal or break the one-line format."""
    return _CONTROL.sub(lambda m: " " if m.group() in "\r\n" else "\ufffd", text)


def paint(text: str, style: str, color: bool) -> str:
    """`text` in `style` when colour is on, else unchanged."""
    code = _ANSI.get(style)
    return f"\x1b[{code}m{text}\x1b[0m" if color and code and text else text


def caret(snippet: str, column: int, end_line: int, line: int, end_column: int) -> tuple[str, str]:
    """The source line (tabs expanded) and a caret line under the flagged span."""
    snippet = clean(snippet.rstrip("\r\n"))
    text = snippet.expandtabs(4) if "\t" in snippet else snippet
    start = max(column - 1, 0)
    if "\t" in snippet:
        start = len(snippet[:start].expandtabs(4))
    if end_line == line and end_column > column:
        width = end_column - column
    else:
        width = max(len(text.rstrip()) - start, 1)
    return text.rstrip(), " " * start + "^" * max(width, 1)


def rule_names(result) -> dict[str, str]:  # noqa: ANN001
    return {doc.id: doc.name for doc in result.rules}


def fixable_count(result, fixable) -> int:  # noqa: ANN001
    return sum(1 for f in result.findings if f in fixable) if fixable else 0


def summary(result, fixable=frozenset()) -> str:  # noqa: ANN001
    findings = result.findings
    if not findings and not result.files_scanned:
        return "Nothing to check: no file that safeai-lint reads was found, or all were excluded."
    if not findings:
        return f"All clear: no findings in {result.files_scanned} file(s) scanned."
    levels = Counter(f.level for f in findings)
    parts = [f"{levels[lv]} {lv}{'s' if levels[lv] != 1 else ''}" for lv in ("error", "warning", "note") if levels[lv]]
    files = len({f.location.path for f in findings})
    line = f"Found {len(findings)} finding(s) ({', '.join(parts)}) in {files} of {result.files_scanned} file(s) scanned."
    fixes = fixable_count(result, fixable)
    if fixes:
        line += f"\n[*] {fixes} fixable with the `--fix` option."
    return line


def statistics(result, fixable=frozenset()) -> list[tuple[int, str, str, str, int]]:  # noqa: ANN001
    """(count, rule, level, name, how many of them --fix fixes), most frequent first."""
    names = rule_names(result)
    counts = Counter((f.rule, f.level) for f in result.findings)
    fixes = Counter((f.rule, f.level) for f in result.findings if f in fixable)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(n, rule, level, names.get(rule, ""), fixes[(rule, level)]) for (rule, level), n in ordered]


def statistics_lines(result, fixable, color: bool) -> list[str]:  # noqa: ANN001
    out = []
    for n, rule, level, name, fixes in statistics(result, fixable):
        mark = f"  [*] {fixes} fixable" if fixes else ""
        out.append(f"{n:>6}  {paint(rule, 'bold', color)}  {paint(f'{level:<7}', level, color)}  {name}{mark}")
    return out


def excerpt(f, indent: str, color: bool) -> list[str]:  # noqa: ANN001 - Finding
    """The flagged source line with a caret under the span, then the rule's doc link."""
    from ..catalog import doc_url

    loc = f.location
    gutter = " " * len(str(loc.line))
    out = []
    if f.snippet.strip():
        source, marks = caret(f.snippet, loc.column, loc.end_line, loc.line, loc.end_column)
        out.append(paint(f"{indent}{loc.line} | ", "blue", color) + source)
        out.append(paint(f"{indent}{gutter} | ", "blue", color) + paint(marks, f.level, color))
    out.append(paint(f"{indent}{gutter} = ", "blue", color) + f"docs: {doc_url(f.rule)}")
    return out
