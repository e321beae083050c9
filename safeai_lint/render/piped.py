"""`helm template … | safeai-lint check - --stdin-filename x`: findings go to the templates.

Helm writes `# Source: <chart>/templates/<file>` before each document. When the chart is in
the scanned repository (a `Chart.yaml` with that name), a finding in such a document lands in
that template: at the template line that holds the same literal text (the same occurrence
of it), else at the template line that opens the object (its `kind:`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from ..facts import FileFacts, Location
from ..sources.yaml import YMap, parse_documents

_SOURCE = re.compile(r"^# Source: (\S+)\s*$")


@dataclass(frozen=True)
class Piped:
    facts: FileFacts
    paths: frozenset[str]  # templates findings were moved to
    notes: dict[tuple[str, int], str] = field(default_factory=dict)
    lines: dict[str, dict[int, str]] = field(default_factory=dict)


def chart_names(rels: list[str], read: Callable[[str], str]) -> dict[str, str]:
    """Chart name -> its folder, for every Chart.yaml of the repository."""
    out: dict[str, str] = {}
    for rel in rels:
        if rel.rsplit("/", 1)[-1] == "Chart.yaml":
            docs, _ = parse_documents(read(rel))
            if docs and isinstance(docs[0].value, YMap) and isinstance(docs[0].value.get("name"), str):
                out.setdefault(docs[0].value["name"], rel.rsplit("/", 1)[0] if "/" in rel else "")
    return out


def map_piped(facts: FileFacts, text: str, rels: list[str], read: Callable[[str], str]) -> Piped | None:
    """`facts` of piped `helm template` output moved to template lines; None when the text
    holds no `# Source:` comment naming a chart of the repository."""
    if "# Source: " not in text:
        return None
    charts = chart_names(rels, read)
    lines = text.split("\n")
    owner: list[str | None] = []  # the template of each line
    current = None
    for line in lines:
        match = _SOURCE.match(line)
        if match:
            current = _template(match.group(1), charts, read)
        elif line.startswith("---"):
            current = None
        owner.append(current)
    if not any(owner):
        return None
    from .place import move_suppressions, relocate

    mover = _Mover(facts.path, lines, owner, read)
    moved = FileFacts(facts.path, facts.kind, relocate(facts.facts, mover), relocate(facts.diagnostics, mover),
                      move_suppressions(facts.suppressions, mover, len(lines)), facts.lines)
    return Piped(moved, frozenset(mover.lines), mover.notes, mover.lines)


def _template(source: str, charts: dict[str, str], read: Callable[[str], str]) -> str | None:
    chart, _, rest = source.partition("/")
    folder = charts.get(chart)
    if folder is None or not rest:
        return None
    rel = f"{folder}/{rest}" if folder else rest  # a subchart whose folder is its name too
    return rel if read(rel) else None


class _Mover:
    def __init__(self, rel: str, lines: list[str], owner: list[str | None], read: Callable[[str], str]) -> None:
        self.rel, self.rendered, self.owner, self.read = rel, lines, owner, read
        self.notes: dict[tuple[str, int], str] = {}
        self.lines: dict[str, dict[int, str]] = {}

    def __call__(self, loc: Location, values: bool = True) -> Location:
        del values
        if loc.path != self.rel or not 0 < loc.line <= len(self.owner) or self.owner[loc.line - 1] is None:
            return loc
        template = self.owner[loc.line - 1]
        source = self.read(template).split("\n")
        line = self._same(loc.line, source, _text) or self._same(loc.line, source, _key)
        column = loc.column
        if not line:
            line, column = self._opening(loc.line, source), 1
        shown = source[line - 1] if 0 < line <= len(source) else ""
        self.lines.setdefault(template, {})[line] = shown
        self.notes[(template, line)] = f"in piped `helm template` output, document from {template}"
        return Location(template, line, min(column, len(shown) + 1), line, len(shown) + 1)

    def targets(self, line: int) -> list[Location]:
        return [self(Location(self.rel, line, 1))]

    def _start(self, line: int) -> int:
        start = line
        while start > 1 and self.owner[start - 2] == self.owner[line - 1] and not _SOURCE.match(self.rendered[start - 2]):
            start -= 1
        return start

    def _same(self, line: int, source: list[str], norm: Callable[[str], str]) -> int:
        """The template line that reads like rendered `line` (by `norm`), same occurrence."""
        wanted = norm(self.rendered[line - 1])
        if not wanted:
            return 0
        nth = sum(1 for n in range(self._start(line), line) if norm(self.rendered[n - 1]) == wanted)
        hits = [n for n, text in enumerate(source, start=1) if norm(text) == wanted]
        return hits[nth] if nth < len(hits) else 0

    def _opening(self, line: int, source: list[str]) -> int:
        kind = next((m.group(1) for n in range(line, self._start(line) - 1, -1)
                     if (m := re.match(r"kind:\s*(\S+)", self.rendered[n - 1]))), "")
        for number, text in enumerate(source, start=1):
            if kind and re.match(rf"\s*kind:\s*[\"']?{re.escape(kind)}\b", text):
                return number
        return 1


def _text(line: str) -> str:
    return line.strip()


_KEY = re.compile(r"^\s*((?:-\s+)?[\w./-]+:)(?:\s|$)")


def _key(line: str) -> str:
    """`image:` of `  image: "x:1"` (`- name:` of a list item): the key a line writes."""
    match = _KEY.match(line)
    return match.group(1) if match else ""
