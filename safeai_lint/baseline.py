"""Baseline: record today's findings so that only new ones are reported (docs/baseline.md).

A baseline holds fingerprints, not lines. `Finding.fingerprint` (set by the engine) hashes the
rule, the path, the whitespace-normalised text of the flagged line, the message with its
digits masked, and the occurrence number among identical findings; so inserting or removing
lines elsewhere in a file does not make an old finding new, while editing the flagged line
itself does (it has to be judged again).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from .atomic import write_text_atomic
from .findings import Finding

FORMAT = "safeai-lint-baseline"
SCHEMA_VERSION = 1


class BaselineError(Exception):
    """A baseline file we cannot use (missing, not JSON, another format or version)."""


@dataclass(frozen=True, slots=True)
class BaselineEntry:
    fingerprint: str
    rule: str
    path: str
    line: int  # informational: where the finding was when the baseline was written
    message: str


@dataclass(frozen=True)
class Baseline:
    entries: tuple[BaselineEntry, ...]
    source: str = ""

    def fingerprints(self) -> frozenset[str]:
        return frozenset(e.fingerprint for e in self.entries)


def to_json(findings: Iterable[Finding]) -> str:
    """The baseline document for `findings`: deterministic (sorted, no timestamp) so that a
    re-written baseline of an unchanged repo is byte-identical and diffs stay reviewable."""
    from . import __version__

    entries = sorted(
        (
            {
                "fingerprint": f.fingerprint,
                "rule": f.rule,
                "path": f.location.path,
                "line": f.location.line,
                "message": f.message,
            }
            for f in findings
            if f.fingerprint  # an unfinished finding cannot be matched later
        ),
        key=lambda e: (e["path"], e["line"], e["rule"], e["fingerprint"]),
    )
    doc = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "safeai-lint", "version": __version__},
        "findings": entries,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def write_baseline(findings: Iterable[Finding], path: str | Path) -> int:
    """Write the baseline atomically (a crash never leaves half a file); returns the count."""
    text = to_json(findings)
    write_text_atomic(path, text)  # 0666 less umask: committed and shared, not 0600
    return len(json.loads(text)["findings"])


def parse_baseline(text: str, source: str = "") -> Baseline:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise BaselineError(f"{source}: not a JSON baseline: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BaselineError(f'{source}: not a safeai-lint baseline (expected "format": "{FORMAT}")')
    version = doc.get("schema_version")
    if version != SCHEMA_VERSION:
        raise BaselineError(f"{source}: baseline schema_version {version!r} is not supported (expected {SCHEMA_VERSION})")
    raw = doc.get("findings")
    if not isinstance(raw, list):
        raise BaselineError(f"{source}: `findings` must be a list")
    entries = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("fingerprint"), str) or not item["fingerprint"]:
            raise BaselineError(f"{source}: findings[{i}] needs a non-empty string `fingerprint`")
        line = item.get("line")
        entries.append(
            BaselineEntry(
                fingerprint=item["fingerprint"],
                rule=str(item.get("rule") or ""),
                path=str(item.get("path") or ""),
                line=line if isinstance(line, int) and not isinstance(line, bool) else 0,
                message=str(item.get("message") or ""),
            )
        )
    return Baseline(tuple(entries), source)


def load_baseline(path: str | Path) -> Baseline:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read baseline: {exc.strerror or exc}") from None
    return parse_baseline(text, str(path))


def apply_baseline(findings: Sequence[Finding], baseline: Baseline) -> tuple[list[Finding], int]:
    """Findings not in the baseline, and how many baseline entries no longer occur (fixed).

    Apply it to the complete finding list of a full scan: entries of files or rules that were
    not scanned this time would otherwise count as fixed.
    """
    known = baseline.fingerprints()
    kept = [f for f in findings if not f.fingerprint or f.fingerprint not in known]
    present = {f.fingerprint for f in findings if f.fingerprint}
    fixed = sum(1 for fp in known if fp not in present)
    return kept, fixed
