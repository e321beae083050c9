"""Shared helpers: write a small repo to a temp folder and scan it."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import textwrap
from pathlib import Path

import pytest

from safeai_lint.engine import Result, lint

# The CLI keeps a cache of parsed files in the user's cache folder: never the developer's own
# during tests. One folder for the session (and the subprocesses it starts), so that repeated
# scans of the same fixture also run the cached path and must give the same findings.
os.environ["SAFEAI_LINT_CACHE_DIR"] = tempfile.mkdtemp(prefix="safeai-lint-test-cache-")
atexit.register(shutil.rmtree, os.environ["SAFEAI_LINT_CACHE_DIR"], True)


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n") if content.startswith("\n") else content, encoding="utf-8")
    return root


def scan(root: Path, files: dict[str, str | bytes] | None = None, **kwargs) -> Result:
    """Write `files` under `root` (a non-git temp folder) and lint it."""
    if files:
        write_tree(root, files)
    return lint([str(root)], cwd=root, **kwargs)


def hits(result: Result, rule: str | None = None) -> set[tuple[str, str, int]]:
    """(rule, path, line) of every finding, or of one rule's."""
    return {(f.rule, f.location.path, f.location.line) for f in result.findings if rule is None or f.rule == rule}


@pytest.fixture
def repo(tmp_path: Path):
    def _scan(files: dict[str, str | bytes], **kwargs) -> Result:
        return scan(tmp_path, files, **kwargs)

    return _scan
