"""GitLab Code Quality (a subset of Code Climate's JSON): a list of issues, each with
description, check_name, fingerprint, severity and location.path / location.lines.begin.

GitLab shows an issue as new or fixed in a merge request by comparing fingerprints, so they
must be unique within a report and stable across runs; the engine's fingerprint is both.
"""
from __future__ import annotations

import json

# GitLab's scale is info/minor/major/critical/blocker; an error here blocks a rollout
SEVERITY = {"error": "critical", "warning": "major", "note": "minor"}


def render(result, **_options) -> str:  # noqa: ANN001 - engine.Result
    names = {doc.id: doc.name for doc in result.rules}
    issues = []
    seen: set[str] = set()
    for f in result.findings:
        fingerprint = f.fingerprint or f"{f.rule}:{f.location.path}:{f.location.line}:{f.location.column}"
        while fingerprint in seen:  # defensive: GitLab drops issues with duplicate fingerprints
            fingerprint += "+"
        seen.add(fingerprint)
        title = f"{f.rule} {names[f.rule]}" if f.rule in names else f.rule
        issues.append(
            {
                "type": "issue",
                "description": f"{title}: {f.message}",
                "check_name": f.rule,
                "fingerprint": fingerprint,
                "severity": SEVERITY.get(f.level, "major"),
                "location": {
                    "path": f.location.path,
                    "lines": {"begin": max(f.location.line, 1), "end": max(f.location.end_line, f.location.line, 1)},
                },
            }
        )
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
