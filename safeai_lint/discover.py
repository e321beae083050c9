"""Which files to scan, and what kind each one is (by name, content decided later).

Inside a git work tree the file list comes from `git ls-files` (tracked and untracked but not
ignored), so .gitignore holds; elsewhere the tree is walked. Symlinks never lead out of the
scan root, and special files (FIFOs, devices) are never opened.
"""
from __future__ import annotations

import fnmatch
import os
import re
import stat
import subprocess
from pathlib import Path
from typing import Callable

from .records import Ordered, record

# A scanned repository's own .git/config must not run anything: no fsmonitor hook, no pager.
SAFE_GIT = ("-c", "core.fsmonitor=false", "-c", "core.pager=cat", "--no-pager")

# Directories never worth walking into.
PRUNED_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache", ".pytest_cache", ".ruff_cache", "site-packages"}

_NOT_DOCKERFILE = {"py", "pyc", "md", "rst", "txt", "json", "yaml", "yml", "toml", "sh", "go", "rs", "js", "ts", "j2", "jinja", "tpl", "template", "bak", "orig", "swp", "lock", "cfg", "ini", "sum", "mod"}
_LOCKFILES = {"poetry.lock", "uv.lock", "Pipfile.lock", "pdm.lock"}
_REQUIREMENTS = re.compile(r"(^|[-_.])(requirements|constraints|reqs)([-_.].*)?\.(txt|in|pip)$", re.I)


@record
class SourceFile(Ordered):
    rel: str  # POSIX path relative to the scan root; what every report shows
    path: str  # absolute path on disk ("-" for stdin)
    kind: str


def classify(rel: str) -> str | None:
    """The kind of a file by its path, or None when no rule reads such files."""
    *folders, name = rel.split("/")  # plain string work: this runs once per file of the tree
    lower = name.lower()
    if lower in ("dockerfile", "containerfile") or lower.endswith((".dockerfile", ".containerfile")):
        return "dockerfile"
    if lower.startswith(("dockerfile.", "containerfile.")) and lower.rsplit(".", 1)[-1] not in _NOT_DOCKERFILE:
        return "dockerfile"  # Dockerfile.gpu, Dockerfile.prod - but not dockerfile.py
    if name == "pyproject.toml":
        return "pyproject"
    if name == "Pipfile":
        return "pipfile"
    if name in _LOCKFILES:
        return "lockfile"
    if name == "setup.cfg":
        return "setup-cfg"
    if name == ".python-version":
        return "python-version"
    if name == "runtime.txt":
        return "runtime-txt"
    if _REQUIREMENTS.search(name) or (lower.endswith(".txt") and "requirements" in (f.lower() for f in folders)):
        return "requirements"
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    if lower.endswith(".py"):
        return "python"
    if lower.endswith(".toml"):
        return "toml"
    if lower.endswith(".json") and not lower.endswith((".ipynb", "package-lock.json")):
        return "json"
    if lower == "nginx.conf" or (lower.endswith(".conf") and "nginx" in rel.lower()):
        return "nginx"
    if lower.endswith(".sql"):
        return "sql"
    return None


def excluded(rel: str, patterns: tuple[str, ...], skip: int = 0) -> bool:
    """Does `rel` or one of its parent folders (deeper than the first `skip` parts) match an
    exclude glob? Globs are relative to the scan root; a bare name matches at any depth."""
    if not patterns:
        return False
    parts = rel.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(skip, len(parts))]
    for pattern in patterns:
        pat = pattern.strip().rstrip("/")
        anchored = pat.startswith("/")
        pat = pat.lstrip("/")
        for cand in candidates:
            if fnmatch.fnmatchcase(cand, pat):
                return True
            if not anchored and "/" not in pat and fnmatch.fnmatchcase(cand.rsplit("/", 1)[-1], pat):
                return True
    return False


# Environment variables that change where git finds a repository or its work tree: with any of
# them set, git itself is asked.
_GIT_LOCATORS = (
    "GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT",
)


def git_root(start: Path) -> Path | None:
    """The top of the git work tree holding `start`, or None. Asks git only when the answer is
    not plain from the folders themselves (`_plain_work_tree`): a `git` process costs ~3 ms of
    a pre-commit run, and none at all is started outside git."""
    folder = start if start.is_dir() else start.parent
    if any(name in os.environ for name in _GIT_LOCATORS):
        return _ask_git(folder)
    physical = os.path.realpath(folder)  # git walks up from the real folder, not a symlink's
    top = _dot_git_above(Path(physical))
    if top is None:
        return None
    if _plain_work_tree(physical, top):
        return Path(top).resolve()
    return _ask_git(folder)


