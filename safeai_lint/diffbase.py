"""`--diff-base REF`: report what the change since REF introduces.

Kept: findings on lines added or changed since REF, and any other finding that a scan of REF's
own tree does not have (compared by the parts of the baseline fingerprint, see `_new`). Findings of repository-level rules point at
an anchor, not at the line that caused them, so they are kept only when new. So a clean tree
reports nothing, and a change that breaks a rule elsewhere (drift, a missing alert) is seen.

The scan itself always covers the whole tree (cross-file rules need it); only the reported
findings are narrowed. REF's tree is read through git (`ls-tree`, `cat-file`) into a temporary
folder, never checked out over the work tree. Git is run with a fixed argv and no shell; REF
is first resolved to a commit id with `rev-parse --verify`, so a REF that looks like an option
is never passed on.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import Callable, Collection, Mapping, Sequence

from .config import CONFIG_NAMES
from .discover import classify
from .findings import Finding

# Rules that judge the repository as a whole: their location is only an anchor (the place a
# missing alert or metric is reported, one of two drifting pins, two disagreeing embedding
# dimensions), so the lines a change touched say nothing about them. They are kept when REF's
# tree does not have them, wherever they point.
REPO_LEVEL_RULES: frozenset[str] = frozenset({"SAI104", "SAI702", "SAI703", "SAI802"})

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


def base_commit(root: str | Path, ref: str) -> str | None:
    """The commit REF's change is measured from: the merge base of REF and HEAD when there is
    one (so commits made on REF's branch meanwhile are not blamed on this change), else REF.
    None when `root` is not in a git repository or REF does not name a commit."""
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
    return base


def changed_lines(root: str | Path, ref: str) -> dict[str, set[int]] | None:
    """Changed lines per repo-relative path since REF (from the merge base of REF and HEAD
    when there is one, so that commits made on REF's branch meanwhile are not blamed on this
    change); untracked, not ignored files count as wholly changed. None when `root` is not in
    a git repository or REF does not name a commit (e.g. a shallow clone without it)."""
    root = Path(root)
    base = base_commit(root, ref)
    if base is None:
        return None
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


Identity = tuple[str, str, str, str]  # rule, path, flagged line text, message (digits masked)


def identities(findings: Sequence[Finding]) -> list[Identity]:
    """What says a finding is one REF's tree had: the parts of its baseline fingerprint (rule,
    file, the flagged line's text with whitespace collapsed, the message with digits masked),
    without the occurrence number (`introduced` counts)."""
    return [
        (f.rule, f.location.path, " ".join(f.snippet.split()), re.sub(r"\d+", "#", f.message))
        for f in findings
    ]


def _new(findings: Sequence[Finding], before: Collection[Identity]) -> list[bool]:
    """Which findings REF's scan does not have. First an exact match; then a finding whose
    message changed matches a leftover of REF's on the same rule, file and line text (SAI104
    names the other pins, so a third pin changes the message of the first two), one for one:
    three SAI702 on one anchor where REF had two make exactly one new, the one whose message
    REF did not have."""
    left = Counter(before)
    keys = identities(findings)
    new = [True] * len(findings)
    for i, key in enumerate(keys):
        if left[key] > 0:
            left[key] -= 1
            new[i] = False
    loose = Counter()
    for key, count in left.items():
        loose[key[:3]] += count
    for i, key in enumerate(keys):
        if new[i] and loose[key[:3]] > 0:
            loose[key[:3]] -= 1
            new[i] = False
    return new


def introduced(
    findings: Sequence[Finding],
    changed: Mapping[str, set[int]],
    before: Collection[Identity],
    repo_level: frozenset[str] = REPO_LEVEL_RULES,
) -> list[Finding]:
    """What the change introduces: findings (not of repo-level rules) whose span touches a
    changed line, and every finding REF's scan (`before`, its identities) does not have."""
    ordered = sorted(findings, key=Finding.sort_key)
    return [
        f for f, new in zip(ordered, _new(ordered, before))
        if new or (f.rule not in repo_level and on_changed_lines(f, changed))
    ]


