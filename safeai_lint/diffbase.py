"""`--diff-base REF`: keep only findings on lines added or changed since REF.

The scan itself always covers the whole tree (cross-file rules need it); only the reported
findings are narrowed. Git is run with a fixed argv and no shell; REF is first resolved to a
commit id with `rev-parse --verify`, so a REF that looks like an option is never passed on.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Mapping, Sequence

from .findings import Finding

# Rules that judge the repository as a whole: their location is only an anchor (the place a
# missing alert or metric is reported, one of two drifting pins), so the lines a change
# touched say nothing about them. They are computed on the whole tree and always kept.
REPO_LEVEL_RULES: frozenset[str] = frozenset({"SAI104", "SAI702", "SAI703"})

GIT_TIMEOUT = 60
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", '"': '"', "\\": "\\"}


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    try:
        return subprocess.run(
            ["git", "-c", "core.quotePath=false", "-c", "core.fsmonitor=false", "--no-pager", *args],
            cwd=root, capture_output=True, timeout=GIT_TIMEOUT, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None


def _unquote(path: str) -> str:
    """Git C-quotes paths with special characters ("a\\tb.txt"); undo it."""
    if not (len(path) >= 2 and path[0] == '"' and path[-1] == '"'):
        return path
    body, out, i = path[1:-1], bytearray(), 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if re.fullmatch(r"[0-7]{3}", body[i + 1 : i + 4]):
                out.append(int(body[i + 1 : i + 4], 8))
                i += 4
                continue
            out += _ESCAPES.get(nxt, nxt).encode()
            i += 2
            continue
        out += char.encode()
        i += 1
    return out.decode("utf-8", errors="replace")


def parse_unified_diff(text: str) -> dict[str, set[int]]:
    """Lines of the new side that a `--unified=0` diff adds or changes, per file.

    A pure deletion (`+c,0`) marks the lines on both sides of the cut (c and c+1): removing a
    flag or a key can create a finding on its neighbour, and that finding belongs to the
    change.
    """
    changed: dict[str, set[int]] = {}
    current: set[int] | None = None
    for line in text.splitlines():
        if line.startswith("+++ "):
            target = line[4:].rstrip("\t")
            if target == "/dev/null":
                current = None
            else:
                target = _unquote(target)
                current = changed.setdefault(target[2:] if target.startswith("b/") else target, set())
            continue
        match = _HUNK.match(line)
        if match and current is not None:
            start = int(match.group(1))
            count = int(match.group(2)) if match.group(2) is not None else 1
            if count:
                current.update(range(start, start + count))
            else:
                current.update(n for n in (start, start + 1) if n >= 1)
    return changed


def _line_count(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            data = handle.read()
    except OSError:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)


def changed_lines(root: str | Path, ref: str) -> dict[str, set[int]] | None:
    """Changed lines per repo-relative path since REF (from the merge base of REF and HEAD
    when there is one, so that commits made on REF's branch meanwhile are not blamed on this
    change); untracked, not ignored files count as wholly changed. None when `root` is not in
    a git repository or REF does not name a commit (e.g. a shallow clone without it)."""
    root = Path(root)
    if not ref or ref.startswith("-") or "\0" in ref:
        return None
    verified = _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    if verified is None or verified.returncode != 0:
        return None
    base = verified.stdout.decode().strip()
    merge = _git(root, "merge-base", base, "HEAD")
    if merge is not None and merge.returncode == 0 and merge.stdout.strip():
        base = merge.stdout.decode().strip()
    # --relative: paths relative to (and limited to) root, whatever the repository top is
    diff = _git(root, "diff", "--unified=0", "--no-color", "--no-ext-diff", "--no-textconv", "--relative", base, "--")
    if diff is None or diff.returncode != 0:
        return None
    changed = parse_unified_diff(diff.stdout.decode("utf-8", errors="replace"))
    untracked = _git(root, "ls-files", "-z", "--others", "--exclude-standard")
    if untracked is not None and untracked.returncode == 0:
        for raw in untracked.stdout.split(b"\0"):
            if raw:
                rel = raw.decode("utf-8", errors="replace")
                changed[rel] = set(range(1, _line_count(root / rel) + 1)) or {1}
    return changed


def on_changed_lines(finding: Finding, changed: Mapping[str, set[int]]) -> bool:
    lines = changed.get(finding.location.path)
    if not lines:
        return False
    loc = finding.location
    return any(n in lines for n in range(loc.line, max(loc.end_line, loc.line) + 1))


def filter_findings(
    findings: Sequence[Finding],
    changed: Mapping[str, set[int]],
    repo_level: frozenset[str] = REPO_LEVEL_RULES,
) -> list[Finding]:
    """Findings of repo-level rules, and the others whose span touches a changed line."""
    return [f for f in findings if f.rule in repo_level or on_changed_lines(f, changed)]
