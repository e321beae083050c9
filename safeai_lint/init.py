"""`safeai-lint init` and `safeai-lint schema`: a starter config and the JSON Schema of the
config file. Pure functions returning text/data; the CLI writes them."""
from __future__ import annotations

import json
from typing import Any, Mapping

from .config import FAIL_ON, POLICY_KEYS, SETTING_KEYS
from .findings import LEVELS

SCHEMA_ID = "https://safeai-lint.dev/schemas/config.json"

_STRINGS = {"type": "array", "items": {"type": "string"}}
_RULE_LIST = {
    "type": "array",
    "items": {"type": "string", "minLength": 1},
    "description": "Rule ids (SAI101), family prefixes (SAI1), rule names (version-mismatch) or ALL.",
}
_VERSION = {"type": "string", "pattern": r"^[0-9]+(\.[0-9A-Za-z]+)*$"}
_QUANTITY = {
    "oneOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?([EPTGMk]i?|[mu]|e[0-9]+)?$"},
    ],
    "description": 'A Kubernetes quantity such as "2Gi".',
}
_DURATION = {
    "oneOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^([0-9]+(\.[0-9]+)?(ms|us|µs|ns|h|m|s))+$|^[0-9]+(\.[0-9]+)?$"},
    ],
    "description": 'A duration such as "60s" or "1m30s".',
}

# One schema per policy key; `config_schema()` fails loudly when config.POLICY_KEYS grows a key
# that has no schema here, so the two cannot drift apart.
POLICY_SCHEMAS: dict[str, dict[str, Any]] = {
    "version-lock": {
        "type": "object",
        "additionalProperties": _VERSION,
        "description": 'Component -> locked version, quoted ("2.1.0"). Merged key by key with the built-in table.',
    },
    "allowed-indexes": _STRINGS,
    "allowed-images": _STRINGS,
    "floating-tags": _STRINGS,
    "ai-images": _STRINGS,
    "ai-service-patterns": _STRINGS,
    "max-gpus-per-pod": {"type": "integer", "minimum": 1},
    "instance-types": _STRINGS,
    "max-vram-fraction": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
    "memory-headroom": _QUANTITY,
    "max-input-tokens": {"type": "integer", "minimum": 1},
    "timeout-ms": {"type": "integer", "minimum": 1},
    "max-retry-attempts": {"type": "integer", "minimum": 0},
    "breaker-error-rate": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
    "breaker-window": _DURATION,
    "max-rps-per-key": {"type": "number", "exclusiveMinimum": 0},
    "allowed-quantization": _STRINGS,
    "quantized-checkpoint-markers": _STRINGS,
    "required-metrics": _STRINGS,
    "metric-equivalents": {"type": "object", "additionalProperties": _STRINGS},
    "required-alerts": {
        "type": "object",
        "additionalProperties": {
            "type": "object",
            "required": ["signal", "threshold"],
            "properties": {
                "signal": {"type": "string"},
                "op": {"type": "string"},
                "threshold": {"type": ["number", "string"]},
                "for": {"type": "string"},
                "severity": {"type": "string"},
            },
        },
    },
    "alert-signals": {
        "type": "object",
        "additionalProperties": {"type": "array", "minItems": 1, "items": {"type": "string", "format": "regex"}},
        "description": "Signal -> regular expressions matching the metric names that carry it. Merged key by key with the built-in table.",
    },
    "embedding-dimension": {"type": ["integer", "null"], "minimum": 1},
}

SETTING_SCHEMAS: dict[str, dict[str, Any]] = {
    "extend": {"type": "string", "minLength": 1, "description": "A config file to inherit, relative to this one; this file's keys win."},
    "select": _RULE_LIST,
    "extend-select": _RULE_LIST,
    "ignore": _RULE_LIST,
    "levels": {
        "type": "object",
        "propertyNames": {"pattern": r"^SAI[0-9]{3}$"},
        "additionalProperties": {"enum": list(LEVELS)},
    },
    "fail-on": {"enum": list(FAIL_ON)},
    "exclude": {**_STRINGS, "description": "Glob patterns relative to the folder of the config file in use."},
    "per-file-ignores": {"type": "object", "additionalProperties": _RULE_LIST},
    "waivers": {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["rule"],
            "additionalProperties": False,
            "properties": {
                "rule": {"type": "string", "pattern": r"^SAI[0-9]{3}$"},
                "paths": {"oneOf": [{"type": "string"}, _STRINGS]},
                "component": {"type": "string"},
                "reason": {"type": "string", "minLength": 1},
                "until": {"type": "string", "format": "date"},
                "report": {"type": "string"},
            },
        },
    },
    "max-file-size": {
        "oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": r"^\s*[0-9]+\s*([KMG]i?B?)?\s*$"}],
    },
    "helm": {
        "type": "object",
        "additionalProperties": False,
        "description": "How Helm charts are rendered.",
        "properties": {
            "values": {
                "type": "object",
                "description": "Chart folder (relative to the scan root) -> values files (relative to the chart folder), applied after its values.yaml, in order.",
                "additionalProperties": _STRINGS,
            },
        },
    },
}


