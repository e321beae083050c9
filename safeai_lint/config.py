"""Finding, reading and validating the user's configuration.

A config file holds policy keys (same names as `rules/policy.yaml`) beside linter settings.
Every error names the file, the key path, the line and what was expected.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from .findings import LEVELS
from .hints import did_you_mean
from .policy import Policy, default_policy, merge_policy, parse_duration, parse_quantity
from .records import Frozen, record

CONFIG_NAMES = (".safeai-lint.yaml", ".safeai-lint.yml")
FAIL_ON = ("error", "warning", "note", "never")
DEFAULT_MAX_FILE_SIZE = 5 * 1024 * 1024


from .errors import ConfigError, collect  # noqa: E402 - ConfigError re-exported: config errors are raised here


@record(slots=False)
class Waiver(Frozen):
    rule: str
    paths: tuple[str, ...]
    reason: str
    until: dt.date | None
    report: str
    component: str
    line: int
    source: str


@record(slots=False)
class Config(Frozen):
    policy: Policy = field(default_factory=default_policy)
    select: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    levels: tuple[tuple[str, str], ...] = ()
    fail_on: str = "warning"
    exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    waivers: tuple[Waiver, ...] = ()
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    helm_values: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (chart folder, its values files)
    source: str = ""  # the config file as shown in messages, "" for defaults
    path: str = ""  # the config file relative to the scan root (where waiver findings point)

    def level_overrides(self) -> dict[str, str]:
        return dict(self.levels)


# --- validation --------------------------------------------------------------------------

Check = Callable[[Any], "str | None"]


def _str_list(value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return "a list of strings"
    return None


def _int(minimum: int) -> Check:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            return f"a whole number >= {minimum}"
        return None

    return check


def _number(low: float, high: float) -> Check:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low < value <= high:
            return f"a number greater than {low:g} and at most {high:g}"
        return None

    return check


def _quantity(value: Any) -> str | None:
    return None if parse_quantity(value) is not None else 'a Kubernetes quantity such as "2Gi"'


def _duration(value: Any) -> str | None:
    return None if parse_duration(value) is not None else 'a duration such as "60s" or "1m"'


def _version_lock(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "a mapping of component to version string"
    for key, version in value.items():
        if not isinstance(version, str) or not re.fullmatch(r"[0-9]+(\.[0-9A-Za-z]+)*", version):
            return f'a quoted version string for {key!r} (e.g. "2.1.0"; unquoted 2.10 reads as the number 2.1)'
    return None


def _map_of_lists(value: Any) -> str | None:
    if not isinstance(value, dict) or not all(_str_list(v) is None for v in value.values()):
        return "a mapping of names to lists of strings"
    return None


def _alerts(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "a mapping of alert names to {signal, op, threshold, for, severity}"
    for name, alert in value.items():
        if not isinstance(alert, dict) or "threshold" not in alert or "signal" not in alert:
            return f"alert {name!r} as a mapping with at least signal and threshold"
    return None


def _regex_lists(value: Any) -> str | None:
    expected = "a mapping of signal names to lists of regular expressions"
    if not isinstance(value, dict):
        return expected
    for name, patterns in value.items():
        if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) for p in patterns):
            return f"{expected} ({name!r}: a non-empty list of strings)"
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                return f"{expected} ({name!r}: {pattern!r} is not a valid regular expression: {exc})"
    return None


def _optional_int(value: Any) -> str | None:
    return None if value is None else _int(1)(value)


POLICY_KEYS: dict[str, Check] = {
    "version-lock": _version_lock,
    "allowed-indexes": _str_list,
    "allowed-images": _str_list,
    "floating-tags": _str_list,
    "ai-images": _str_list,
    "ai-service-patterns": _str_list,
    "max-gpus-per-pod": _int(1),
    "instance-types": _str_list,
    "max-vram-fraction": _number(0.0, 1.0),
    "memory-headroom": _quantity,
    "max-input-tokens": _int(1),
    "timeout-ms": _int(1),
    "max-retry-attempts": _int(0),
    "breaker-error-rate": _number(0.0, 100.0),
    "breaker-window": _duration,
    "max-rps-per-key": _number(0.0, 1e12),
    "allowed-quantization": _str_list,
    "quantized-checkpoint-markers": _str_list,
    "required-metrics": _str_list,
    "metric-equivalents": _map_of_lists,
    "required-alerts": _alerts,
    "alert-signals": _regex_lists,
    "embedding-dimension": _optional_int,
}
SETTING_KEYS = (
    "extend", "select", "extend-select", "ignore", "levels", "fail-on", "exclude",
    "per-file-ignores", "waivers", "max-file-size", "helm",
)


@dataclass
class _Reader:
    source: str
    raw: Any

    def fail(self, keypath: str, expected: str, at: Any = None, key: Any = None) -> ConfigError:
        line = line_of(at, key)
        where = f"{self.source}:{line}" if line else self.source
        return ConfigError(f"{where}: {keypath}: expected {expected}")


def line_of(container: Any, key: Any) -> int:
    if container is None:
        return 0
    if key is not None and hasattr(container, "key_pos"):
        return container.key_pos(key)[0]
    if isinstance(key, int) and hasattr(container, "item_pos"):
        return container.item_pos(key)[0]
    pos = getattr(container, "pos", None)
    return pos[0] if pos else 0


def _rule_list(reader: _Reader, container: Any, key: str) -> tuple[str, ...]:
    from .catalog import resolve_rule, rule_names

    value = container[key]
    if _str_list(value):
        raise reader.fail(key, "a list of rule ids (e.g. [SAI101, SAI2])", container, key)

    def one(pair: tuple[int, Any]) -> list[str]:
        i, token = pair
        try:
            return resolve_rule(token)
        except KeyError:
            hint = did_you_mean(str(token), rule_names())
            raise reader.fail(f"{key}[{i}]", f"a rule id, family prefix or rule name, not {token!r}{hint}", value, i) from None

    return tuple(rule for rules in collect(enumerate(value), one) for rule in rules)


def _size(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = re.fullmatch(r"\s*(\d+)\s*([KMG]i?B?)?\s*", str(value))
    if not match:
        return None
    unit = (match.group(2) or "").rstrip("B").rstrip("i")
    return int(match.group(1)) * {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[unit]


def build_config(raw: Any, source: str) -> Config:
    """Validate a parsed config mapping and turn it into a `Config`."""
    reader = _Reader(source, raw)
    if raw is None:
        return Config(source=source)
    if not isinstance(raw, dict):
        raise reader.fail("(top level)", "a mapping of settings and policy keys", raw)
    policy_values: dict[str, Any] = {}
    kwargs: dict[str, Any] = {"source": source}
    # every bad key is reported at once, each with its line
    collect(raw.items(), lambda kv: _setting(reader, raw, kv[0], kv[1], policy_values, kwargs))
    return Config(policy=merge_policy(policy_values), **kwargs)


def _setting(reader: _Reader, raw: dict, key: Any, value: Any, policy_values: dict, kwargs: dict) -> None:
    """Validate one top-level key into `policy_values` or `kwargs`; raises ConfigError."""
    from .catalog import rule_index as all_rules

    if key in POLICY_KEYS:
        problem = POLICY_KEYS[key](value)
        if problem:
            raise reader.fail(str(key), problem, raw, key)
        policy_values[key] = value
    elif key in ("select", "extend-select", "ignore"):
        kwargs[key.replace("-", "_")] = _rule_list(reader, raw, key)
    elif key == "levels":
        if not isinstance(value, dict):
            raise reader.fail(key, "a mapping of rule id to error|warning|note", raw, key)

        def level(pair: tuple[Any, Any]) -> None:
            rule, lv = pair
            if rule not in all_rules():
                raise reader.fail(f"levels.{rule}", f"a known rule id{did_you_mean(str(rule), list(all_rules()))}", value, rule)
            if lv not in LEVELS:
                raise reader.fail(f"levels.{rule}", "one of " + ", ".join(LEVELS), value, rule)

        collect(value.items(), level)
        kwargs["levels"] = tuple(sorted(value.items()))
    elif key == "fail-on":
        if value not in FAIL_ON:
            raise reader.fail(key, "one of " + ", ".join(FAIL_ON), raw, key)
        kwargs["fail_on"] = value
    elif key == "exclude":
        if _str_list(value):
            raise reader.fail(key, "a list of glob patterns", raw, key)
        kwargs["exclude"] = tuple(value)
    elif key == "per-file-ignores":
        if not isinstance(value, dict):
            raise reader.fail(key, "a mapping of glob to a list of rule ids", raw, key)
        kwargs["per_file_ignores"] = tuple(collect(value, lambda glob: (str(glob), _rule_list(reader, value, glob))))
    elif key == "waivers":
        kwargs["waivers"] = _waivers(reader, raw, key)
    elif key == "extend":
        if not isinstance(value, str) or not value.strip():
            raise reader.fail(key, "the path of a config file to inherit, relative to this one", raw, key)
    elif key == "helm":
        kwargs["helm_values"] = _helm(reader, raw, key)
    elif key == "max-file-size":
        size = _size(value)
        if size is None:
            raise reader.fail(key, 'a size in bytes or with a unit ("5MB")', raw, key)
        kwargs["max_file_size"] = size
    else:
        known = sorted([*POLICY_KEYS, *SETTING_KEYS])
        raise reader.fail(str(key), f"a known key ({', '.join(known)}); unknown key{did_you_mean(str(key), known)}", raw, key)


def _helm(reader: _Reader, raw: Any, key: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`helm: {values: {charts/llm: [values-prod.yaml]}}`: values files (relative to the chart
    folder, applied after its values.yaml, in order) for each chart folder (relative to the
    scan root)."""
    value = raw[key]
    if not isinstance(value, dict) or set(value) - {"values"}:
        raise reader.fail(key, "a mapping with the key values", raw, key)
    charts = value.get("values") or {}
    if not isinstance(charts, dict):
        raise reader.fail(f"{key}.values", "a mapping of chart folder to a list of values files", value, "values")
    out = {}
    for folder, files in charts.items():
        if _str_list(files):
            raise reader.fail(f"{key}.values.{folder}", "a list of values files (paths relative to the chart folder)", charts, folder)
        out[str(folder).strip("/").removeprefix("./") if str(folder) not in (".", "./") else ""] = tuple(files)
    return tuple(sorted(out.items()))


