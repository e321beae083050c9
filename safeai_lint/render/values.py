"""Which values file line set each value a chart rendered, found by the engine itself.

The chart's `values.yaml` and the configured values files are merged as Helm merges `-f`
files (maps merge key by key, anything else is replaced, the last file wins), remembering
where each scalar was written. A second rendering replaces every scalar by a unique marker;
a rendered scalar that holds a marker where the plain rendering holds text came from that
value. Rendering is Helm's: no template is interpreted here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..facts import Location
from ..sources.yaml import YList, YMap, parse_documents, plain

MARKER = re.compile(r"zzsaiv(\d{5})zz", re.I)


@dataclass(frozen=True)
class Leaf:
    keypath: str  # "image.tag", "args[2]"
    location: Location  # where the value is written in a values file


@dataclass(frozen=True)
class Values:
    merged: dict  # the extra files merged (what is passed over the chart's own values.yaml)
    full: dict  # values.yaml and the extra files merged
    leaves: dict[tuple, Leaf]  # every scalar of values.yaml and the extra files, last writer


def load_values(texts: list[tuple[str, str]]) -> tuple[Values, list[tuple[str, str, int]]]:
    """`texts`: (path, text) of values.yaml first, then the configured files in order.
    Returns the values and the problems found (path, message, line)."""
    merged: dict = {}
    extra: dict = {}
    leaves: dict[tuple, Leaf] = {}
    problems = []
    for index, (path, text) in enumerate(texts):
        docs, problem = parse_documents(text)
        if problem:
            problems.append((path, problem.message, problem.line))
            continue
        tree = docs[0].value if docs else None
        if tree is None:
            continue
        if not isinstance(tree, YMap):
            problems.append((path, "a values file must hold a mapping", 1))
            continue
        _collect(path, tree, (), leaves)
        merged = _merge(merged, plain(tree))
        if index > 0:
            extra = _merge(extra, plain(tree))
    return Values(extra, merged, leaves), problems


def _collect(path: str, node: Any, prefix: tuple, leaves: dict[tuple, Leaf]) -> None:
    if isinstance(node, YMap):
        for key, value in node.items():
            where = prefix + (key,)
            if isinstance(value, (YMap, YList)):
                for old in [k for k in leaves if k[: len(where)] == where]:
                    del leaves[old]  # a list or map written here replaces what was below
                _collect(path, value, where, leaves)
            elif value is not None:
                line, col = node.value_pos(key)[:2]
                leaves[where] = Leaf(_keypath(where), Location(path, line, col))
    elif isinstance(node, YList):
        for index, value in enumerate(node):
            where = prefix + (index,)
            if isinstance(value, (YMap, YList)):
                _collect(path, value, where, leaves)
            elif value is not None:
                line, col = node.item_pos(index)[:2]
                leaves[where] = Leaf(_keypath(where), Location(path, line, col))


def _keypath(where: tuple) -> str:
    out = ""
    for part in where:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        if value is None:
            out.pop(key, None)  # Helm: a null removes the key
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def marked_values(values: Values, numbers: bool = True) -> tuple[dict, dict[int, Leaf]]:
    """The whole values tree with every known scalar replaced by a marker (numbers too unless
    told not to; booleans, empty strings and zeros never: a marker would flip a condition or
    a `default`), and what each marker stands for."""
    legend: dict[int, Leaf] = {}

    def walk(node: Any, where: tuple) -> Any:
        if isinstance(node, dict):
            return {key: walk(value, where + (key,)) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value, where + (index,)) for index, value in enumerate(node)]
        leaf = values.leaves.get(where)
        if leaf is None or isinstance(node, bool) or not node or (not numbers and not isinstance(node, str)):
            return node  # an empty or zero value is false in a template: a marker would flip that
        legend[len(legend)] = leaf
        return f"zzsaiv{len(legend) - 1:05d}zz"

    return walk(values.full, ()), legend


@dataclass(frozen=True)
class Site:
    """A rendered scalar and the values it was made of."""

    line: int
    column: int
    leaves: tuple[Leaf, ...]  # one: the value came from there; several: composed of them
    whole: bool = True  # the scalar is that one value (or `--flag=<value>`), not text around it


def value_sites(real_text: str, marked_text: str, legend: dict[int, Leaf]) -> dict[tuple[int, int], Site]:
    """Rendered scalars (by line and column in `real_text`) that hold values from values files."""
    real_docs, _ = parse_documents(real_text)
    marked_docs, _ = parse_documents(marked_text)
    sites: dict[tuple[int, int], Site] = {}
    if len(real_docs) != len(marked_docs):
        return sites
    for real, marked in zip(real_docs, marked_docs):
        _pair(real.value, marked.value, legend, sites)
    return sites


_FLAG_VALUE = re.compile(r"(?:-{1,2}[\w.-]+=)?zzsaiv\d{5}zz", re.I)


def _whole(marked: Any) -> bool:
    return isinstance(marked, str) and _FLAG_VALUE.fullmatch(marked.strip()) is not None


def _leaves_in(value: Any, legend: dict[int, Leaf]) -> tuple[Leaf, ...]:
    if not isinstance(value, str):
        return ()
    return tuple(legend[int(n)] for n in MARKER.findall(value) if int(n) in legend)


def _pair(real: Any, marked: Any, legend: dict[int, Leaf], sites: dict[tuple[int, int], Site]) -> None:
    if isinstance(real, YMap) and isinstance(marked, YMap):
        for key, value in real.items():
            if key in marked:
                _child(value, marked[key], real.value_pos(key), legend, sites)
    elif isinstance(real, YList) and isinstance(marked, YList) and len(real) == len(marked):
        for index, value in enumerate(real):
            _child(value, marked[index], real.item_pos(index), legend, sites)
        # a flag's value is the argument after it: `["--gpu-memory-utilization", "{{ .Values.x }}"]`
        for index in range(len(real) - 1):
            flag, following = real[index], marked[index + 1]
            found = _leaves_in(following, legend)
            if isinstance(flag, str) and flag.startswith("-") and "=" not in flag and not _leaves_in(marked[index], legend) and len(found) == 1:
                line, col = real.item_pos(index)[:2]
                sites[(line, col)] = Site(line, col, found)


def _child(real: Any, marked: Any, pos: tuple, legend: dict[int, Leaf], sites: dict[tuple[int, int], Site]) -> None:
    if isinstance(real, (YMap, YList)):
        _pair(real, marked, legend, sites)
        return
    found = _leaves_in(marked, legend)
    if found:
        line, col = pos[:2]
        sites[(line, col)] = Site(line, col, found, whole=_whole(marked))
