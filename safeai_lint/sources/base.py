"""One scanned file as the extractors see it: its text, its parse trees (parsed once, shared
by every extractor) and the problems found while parsing."""
from __future__ import annotations

import bisect
import re
from typing import Any

from ..facts import Diagnostic, Location

# Template markers a value can hold: Go/Helm/Jinja `{{ ... }}`, envsubst `${NAME}`.
_PLACEHOLDER = re.compile(r"\{\{|\$\{[A-Za-z_][A-Za-z0-9_]*\}")


class SourceText:
    """The text of one file plus lazily built, cached parse trees.

    Parsers record what they could not read as diagnostics (SAI001/SAI002) and return what
    they could, so an extractor never sees an exception from a bad input.
    """

    def __init__(self, rel: str, kind: str, text: str) -> None:
        self.rel = rel
        self.kind = kind
        self.text = text
        self.diagnostics: list[Diagnostic] = []
        self._cache: dict[str, Any] = {}
        self._lines: list[str] | None = None

    # --- text -----------------------------------------------------------------------------
    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = self.text.splitlines()
        return self._lines

    def line_text(self, line: int) -> str:
        lines = self.lines
        return lines[line - 1] if 0 < line <= len(lines) else ""

    # --- locations ------------------------------------------------------------------------
    def loc(self, pos: tuple[int, int, int, int] | None) -> Location:
        """A Location from a parser position (line, column, end_line, end_column)."""
        if not pos:
            return Location(self.rel, 1, 1)
        line, col, end_line, end_col = pos
        return Location(self.rel, max(line, 1), max(col, 1), end_line, end_col)

    def line_loc(self, line: int, column: int = 1, end_column: int = 0) -> Location:
        """A Location on one line; without an end column it spans to the end of the line."""
        line = min(max(line, 1), max(len(self.lines), 1))
        if not end_column:
            end_column = len(self.line_text(line)) + 1
        return Location(self.rel, line, max(column, 1), line, max(end_column, column))

    def _line_starts(self) -> list[int]:
        """Offset in `text` where each line starts (lines end at "\n")."""
        starts = self._cache.get("line-starts")
        if starts is None:
            starts = [0]
            position = self.text.find("\n")
            while position >= 0:
                starts.append(position + 1)
                position = self.text.find("\n", position + 1)
            self._cache["line-starts"] = starts
        return starts

    def offset_of(self, line: int, column: int) -> int:
        """The offset in `text` of a 1-based line and column."""
        starts = self._line_starts()
        line = min(max(line, 1), len(starts))
        return starts[line - 1] + max(column - 1, 0)

    def span_loc(self, offset: int, length: int) -> Location:
        """The Location of `length` characters from `offset` in `text` (on one line)."""
        starts = self._line_starts()
        line = bisect.bisect_right(starts, offset)
        column = offset - starts[line - 1] + 1
        return Location(self.rel, line, column, line, column + length)

    def find_loc(self, line: int, needle: str, end_line: int | None = None) -> Location:
        """The location of `needle` on `line` (or the first line up to `end_line` holding it);
        the whole of `line` when it is not there."""
        last = end_line or line
        for number in range(line, last + 1):
            col = self.line_text(number).find(needle) if needle else -1
            if col >= 0:
                return Location(self.rel, number, col + 1, number, col + 1 + len(needle))
        return self.line_loc(line)

    def problem(self, rule: str, message: str, line: int = 1, column: int = 1, level: str = "") -> None:
        """Record a problem an extractor found in a value. In a YAML/JSON file, a value that
        holds a template placeholder (`{{ .Values.x }}`, envsubst `${X}`) is not broken input."""
        if rule == "SAI001" and self.kind in ("yaml", "json") and _PLACEHOLDER.search(self.line_text(line)):
            return
        self._record(rule, message, line, column, level)

    def _record(self, rule: str, message: str, line: int = 1, column: int = 1, level: str = "") -> None:
        self.diagnostics.append(Diagnostic(rule, message, self.line_loc(line, column), level))

    # --- parse trees (each built once) ----------------------------------------------------
    def yaml_documents(self) -> list[Any]:
        """The YAML documents of this file (see `sources.yaml`); problems become diagnostics."""
        if "yaml" not in self._cache:
            from .yaml import parse_documents

            docs, problem = parse_documents(self.text)
            if problem:
                rule, message = problem.rule, problem.message
                if rule == "SAI001" and "{{" in self.text:
                    rule = "SAI002"
                    message = (
                        "looks like a Go/Helm template, not plain YAML; render it and pipe it in: "
                        "`helm template . | safeai-lint check - --stdin-filename rendered.yaml`"
                    )
                self._record(rule, message, problem.line, problem.column)  # the parser's own verdict
            self._cache["yaml"] = docs
        return self._cache["yaml"]

    def cached(self, key: str, build: Any) -> Any:
        """A parse tree built once per file by `build(self)` and shared by every extractor."""
        if key not in self._cache:
            self._cache[key] = build(self)
        return self._cache[key]
