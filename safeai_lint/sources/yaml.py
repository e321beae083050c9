"""YAML with a position on every key and value, built from parser events.

Why events and not `yaml.load`: we never construct tags (no `!!python/...` object is ever
built), we bound alias expansion (a billion-laughs file is cut off, not expanded), and we
build the tree with an explicit stack, so a 100,000-deep document cannot blow the C stack.

Mappings become `YMap` (a dict) and sequences `YList` (a list); scalars become plain Python
values typed as a safe loader would (str, int, float, bool, None). Positions are
`(line, column, end_line, end_column)`, 1-based, end column exclusive, in code points.
"""
from __future__ import annotations

import gc
from functools import lru_cache
from typing import Any

import yaml

from ..records import Frozen, record

try:  # the C parser is 5-10x faster; fall back to pure Python where libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the build of PyYAML
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Pos = tuple[int, int, int, int]

MAX_DEPTH = 1000
MAX_EXPANDED_NODES = 250_000
MAX_DOCUMENTS = 2_000


class YMap(dict):
    """A mapping that remembers where each key and value was written."""

    __slots__ = ("pos", "kpos", "vpos")

    def __init__(self, pos: Pos = (1, 1, 1, 1)) -> None:
        super().__init__()
        self.pos = pos
        self.kpos: dict[Any, Pos] = {}
        self.vpos: dict[Any, Pos] = {}

    def key_pos(self, key: Any) -> Pos:
        return self.kpos.get(key, self.pos)

    def value_pos(self, key: Any) -> Pos:
        return self.vpos.get(key, self.key_pos(key))


class YList(list):
    """A sequence that remembers where each item was written."""

    __slots__ = ("pos", "ipos")

    def __init__(self, pos: Pos = (1, 1, 1, 1)) -> None:
        super().__init__()
        self.pos = pos
        self.ipos: list[Pos] = []

    def item_pos(self, index: int) -> Pos:
        return self.ipos[index] if 0 <= index < len(self.ipos) else self.pos


@record
class YamlProblem(Frozen):
    """Why (part of) a YAML stream could not be used. `rule` is SAI001 or SAI002."""

    rule: str
    message: str
    line: int
    column: int


@record
class YamlDoc(Frozen):
    value: Any
    line: int  # first line of the document's content


class _Limit(Exception):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.line, self.column = line, column


_resolver = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()
_SCALAR_BUILDERS = {
    "tag:yaml.org,2002:null": lambda node: None,
    "tag:yaml.org,2002:bool": _constructor.construct_yaml_bool,
    "tag:yaml.org,2002:int": _constructor.construct_yaml_int,
    "tag:yaml.org,2002:float": _constructor.construct_yaml_float,
}


def _span(start: Any, end: Any) -> Pos:
    return (start.line + 1, start.column + 1, end.line + 1, end.column + 1)


@lru_cache(maxsize=4096)
def _implicit_tag(value: str, implicit: tuple[bool, bool]) -> str:
    # Why cached: most scalars are keys and short values repeated across documents and files
    # ("name", "apiVersion", "http"), and the resolver runs a regex list per scalar.
    return _resolver.resolve(yaml.ScalarNode, value, implicit)


def _scalar(event: yaml.ScalarEvent) -> Any:
    tag = event.tag
    if tag is None or tag == "!":
        value, implicit = event.value, event.implicit
        if len(value) <= 64:
            tag = _implicit_tag(value, implicit)
        else:  # long text (scripts, certificates) is rarely repeated: not worth a cache slot
            tag = _resolver.resolve(yaml.ScalarNode, value, implicit)
    builder = _SCALAR_BUILDERS.get(tag)
    if builder is None:
        return event.value  # str, timestamps, binary and every custom tag stay text
    try:
        return builder(yaml.ScalarNode(tag, event.value))
    except (ValueError, TypeError, yaml.YAMLError):
        return event.value


def _size(value: Any) -> int:
    """Nodes in a finished subtree (what re-using it through an alias costs)."""
    count, stack = 0, [value]
    while stack:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        if count > MAX_EXPANDED_NODES:
            break
    return count


