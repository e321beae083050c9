"""SAI005: the policy's own version-lock table against compatibility facts (rules/compat.yaml).

A lock table that no real install can satisfy (torch 2.4 with triton 2.1, CUDA 12.4 with a
535 driver) makes every repository fail SAI101 or, worse, makes teams pin something that
cannot run. Only contradictions the data proves are reported; unknown versions are skipped.
"""
from __future__ import annotations

import functools
import json
import re
from typing import Any, Iterator, Mapping

from ..catalog import rules_dir
from ..facts import Location, PolicySource
from ..findings import Finding
from ..policy import Policy
from ..project import Project
from . import Check

BUILTIN_POLICY = "rules/policy.yaml"


@functools.cache
def compat() -> Mapping[str, Any]:
    # rules/compat.json: the YAML's twin, kept equal by a test (scripts/rules_json.py says why)
    data = json.loads((rules_dir() / "compat.json").read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


@functools.cache
def builtin_lines() -> dict[str, int]:
    """Line of each version-lock key in the built-in policy, for findings about it."""
    from ..sources.yaml import parse_documents

    docs, _ = parse_documents((rules_dir() / "policy.yaml").read_text(encoding="utf-8"))
    raw = docs[0].value if docs else None
    table = raw.get("version-lock") if hasattr(raw, "get") else None
    if not hasattr(table, "key_pos"):
        return {}
    return {str(k): table.key_pos(k)[0] for k in table}


def _release(text: Any) -> tuple[int, ...] | None:
    """Release numbers of a version string, local part dropped ("2.1.0+cu121" -> (2, 1, 0))."""
    if not isinstance(text, str):
        return None
    match = re.fullmatch(r"v?(\d+(?:\.\d+)*)(?:[.-]?(?:a|b|rc|post|dev)\d*)*(?:\+[A-Za-z0-9.]+)?", text.strip())
    return tuple(int(p) for p in match.group(1).split(".")) if match else None


def _show(release: tuple[int, ...]) -> str:
    return ".".join(map(str, release))


def _minor_entry(table: Any, version: tuple[int, ...]) -> Any:
    """The entry of a table keyed by "major.minor" for `version` (needs two parts)."""
    if not isinstance(table, dict) or len(version) < 2:
        return None
    return table.get(_show(version[:2]))


def _below(version: tuple[int, ...], minimum: tuple[int, ...]) -> bool:
    """Is every release the lock value admits below `minimum`? A shorter lock value is a
    prefix ("535" admits 535.104.05), so it is compared on its own length only."""
    return version < minimum[: len(version)] if len(version) < len(minimum) else version < minimum


class _Judge:
    def __init__(self, lock: Mapping[str, Any], where: Mapping[str, Location]) -> None:
        self.lock = lock
        self.where = where
        self.data = compat()

    def version(self, key: str) -> tuple[int, ...] | None:
        return _release(self.lock.get(key)) if key in self.lock else None

    def finding(self, keys: tuple[str, str], message: str, table: str) -> Finding:
        """Reported at the first of `keys` the user's config writes (the dependent one
        first: triton follows torch), else at the first key's line in the built-in policy:
        a torch bump that leaves the built-in triton behind is the torch line's fault."""
        source = (self.data.get(table) or {}).get("source", "rules/compat.yaml")
        key = next((k for k in keys if k in self.where), keys[0])
        loc = self.where.get(key) or Location(BUILTIN_POLICY, builtin_lines().get(key, 1))
        return Finding("SAI005", f"{message} (source: {source})", loc, subject=key)

    def torch_triton(self) -> Iterator[Finding]:
        torch, triton = self.version("torch"), self.version("triton")
        pairs = (self.data.get("torch-triton") or {}).get("pairs")
        want = _release(_minor_entry(pairs, torch)) if torch and triton else None
        # compared on major.minor: torch 2.3.1 pins triton 2.3.1 where 2.3.0 pins 2.3.0
        span = min(2, len(triton)) if triton else 0
        if want and triton[:span] != want[:span]:
            yield self.finding(("triton", "torch"), f"version-lock pairs torch {self.lock['torch']} with triton {self.lock['triton']}, but torch {_show(torch[:2])} is built against triton {_show(want)}", "torch-triton")

    def torch_python(self) -> Iterator[Finding]:
        torch, python = self.version("torch"), self.version("python")
        minors = (self.data.get("torch-python") or {}).get("minors")
        supported = _minor_entry(minors, torch) if torch and python and len(python) >= 2 else None
        if isinstance(supported, list) and _show(python[:2]) not in supported:
            yield self.finding(("python", "torch"), f"version-lock sets python {self.lock['python']}, but torch {_show(torch[:2])} ships wheels only for Python {', '.join(supported)}", "torch-python")

    def torch_cuda(self) -> Iterator[Finding]:
        torch, cuda = self.version("torch"), self.version("cuda")
        majors = (self.data.get("torch-cuda") or {}).get("majors")
        built = _minor_entry(majors, torch) if torch and cuda else None
        if isinstance(built, list) and str(cuda[0]) not in built:
            yield self.finding(("cuda", "torch"), f"version-lock sets CUDA {self.lock['cuda']}, but torch {_show(torch[:2])} is built only for CUDA {' and '.join(m + '.x' for m in built)}", "torch-cuda")

    def cuda_driver(self) -> Iterator[Finding]:
        cuda, driver = self.version("cuda"), self.version("cuda-driver")
        minimum = (self.data.get("cuda-driver") or {}).get("minimum")
        if not cuda or not driver or len(cuda) < 2 or not isinstance(minimum, dict):
            return
        toolkit = cuda[:3] if len(cuda) >= 3 else (*cuda[:2], 0)
        need = _release(minimum.get(_show(toolkit)))
        if need and _below(driver, need):
            which = "GA release" if len(cuda) < 3 else "release"
            yield self.finding(("cuda-driver", "cuda"), f"version-lock sets driver {self.lock['cuda-driver']}, but the CUDA {_show(toolkit)} {which} needs a Linux driver >= {_show(need)}", "cuda-driver")

    def transformers(self) -> Iterator[Finding]:
        version = self.version("transformers")
        since = (self.data.get("transformers") or {}).get("since")
        if not version or not isinstance(since, dict):
            return
        entries = sorted((r, v) for k, v in since.items() if (r := _release(k)) and isinstance(v, dict))
        applying = [v for r, v in entries if r <= version + (0,) * max(0, len(r) - len(version))]
        if not applying:
            return
        needs = applying[-1]
        for key, label in (("torch", "torch"), ("python", "Python")):
            have, need = self.version(key), _release(needs.get(key))
            if have and need and _below(have, need):
                yield self.finding(("transformers", key), f"version-lock sets transformers {self.lock['transformers']}, which needs {label} >= {_show(need)}, but {key} is locked at {self.lock[key]}", "transformers")


def judge_lock(lock: Mapping[str, Any], where: Mapping[str, Location] | None = None) -> list[Finding]:
    """Every contradiction between a version-lock table and the compatibility data."""
    if not isinstance(lock, Mapping):
        return []
    judge = _Judge(lock, where or {})
    return [*judge.torch_triton(), *judge.torch_python(), *judge.torch_cuda(), *judge.cuda_driver(), *judge.transformers()]


def config_locations(project: Project, lock: Mapping[str, Any]) -> dict[str, Location]:
    """Where the scanned tree's config files write each lock key with the value in force.
    A config file may sit in a sub-project or a fixture, so a key counts only when the value
    written there is the one the policy holds; the shallowest such file wins."""
    sources = sorted(project.all(PolicySource), key=lambda s: (s.path.count("/"), s.path))
    where: dict[str, Location] = {}
    for source in sources:
        for key, value, loc in source.version_lock:
            if key not in where and key in lock and str(lock[key]) == value:
                where[key] = loc
    return where


def check_coherence(project: Project, policy: Policy, where: Mapping[str, Location] | None = None) -> Iterator[Finding]:
    lock = policy.get("version-lock") or {}
    if not isinstance(lock, Mapping):
        return
    located = config_locations(project, lock)
    located.update(where or {})
    yield from judge_lock(lock, located)


CHECKS = (Check(("SAI005",), check_coherence),)
