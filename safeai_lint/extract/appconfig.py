"""Application config files (YAML / JSON / TOML) → retry facts (SAI401–SAI403).

Conservative on purpose: only files that look like the service's own configuration (by
path) and are none of the other things YAML is used for (Kubernetes objects, Compose, CI
workflows, Helm charts and values, Prometheus rules, Kong, Envoy) are read, and only the
keys RULES.md names: retry counts, `backoff:` kinds, and `jitter: false` next to a retry.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any, Callable, Iterable, Iterator

from ..facts import Location, RetryPolicy
from ..sources.base import SourceText
from ..sources.yaml import YMap
from .yaml_values import key_loc

RETRY_KEYS = {"maxretries", "maxattempts", "retries", "retryattempts", "numretries", "retrycount",
              "maxretry", "retrylimit"}
BACKOFF_KEYS = {"backoff", "backofftype", "backoffstrategy", "retrybackoff", "backoffpolicy"}
NO_BACKOFF = {"none": "none", "no": "none", "off": "none", "fixed": "fixed", "constant": "fixed",
              "linear": "linear"}
UNBOUNDED = {"inf", "infinite", "infinity", "unlimited", "forever", "always", "-1"}

_LOOKS_LIKE_CONFIG = re.compile(r"(config|settings|conf|app|client|retr|resilien|llm|inference|gateway|upstream|backend)")
_SKIP_DIRS = {".github", ".gitlab", "templates", "charts", "crds", "helm", "node_modules", ".circleci", "workflows"}
_SKIP_NAMES = re.compile(
    r"^(\..*|values.*\.ya?ml|chart\.ya?ml|kustomization\.ya?ml|(docker-)?compose.*\.ya?ml|package(-lock)?\.json|"
    r"tsconfig.*\.json|composer\.json|renovate\.json|cargo\.toml|netlify\.toml|mkdocs\.ya?ml|codecov\.ya?ml|"
    r".*\.schema\.json|.*gitlab-ci.*|.*dashboard.*\.json|kong\.ya?ml)$"
)
# Top-level keys of YAML files that are something else than an app's config.
_OTHER_FORMATS = {"apiVersion", "services", "groups", "_format_version", "static_resources", "jobs",
                  "stages", "repos", "steps", "pipeline", "resources"}


def _norm(key: Any) -> str:
    return re.sub(r"[_\-\s]", "", str(key)).lower()


def looks_like_app_config(rel: str) -> bool:
    parts = rel.lower().split("/")
    if any(p in _SKIP_DIRS for p in parts[:-1]) or _SKIP_NAMES.match(parts[-1]):
        return False
    return bool(_LOOKS_LIKE_CONFIG.search(rel.lower()))


def app_config_yaml(src: SourceText) -> Iterable[object]:
    if not looks_like_app_config(src.rel):
        return []
    roots = [d.value for d in src.yaml_documents()]
    if any(isinstance(r, dict) and _OTHER_FORMATS & set(map(str, r)) for r in roots):
        return []

    def where(parent: Any, key: Any, _occurrence: int) -> Location | None:
        return key_loc(src, parent, key) if isinstance(parent, YMap) else None

    return [f for root in roots for f in _retry_facts(root, where)]


def app_config_json(src: SourceText) -> Iterable[object]:
    if not looks_like_app_config(src.rel):
        return []
    try:
        root = json.loads(src.text)
    except (ValueError, RecursionError):
        return []  # not ours to report: a JSON file is only in scope when it parses as config
    return list(_retry_facts(root, _text_locator(src, r'"{key}"\s*:')))


def app_config_toml(src: SourceText) -> Iterable[object]:
    if not looks_like_app_config(src.rel):
        return []
    import tomllib

    try:
        root = tomllib.loads(src.text)
    except (tomllib.TOMLDecodeError, RecursionError, ValueError):
        return []
    return list(_retry_facts(root, _text_locator(src, r'(?m)^[ \t]*(?:[\w.\-"]+\.)?"?{key}"?[ \t]*=')))


def _text_locator(src: SourceText, pattern: str) -> Callable[[Any, Any, int], Location | None]:
    """Locate the n-th written occurrence of a key: keys appear in the text in the same order
    as a depth-first walk of the parsed tree, so occurrence n of the walk is match n."""

    def where(_parent: Any, key: Any, occurrence: int) -> Location | None:
        regex = re.compile(pattern.replace("{key}", re.escape(str(key))))
        for i, match in enumerate(regex.finditer(src.text)):
            if i == occurrence:
                start = match.start() + len(match.group()) - len(match.group().lstrip())
                line = src.text.count("\n", 0, start) + 1
                col = start - (src.text.rfind("\n", 0, start) + 1) + 1
                return src.line_loc(line, col)
        return None

    return where


def _retry_facts(root: Any, where: Callable[[Any, Any, int], Location | None]) -> Iterator[RetryPolicy]:
    """Depth-first, keys in written order (the text locator relies on it)."""
    seen: dict[str, int] = {}
    found: list[RetryPolicy] = []

    def visit(node: Any, in_retry: bool, depth: int) -> None:
        if depth > 64:
            return
        if isinstance(node, list):
            for item in node:
                visit(item, in_retry, depth + 1)
            return
        if not isinstance(node, dict):
            return
        is_retry_block = in_retry or bool({_norm(k) for k in node} & (RETRY_KEYS | BACKOFF_KEYS))
        for key, value in node.items():
            occurrence = seen.get(str(key), 0)
            seen[str(key)] = occurrence + 1
            norm = _norm(key)
            fact = _judge(node, key, norm, value, is_retry_block, occurrence, where)
            if fact is not None:
                found.append(fact)
            if isinstance(value, (dict, list)):
                visit(value, is_retry_block or "retr" in norm, depth + 1)

    visit(root, False, 0)
    return iter(found)


def _judge(node: Any, key: Any, norm: str, value: Any, in_retry: bool, occurrence: int,
           where: Callable[[Any, Any, int], Location | None]) -> RetryPolicy | None:
    if norm in RETRY_KEYS and not isinstance(value, (dict, list, bool)) and value is not None:
        text = str(value).strip().lower()
        count: float | None
        if text in UNBOUNDED:
            count = math.inf
        else:
            try:
                count = float(text)
            except ValueError:
                return None
            count = math.inf if count < 0 else count
        loc = where(node, key, occurrence)
        if loc is None:
            return None
        note = f"`{key}: {value}` means no limit" if count == math.inf else ""
        return RetryPolicy("config", loc, count, loc, note)
    if norm in BACKOFF_KEYS and isinstance(value, str) and value.strip().lower() in NO_BACKOFF:
        loc = where(node, key, occurrence)
        if loc is None:
            return None
        return RetryPolicy("config", loc, backoff=NO_BACKOFF[value.strip().lower()], backoff_location=loc,
                           backoff_note=f"`{key}: {value}`")
    if norm == "jitter" and value is False and in_retry:
        loc = where(node, key, occurrence)
        if loc is None:
            return None
        return RetryPolicy("config", loc, jitter=False, jitter_location=loc, jitter_note=f"`{key}: false`")
    return None