def _waivers(reader: _Reader, raw: Any, key: str) -> tuple[Waiver, ...]:
    value = raw[key]
    if not isinstance(value, list):
        raise reader.fail(key, "a list of waivers {rule, paths, reason, until, report}", raw, key)

    def one(pair: tuple[int, Any]) -> Waiver:
        i, item = pair
        where = f"waivers[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("rule"), str):
            raise reader.fail(where, "a mapping with at least `rule`", value, i)
        unknown = set(item) - {"rule", "paths", "reason", "until", "report", "component"}
        if unknown:
            raise reader.fail(f"{where}.{sorted(unknown)[0]}", "one of rule, paths, component, reason, until, report", item, sorted(unknown)[0])
        paths = item.get("paths", ["**"])
        if isinstance(paths, str):
            paths = [paths]
        if _str_list(paths):
            raise reader.fail(f"{where}.paths", "a list of glob patterns", item, "paths")
        until = item.get("until")
        date = None
        if until is not None:
            try:
                date = dt.date.fromisoformat(str(until))
            except ValueError:
                raise reader.fail(f"{where}.until", "an ISO date (YYYY-MM-DD)", item, "until") from None
        return Waiver(
            rule=item["rule"],
            paths=tuple(paths),
            reason=str(item.get("reason") or "").strip(),
            until=date,
            report=str(item.get("report") or ""),
            component=str(item.get("component") or ""),
            line=line_of(value, i),
            source=reader.source,
        )

    return tuple(collect(enumerate(value), one))
