"""All the facts of one scan, indexed by type, as the checks see them."""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Sequence, TypeVar

from .facts import FileFacts

T = TypeVar("T")


class Project:
    """Read-only view of every fact found, so a check can ask for the kinds it judges."""

    def __init__(self, files: Sequence[FileFacts]) -> None:
        self.files = tuple(files)
        by_type: dict[type, list[object]] = defaultdict(list)
        for file in self.files:
            for fact in file.facts:
                by_type[type(fact)].append(fact)
        self._by_type = dict(by_type)

    def all(self, cls: type[T]) -> list[T]:
        """Every fact of type `cls`, in file order then source order."""
        return self._by_type.get(cls, [])  # type: ignore[return-value]

    def paths(self) -> Iterable[str]:
        return (f.path for f in self.files)
