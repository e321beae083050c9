"""Human output: findings grouped by file, each with its source line and a caret.

Plain text unless `color` is set (a TTY without NO_COLOR), in which case rich renders it.
"""
from __future__ import annotations

from collections import Counter
from itertools import groupby

_LEVEL_STYLE = {"error": "bold red", "warning": "yellow", "note": "cyan"}


def _caret(snippet: str, column: int, end_line: int, line: int, end_column: int) -> tuple[str, str]:
    """The source line (tabs expanded) and a caret line under the flagged span."""
    text = snippet.expandtabs(4) if "\t" in snippet else snippet
    start = max(column - 1, 0)
    if "\t" in snippet:
        start = len(snippet[:start].expandtabs(4))
    if end_line == line and end_column > column:
        width = end_column - column
    else:
        width = max(len(text.rstrip()) - start, 1)
    return text.rstrip(), " " * start + "^" * max(width, 1)


def _rule_names(result) -> dict[str, str]:  # noqa: ANN001
    return {doc.id: doc.name for doc in result.rules}


def _summary(result) -> str:  # noqa: ANN001
    findings = result.findings
    if not findings and not result.files_scanned:
        return "Nothing to check: no file that safeai-lint reads was found, or all were excluded."
    if not findings:
        return f"All clear: no findings in {result.files_scanned} file(s) scanned."
    levels = Counter(f.level for f in findings)
    parts = [f"{levels[l]} {l}{'s' if levels[l] != 1 else ''}" for l in ("error", "warning", "note") if levels[l]]
    files = len({f.location.path for f in findings})
    return f"Found {len(findings)} finding(s) ({', '.join(parts)}) in {files} of {result.files_scanned} file(s) scanned."


def _statistics(result) -> list[tuple[int, str, str, str]]:  # noqa: ANN001
    names = _rule_names(result)
    counts = Counter((f.rule, f.level) for f in result.findings)
    return [(n, rule, level, names.get(rule, "")) for (rule, level), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def render(result, *, color: bool = False, quiet: bool = False, statistics: bool = False, **_options) -> str:  # noqa: ANN001
    if color:
        return _render_rich(result, quiet=quiet, statistics=statistics)
    names = _rule_names(result)
    out: list[str] = []
    if statistics:
        for n, rule, level, name in _statistics(result):
            out.append(f"{n:>6}  {rule}  {level:<7}  {name}")
    else:
        for path, group in groupby(result.findings, key=lambda f: f.location.path):
            out.append(path)
            for f in group:
                loc = f.location
                out.append(f"  {loc.line}:{loc.column}  {f.level:<7}  {f.rule}  {f.message}  [{names.get(f.rule, '')}]")
                if f.snippet.strip():
                    source, caret = _caret(f.snippet, loc.column, loc.end_line, loc.line, loc.end_column)
                    gutter = " " * len(str(loc.line))
                    out.append(f"    {loc.line} | {source}")
                    out.append(f"    {gutter} | {caret}")
            out.append("")
    if not quiet:
        out.append(_summary(result))
    return "\n".join(out) + ("\n" if out else "")


def _render_rich(result, *, quiet: bool, statistics: bool) -> str:  # noqa: ANN001
    import io

    from rich.console import Console
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, highlight=False, soft_wrap=True)
    names = _rule_names(result)
    if statistics:
        for n, rule, level, name in _statistics(result):
            console.print(Text.assemble((f"{n:>6}  ", ""), (rule, "bold"), "  ", (f"{level:<7}", _LEVEL_STYLE[level]), f"  {name}"))
    else:
        for path, group in groupby(result.findings, key=lambda f: f.location.path):
            console.print(Text(path, style="bold underline"))
            for f in group:
                loc = f.location
                console.print(
                    Text.assemble(
                        (f"  {loc.line}:{loc.column}  ", "dim"),
                        (f"{f.level:<7}", _LEVEL_STYLE.get(f.level, "")),
                        "  ",
                        (f.rule, "bold"),
                        f"  {f.message}  ",
                        (f"[{names.get(f.rule, '')}]", "dim"),
                    )
                )
                if f.snippet.strip():
                    source, caret = _caret(f.snippet, loc.column, loc.end_line, loc.line, loc.end_column)
                    gutter = " " * len(str(loc.line))
                    console.print(Text.assemble((f"    {loc.line} | ", "blue"), source))
                    console.print(Text.assemble((f"    {gutter} | ", "blue"), (caret, _LEVEL_STYLE.get(f.level, ""))))
            console.print()
    if not quiet:
        console.print(Text(_summary(result), style="bold"))
    return buffer.getvalue()
