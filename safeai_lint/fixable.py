"""`--fix` from the CLI's side: which findings a fix would fix (each finding's fixer tried
alone on its file's text), applying the fixes, and counting the findings they fixed.

Reporters show the count (`[*] N fixable with the --fix option`) and `--fix` reports the
findings it fixed; neither opens files, so the CLI asks this module.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from .findings import Finding


def fixable_findings(findings: Iterable[Finding], read_text: Callable[[str], str], policy) -> frozenset[Finding]:  # noqa: ANN001 - Policy
    """The findings whose fixer changes their file when applied alone. A file that cannot be
    read, or a fixer that fails, makes its findings not fixable."""
    findings = list(findings)
    if not findings:
        return frozenset()
    from .fixes import fixable_rules, fixer_for  # the registry: each fixer module loads when tried

    rules = fixable_rules()
    candidates = [f for f in findings if f.rule in rules]
    if not candidates:
        return frozenset()

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


def apply_fixes(findings: Iterable[Finding], root: str | Path, policy, preview: bool) -> frozenset[str]:  # noqa: ANN001 - Policy
    """Write the safe fixes (with `preview`, print them to stdout as a unified diff and
    write nothing); returns the files they change."""
    import sys

    from .fixes import plan_fixes, render_diff

    read = reader(root)
    planned = plan_fixes(findings, read, policy)
    if preview:
        sys.stdout.write(render_diff(planned, read))
        return frozenset(planned)
    base = Path(root)
    for rel, text in sorted(planned.items()):
        (base / rel).write_bytes(text.encode("utf-8"))
    return frozenset(planned)
