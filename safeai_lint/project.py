"""All the facts of one scan, indexed by type, as the checks see them."""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Iterable, Sequence, TypeVar

from .facts import FileFacts

T = TypeVar("T")

# Files that make their folder a deployable unit of its own (a package or an image build).
_UNIT_MARKERS = frozenset({"pyproject.toml", "setup.py", "setup.cfg"})


class Project:
    """Read-only view of every fact found, so a check can ask for the kinds it judges."""

    def __init__(self, files: Sequence[FileFacts]) -> None:
        self.files = tuple(files)
        by_type: dict[type, list[object]] = defaultdict(list)
        for file in self.files:
            for fact in file.facts:
                by_type[type(fact)].append(fact)
        self._by_type = dict(by_type)
        self._derived: dict[str, tuple[object, Any]] = {}

    def all(self, cls: type[T]) -> list[T]:
        """Every fact of type `cls`, in file order then source order."""
        return self._by_type.get(cls, [])  # type: ignore[return-value]

    def paths(self) -> Iterable[str]:
        return (f.path for f in self.files)

    def unit_of(self, path: str) -> str:
        """The deployable unit a file belongs to: the closest folder above it (or its own)
        that holds a `pyproject.toml`, `setup.py`, `setup.cfg` or a Dockerfile; "" (the scan
        root) when none does. Pins are compared only within one unit (SAI104)."""
        roots = self.derived("unit-roots", None, self._unit_roots)
        folder = path.rpartition("/")[0]
        while folder and folder not in roots:
            folder = folder.rpartition("/")[0]
        return folder

    def _unit_roots(self) -> frozenset[str]:
        return frozenset(
            f.path.rpartition("/")[0]
            for f in self.files
            if f.kind == "dockerfile" or f.path.rpartition("/")[2] in _UNIT_MARKERS
        )

    def derived(self, key: str, policy: object, build: Callable[[], T]) -> T:
        """A view computed from the facts and the policy (the AI workloads, the AI services),
        built once per scan and shared by every check that asks for it.

        Why: a dozen checks ask for the same views; rebuilding them per check cost more than
        the checks themselves on a 2,000-service repository."""
        hit = self._derived.get(key)
        if hit is not None and hit[0] is policy:
            return hit[1]
        value = build()
        self._derived[key] = (policy, value)
        return value
