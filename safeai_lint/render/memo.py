"""Renderings kept between runs: a chart or overlay is rendered again only when a file of it
(or a values file, or the renderer) changed.

The key is a digest of everything the renderer reads: the bytes and paths of the sanitised
copy, the values passed, the renderer program and its size and time. The entry is the
renderer's text output, kept as JSON in the cache folder (never in the scanned repository).
Failures from our own caps are not kept: the next run may have more time.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

_VERSION = "render-1"


def tree_digest(folder: Path) -> str:
    """A digest of the paths and bytes of every file below `folder`."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode("utf-8", "surrogateescape") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def program_stamp(program: str) -> str:
    """Which renderer: its path, size and modification time (an upgrade changes the key)."""
    try:
        info = os.stat(program)
    except OSError:
        return program
    return f"{program}:{info.st_size}:{info.st_mtime_ns}"


def key(*parts: str) -> str:
    return hashlib.sha256("\0".join((_VERSION, *parts)).encode("utf-8", "surrogateescape")).hexdigest()


class Memo:
    def __init__(self, directory: Path | None) -> None:
        self.directory = directory / "render" if directory is not None else None

    def get(self, name: str) -> object | None:
        if self.directory is None:
            return None
        try:
            return json.loads((self.directory / name[:2] / f"{name}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, name: str, value: object) -> None:
        if self.directory is None:
            return
        folder = self.directory / name[:2]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            temp = folder / f".{name}.{os.getpid()}"
            temp.write_text(json.dumps(value), encoding="utf-8")
            os.replace(temp, folder / f"{name}.json")
        except OSError:
            pass  # a cache that cannot be written only costs time
