"""Configuration: where it is found, what it changes, and how a bad one is reported."""
from __future__ import annotations

import pytest

from conftest import hits, scan, write_tree
from safeai_lint.config import ConfigError
from safeai_lint.configfiles import load_config
from safeai_lint.engine import lint


def test_policy_values_override_the_defaults(tmp_path):
    result = scan(tmp_path, {
        ".safeai-lint.yaml": 'version-lock: {transformers: "4.36.2"}\n',
        "requirements.txt": "transformers==4.36.2\ntorch==2.0.1\n",
    })
    assert hits(result) == {("SAI101", "requirements.txt", 2)}  # torch lock still merged in


def test_config_in_pyproject_tool_table(tmp_path):
    result = scan(tmp_path, {
        "pyproject.toml": '[project]\nname = "x"\nrequires-python = "==3.11.4"\n\n[tool.safeai-lint]\nignore = ["SAI102"]\n',
        "requirements.txt": "torch>=2.0\n",
    })
    assert hits(result) == set()


def test_config_found_walking_up_from_the_scan_root(tmp_path):
    write_tree(tmp_path, {".safeai-lint.yaml": "ignore: [SAI102]\n", "svc/requirements.txt": "torch>=2.0\n"})
    assert hits(lint([str(tmp_path / "svc")], cwd=tmp_path / "svc")) == set()


def test_levels_and_per_file_ignores_and_exclude(tmp_path):
    result = scan(tmp_path, {
        ".safeai-lint.yaml": (
            "levels: {SAI102: note}\n"
            "per-file-ignores: {'legacy/*': [SAI101]}\n"
            "exclude: [vendor]\n"
        ),
        "requirements.txt": "torch>=2.0\n",
        "legacy/requirements.txt": "torch==1.13.1\n",
        "vendor/pkg/requirements.txt": "torch==1.0.0\n",
    })
    assert hits(result) == {("SAI102", "requirements.txt", 1)}
    assert {f.level for f in result.findings} == {"note"}


@pytest.mark.parametrize(
    "text, message",
    [
        ("max-vram-fraction: 1.5\n", ".safeai-lint.yaml:1: max-vram-fraction: expected a number greater than 0 and at most 1"),
        ("version-lock:\n  torch: 2.10\n", "version-lock: expected a quoted version string for 'torch'"),
        ("selct: [SAI101]\n", ".safeai-lint.yaml:1: selct: expected a known key"),
        ("ignore: [SAI9]\n", "ignore[0]: expected a rule id, family prefix or rule name, not 'SAI9'"),
        ("levels: {SAI101: fatal}\n", "levels.SAI101: expected one of error, warning, note"),
        ("fail-on: sometimes\n", "fail-on: expected one of error, warning, note, never"),
        ("waivers:\n  - {rule: SAI101, until: tomorrow}\n", "waivers[0].until: expected an ISO date"),
        ("memory-headroom: lots\n", 'memory-headroom: expected a Kubernetes quantity such as "2Gi"'),
        ("- a\n- b\n", "(top level): expected a mapping"),
        ("a: [1,\n", ".safeai-lint.yaml:2: invalid YAML"),
    ],
)
def test_invalid_config_names_file_key_and_expectation(tmp_path, text, message):
    path = tmp_path / ".safeai-lint.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path, ".safeai-lint.yaml")
    assert message in str(err.value)


def test_pyproject_config_error_has_a_line(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"\n\n[tool.safeai-lint]\nselect = ["SAI101"]\nmax-input-tokens = "many"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path, "pyproject.toml")
    assert "pyproject.toml [tool.safeai-lint]:6: max-input-tokens: expected a whole number" in str(err.value)
