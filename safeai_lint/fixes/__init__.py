"""`--fix`: safe mechanical fixes, computed as new file text (this package never writes).

A finding says where and what, not how to edit; each fixer re-reads the flagged line (or the
TOML item on it) and rewrites it only when the reading is unambiguous. Anything unexpected
(a `--hash`, a line continuation, a local build label, a variable, a second match) means no
fix: the finding stays for a person to handle. Fixers are registered per file kind and rule
in `FIXERS`, so YAML fixers (SAI307, SAI501, SAI502 with a round-trip editor) plug in the
same way.
"""
from __future__ import annotations

import difflib
from typing import Callable, Iterable, Mapping

from ..discover import classify
from ..findings import Finding
from ..policy import Policy
from .text import LOCK_RULES, Fixer, fix_dockerfile, fix_python_version, fix_requirements, fix_runtime_txt
from .yaml import RULES as SERVING_RULES, fix_serving_yaml


# --- registry -----------------------------------------------------------------------------


def _pyproject(text: str, finding: Finding, policy: Policy) -> str | None:
    from .toml import fix_pyproject  # tomlkit only when a pyproject needs fixing

    return fix_pyproject(text, finding, policy)


FIXERS: dict[str, dict[str, Fixer]] = {
    "requirements": {rule: fix_requirements for rule in LOCK_RULES},
    "pyproject": {rule: _pyproject for rule in LOCK_RULES},
    "dockerfile": {rule: fix_dockerfile for rule in LOCK_RULES},
    "python-version": {rule: fix_python_version for rule in LOCK_RULES},
    "runtime-txt": {rule: fix_runtime_txt for rule in LOCK_RULES},
    "yaml": {rule: fix_serving_yaml for rule in SERVING_RULES},
}


def fixer_for(finding: Finding) -> Fixer | None:
    return FIXERS.get(classify(finding.location.path) or "", {}).get(finding.rule)


def fixable_rules() -> frozenset[str]:
    """Rules with a fixer for at least one kind of file (rule docs say so)."""
    return frozenset(rule for table in FIXERS.values() for rule in table)


def plan_fixes(findings: Iterable[Finding], read_text: Callable[[str], str], policy: Policy) -> dict[str, str]:
    """The new text of every file a fix changes, by repo-relative path.

    Fixes of one file are applied bottom-up, so an edit that adds or removes lines never
    moves a finding not yet fixed. A file that cannot be read, or a fixer that fails, is
    skipped: a fix is a convenience, the finding still reports the problem.
    """
    by_path: dict[str, list[tuple[Finding, Fixer]]] = {}
    for finding in findings:
        fixer = fixer_for(finding)
        if fixer is not None:
            by_path.setdefault(finding.location.path, []).append((finding, fixer))
    planned: dict[str, str] = {}
    for path in sorted(by_path):
        try:
            original = read_text(path)
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        text = original
        items = sorted(by_path[path], key=lambda item: (item[0].location.line, item[0].location.column), reverse=True)
        for finding, fixer in items:
            try:
                new = fixer(text, finding, policy)
            except Exception:  # noqa: BLE001 - an odd file must not stop the other fixes
                new = None
            if new is not None:
                text = new
        if text != original:
            planned[path] = text
    return planned


def render_diff(planned: Mapping[str, str], read_text: Callable[[str], str]) -> str:
    """A unified diff of the planned fixes (`--fix --diff`), files in path order."""
    chunks: list[str] = []
    for path in sorted(planned):
        before = read_text(path).splitlines(keepends=True)
        after = planned[path].splitlines(keepends=True)
        for line in difflib.unified_diff(before, after, f"a/{path}", f"b/{path}"):
            chunks.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(chunks)
