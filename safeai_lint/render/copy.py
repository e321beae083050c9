"""A sanitised copy of a chart or overlay folder, the only thing a renderer ever reads.

Helm's loader and kustomize follow symlinks; the copy has none. A symlink that stays inside
the repository is copied as what it points at; one that leads outside (or a loop) refuses
the whole copy, and the refusal names the link (a path in the repository), never its target.
No byte of a file outside the repository is read.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

MAX_COPY_BYTES = 64 * 1024 * 1024
MAX_COPY_FILES = 20_000
_SKIP = {".git", ".hg", ".svn", "node_modules", "__pycache__"}


@dataclass(frozen=True)
class Refusal:
    path: str  # relative to the scan root
    why: str


def inside_root(root: Path, path: Path) -> bool:
    try:
        real = path.resolve(strict=False)
    except (OSError, RuntimeError):
        return False
    return real == root or root in real.parents


def copy_folder(root: Path, source: Path, dest: Path, recursive: bool = True) -> Refusal | None:
    """Copy `source` (inside `root`) to `dest`, dereferencing in-repo symlinks; None on success.
    Not `recursive`: the files of `source` only."""
    budget = [MAX_COPY_BYTES, MAX_COPY_FILES]
    return _copy(root, source, dest, budget, depth=0 if recursive else -1)


def _rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def _copy(root: Path, source: Path, dest: Path, budget: list[int], depth: int) -> Refusal | None:
    if depth > 40:
        return Refusal(_rel(root, source), "folders nested too deep (a symlink loop?); not rendered")
    dest.mkdir(parents=True, exist_ok=True)
    try:
        entries = sorted(os.scandir(source), key=lambda e: e.name)
    except OSError as exc:
        return Refusal(_rel(root, source), f"cannot read folder: {exc.strerror or exc}")
    for entry in entries:
        if entry.name in _SKIP:
            continue
        path = Path(entry.path)
        if entry.is_symlink() and not inside_root(root, path):
            return Refusal(_rel(root, path), "is a symlink that leads outside the repository; not rendered")
        target = dest / entry.name
        try:
            is_dir = entry.is_dir()  # follows an in-repo symlink
            is_file = entry.is_file()
        except OSError:
            continue
        if is_dir:
            if depth < 0:
                continue
            refused = _copy(root, path, target, budget, depth + 1)
            if refused:
                return refused
        elif is_file:
            try:
                size = path.stat().st_size
            except OSError:
                continue
            budget[0] -= size
            budget[1] -= 1
            if budget[0] < 0 or budget[1] < 0:
                return Refusal(_rel(root, source), f"folder is over the render size cap ({MAX_COPY_BYTES:,} bytes, {MAX_COPY_FILES:,} files); not rendered")
            shutil.copyfile(path, target, follow_symlinks=True)
        # FIFOs, sockets, devices: never opened, not copied
    return None


def reader(root: Path, cap: int = MAX_COPY_BYTES):
    """`read(rel)`: the text of a file of the repository ("" for a file that is missing, too
    big, not regular or reached through a symlink leading outside), read once."""
    cache: dict[str, str] = {}

    def read(rel: str) -> str:
        if rel not in cache:
            path = root / rel
            text = ""
            try:
                if inside_root(root, path) and path.is_file() and path.stat().st_size <= cap:
                    text = path.read_text(encoding="utf-8-sig", errors="replace")
            except OSError:
                text = ""
            cache[rel] = text
        return cache[rel]

    return read
