"""Where the repository's own safeai-lint config writes its version-lock table, so SAI005
can point at the offending key instead of the built-in policy."""
from __future__ import annotations

import re
from typing import Iterable

from ..config import CONFIG_NAMES
from ..facts import Location, PolicySource
from ..sources.base import SourceText


def config_yaml(src: SourceText) -> Iterable[object]:
    if src.rel.rsplit("/", 1)[-1] not in CONFIG_NAMES:
        return []
    docs = src.yaml_documents()
    root = docs[0].value if docs else None
    table = root.get("version-lock") if isinstance(root, dict) else None
    if not isinstance(table, dict) or not hasattr(table, "key_pos"):
        return []
    entries = tuple(
        (str(key), str(value), src.loc(table.key_pos(key)))
        for key, value in table.items()
        if isinstance(value, (str, int, float)) and not isinstance(value, bool)
    )
    return [PolicySource(src.rel, entries)] if entries else []


_TABLE = re.compile(r'^\s*\[\s*tool\s*\.\s*"?safeai-lint"?\s*\.\s*"?version-lock"?\s*\]\s*(#.*)?$')
_HEADER = re.compile(r"^\s*\[")
_ENTRY = re.compile(r'^\s*"?(?P<key>[A-Za-z0-9_.-]+)"?\s*=\s*["\'](?P<value>[^"\']*)["\']')


def config_pyproject(src: SourceText) -> Iterable[object]:
    """`[tool.safeai-lint.version-lock]` as a table of `key = "version"` lines (the inline
    form `version-lock = {...}` is not located)."""
    if "safeai-lint" not in src.text:
        return []
    entries: list[tuple[str, str, Location]] = []
    inside = False
    for number, line in enumerate(src.lines, 1):
        if _TABLE.match(line):
            inside = True
            continue
        if inside and _HEADER.match(line):
            break
        match = _ENTRY.match(line) if inside else None
        if match:
            entries.append((match.group("key"), match.group("value"), src.line_loc(number, match.start("key") + 1, match.end("key") + 1)))
    return [PolicySource(src.rel, tuple(entries))] if entries else []