class _Builder:
    """Turns one stream of events into documents, bounding depth and alias expansion."""

    def __init__(self) -> None:
        self.docs: list[YamlDoc] = []
        self.stack: list[list[Any]] = []  # frames: [container, pending_key, key_pos, merges, anchor]
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.expanded = 0
        self.doc_line = 1
        self.root: Any = None
        self.have_root = False

    def _attach(self, value: Any, pos: Pos, mark: Any) -> None:
        if not self.stack:
            self.root, self.have_root = value, True
            return
        frame = self.stack[-1]
        container = frame[0]
        if isinstance(container, YList):
            container.append(value)
            container.ipos.append(pos)
            return
        if frame[1] is _NO_KEY:
            key = value if _hashable(value) else str(value)
            frame[1], frame[2] = key, pos
            return
        key, kpos = frame[1], frame[2]
        frame[1] = _NO_KEY
        if key == "<<" and frame[5]:
            frame[3].append(value)
            return
        container[key] = value
        container.kpos[key] = kpos
        container.vpos[key] = pos

    def feed(self, event: Any) -> None:
        mark = event.start_mark
        if type(event) is yaml.ScalarEvent:  # most events: checked first, without isinstance
            value = _scalar(event)
            if event.anchor:
                self._anchor(event.anchor, value, 1)
            self.expanded += 1
            is_key = bool(self.stack) and isinstance(self.stack[-1][0], YMap) and self.stack[-1][1] is _NO_KEY
            self._attach(value, _span(mark, event.end_mark), mark)
            if is_key:
                self.stack[-1][5] = event.value == "<<" and event.implicit[0]
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if len(self.stack) >= MAX_DEPTH:
                raise _Limit(f"nesting deeper than {MAX_DEPTH} levels", mark.line + 1, mark.column + 1)
            pos = _span(mark, event.end_mark)
            container: Any = YMap(pos) if isinstance(event, yaml.MappingStartEvent) else YList(pos)
            self.expanded += 1
            self.stack.append([container, _NO_KEY, None, [], event.anchor, False])
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            container, _, _, merges, anchor, _ = self.stack.pop()
            container.pos = container.pos[:2] + (event.end_mark.line + 1, event.end_mark.column + 1)
            for merged in merges:
                for source in merged if isinstance(merged, list) else [merged]:
                    if isinstance(source, YMap):
                        for k, v in source.items():
                            if k not in container:
                                container[k] = v
                                container.kpos[k] = source.key_pos(k)
                                container.vpos[k] = source.value_pos(k)
            self._anchor(anchor, container, None)
            self._attach(container, container.pos, mark)
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in self.anchors:
                raise yaml.composer.ComposerError(
                    None, None, f"found undefined alias {event.anchor!r}", mark
                )
            value, size = self.anchors[event.anchor]
            self.expanded += size
            if self.expanded > MAX_EXPANDED_NODES:
                raise _Limit(
                    f"alias expansion exceeds {MAX_EXPANDED_NODES:,} nodes (a YAML alias bomb?)",
                    mark.line + 1,
                    mark.column + 1,
                )
            self._attach(value, _span(mark, event.end_mark), mark)
        elif isinstance(event, yaml.DocumentStartEvent):
            self.root, self.have_root, self.doc_line = None, False, mark.line + 1
        elif isinstance(event, yaml.DocumentEndEvent):
            if len(self.docs) >= MAX_DOCUMENTS:
                raise _Limit(f"more than {MAX_DOCUMENTS:,} documents in one file", mark.line + 1, 1)
            line = self.doc_line
            if isinstance(self.root, (YMap, YList)):
                line = self.root.pos[0]
            self.docs.append(YamlDoc(self.root, line))
            self.anchors = {}

    def run(self, loader: Any) -> None:
        """`feed()` every event of the loader's stream, with the common cases inlined.

        Why: a manifest is mostly scalars (keys and values) and container starts; going
        through `feed()` and `_attach()` for each, via the `yaml.parse()` generator, was 60 %
        of the time spent reading YAML. The rarer events take `feed()` as written.
        """
        stack, scalar_event, get_event, no_key = self.stack, yaml.ScalarEvent, loader.get_event, _NO_KEY
        map_start, seq_start, stream_end = yaml.MappingStartEvent, yaml.SequenceStartEvent, yaml.StreamEndEvent
        while True:
            event = get_event()
            kind = type(event)
            if kind is scalar_event:
                value = _scalar(event)
                if event.anchor:
                    self._anchor(event.anchor, value, 1)
                self.expanded += 1
                mark, end = event.start_mark, event.end_mark
                pos = (mark.line + 1, mark.column + 1, end.line + 1, end.column + 1)
                if not stack:
                    self.root, self.have_root = value, True
                    continue
                frame = stack[-1]
                container = frame[0]
                if type(container) is YList:
                    container.append(value)
                    container.ipos.append(pos)
                elif frame[1] is no_key:  # a scalar key (never a dict or list)
                    frame[1], frame[2] = value, pos
                    frame[5] = event.value == "<<" and event.implicit[0]
                else:
                    key = frame[1]
                    frame[1] = no_key
                    if key == "<<" and frame[5]:
                        frame[3].append(value)
                    else:
                        container[key] = value
                        container.kpos[key] = frame[2]
                        container.vpos[key] = pos
            elif kind is map_start or kind is seq_start:
                mark, end = event.start_mark, event.end_mark
                if len(stack) >= MAX_DEPTH:
                    raise _Limit(f"nesting deeper than {MAX_DEPTH} levels", mark.line + 1, mark.column + 1)
                pos = (mark.line + 1, mark.column + 1, end.line + 1, end.column + 1)
                self.expanded += 1
                stack.append([YMap(pos) if kind is map_start else YList(pos), no_key, None, [], event.anchor, False])
            elif event is None or kind is stream_end:
                return
            else:
                self.feed(event)

    def _anchor(self, anchor: str | None, value: Any, size: int | None) -> None:
        if anchor:
            self.anchors[anchor] = (value, size if size is not None else _size(value))


