"""Which findings `--fix` would fix: each finding's fixer tried alone on its file's text.

Reporters show the count (`[*] N fixable with the --fix option`) and `--fix` reports the
findings it fixed; neither opens files, so the CLI asks this module. Nothing is written.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from .findings import Finding


def fixable_findings(findings: Iterable[Finding], read_text: Callable[[str], str], policy) -> frozenset[Finding]:  # noqa: ANN001 - Policy
    """The findings whose fixer changes their file when applied alone. A file that cannot be
    read, or a fixer that fails, makes its findings not fixable."""
    from .catalog import all_rules

    rules = all_rules()
    # only rules whose doc has a `fix:` section have fixers (a test keeps the two in step);
    # importing the fixers costs ~0.1 s, so a scan without such findings never does
    candidates = [f for f in findings if f.rule in rules and rules[f.rule].fix]
    if not candidates:
        return frozenset()
    from .fixes import fixer_for

    texts: dict[str, str | None] = {}
    fixable = set()
    for finding in candidates:
        fixer = fixer_for(finding)
        if fixer is None:
            continue
        path = finding.location.path
        if path not in texts:
            try:
                texts[path] = read_text(path)
            except (OSError, UnicodeDecodeError, ValueError):
                texts[path] = None
        text = texts[path]
        if text is None:
            continue
        try:
            new = fixer(text, finding, policy)
        except Exception:  # noqa: BLE001 - an odd file is just not fixable
            new = None
        if new is not None and new != text:
            fixable.add(finding)
    return frozenset(fixable)


def reader(root: str | Path) -> Callable[[str], str]:
    """Read a repo-relative file under `root` as UTF-8 (what the fixers expect)."""
    base = Path(root)

    def read(rel: str) -> str:
        return (base / rel).read_bytes().decode("utf-8")

    return read


def fixed_count(before: Iterable[Finding], after: Iterable[Finding], changed: Iterable[str]) -> int:
    """How many findings `--fix` removed: findings in the changed files before the fixes
    minus those still there after (the rescan), never below zero."""
    files = set(changed)
    was = sum(1 for f in before if f.location.path in files)
    now = sum(1 for f in after if f.location.path in files)
    return max(was - now, 0)
