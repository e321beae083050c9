"""SAI005: the lock table judged against rules/compat.yaml."""
from __future__ import annotations

import pytest

from safeai_lint.checks.coherence import compat, judge_lock
from safeai_lint.policy import default_policy
from conftest import hits, scan


def test_builtin_policy_is_coherent():
    assert judge_lock(default_policy()["version-lock"]) == []


def test_every_compat_table_names_its_source():
    for name, table in compat().items():
        assert isinstance(table, dict) and str(table.get("source", "")).strip(), name


def test_builtin_findings_point_at_the_builtin_policy_line():
    found = judge_lock({**default_policy()["version-lock"], "triton": "3.0.0"})
    assert [(f.location.path, f.location.line, f.subject) for f in found] == [("rules/policy.yaml", 11, "triton")]
    assert "torch 2.1 is built against triton 2.1.0" in found[0].message
    assert "pypi.org/project/torch" in found[0].message


@pytest.mark.parametrize("lock, subjects", [
    ({"torch": "2.3.1", "triton": "2.3.0"}, []),            # patch level not judged
    ({"torch": "2.1", "triton": "2.1"}, []),                # prefixes
    ({"torch": "2.1.0+cu121", "triton": "2.1.0"}, []),      # local build label ignored
    ({"torch": "2.5.0", "triton": "3.0.0"}, ["triton"]),
    ({"torch": "2.0.1", "cuda": "12.1"}, ["cuda"]),         # torch 2.0 has CUDA 11 builds only
    ({"torch": "2.1.0", "cuda": "12.2"}, []),
    ({"cuda": "12.2.2", "cuda-driver": "535.86.10"}, ["cuda-driver"]),
    ({"cuda": "12.2", "cuda-driver": "535.86.10"}, []),     # GA needs 535.54.03
    ({"cuda": "12.2", "cuda-driver": "530"}, ["cuda-driver"]),
    ({"transformers": "4.50.0", "python": "3.8.18", "torch": "2.0.1"}, ["transformers"]),
    ({"transformers": "4.49.0", "python": "3.8.18", "torch": "1.13.1"}, []),
    ({"transformers": "4.34.0", "torch": "1.9.0"}, ["transformers"]),
])
def test_pairs(lock, subjects):
    assert [f.subject for f in judge_lock(lock)] == subjects


@pytest.mark.parametrize("lock", [{"torch": 2.1}, {"torch": None, "triton": ["x"]}, {"cuda": "abc", "cuda-driver": "x.y"}, [], None])
def test_bad_values_are_skipped_not_crashed(lock):
    assert judge_lock(lock) == []


def test_located_in_pyproject_table(tmp_path):
    result = scan(tmp_path, {"pyproject.toml": (
        '[project]\nname = "svc"\n\n[tool.safeai-lint.version-lock]\ntorch = "2.4.0"\ntriton = "2.1.0"\n'
    )})
    assert hits(result, "SAI005") == {("SAI005", "pyproject.toml", 6)}


def test_a_nested_config_not_in_use_is_not_blamed(tmp_path):
    result = scan(tmp_path, {
        ".safeai-lint.yaml": 'exclude: [fixtures]\nversion-lock:\n  torch: "2.4.0"\n',
        "fixtures/.safeai-lint.yaml": 'version-lock:\n  triton: "9.9.9"\n  torch: "2.5.0"\n',
    })
    assert hits(result, "SAI005") == {("SAI005", ".safeai-lint.yaml", 3)}


def test_a_nested_config_in_use_is_judged_where_it_writes_its_lock(tmp_path):
    # fixtures/ is judged with its own config (nested config), so its lock table is the policy there
    result = scan(tmp_path, {
        ".safeai-lint.yaml": 'version-lock:\n  torch: "2.4.0"\n',
        "fixtures/.safeai-lint.yaml": 'version-lock:\n  triton: "9.9.9"\n  torch: "2.5.0"\n',
    })
    assert hits(result, "SAI005") == {("SAI005", ".safeai-lint.yaml", 2), ("SAI005", "fixtures/.safeai-lint.yaml", 2)}
