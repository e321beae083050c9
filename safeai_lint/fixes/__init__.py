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
import importlib
from typing import Callable, Iterable, Mapping

from ..discover import classify
from ..findings import Finding
from ..policy import Policy

# (file text, finding, policy) -> the new text, or None when it cannot be fixed safely
Fixer = Callable[[str, Finding, Policy], "str | None"]

# --- registry -----------------------------------------------------------------------------

LOCK_RULES = ("SAI101", "SAI102")  # pins to the lock table
SERVING_RULES = ("SAI307", "SAI501", "SAI502")  # VRAM fraction and token caps in serving args

# file kind -> (module of this package, its function, the rules it fixes). A module is imported
# only when a finding in a file of its kind is tried: the YAML fixers load ruamel.yaml and the
# serving extractors, the text fixers packaging's requirement parser (a one-Dockerfile
# pre-commit run with a fixable finding paid ~25 ms for fixers it did not use).
FIXERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "requirements": ("text", "fix_requirements", LOCK_RULES),
    "pyproject": ("toml", "fix_pyproject", LOCK_RULES),
    "dockerfile": ("text", "fix_dockerfile", LOCK_RULES),
    "python-version": ("text", "fix_python_version", LOCK_RULES),
    "runtime-txt": ("text", "fix_runtime_txt", LOCK_RULES),
    "yaml": ("yaml", "fix_serving_yaml", SERVING_RULES),
}


def fixer_for(finding: Finding) -> Fixer | None:
    entry = FIXERS.get(classify(finding.location.path) or "")
    if entry is None or finding.rule not in entry[2]:
        return None
    module, function, _ = entry
    return getattr(importlib.import_module(f".{module}", __name__), function)


def fixable_rules() -> frozenset[str]:
    """Rules with a fixer for at least one kind of file (rule docs say so)."""
    return frozenset(rule for _, _, rules in FIXERS.values() for rule in rules)


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
