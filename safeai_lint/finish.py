"""The last step of a scan: findings capped per rule and file, each given its level, the text
of its line and a fingerprint stable across runs and unrelated edits; sorted, duplicates
dropped."""
from __future__ import annotations

import dataclasses
import re

from .catalog import RuleHead
from .facts import Location
from .findings import Finding


MAX_FINDINGS_PER_RULE_AND_FILE = 1000


def cap_per_file(findings: list[Finding]) -> list[Finding]:
    """At most 1,000 findings of one rule in one file; the rest is summarised as SAI002 so a
    generated or hostile file cannot flood the report."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.location.path, f.rule), []).append(f)
    out: list[Finding] = []
    for (path, rule), group in groups.items():
        if len(group) <= MAX_FINDINGS_PER_RULE_AND_FILE:
            out.extend(group)
            continue
        group.sort(key=Finding.sort_key)
        out.extend(group[:MAX_FINDINGS_PER_RULE_AND_FILE])
        extra = len(group) - MAX_FINDINGS_PER_RULE_AND_FILE
        first_hidden = group[MAX_FINDINGS_PER_RULE_AND_FILE].location
        message = f"{extra:,} more {rule} finding(s) in this file not shown (cap of {MAX_FINDINGS_PER_RULE_AND_FILE:,} per rule and file)"
        out.append(Finding("SAI002", message, Location(path, first_hidden.line, 1)))
    return out


def finish(findings: list[Finding], rules: dict[str, RuleHead], levels: dict[str, str], lines: dict[str, dict[int, str]]) -> list[Finding]:
    """Set level, snippet and fingerprint; sort; drop exact duplicates."""
    unique = {}
    for f in findings:
        snippet = lines.get(f.location.path, {}).get(f.location.line, f.snippet)
        level = levels.get(f.rule) or f.level or (rules[f.rule].level if f.rule in rules else "warning")
        done = dataclasses.replace(f, level=level, snippet=snippet)
        unique.setdefault((done.rule, done.location, done.message), done)
    ordered = sorted(unique.values(), key=Finding.sort_key)
    if not ordered:
        return []
    sha256 = _sha256()
    seen: dict[str, int] = {}
    out = []
    for f in ordered:
        base = "\0".join((f.rule, f.location.path, _normalise(f.snippet), _normalise_message(f.message)))
        count = seen.get(base, 0)
        seen[base] = count + 1
        digest = sha256(f"{base}\0{count}".encode()).hexdigest()[:32]
        out.append(dataclasses.replace(f, fingerprint=digest))
    return out


def _normalise(text: str) -> str:
    return " ".join(text.split())


_DIGITS = re.compile(r"\d+")


def _normalise_message(text: str) -> str:
    # line numbers inside messages ("also pinned at line 12") must not move the fingerprint
    return _DIGITS.sub("#", text)


def _sha256():  # noqa: ANN202 - the constructor
    """SHA-256 from CPython's builtin module (the same digests as hashlib's; hashlib would load
    OpenSSL, ~3 ms of a one-file run), else hashlib's."""
    try:
        from _sha2 import sha256  # Python 3.12+
    except ImportError:
        try:
            from _sha256 import sha256  # Python 3.10-3.11
        except ImportError:
            from hashlib import sha256
    return sha256
