"""GitHub Actions workflow commands: one `::error file=…,line=…,col=…,title=…::message` per
finding, which GitHub turns into annotations on the pull request diff.

Also runnable as `python -m safeai_lint.report.github FILE.sarif`: the GitHub Action scans
once to SARIF and prints the annotations from that file, so both come from the same scan.
"""
from __future__ import annotations

import json
import sys
from urllib.parse import unquote

# GitHub has no "note" annotation; "notice" is its lowest level
_COMMAND = {"error": "error", "warning": "warning", "note": "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, path: str, line: int, column: int, end_line: int, end_column: int, title: str, message: str) -> str:
    """One workflow command line. `end_column` is passed through as-is (0: unknown), as ruff
    does; GitHub only uses columns when the annotation stays on one line."""
    props = [f"file={_escape_property(path)}", f"line={max(line, 1)}", f"col={max(column, 1)}"]
    if end_line > line:
        props.append(f"endLine={end_line}")
    elif end_column > column:
        props.append(f"endColumn={end_column}")
    props.append(f"title={_escape_property(title)}")
    return f"::{_COMMAND.get(level, 'warning')} {','.join(props)}::{_escape_data(message)}"


def render(result, **_options) -> str:  # noqa: ANN001 - engine.Result
    names = {doc.id: doc.name for doc in result.rules}
    lines = []
    for f in result.findings:
        loc = f.location
        title = f"{f.rule} {names[f.rule]}" if f.rule in names else f.rule
        lines.append(command(f.level, loc.path, loc.line, loc.column, loc.end_line, loc.end_column, title, f.message))
    return "".join(line + "\n" for line in lines)


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def from_sarif(log: dict) -> str:
    """The same annotations, read back from a SARIF log this tool wrote."""
    lines = []
    for run in log.get("runs") or ():
        rules = run.get("tool", {}).get("driver", {}).get("rules") or []
        for res in run.get("results") or ():
            rule_id = str(res.get("ruleId", ""))
            index = res.get("ruleIndex")
            name = rules[index].get("name", "") if isinstance(index, int) and 0 <= index < len(rules) else ""
            title = f"{rule_id} {name}" if name else rule_id
            loc = ((res.get("locations") or [{}])[0]).get("physicalLocation", {})
            region = loc.get("region", {})
            line = _int(region.get("startLine"), 1)
            lines.append(
                command(
                    str(res.get("level", "warning")),
                    unquote(str(loc.get("artifactLocation", {}).get("uri", ""))),
                    line,
                    _int(region.get("startColumn"), 1),
                    _int(region.get("endLine"), line),
                    _int(region.get("endColumn"), 0),
                    title,
                    str(res.get("message", {}).get("text", "")),
                )
            )
    return "".join(line + "\n" for line in lines)


def main(argv: list[str]) -> int:
    """Print annotations from a SARIF file; exit 2 if it cannot be read."""
    if len(argv) != 1:
        sys.stderr.write("usage: python -m safeai_lint.report.github FILE.sarif\n")
        return 2
    try:
        with open(argv[0], encoding="utf-8") as fh:
            log = json.load(fh)
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"safeai-lint: cannot read SARIF {argv[0]}: {exc}\n")
        return 2
    sys.stdout.write(from_sarif(log) if isinstance(log, dict) else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
