"""Our own JSON format, versioned by `schema_version` (see docs/json-output.md)."""
from __future__ import annotations

import json
from collections import Counter

from .. import __version__

SCHEMA_VERSION = 1


def render(result, **_options) -> str:  # noqa: ANN001
    findings = [
        {
            "rule": f.rule,
            "name": _name(result, f.rule),
            "level": f.level,
            "message": f.message,
            "path": f.location.path,
            "line": f.location.line,
            "column": f.location.column,
            "end_line": f.location.end_line,
            "end_column": f.location.end_column,
            "fingerprint": f.fingerprint,
        }
        for f in result.findings
    ]
    by_level = Counter(f.level for f in result.findings)
    by_rule = Counter(f.rule for f in result.findings)
    doc = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "safeai-lint", "version": __version__},
        "findings": findings,
        "summary": {
            "total": len(findings),
            "by_level": {lvl: by_level.get(lvl, 0) for lvl in ("error", "warning", "note")},
            "by_rule": dict(sorted(by_rule.items())),
            "files_scanned": result.files_scanned,
            "files_skipped": sum(1 for f in result.findings if f.rule == "SAI002"),
        },
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _name(result, rule: str) -> str:  # noqa: ANN001
    for doc in result.rules:
        if doc.id == rule:
            return doc.name
    return ""
