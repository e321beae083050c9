"""`init` starter config and the config JSON Schema: consistent with the validator."""
from __future__ import annotations

import jsonschema
import pytest

from safeai_lint.catalog import rules_dir
from safeai_lint.config import POLICY_KEYS, SETTING_KEYS, ConfigError, build_config
from safeai_lint.configfiles import load_config
from safeai_lint.init import config_schema, starter_config
from safeai_lint.policy import default_policy, merge_policy
from safeai_lint.sources.yaml import load_plain, plain


def _validator():
    schema = config_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_schema_keys_are_exactly_the_keys_the_validator_accepts():
    assert set(config_schema()["properties"]) == set(POLICY_KEYS) | set(SETTING_KEYS)
    assert config_schema()["additionalProperties"] is False


def test_starter_config_validates_and_loads(tmp_path):
    text = starter_config(default_policy())
    _validator().validate(plain(load_plain(text)))
    path = tmp_path / ".safeai-lint.yaml"
    path.write_text(text, encoding="utf-8")
    config = load_config(path)
    assert config.policy["version-lock"] == default_policy()["version-lock"]
    assert config.policy["max-vram-fraction"] == 0.85 and config.policy["breaker-window"] == "60s"
    assert config.fail_on == "warning"


def test_starter_config_carries_a_custom_lock_and_keeps_comments():
    policy = merge_policy({"version-lock": {"vllm": "0.2.7", "torch": "2.10"}})
    text = starter_config(policy)
    assert '  vllm: "0.2.7"' in text and '  torch: "2.10"' in text  # quoted: 2.10 stays 2.10
    assert "# Requirement 10" in text and "# waivers:" in text
    assert plain(load_plain(text))["version-lock"]["torch"] == "2.10"


def test_builtin_policy_is_a_valid_config():
    raw = plain(load_plain((rules_dir() / "policy.yaml").read_text(encoding="utf-8")))
    _validator().validate(raw)
    build_config(raw, "policy.yaml")


@pytest.mark.parametrize("raw", [
    {"max-vram-fraction": 1.5},
    {"version-lock": {"torch": 2.1}},
    {"fail-on": "sometimes"},
    {"levels": {"SAI101": "fatal"}},
    {"max-gpus-per-pod": 0},
    {"waivers": [{"rule": "SAI101", "reasons": "typo"}]},
    {"unknown-key": 1},
    {"alert-signals": {"vram": "gpu_mem"}},
    {"alert-signals": {"vram": []}},
    {"alert-signals": {"vram": ["gpu_mem("]}},
])
def test_schema_and_validator_reject_the_same_bad_values(raw):
    assert list(_validator().iter_errors(raw)), raw
    with pytest.raises(ConfigError):
        build_config(raw, ".safeai-lint.yaml")


@pytest.mark.parametrize("raw", [
    {"version-lock": {"vllm": "0.2.7"}, "max-input-tokens": 8192, "levels": {"SAI203": "note"}},
    {"waivers": [{"rule": "SAI101", "paths": "requirements.txt", "reason": "x", "until": "2027-03-31", "report": "r.md"}]},
    {"memory-headroom": "512Mi", "breaker-window": "1m30s", "embedding-dimension": None, "max-file-size": "5MB"},
    {"select": ["SAI1", "version-mismatch"], "per-file-ignores": {"tests/**": ["SAI101"]}},
    {"alert-signals": {"vram": ["(?i)hbm_used", "gpu_mem"], "queue-depth": ["num_requests_waiting"]}},
])
def test_schema_and_validator_accept_the_same_good_values(raw):
    _validator().validate(raw)
    build_config(raw, ".safeai-lint.yaml")
