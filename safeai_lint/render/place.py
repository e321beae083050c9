"""Moving what was learnt from a rendered file to the lines a person edits.

Order (RULES.md "The deployed view"): the values file line that set the value, else the
template line that wrote the key, else the template line that opens the object.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any, Callable

from ..facts import Location
from ..records import Record
from ..suppress import CARRIED as DERIVED  # the origin of a suppression carried to where findings land
from .helm import RenderedFile


def relocate(obj: Any, move: Callable[[Location], Location]) -> Any:
    """`obj` (a fact, a tuple or list of them) with every Location inside replaced by `move(loc)`."""
    if isinstance(obj, Location):
        return move(obj)
    if isinstance(obj, tuple):
        return tuple(relocate(item, move) for item in obj)
    if isinstance(obj, list):
        return [relocate(item, move) for item in obj]
    if isinstance(obj, dict):
        return {key: relocate(value, move) for key, value in obj.items()}
    if isinstance(obj, Record):
        cls, values = obj.__reduce__()
        return cls(*(relocate(value, move) for value in values))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):  # e.g. a BadSuppression
        changes = {f.name: relocate(getattr(obj, f.name), move) for f in dataclasses.fields(obj) if f.init}
        return dataclasses.replace(obj, **changes)
    return obj


class Placer:
    """Where each location of one rendered file lands, and the note that says so."""

    def __init__(self, rendered: RenderedFile) -> None:
        self.rendered = rendered
        self.rel = rendered.rel
        self.rendered_lines = rendered.text.split("\n")
        self.notes: dict[tuple[str, int], str] = {}
        self.lines: dict[str, dict[int, str]] = {}

    def __call__(self, loc: Location, values: bool = True) -> Location:
        """Where `loc` lands; with `values` False, never in a values file."""
        rf = self.rendered
        if loc.path != rf.rel:
            return loc
        site = rf.sites.get((loc.line, loc.column))
        if site is not None and len(site.leaves) == 1 and site.whole and values:
            leaf = site.leaves[0]
            return self._at(leaf.location.path, leaf.location.line, leaf.location.column, f"{rf.note}, value {leaf.keypath}")
        note = rf.note
        if site is not None:
            note += ", made of values " + ", ".join(f"{leaf.keypath} ({leaf.location.path}:{leaf.location.line})" for leaf in site.leaves)
        if rf.owners is not None and 0 < loc.line <= len(rf.owners):
            line = rf.owners[loc.line - 1]
            text = self._text(rf.rel, line)
            rendered = self.rendered_lines[loc.line - 1] if loc.line <= len(self.rendered_lines) else ""
            column = loc.column if text[: loc.column - 1] == rendered[: loc.column - 1] else _indent(text)
            return self._at(rf.rel, line, column, note)
        return self._at(rf.rel, self._opening_line(loc.line), 1, note)

    def targets(self, line: int) -> list[Location]:
        """Every place a finding on rendered `line` may land."""
        rf = self.rendered
        out = [self(Location(rf.rel, line, 1), values=False)]
        out += [self(Location(rf.rel, site.line, site.column)) for site in rf.sites.values() if site.line == line]
        return out

    def _text(self, path: str, line: int) -> str:
        lines = self.rendered.sources.get(path, "").split("\n")
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def _at(self, path: str, line: int, column: int, note: str) -> Location:
        text = self._text(path, line)
        self.lines.setdefault(path, {})[line] = text
        self.notes[(path, line)] = note
        column = min(max(column, 1), len(text) + 1)
        return Location(path, line, column, line, len(text) + 1)

    def _opening_line(self, rendered_line: int) -> int:
        """The template line that writes the `kind:` of the object holding `rendered_line`."""
        kind = ""
        for text in reversed(self.rendered_lines[:rendered_line]):
            match = re.match(r"kind:\s*(\S+)", text)
            if match:
                kind = match.group(1)
                break
        template = self.rendered.sources.get(self.rendered.rel, "").split("\n")
        for number, text in enumerate(template, start=1):
            if kind and re.match(rf"\s*kind:\s*[\"']?{re.escape(kind)}\b", text):
                return number
        for number, text in enumerate(template, start=1):
            if text.strip() and not text.lstrip().startswith(("#", "{{")):
                return number
        return 1


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip()) + 1


def move_suppressions(sups: tuple, placer: Any, total_lines: int) -> tuple:
    """Suppressions of a rendered file, moved to the file that holds them; each is also carried
    to every other place a finding on the lines it covers may land (a values line, a patch).
    The carried copies are never reported unused: the original is."""
    from ..facts import Suppression

    out = []
    for sup in sups:
        if sup.location.path != placer.rel:
            out.append(sup)
            continue
        loc = placer(sup.location, values=False)
        first, last = (1, total_lines) if sup.whole_file else (max(sup.first_line, 1), min(sup.last_line, total_lines))
        covered = [placer(Location(placer.rel, n, 1), values=False) for n in range(first, last + 1)]
        same = [c.line for c in covered if c.path == loc.path] or [loc.line]
        out.append(Suppression(sup.rule, sup.reason, loc, min(same + [loc.line]), max(same + [loc.line]), False, sup.origin))
        seen = {(loc.path, n) for n in range(min(same + [loc.line]), max(same + [loc.line]) + 1)}
        for n in range(first, last + 1):
            for target in placer.targets(n):
                if (target.path, target.line) not in seen:
                    seen.add((target.path, target.line))
                    out.append(Suppression(sup.rule, sup.reason, target, target.line, target.line, False, DERIVED))
    return tuple(out)