def _ask_git(folder: Path) -> Path | None:
    try:
        out = subprocess.run(
            ["git", *SAFE_GIT, "rev-parse", "--show-toplevel"],
            cwd=folder, capture_output=True, text=True, timeout=20, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0 or not out.stdout.strip():
        return None
    return Path(out.stdout.strip()).resolve()


def _dot_git_above(folder: Path) -> str | None:
    """The closest folder at or above `folder` holding a `.git` (folder or link file)."""
    here = os.path.abspath(folder)
    while True:
        if os.path.lexists(os.path.join(here, ".git")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _plain_work_tree(folder: str, top: str) -> bool:
    """Would git report `top` for `folder`, by what git itself checks? Yes when `.git` is a
    folder that looks like a repository (HEAD, objects/, refs/; not the link file of a worktree
    or submodule, not a symlink), owned by this user like `top` (else git's safe.directory
    rules decide), on the filesystem of `folder` (git stops at a filesystem boundary),
    `folder` is not inside `.git`, and the repository's config could not move the work tree
    or change how git reads the repository: no `worktree`, no `bare` other than false, no
    `[include...]`, no `[extensions]`. Anything else: git is asked (`folder` is physical)."""
    dot = os.path.join(top, ".git")
    if not hasattr(os, "geteuid") or ".git" in os.path.relpath(folder, top).split(os.sep):
        return False
    try:
        info = os.stat(dot, follow_symlinks=False)
        if not stat.S_ISDIR(info.st_mode) or not os.path.isfile(os.path.join(dot, "HEAD")):
            return False
        if not (os.path.isdir(os.path.join(dot, "objects")) and os.path.isdir(os.path.join(dot, "refs"))):
            return False
        if info.st_uid != os.geteuid() or os.stat(top).st_uid != os.geteuid() or os.stat(folder).st_dev != info.st_dev:
            return False
        with open(os.path.join(dot, "config"), "rb") as handle:
            config = handle.read(1 << 20)
    except OSError:
        return False
    for line in config.lower().splitlines():
        words = line.split(b"#", 1)[0].split(b";", 1)[0].strip()
        if b"worktree" in words or words.startswith((b"[include", b"[extensions")):
            return False
        if b"bare" in words and words.replace(b" ", b"").replace(b"\t", b"") != b"bare=false":
            return False
    return True


def _git_files(root: Path, folder: Path) -> list[str] | None:
    try:
        out = subprocess.run(
            ["git", *SAFE_GIT, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
            cwd=folder, capture_output=True, timeout=120, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    prefix = folder.relative_to(root).as_posix()
    names = out.stdout.decode("utf-8", "surrogateescape").split("\0")
    return sorted({(f"{prefix}/{n}" if prefix != "." else n) for n in names if n})


def _walk(root: Path, folder: Path) -> tuple[list[str], set[str]]:
    """Files below `folder` (paths relative to `root`, sorted) and which of them are symlinks.

    Like `os.walk(followlinks=False)`: a symlink to a folder is not entered, unreadable
    folders are skipped. Why not os.walk: it throws away the directory entries, whose cached
    file type answers "is this a symlink?" without one more system call per file.
    """
    found: list[str] = []
    links: set[str] = set()
    below = os.path.relpath(folder, root)  # string work: pathlib per file cost 1 s per 16,000 files
    pending = [(str(folder), "" if below == "." else below.replace(os.sep, "/") + "/")]
    while pending:
        path, prefix = pending.pop()
        try:
            with os.scandir(path) as entries:
                for entry in entries:
                    try:
                        is_dir = entry.is_dir()
                    except OSError:
                        is_dir = False
                    if is_dir:
                        if entry.name not in PRUNED_DIRS and not entry.is_symlink():
                            pending.append((entry.path, prefix + entry.name + "/"))
                        continue
                    found.append(prefix + entry.name)
                    if entry.is_symlink():
                        links.add(prefix + entry.name)
        except OSError:
            continue
    found.sort()
    return found, links


def inside(root: Path, path: Path) -> bool:
    """Does `path`, symlinks resolved, stay within `root`?"""
    try:
        real = path.resolve(strict=False)
    except (OSError, RuntimeError):  # symlink loop
        return False
    return real == root or root in real.parents


def discover(
    root: Path, targets: list[Path], exclude: tuple[str, ...] | Callable[[str, int], bool], use_git: bool,
) -> list[SourceFile]:
    """Files under `targets` (folders or files, all inside `root`) that some rule reads.

    A target named explicitly is scanned even if an exclude pattern matches it; files found
    by walking a folder are excluded when their path below that folder matches. `exclude`:
    globs, or a test `(rel, skip)` such as `ConfigTree.excluded` (nested configs).
    """
    is_excluded = exclude if callable(exclude) else (lambda rel, skip: excluded(rel, exclude, skip))
    files: dict[str, SourceFile] = {}
    for target in targets:
        if target.is_dir() and not target.is_symlink():
            target_rel = "" if target == root else target.relative_to(root).as_posix()
            listed = (_git_files(root, target) if use_git else None)
            links: set[str] | None = None  # git does not say which files are symlinks
            if listed is None:
                listed, links = _walk(root, target)
            for rel in listed:
                below = rel[len(target_rel) + 1 :] if target_rel else rel
                if any(part in PRUNED_DIRS for part in below.split("/")[:-1]):
                    continue
                if is_excluded(rel, len(target_rel.split("/")) if target_rel else 0):
                    continue
                kind = classify(rel)
                if kind is None:
                    continue
                full = os.path.join(root, rel)
                if (rel in links if links is not None else os.path.islink(full)) and not inside(root, Path(full)):
                    continue
                files[rel] = SourceFile(rel, full, kind)
        else:
            rel = target.relative_to(root).as_posix() if target != root else target.name
            kind = classify(rel) or "unknown"
            files[rel] = SourceFile(rel, str(target), kind)
    return sorted(files.values())
