"""Extractors: parse trees to facts, one module per surface.

An extractor is `fn(source: SourceText) -> Iterable[fact]`. `extractors_for(kind)` lists the
extractors that read a file kind; each gets the same `SourceText`, so a file is parsed once.
"""
from __future__ import annotations

from typing import Callable, Iterable

from ..sources.base import SourceText

Extractor = Callable[[SourceText], Iterable[object]]


def extractors_for(kind: str) -> tuple[Extractor, ...]:
    from . import python_deps

    table: dict[str, tuple[Extractor, ...]] = {
        "requirements": (python_deps.requirements,),
        "pyproject": (python_deps.pyproject,),
        "pipfile": (python_deps.pipfile,),
        "setup-cfg": (python_deps.setup_cfg,),
        "python-version": (python_deps.python_version_file,),
        "runtime-txt": (python_deps.runtime_txt,),
        "lockfile": (python_deps.lockfile,),
        "yaml": (python_deps.yaml_surfaces,),
    }
    return table.get(kind, ())
