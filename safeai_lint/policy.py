"""The default policy (`rules/policy.yaml`) and the merge of a user's values into it."""
from __future__ import annotations

import functools
import json
import re
from types import MappingProxyType
from typing import Any, Mapping

from .catalog import rules_dir

# Maps merged key by key with the user's values; every other key is replaced whole.
MERGED_MAPS = ("version-lock", "metric-equivalents", "required-alerts", "alert-signals")

Policy = Mapping[str, Any]


@functools.cache
def default_policy() -> Policy:
    # rules/policy.json: the YAML's twin, kept equal by a test (scripts/rules_json.py says why)
    raw = json.loads((rules_dir() / "policy.json").read_text(encoding="utf-8"))
    return MappingProxyType(dict(raw))


def merge_policy(user: Mapping[str, Any]) -> Policy:
    merged = dict(default_policy())
    for key, value in user.items():
        if key in MERGED_MAPS and isinstance(value, dict):
            merged[key] = {**(merged.get(key) or {}), **value}
        else:
            merged[key] = value
    return MappingProxyType(merged)


_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([EPTGMk]i?|[mu]|e[0-9]+)?$")
_FACTORS = {
    "": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
    "m": 10**-3, "u": 10**-6,
}


def parse_quantity(text: Any) -> float | None:
    """A Kubernetes resource quantity ("34Gi", "500m", "1e3", 2) as a number, or None."""
    if isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        return float(text)
    match = _QUANTITY.match(str(text).strip())
    if not match:
        return None
    number, suffix = float(match.group(1)), match.group(2) or ""
    if suffix.startswith("e"):
        return number * 10 ** int(suffix[1:])
    return number * _FACTORS[suffix]


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)")
_DURATION_FACTORS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def parse_duration(text: Any, bare_unit: str = "s") -> float | None:
    """A duration ("5s", "5000ms", "1m30s", "0.5s"; a bare number in `bare_unit`) in seconds."""
    if isinstance(text, bool) or text is None:
        return None
    if isinstance(text, (int, float)):
        return float(text) * _DURATION_FACTORS[bare_unit]
    s = str(text).strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        return float(s) * _DURATION_FACTORS[bare_unit]
    pos, total = 0, 0.0
    for match in _DURATION.finditer(s):
        if match.start() != pos:
            return None
        total += float(match.group(1)) * _DURATION_FACTORS[match.group(2)]
        pos = match.end()
    return total if pos == len(s) and pos > 0 else None
