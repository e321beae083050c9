"""The rule catalog: rule metadata and documentation, loaded from `rules/SAIxxx.yaml`.

Rules are data apart from their logic: id, name, level, the prose `safeai-lint rule` renders,
and bad/good examples that the test suite runs.
"""
from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

from .records import Frozen, record

RULE_ID = re.compile(r"^SAI\d{3}$")


@record
class Example(Frozen):
    title: str
    bad: bool
    files: tuple[tuple[str, str], ...]  # (path, content)
    expect: tuple[tuple[str, int], ...]  # (path, line) the rule must fire at; empty when good
    config: str = ""  # YAML text of a .safeai-lint.yaml to scan with, if any


@record
class RuleDoc(Frozen):
    id: str
    name: str
    level: str
    summary: str
    rationale: str
    remediation: str
    fix: str
    limits: str
    tags: tuple[str, ...]
    precision: str
    examples: tuple[Example, ...]

    @property
    def family(self) -> str:
        return self.id[:4] + "xx"


def rules_dir() -> Path:
    """Where the rule data lives: inside the installed package, or the source checkout."""
    packaged = Path(__file__).parent / "_rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules"


def _example(raw: dict[str, Any]) -> Example:
    files = tuple((str(p), str(c)) for p, c in (raw.get("files") or {}).items())
    expect = []
    for item in raw.get("expect") or ():
        path, _, line = str(item).rpartition(":")
        expect.append((path, int(line)))
    return Example(
        title=str(raw.get("title", "")),
        bad=bool(raw.get("bad", False)),
        files=files,
        expect=tuple(expect),
        config=str(raw.get("config") or ""),
    )


def _rule(raw: dict[str, Any]) -> RuleDoc:
    return RuleDoc(
        id=raw["id"],
        name=raw["name"],
        level=raw["level"],
        summary=raw["summary"].strip(),
        rationale=str(raw.get("rationale", "")).strip(),
        remediation=str(raw.get("remediation", "")).strip(),
        fix=str(raw.get("fix") or "").strip(),
        limits=str(raw.get("limits") or "").strip(),
        tags=tuple(raw.get("tags") or ()),
        precision=str(raw.get("precision", "high")),
        examples=tuple(_example(e) for e in raw.get("examples") or ()),
    )


@record
class RuleHead(Frozen):
    """What a scan needs of a rule: id, name, default level (the full RuleDoc is parsed only
    for SARIF and `safeai-lint rule`)."""

    id: str
    name: str
    level: str


_HEAD = re.compile(r"^id:\s*(?P<id>\S+)\s*\nname:\s*(?P<name>\S+)\s*\nlevel:\s*(?P<level>\w+)", re.M)


@functools.cache
def rule_index() -> dict[str, RuleHead]:
    """Every rule's id, name and level, in id order, read from the first lines of each file
    (every rule file starts with id, name, level; tests/test_docs.py keeps it so)."""
    found = {}
    folder = rules_dir()
    for name in sorted(n for n in os.listdir(folder) if n.startswith("SAI") and n.endswith(".yaml")):
        fd = os.open(os.path.join(folder, name), os.O_RDONLY)  # os.read: a text-mode open() per file costs 5x more
        try:
            match = _HEAD.match(os.read(fd, 512).decode("utf-8", "replace"))
        finally:
            os.close(fd)
        if match is None:  # an unusual file: fall back to the full parse
            doc = all_rules()[name.removesuffix(".yaml")]
            found[doc.id] = RuleHead(doc.id, doc.name, doc.level)
        else:
            found[match["id"]] = RuleHead(match["id"], match["name"], match["level"])
    return found


def source_checksums(paths: list[Path]) -> dict[str, int]:
    """CRC-32 of each rule file's bytes, by id (what tells a stale JSON twin)."""
    import zlib

    return {p.stem: zlib.crc32(p.read_bytes()) for p in paths}


@functools.cache
def all_rules() -> dict[str, RuleDoc]:
    """Every documented rule, by id, in id order: from the JSON twin of the rule files
    (rules/catalog.json, written by scripts/rules_json.py) while the checksums it records
    match the rule files byte for byte, else from the YAML itself (85 ms more)."""
    paths = sorted(rules_dir().glob("SAI*.yaml"))
    twin = rules_dir() / "catalog.json"
    if twin.is_file():
        import json

        raw = json.loads(twin.read_text(encoding="utf-8"))
        if isinstance(raw, dict) and raw.get("checksums") == source_checksums(paths):
            return {doc.id: doc for doc in (_rule(item) for item in raw["rules"].values())}
    from .sources.yaml import load_plain

    found = {}
    for path in paths:
        doc = _rule(load_plain(path.read_text(encoding="utf-8")))
        found[doc.id] = doc
    return found


def rule_names() -> list[str]:
    """Every rule id and rule name (what a selector may say), for "did you mean" hints."""
    return [name for head in rule_index().values() for name in (head.id, head.name)]


def resolve_rule(token: str) -> list[str]:
    """Rule ids named by a selector: an id (`SAI101`), a family prefix (`SAI1`, `SAI10`), a
    rule name (`version-mismatch`) or `ALL`. Raises KeyError when it names nothing."""
    rules = rule_index()
    token = token.strip()
    if token.upper() == "ALL":
        return list(rules)
    up = token.upper()
    if up.startswith("SAI"):
        hits = [r for r in rules if r.startswith(up)]
    else:
        hits = [r.id for r in rules.values() if r.name == token]
    if not hits:
        raise KeyError(token)
    return hits


DOCS_URI = "https://github.com/safeai-lint/safeai-lint/blob/main/docs/rules/{id}.md"


def doc_url(rule_id: str) -> str:
    """Where a rule's documentation page is published (docs/rules/SAIxxx.md)."""
    return DOCS_URI.format(id=rule_id)


def unknown_selector(tokens: list[str]) -> str:
    """The message for the first selector that names no rule ("" when all do)."""
    from .hints import did_you_mean

    for token in tokens:
        try:
            resolve_rule(token)
        except KeyError:
            valid = ", ".join(rule_index())
            return f"unknown rule {token!r}{did_you_mean(token, rule_names())}; valid rule ids: {valid} (or a prefix such as SAI1, or ALL)"
    return ""
