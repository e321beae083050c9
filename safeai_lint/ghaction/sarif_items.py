"""Findings read back from a SARIF log this tool wrote, as small records the action's
annotations and job summary share."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

LEVEL_ORDER = {"error": 0, "warning": 1, "note": 2}


@dataclass(frozen=True, slots=True)
class Item:
    rule: str
    name: str
    level: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    fixable: bool
    help_uri: str


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def items(log: dict) -> list[Item]:
    """Every result of every run, in the file's order."""
    out = []
    for run in log.get("runs") or ():
        rules = run.get("tool", {}).get("driver", {}).get("rules") or []
        for res in run.get("results") or ():
            index = res.get("ruleIndex")
            rule = rules[index] if isinstance(index, int) and 0 <= index < len(rules) else {}
            loc = ((res.get("locations") or [{}])[0]).get("physicalLocation", {})
            region = loc.get("region", {})
            line = _int(region.get("startLine"), 1)
            level = str(res.get("level", "warning"))
            out.append(
                Item(
                    rule=str(res.get("ruleId", "")),
                    name=str(rule.get("name", "")),
                    level=level if level in LEVEL_ORDER else "warning",
                    path=unquote(str(loc.get("artifactLocation", {}).get("uri", ""))),
                    line=line,
                    column=_int(region.get("startColumn"), 1),
                    end_line=_int(region.get("endLine"), line),
                    end_column=_int(region.get("endColumn"), 0),
                    message=str(res.get("message", {}).get("text", "")),
                    fixable=bool((res.get("properties") or {}).get("fixable")),
                    help_uri=str(rule.get("helpUri", "")),
                )
            )
    return out


def on_changed(item: Item, changed: dict[str, set[int]] | None) -> bool:
    """Does the finding's span touch a line the change added or modified?"""
    lines = (changed or {}).get(item.path)
    return bool(lines) and any(n in lines for n in range(item.line, max(item.end_line, item.line) + 1))


def ordered(found: list[Item], changed: dict[str, set[int]] | None) -> list[Item]:
    """Findings on changed lines first, then by level (errors first); otherwise file order."""
    return sorted(found, key=lambda i: (not on_changed(i, changed), LEVEL_ORDER[i.level]))
