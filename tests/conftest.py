"""Shared helpers: write a small repo to a temp folder and scan it."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from safeai_lint.engine import Result, lint


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
