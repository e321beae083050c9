"""pyproject.toml fixes for SAI101/SAI102 through tomlkit, which keeps comments, quoting and
layout. The TOML item to edit is found from the finding's line: a PEP 621 dependency string
written on that line, a Poetry dependency key starting that line, or `requires-python`."""
from __future__ import annotations

import re
from typing import Any, Iterator


from ..findings import Finding
from .text import PIP_NAMES, exact_lock, pinned_requirement
from ..sources.specs import canonicalize_name
from ..policy import Policy


def _get(doc: Any, dotted: tuple[str, ...]) -> Any:
    node = doc
    for part in dotted:
        if not hasattr(node, "get"):
            return None
        node = node.get(part)
    return node


def _string_arrays(doc: Any) -> Iterator[Any]:
    """Every array of PEP 508 strings a pyproject may hold."""
    for dotted in (("project", "dependencies"), ("tool", "uv", "constraint-dependencies"),
                   ("tool", "uv", "override-dependencies"), ("tool", "uv", "dev-dependencies")):
        node = _get(doc, dotted)
        if isinstance(node, list):
            yield node
    for dotted in (("project", "optional-dependencies"), ("dependency-groups",), ("tool", "pdm", "dev-dependencies")):
        table = _get(doc, dotted)
        if hasattr(table, "values"):
            yield from (v for v in table.values() if isinstance(v, list))


def _header_above(lines: list[str], number: int) -> str:
    for index in range(number - 1, -1, -1):
        match = re.match(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$", lines[index])
        if match:
            return re.sub(r"\s*\.\s*", ".", match.group(1)).replace('"', "").replace("'", "")
        if re.match(r"^\s*\[\[", lines[index]):
            return ""
    return ""


def _same_quoting(tomlkit: Any, old: Any, value: str) -> Any:
    from tomlkit.items import StringType

    kind = getattr(old, "type", None)
    if kind in (StringType.MLB, StringType.MLL):
        return None  # a multi-line string: leave it to a person
    if kind == StringType.SLL:
        return None if "'" in value else tomlkit.string(value, literal=True)
    return tomlkit.string(value)


def _fix_dependency_string(tomlkit: Any, doc: Any, text: str, line: str, component: str, lock: str) -> bool:
    hits = []
    for array in _string_arrays(doc):
        for index, item in enumerate(array):
            if not isinstance(item, str):
                continue
            literal = item.as_string() if hasattr(item, "as_string") else repr(item)
            if literal in line and text.count(literal) == 1:
                hits.append((array, index, item))
    if len(hits) != 1:
        return False
    array, index, item = hits[0]
    new = pinned_requirement(str(item), component, lock)
    replacement = _same_quoting(tomlkit, item, new) if new else None
    if replacement is None:
        return False
    array[index] = replacement
    return True


def _fix_poetry(doc: Any, lines: list[str], number: int, component: str, lock: str) -> bool:
    table_name = _header_above(lines, number)
    if not re.fullmatch(r"tool\.poetry\.(dependencies|dev-dependencies|group\.[^.]+\.dependencies)", table_name):
        return False
    table = _get(doc, tuple(table_name.split(".")))
    match = re.match(r'^\s*["\']?([A-Za-z0-9._-]+)["\']?\s*=', lines[number - 1])
    if table is None or not match or match.group(1) not in table:
        return False
    key = match.group(1)
    name = "python" if key.lower() == "python" else str(canonicalize_name(key))
    if name != component and name not in PIP_NAMES.get(component, ()):
        return False
    value = table[key]
    if isinstance(value, str):
        if "+" in value:
            return False
        table[key] = lock  # Poetry reads a bare version as exactly that version
        return True
    if hasattr(value, "get") and isinstance(value.get("version"), str) and not {"git", "url", "path"} & set(value):
        if "+" in value["version"]:
            return False
        value["version"] = lock
        return True
    return False  # a list of constraints per marker: not one edit


def fix_pyproject(text: str, finding: Finding, policy: Policy) -> str | None:
    import tomlkit

    component, number = finding.subject, finding.location.line
    lock = exact_lock(policy, component)
    lines = text.splitlines()
    if lock is None or not 1 <= number <= len(lines):
        return None
    try:
        doc = tomlkit.parse(text)
    except Exception:  # noqa: BLE001 - tomlkit raises several kinds; SAI001 reports it
        return None
    line = lines[number - 1]
    changed = False
    if component == "python" and re.match(r"^\s*requires-python\s*=", line) and _header_above(lines, number) == "project":
        old = _get(doc, ("project", "requires-python"))
        replacement = _same_quoting(tomlkit, old, f"=={lock}") if isinstance(old, str) else None
        if replacement is not None:
            doc["project"]["requires-python"] = replacement
            changed = True
    else:
        changed = _fix_poetry(doc, lines, number, component, lock) or (
            component != "python" and _fix_dependency_string(tomlkit, doc, text, line, component, lock)
        )
    if not changed:
        return None
    new_text = tomlkit.dumps(doc)
    return new_text if new_text != text else None
