"""Line fixes for SAI101/SAI102 in requirements files, Dockerfile `RUN pip install` words,
`.python-version` and `runtime.txt`, and the pinning helpers the TOML fixer shares. Each
fixer re-reads the flagged line and rewrites it only when the reading is unambiguous."""
from __future__ import annotations

import re
from typing import Mapping

from packaging.requirements import InvalidRequirement, Requirement

from ..sources.specs import canonicalize_name
from ..findings import Finding
from ..policy import Policy

# pip distribution names that may be pinned to a lock key's value. Not `pytorch` (a
# placeholder package on PyPI), not `pytorch-triton` (nightly versions), and not
# `nvidia-nccl-cu12`: torch wheels pin their own NCCL wheel (torch 2.1.0 pins 2.18.1), so
# writing the system NCCL version there can make the requirements unresolvable.
PIP_NAMES = {"torch": ("torch",), "transformers": ("transformers",), "triton": ("triton",)}
_EXACT = re.compile(r"^\d+\.\d+\.\d+(\.\d+)*$")


def exact_lock(policy: Policy, component: str) -> str | None:
    """The lock value of `component` when it names one release (a prefix such as
    cuda "12.2" admits several, so nothing can be pinned to it)."""
    lock = policy.get("version-lock")
    value = lock.get(component) if isinstance(lock, Mapping) else None
    return value if isinstance(value, str) and _EXACT.match(value) else None


# --- line helpers -------------------------------------------------------------------------


def _split_line(text: str, number: int) -> tuple[list[str], str, str] | None:
    """All lines (with endings), and the content and ending of line `number`."""
    lines = text.splitlines(keepends=True)
    if not 1 <= number <= len(lines):
        return None
    raw = lines[number - 1]
    content = raw.rstrip("\r\n")
    return lines, content, raw[len(content):]


def _with_line(lines: list[str], number: int, content: str, ending: str) -> str:
    out = list(lines)
    out[number - 1] = content + ending
    return "".join(out)


def _continued(lines: list[str], number: int) -> bool:
    """Is line `number` part of a backslash-continued logical line?"""
    this = lines[number - 1].rstrip("\r\n")
    before = lines[number - 2].rstrip("\r\n") if number > 1 else ""
    return this.rstrip().endswith("\\") or before.rstrip().endswith("\\")


def pinned_requirement(written: str, component: str, lock: str, allow_marker: bool = True) -> str | None:
    """`written` (a PEP 508 requirement) with its specifier replaced by `==lock`, keeping the
    name as written, extras and marker; None when it is not a plain requirement of a package
    that carries `component`."""
    match = re.fullmatch(r"(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?P<extras>\s*\[[^\]]*\])?(?P<spec>[^;@]*?)(?P<marker>\s*;.*)?", written.strip())
    try:
        req = Requirement(written)
    except InvalidRequirement:
        return None
    if not match or req.url or str(canonicalize_name(req.name)) not in PIP_NAMES.get(component, ()):
        return None
    if any("+" in item.version for item in req.specifier):
        return None  # a local build label (+cu118) is SAI103's decision, not ours
    if match.group("marker") and not allow_marker:
        return None
    new = f"{match.group('name')}{(match.group('extras') or '').strip()}=={lock}{match.group('marker') or ''}"
    check = Requirement(new)
    if str(check.specifier) != f"=={lock}" or check.marker != req.marker or check.extras != req.extras:
        return None
    return new


# --- requirements files -------------------------------------------------------------------


def fix_requirements(text: str, finding: Finding, policy: Policy) -> str | None:
    lock = exact_lock(policy, finding.subject)
    parts = _split_line(text, finding.location.line)
    if lock is None or parts is None:
        return None
    lines, content, ending = parts
    if _continued(lines, finding.location.line) or "--hash" in content:
        return None  # hashes would no longer match; continuations are not one line's business
    comment = re.search(r"(^|\s)#", content)
    body = content[: comment.start()] if comment else content
    rest = content[len(body):]
    written = body.strip()
    if not written or written.startswith("-") or re.search(r"\s-{1,2}[A-Za-z]", written):
        return None  # an option line, or per-requirement options
    new = pinned_requirement(written, finding.subject, lock)
    if new is None:
        return None
    lead = body[: len(body) - len(body.lstrip())]
    trail = body[len(body.rstrip()):]
    return _with_line(lines, finding.location.line, lead + new + trail + rest, ending)


# --- Dockerfile RUN pip install -----------------------------------------------------------

_PIP_INSTALL = re.compile(r"(?:^|\s)(?:pip3?|python3?(?:\.\d+)?\s+-m\s+pip|uv\s+pip)\s+install\s")
_SEPARATOR = re.compile(r"&&|\|\||[;|]")


def fix_dockerfile(text: str, finding: Finding, policy: Policy) -> str | None:
    lock, loc = exact_lock(policy, finding.subject), finding.location
    parts = _split_line(text, loc.line)
    if lock is None or parts is None or loc.end_line != loc.line:
        return None
    lines, content, ending = parts
    start = loc.line
    while start > 1 and lines[start - 2].rstrip("\r\n").rstrip().endswith("\\"):
        start -= 1
    if not re.match(r"^\s*RUN\s", lines[start - 1], re.I):
        return None
    word = content[loc.column - 1 : loc.end_column - 1]
    before = content[loc.column - 2] if loc.column > 1 else " "
    after = content[loc.end_column - 1] if loc.end_column - 1 < len(content) else " "
    if not word or "$" in word or not (before.isspace() or before in "\"'") or not (after.isspace() or after in "\"'\\"):
        return None
    # the shell command holding the word must be a pip install (not conda, apt, ...)
    prefix = "".join(l.rstrip("\r\n").rstrip("\\") + " " for l in lines[start - 1 : loc.line - 1]) + content[: loc.column - 1]
    command = _SEPARATOR.split(prefix)[-1]
    if not _PIP_INSTALL.search(" " + command):
        return None
    new = pinned_requirement(word, finding.subject, lock, allow_marker=False)
    if new is None:
        return None
    return _with_line(lines, loc.line, content[: loc.column - 1] + new + content[loc.end_column - 1 :], ending)


# --- .python-version and runtime.txt --------------------------------------------------------


def _fix_python_line(text: str, finding: Finding, policy: Policy, pattern: str) -> str | None:
    """Rewrite the version on the finding's line when the whole line matches `pattern`
    (groups: prefix, version, suffix); anything else is not ours to rewrite."""
    lock = exact_lock(policy, "python")
    parts = _split_line(text, finding.location.line)
    if finding.subject != "python" or lock is None or parts is None:
        return None
    lines, content, ending = parts
    match = re.fullmatch(pattern, content)
    if not match:
        return None
    return _with_line(lines, finding.location.line, match.group(1) + lock + match.group(3), ending)


def fix_python_version(text: str, finding: Finding, policy: Policy) -> str | None:
    # not 3.11-dev, pypy3.10 or a virtualenv name
    return _fix_python_line(text, finding, policy, r"(\s*)(\d+(?:\.\d+)*)(\s*(?:#.*)?)")


def fix_runtime_txt(text: str, finding: Finding, policy: Policy) -> str | None:
    return _fix_python_line(text, finding, policy, r"(\s*python-)(\d+(?:\.\d+)*)(\s*)")
