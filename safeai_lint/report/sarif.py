"""SARIF 2.1.0, shaped the way GitHub code scanning ingests it.

What GitHub rejects or mangles decides most of this module: exactly one run (several runs of
one tool and category fail the upload), `results` always present (empty when clean), URIs
relative to `%SRCROOT%` (absolute or `..` URIs do not map onto the checkout), 1-based
lines and columns, at most 25,000 results per run (above that the whole file is refused),
rule texts of at most 1,024 characters and at most 10 tags. Nothing here depends on the
clock, the working directory or dict ordering, so two runs give byte-identical files.
"""
from __future__ import annotations

import json
import re
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import quote

from .. import __version__
from ..catalog import RuleDoc, all_rules, doc_url
from ..findings import LEVEL_RANK

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
REPO_URI = "https://github.com/safeai-lint/safeai-lint"
SRCROOT = "%SRCROOT%"
MAX_RESULTS = 25_000  # GitHub's per-run limit; over it the upload is rejected outright
MAX_TEXT = 1_024  # GitHub's limit for short and full descriptions
MAX_TAGS = 10
PRECISIONS = ("very-high", "high", "medium", "low")


def render(result, *, max_results: int = MAX_RESULTS, fixable=frozenset(), **_options) -> str:  # noqa: ANN001 - engine.Result
    return dump(build(result, max_results=max_results, fixable=fixable))


_HOLE = "\x00results\x00"


def dump(log: dict) -> str:
    """The log as JSON text: indented, except that each result takes one line. Indenting
    thousands of results goes through json's pure-Python encoder and cost more than the
    rest of the report; one compact line per result uses its C encoder."""
    run = log["runs"][0]
    results = run["results"]
    run["results"] = _HOLE
    try:
        text = json.dumps(log, indent=2, ensure_ascii=False)
    finally:
        run["results"] = results
    lines = ",\n".join("        " + json.dumps(r, ensure_ascii=False, separators=(", ", ": ")) for r in results)
    body = f"[\n{lines}\n      ]" if results else "[]"
    return text.replace(json.dumps(_HOLE), body, 1) + "\n"


def build(result, *, max_results: int = MAX_RESULTS, fixable=frozenset()) -> dict:  # noqa: ANN001
    """The SARIF log as plain dicts and lists. A finding in `fixable` (one `--fix` fixes)
    carries `properties.fixable: true`."""
    catalog = all_rules()
    # the engine hands over rule heads (id, name, level); SARIF describes each rule in full
    docs = [doc if isinstance(doc, RuleDoc) else catalog.get(doc.id) or _bare_rule(doc.id) for doc in result.rules]
    known = {doc.id for doc in docs}
    # a finding of a rule missing from `rules` would break ruleIndex: describe it too
    for f in result.findings:
        if f.rule not in known:
            known.add(f.rule)
            docs.append(catalog.get(f.rule) or _bare_rule(f.rule))
    index = {doc.id: i for i, doc in enumerate(docs)}

    kept, dropped = _cap(list(result.findings), max_results)
    notifications = [_skipped(f, index) for f in result.findings if f.rule == "SAI002"]
    if dropped:
        notifications.append(
            {
                "level": "warning",
                "message": {
                    "text": f"{len(result.findings):,} findings, over the limit of {max_results:,} results per SARIF run "
                    f"that GitHub code scanning accepts; {dropped:,} lower-level findings were left out of this file. "
                    "Run with --format json or text to see them all."
                },
            }
        )
    invocation: dict = {"executionSuccessful": True}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications

    run: dict = {
        "tool": {
            "driver": {
                "name": "safeai-lint",
                "semanticVersion": __version__,
                "version": __version__,
                "informationUri": REPO_URI,
                "rules": [_rule(doc) for doc in docs],
            }
        },
        "invocations": [invocation],
        "columnKind": "unicodeCodePoints",  # Location columns count code points, not bytes
        "results": [_result(f, index, f in fixable) for f in kept],
    }
    root = _root_uri(getattr(result, "root", ""))
    if root:
        run["originalUriBaseIds"] = {SRCROOT: {"uri": root}}
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


# --- rules --------------------------------------------------------------------------------