_NO_KEY = object()


def _hashable(value: Any) -> bool:
    return not isinstance(value, (dict, list))


def parse_documents(text: str) -> tuple[list[YamlDoc], YamlProblem | None]:
    """All documents of a YAML stream, and the problem that stopped reading it, if any.

    Documents completed before an error are returned, so one broken document does not hide
    the others.
    """
    builder = _Builder()
    # Why pause the collector: the tree is built from tens of thousands of small containers,
    # which triggers collections that rescan every live object of the scan; the tree holds
    # no reference cycles, so nothing is lost by collecting later.
    paused = gc.isenabled()
    if paused:
        gc.disable()
    loader = None
    try:
        loader = _Loader(text)
        builder.run(loader)
    except _Limit as exc:
        return builder.docs, YamlProblem("SAI002", f"YAML not analysed past this point: {exc}", exc.line, exc.column)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        if "maximum nesting depth" in what:  # libyaml's own depth cap: a cap, not bad YAML
            return builder.docs, YamlProblem("SAI002", f"YAML not analysed past this point: nesting deeper than {MAX_DEPTH} levels", line, col)
        return builder.docs, YamlProblem("SAI001", f"invalid YAML: {what}", line, col)
    except (yaml.YAMLError, RecursionError, MemoryError) as exc:
        return builder.docs, YamlProblem("SAI001", f"invalid YAML: {type(exc).__name__}: {exc}", 1, 1)
    finally:
        if loader is not None:
            loader.dispose()
        if paused:
            gc.enable()
    return builder.docs, None


def load_plain(text: str) -> Any:
    """The first document of trusted YAML (our own rule and policy files), without positions.

    Still a safe loader (no tags are constructed), but the C constructor: these files are read
    on every run, so they must be cheap."""
    loader = _Loader(text)  # a SafeLoader (C or Python): no tag ever builds an object
    try:
        return loader.get_data() if loader.check_data() else None
    finally:
        loader.dispose()


def plain(value: Any) -> Any:
    """The same data as built-in dicts and lists (for dumping or comparing)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def as_map(value: Any) -> YMap | None:
    """`value` if it is a mapping, else None (a hostile file may hold anything anywhere)."""
    return value if isinstance(value, YMap) else None


def as_list(value: Any) -> YList:
    """`value` if it is a sequence, else an empty one."""
    return value if isinstance(value, YList) else YList()


def dig(value: Any, *path: str) -> YMap | None:
    """The mapping at `path` below `value`, or None when any step is missing or not a mapping."""
    for key in path:
        current = as_map(value)
        if current is None:
            return None
        value = current.get(key)
    return as_map(value)
