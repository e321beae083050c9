"""Where a node of a kustomize build came from: the last input that wrote it.

A node is named by its path from the object (list items that have a `name` are named by it,
others by index). Inputs are searched last writer first: a scalar counts only where the input
holds the same value; an image that no input wrote as built was set by an `images:` entry.
"""
from __future__ import annotations

from typing import Any

from ..facts import Location
from ..sources.yaml import YList, YMap, parse_documents
from .kustomize import Build

Path_ = tuple


def _step(node: Any, index: int) -> Any:
    item = node[index]
    if isinstance(item, YMap) and isinstance(item.get("name"), str):
        return ("name", item["name"])
    return index


def _index(node: Any, path: Path_, out: dict[tuple[int, int], tuple[Path_, Any]]) -> None:
    """(line, column) of every key and value below `node` -> (path, value); parents first."""
    if isinstance(node, YMap):
        for key, value in node.items():
            where = path + (key,)
            for pos in (node.key_pos(key), node.value_pos(key)):
                out.setdefault(pos[:2], (where, value))
            _index(value, where, out)
    elif isinstance(node, YList):
        for index, value in enumerate(node):
            where = path + (_step(node, index),)
            out.setdefault(node.item_pos(index)[:2], (where, value))
            _index(value, where, out)


def _at(node: Any, path: Path_) -> tuple[Any, tuple[int, int] | None]:
    """The node at `path` below `node` and its position (None when absent)."""
    pos = None
    for step in path:
        if isinstance(node, YMap) and not isinstance(step, tuple) and step in node:
            pos = node.value_pos(step)[:2] if not isinstance(node[step], (YMap, YList)) else node.key_pos(step)[:2]
            node = node[step]
        elif isinstance(node, YList):
            found = None
            for index in range(len(node)):
                if _step(node, index) == step:
                    found = index
                    break
            if found is None:
                return None, None
            pos = node.item_pos(found)[:2]
            node = node[found]
        else:
            return None, None
    return node, pos


def _same_object(writer: YMap, built: YMap) -> bool:
    if writer.get("kind") != built.get("kind"):
        return False
    wname = (writer.get("metadata") or {}).get("name") if isinstance(writer.get("metadata"), YMap) else None
    bname = (built.get("metadata") or {}).get("name") if isinstance(built.get("metadata"), YMap) else None
    return isinstance(wname, str) and isinstance(bname, str) and wname in bname


class BuildPlacer:
    """Moves locations in a build's output (virtual path `rel`) to the inputs that wrote them."""

    def __init__(self, build: Build, rel: str, overlay_rel: str, read: Any) -> None:
        self.rel, self.overlay_rel, self.read = rel, overlay_rel, read
        self.build = build
        self.nodes: dict[tuple[int, int], tuple[int, Path_, Any]] = {}
        self.docs: list[YMap] = []
        docs, _ = parse_documents(build.text)
        for number, doc in enumerate(docs):
            if isinstance(doc.value, YMap):
                index: dict[tuple[int, int], tuple[Path_, Any]] = {}
                _index(doc.value, (), index)
                for pos, (path, value) in index.items():
                    self.nodes.setdefault(pos, (number, path, value))
                self.docs.append(doc.value)
            else:
                self.docs.append(YMap())
        self.by_line: dict[int, list[tuple[int, int]]] = {}
        for pos in self.nodes:
            self.by_line.setdefault(pos[0], []).append(pos)
        self.notes: dict[tuple[str, int], str] = {}
        self.lines: dict[str, dict[int, str]] = {}
        self.note = f"kustomize build of {build.overlay or '.'}"

    def __call__(self, loc: Location, values: bool = True) -> Location:
        if loc.path != self.rel:
            return loc
        key = (loc.line, loc.column)
        if key not in self.nodes:
            near = sorted(self.by_line.get(loc.line, []))
            key = next((p for p in near if p[1] <= loc.column), near[0] if near else key)
        found = self.nodes.get(key)
        if found is None:
            return self._to(self.overlay_rel, 1, 1)
        number, path, value = found
        built = self.docs[number]
        writers = [(p, w) for p, w in self.build.writers if _same_object(w, built)]
        for cut in range(len(path), -1, -1):
            prefix = path[:cut]
            exact = cut == len(path) and not isinstance(value, (YMap, YList))
            if exact and prefix and prefix[-1] == "image" and isinstance(value, str):
                entry = self._image_entry(value, writers)
                if entry:
                    return self._to(*entry)
            # the object itself opens where its resource does; anything inside: the last writer
            order = writers if cut <= 1 and not exact else list(reversed(writers))
            for source, writer in order:
                node, pos = _at(writer, prefix)
                if pos is None and prefix:
                    continue
                if exact and str(node) != str(value):
                    continue
                line, column = pos or (writer.pos[0], 1)
                return self._to(source, line, column)
        return self._to(self.overlay_rel, 1, 1)

    def _image_entry(self, image: str, writers: list) -> tuple[str, int, int] | None:
        """The `images:` entry that made `image`, when no input wrote it as built."""
        for source, writer in reversed(writers):
            del source
            if image in _strings(writer):
                return None
        head, _, last = image.split("@", 1)[0].rpartition("/")
        repo = f"{head}/{last.split(':')[0]}" if head else last.split(":")[0]
        for rel, line, name, entry in reversed(self.build.images):
            if repo in (name, entry.get("newName")):
                return rel, line, 1
        return None

    def targets(self, line: int) -> list[Location]:
        return [self(Location(self.rel, pos[0], pos[1])) for pos in sorted(self.by_line.get(line, []))]

    def _to(self, path: str, line: int, column: int) -> Location:
        text = self.read(path).split("\n")
        shown = text[line - 1] if 0 < line <= len(text) else ""
        self.lines.setdefault(path, {})[line] = shown
        self.notes[(path, line)] = self.note
        return Location(path, line, min(max(column, 1), len(shown) + 1), line, len(shown) + 1)


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return [node] if isinstance(node, str) else []