def _rule(doc: RuleDoc) -> dict:
    from ..ruledoc import render_rule

    markdown = render_rule(doc)
    full = doc.summary if not doc.rationale else f"{doc.summary} {' '.join(doc.rationale.split())}"
    props: dict = {"tags": [str(t) for t in doc.tags][:MAX_TAGS]}
    if doc.precision in PRECISIONS:
        props["precision"] = doc.precision
    descriptor = {
        "id": doc.id,
        "name": doc.name,
        "shortDescription": {"text": _clip(" ".join(doc.summary.split()) or doc.id)},
        "fullDescription": {"text": _clip(full or doc.id)},
        "help": {"text": plain_text(markdown), "markdown": markdown},
        "helpUri": doc_url(doc.id),
        "defaultConfiguration": {"level": doc.level if doc.level in LEVEL_RANK else "warning"},
        "properties": props,
    }
    return descriptor


def _bare_rule(rule_id: str) -> RuleDoc:
    return RuleDoc(rule_id, rule_id.lower(), "warning", rule_id, "", "", "", "", (), "", ())


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1].rstrip() + "…"


_FENCE = re.compile(r"^```")
_HEADING = re.compile(r"^#{1,6}\s+")


def plain_text(markdown: str) -> str:
    """The rule's Markdown as readable plain text: no heading marks, fences or emphasis;
    code blocks indented by four spaces so they still stand apart."""
    out, in_code = [], False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            in_code = not in_code
            continue
        if in_code:
            out.append("    " + line if line else "")
            continue
        line = _HEADING.sub("", line).replace("**", "").replace("`", "")
        out.append(line)
    return "\n".join(out).strip() + "\n"


# --- results ------------------------------------------------------------------------------


def _cap(findings: list, limit: int) -> tuple[list, int]:
    """At most `limit` findings, keeping the most severe; order otherwise unchanged."""
    if len(findings) <= limit:
        return findings, 0
    ranked = sorted(range(len(findings)), key=lambda i: (-LEVEL_RANK.get(findings[i].level, 0), i))
    chosen = sorted(ranked[:limit])
    return [findings[i] for i in chosen], len(findings) - limit


def artifact_uri(path: str) -> str:
    """A repo-relative POSIX path as a relative URI reference (spaces, '%', ':' and
    non-ASCII percent-encoded, so it is a valid uri-reference GitHub can decode)."""
    posix = path.replace("\\", "/").lstrip("/")
    parts = [p for p in posix.split("/") if p not in ("", ".", "..")]
    return quote("/".join(parts) or ".", safe="/")


def physical_location(loc) -> dict:  # noqa: ANN001 - facts.Location
    line = max(int(loc.line), 1)
    column = max(int(loc.column), 1)
    region: dict = {"startLine": line, "startColumn": column}
    end_line = max(int(loc.end_line), line)
    region["endLine"] = end_line
    # end_column is exclusive; an empty or unknown end leaves it out, which SARIF reads
    # as "to the end of endLine"
    if int(loc.end_column) > (column if end_line == line else 0):
        region["endColumn"] = int(loc.end_column)
    return {"artifactLocation": {"uri": artifact_uri(loc.path), "uriBaseId": SRCROOT}, "region": region}


def _result(f, index: dict[str, int], fixable: bool = False) -> dict:  # noqa: ANN001 - Finding
    out: dict = {
        "ruleId": f.rule,
        "ruleIndex": index[f.rule],
        "level": f.level if f.level in LEVEL_RANK else "warning",
        "message": {"text": f.message or f.rule},
        "locations": [{"physicalLocation": physical_location(f.location)}],
    }
    if f.fingerprint:
        # Our fingerprint (rule + path + normalised line text + occurrence) does not move
        # when lines shift; upload-sarif keeps a value it finds rather than computing one.
        out["partialFingerprints"] = {"primaryLocationLineHash": f.fingerprint, "safeaiLintFingerprint/v1": f.fingerprint}
    if fixable:
        out["properties"] = {"fixable": True}
    return out


def _skipped(f, index: dict[str, int]) -> dict:  # noqa: ANN001 - an SAI002 Finding
    return {
        "level": "warning",
        "message": {"text": f"{f.location.path}: not analysed: {f.message}"},
        "locations": [{"physicalLocation": physical_location(f.location)}],
        "associatedRule": {"id": f.rule, "index": index[f.rule]},
    }


def _root_uri(root: str) -> str:
    """The scan root as an absolute file URI ending in '/', or '' when unknown."""
    if not root:
        return ""
    if PureWindowsPath(root).drive:
        uri = PureWindowsPath(root).as_uri()
    elif PurePosixPath(root).is_absolute():
        uri = PurePosixPath(root).as_uri()
    else:
        return ""
    return uri if uri.endswith("/") else uri + "/"