def config_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of `.safeai-lint.yaml` / `[tool.safeai-lint]`."""
    missing = [k for k in (*POLICY_KEYS, *SETTING_KEYS) if k not in POLICY_SCHEMAS and k not in SETTING_SCHEMAS]
    if missing:  # a key the validator accepts must be in the schema
        raise KeyError(f"no schema for config keys {missing}")
    properties = {key: POLICY_SCHEMAS[key] for key in POLICY_KEYS}
    properties.update({key: SETTING_SCHEMAS[key] for key in SETTING_KEYS})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "safeai-lint configuration",
        "description": "Policy keys (same names as rules/policy.yaml) beside linter settings.",
        "type": "object",
        "additionalProperties": False,
        "properties": json.loads(json.dumps(properties)),  # a fresh copy: callers may edit it
    }


def _yaml(value: Any) -> str:
    """A value as YAML flow text: JSON is valid YAML, and quoting every string keeps
    versions such as "2.10" from turning into numbers."""
    return json.dumps(value, ensure_ascii=False)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


_THRESHOLDS = (
    ("max-vram-fraction", "Requirement 4: share of GPU memory a serving engine may use."),
    ("memory-headroom", "Requirement 1: memory limit = profiled peak + this headroom."),
    ("max-gpus-per-pod", "Requirement 2: one pod per GPU."),
    ("instance-types", "Requirement 3: where GPU workloads may run."),
    ("max-input-tokens", "Requirement 16: token budget counted before the engine."),
    ("timeout-ms", "Requirement 7: inference slower than this returns 504."),
    ("max-retry-attempts", "Requirement 6: bounded retries, exponential backoff with jitter."),
    ("breaker-error-rate", "Requirement 8: error rate (percent) that trips the breaker ..."),
    ("breaker-window", "... over this window."),
    ("max-rps-per-key", "Requirement 13: embedding rate limit per API key."),
)


def starter_config(policy: Mapping[str, Any], survey=None) -> str:  # noqa: ANN001 - survey.Survey
    """A commented `.safeai-lint.yaml` holding the lock table and the main thresholds of
    `policy` (normally the built-in one), ready to edit. With a `survey` of the repository,
    what it uses against the standard is written as commented alternatives (init_survey)."""
    from . import init_survey as notes

    lines = [
        "# safeai-lint configuration. Keys not written here keep the built-in policy",
        "# (`safeai-lint policy` prints the effective values; `safeai-lint schema` prints the",
        "# JSON Schema editors can validate this file with).",
        "",
        "# Requirement 10 - the version lock. Quote every version. A value with fewer parts",
        '# matches by prefix ("12.2" accepts 12.2.0 and 12.2.2). Raising a version needs a',
        "# performance regression report: add it to the repo and name it in a waiver, or",
        "# change the lock here once it is reviewed.",
        "version-lock:",
    ]
    lock = policy.get("version-lock")
    for component, version in (lock.items() if isinstance(lock, Mapping) else ()):
        lines.append(f"  {component}: {_yaml(str(version))}")
        if survey is not None:
            lines += notes.version_notes(survey, component)
    if not isinstance(lock, Mapping) or not lock:
        lines[-1] = "version-lock: {}"
    if survey is not None:
        lines += notes.other_versions(survey, lock if isinstance(lock, Mapping) else {})
    lines.append("")
    if survey is not None:
        lines += notes.image_section(survey, [str(e) for e in policy.get("allowed-images") or ()]) + [""]
    for key, comment in _THRESHOLDS:
        if key in policy and policy[key] is not None:
            lines.append(f"# {comment}")
            lines.append(f"{key}: {_yaml(_plain(policy[key]))}")
            if key == "instance-types" and survey is not None:
                lines += notes.placement_notes(survey)
    if survey is not None and notes.engine_notes(survey):
        lines += [""] + notes.engine_notes(survey)
    lines += [
        "",
        "# Exit 1 when a finding at or above this level remains: error | warning | note | never.",
        'fail-on: "warning"',
        "",
        "# Paths never scanned (globs relative to the repository root).",
        "exclude: []",
        "",
        "# Time-boxed exceptions. A waiver needs a reason and an end date; a waiver of SAI101",
        "# (a version beyond the lock) also needs its regression report in the repository.",
        "# waivers:",
        "#   - rule: SAI101",
        "#     paths: [requirements.txt]",
        "#     component: transformers",
        '#     reason: "chat template fix"',
        "#     until: 2027-03-31",
        "#     report: docs/perf/transformers-4.36.md",
        "",
    ]
    return "\n".join(lines)