# --- REF's tree, read through git ---------------------------------------------------------


def ref_identities(
    root: str | Path, ref: str, paths: Sequence[str], scan: Callable[[list[str], Path], Sequence[Finding]],
) -> list[Identity] | None:
    """Identities of the findings that `scan(paths, tree)` gives on REF's tree (exported to a
    temporary folder, same paths below it as below `root`); None when git cannot tell."""
    root = Path(root)
    with tempfile.TemporaryDirectory(prefix="safeai-lint-ref-") as tmp:
        tree = Path(tmp)
        if not export_tree(root, ref, tree):
            return None
        mapped = []
        for path in paths:
            named = Path(os.path.abspath(path))
            rel = os.path.relpath(named.parent.resolve() / named.name if named.name else named.resolve(), root)
            if rel == "." or not rel.startswith(".."):
                if os.path.lexists(tree / rel):
                    mapped.append(str(tree / rel))
        return identities(scan(mapped, tree)) if mapped else []


def _tree_entries(root: Path, commit: str) -> list[tuple[str, str]] | None:
    """(blob id, path below `root`) of each regular file of `commit`'s tree under `root`."""
    prefix = _git(root, "rev-parse", "--show-prefix")
    if prefix is None or prefix.returncode != 0:
        return None
    below = prefix.stdout.decode("utf-8", "surrogateescape").strip().rstrip("/")
    listing = _git(root, "ls-tree", "-r", "-z", "--full-tree", f"{commit}:{below}" if below else commit)
    if listing is None or listing.returncode != 0:
        return [] if below else None  # the folder did not exist at REF: an empty tree
    entries = []
    for record in listing.stdout.split(b"\0"):
        head, _, raw = record.partition(b"\t")
        fields = head.split()
        if len(fields) != 3 or fields[0] not in (b"100644", b"100755") or fields[1] != b"blob":
            continue  # symlinks and submodules are not exported
        path = raw.decode("utf-8", "surrogateescape")
        parts = PurePosixPath(path).parts
        if not parts or path.startswith("/") or any(p in ("", ".", "..", ".git") for p in parts):
            continue
        entries.append((fields[2].decode(), path))
    return entries


def export_tree(root: str | Path, ref: str, dest: Path) -> bool:
    """Write the files of the tree REF's change starts from (see `base_commit`), below `root`,
    into the empty folder `dest`: the files some rule or config reads with their content, the
    others empty (a waiver's `report:` only has to exist). False when git cannot tell."""
    root = Path(root)
    base = base_commit(root, ref)
    entries = _tree_entries(root, base) if base else None
    if entries is None:
        return False
    wanted = [(oid, path) for oid, path in entries if classify(path) or path.rsplit("/", 1)[-1] in CONFIG_NAMES]
    for _, path in entries:
        (dest / path).parent.mkdir(parents=True, exist_ok=True)
        (dest / path).touch()
    return _write_blobs(root, wanted, dest)


def _write_blobs(root: Path, wanted: list[tuple[str, str]], dest: Path) -> bool:
    """Stream the blobs through one `git cat-file --batch` (fed from a thread, so neither pipe
    can fill up and stall the other)."""
    try:
        proc = subprocess.Popen(
            ["git", "-c", "core.fsmonitor=false", "--no-pager", "cat-file", "--batch"],
            cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
    except OSError:
        return False
    assert proc.stdin is not None and proc.stdout is not None

    def feed() -> None:
        try:
            proc.stdin.write(b"".join(f"{oid}\n".encode() for oid, _ in wanted))
            proc.stdin.close()
        except OSError:
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    ok = True
    try:
        for oid, path in wanted:
            header = proc.stdout.readline().split()
            if len(header) != 3 or header[0].decode() != oid:
                ok = False
                break
            data = proc.stdout.read(int(header[2]))
            proc.stdout.read(1)  # the newline after each object
            (dest / path).write_bytes(data)
    finally:
        proc.stdout.close()
        proc.kill()
        proc.wait(timeout=GIT_TIMEOUT)
        feeder.join(timeout=GIT_TIMEOUT)
    return ok

