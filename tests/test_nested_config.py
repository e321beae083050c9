"""Nested config, as ruff: each file is judged with the closest config above it (up to the scan
root), `extend:` inherits, and the results are the same from any working directory."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_tree

UNPINNED = "torch>=2.0\n"  # SAI102 at line 1
MISMATCH = "transformers==4.36.2\n"  # SAI101 at line 1 (lock 4.34.0)


def run(cwd: Path, *args: str) -> tuple[int, set[tuple[str, str, int]], str]:
    out = subprocess.run(
        [sys.executable, "-m", "safeai_lint", "check", "--format", "json", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"}, check=False,
    )
    findings = json.loads(out.stdout)["findings"] if out.stdout.strip() else []
    return out.returncode, {(f["rule"], f["path"], f["line"]) for f in findings}, out.stderr


def _git(root: Path) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q"], cwd=root, env=env, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, env=env, check=True)


TWO_SERVICES = {
    "svc-a/.safeai-lint.yaml": "ignore: [SAI102]\n",
    "svc-a/requirements.txt": UNPINNED,
    "svc-b/requirements.txt": UNPINNED,
}


@pytest.mark.parametrize("git", [False, True], ids=["folder", "git"])
def test_a_nested_config_applies_from_any_working_directory(tmp_path, git):
    write_tree(tmp_path, TWO_SERVICES)
    if git:
        _git(tmp_path)
    expected = {("SAI102", "svc-b/requirements.txt", 1)}  # svc-b has no config: defaults
    assert run(tmp_path, ".")[1] == expected
    if git:  # inside git the root is the work tree wherever the scan starts
        assert run(tmp_path / "svc-a", "..")[1] == expected
        assert run(tmp_path / "svc-b", "..")[1] == expected
    # pre-commit names the files from the repository root
    assert run(tmp_path, "svc-a/requirements.txt")[:2] == (0, set())
    assert run(tmp_path, "svc-a/requirements.txt", "svc-b/requirements.txt")[1] == expected


def test_the_closest_config_wins_and_does_not_inherit_without_extend(tmp_path):
    write_tree(tmp_path, {
        ".safeai-lint.yaml": "ignore: [SAI101]\n",
        "requirements.txt": MISMATCH,
        "svc/.safeai-lint.yaml": "ignore: [SAI102]\n",
        "svc/requirements.txt": UNPINNED + MISMATCH,
    })
    # the root ignores SAI101; svc's own config replaces it (SAI101 is judged again there)
    assert run(tmp_path, ".")[1] == {("SAI101", "svc/requirements.txt", 2)}


def test_extend_inherits_and_the_extending_file_wins(tmp_path):
    write_tree(tmp_path, {
        ".safeai-lint.yaml": 'ignore: [SAI102]\nversion-lock: {transformers: "4.36.2", vllm: "0.2.7"}\n',
        "svc/.safeai-lint.yaml": 'extend: ../.safeai-lint.yaml\nversion-lock: {vllm: "0.3.0"}\n',
        "svc/requirements.txt": "vllm==0.3.0\ntransformers==4.36.2\ntorch>=2\n",
    })
    # SAI102 stays ignored (inherited); the lock merges key by key and svc's vllm pin wins
    assert run(tmp_path, ".")[1] == set()
    write_tree(tmp_path, {"svc/.safeai-lint.yaml": 'extend: ../.safeai-lint.yaml\nignore: [SAI101]\n'})
    # svc's `ignore` replaces the root's: SAI102 is judged again; the inherited lock holds
    assert run(tmp_path, ".")[1] == {("SAI102", "svc/requirements.txt", 3)}


@pytest.mark.parametrize(("config", "message"), [
    ("extend: ../missing.yaml\n", "svc/.safeai-lint.yaml:1: extend: ../missing.yaml does not exist"),
    ("extend: ../.safeai-lint.yaml\n", "svc/.safeai-lint.yaml:1: extend: ../.safeai-lint.yaml leads back to a config that extends it"),
    ("extend: 3\n", "svc/.safeai-lint.yaml:1: extend: expected the path of a config file"),
])
def test_a_bad_extend_exits_2_naming_the_file_and_line(tmp_path, config, message):
    write_tree(tmp_path, {
        ".safeai-lint.yaml": "extend: svc/.safeai-lint.yaml\n",
        "svc/.safeai-lint.yaml": config,
        "svc/requirements.txt": UNPINNED,
    })
    code, _, err = run(tmp_path, ".")
    assert code == 2 and message in err, err


def test_globs_of_a_nested_config_are_relative_to_its_folder(tmp_path):
    write_tree(tmp_path, {
        "svc/.safeai-lint.yaml": "exclude: [/gen]\nper-file-ignores:\n  'tools/*.txt': [SAI102]\n",
        "svc/gen/requirements.txt": UNPINNED,
        "svc/tools/requirements.txt": UNPINNED,
        "gen/requirements.txt": UNPINNED,  # near misses: the same paths from the root are judged
        "tools/requirements.txt": UNPINNED,
    })
    assert run(tmp_path, ".")[1] == {("SAI102", "gen/requirements.txt", 1), ("SAI102", "tools/requirements.txt", 1)}


def test_a_waiver_in_a_nested_config_reads_paths_and_report_below_its_folder(tmp_path):
    until = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    waiver = (
        "waivers:\n  - rule: SAI101\n    paths: [requirements.txt]\n    reason: chat template fix\n"
        f"    until: {until}\n    report: docs/perf.md\n"
    )
    write_tree(tmp_path, {
        "svc/.safeai-lint.yaml": waiver, "svc/docs/perf.md": "p99 unchanged\n", "svc/requirements.txt": MISMATCH,
        "requirements.txt": MISMATCH,  # not waived: the waiver belongs to svc
    })
    assert run(tmp_path, ".")[1] == {("SAI101", "requirements.txt", 1)}


def test_a_folder_the_root_config_excludes_is_not_judged_and_its_config_never_read(tmp_path):
    write_tree(tmp_path, {
        ".safeai-lint.yaml": "exclude: [fixtures]\n",
        "fixtures/case/.safeai-lint.yaml": "max-vram-fraction: 7\n",  # broken on purpose
        "fixtures/case/requirements.txt": UNPINNED,
        "requirements.txt": UNPINNED,
    })
    assert run(tmp_path, ".")[:2] == (1, {("SAI102", "requirements.txt", 1)})


def test_pyproject_table_is_a_nested_config(tmp_path):
    write_tree(tmp_path, {
        "svc/pyproject.toml": '[project]\nname = "svc"\nversion = "1"\n\n[tool.safeai-lint]\nignore = ["SAI102"]\n',
        "svc/requirements.txt": UNPINNED,
        "other/pyproject.toml": '[project]\nname = "other"\nversion = "1"\n',  # no table: not a config
        "other/requirements.txt": UNPINNED,
    })
    assert run(tmp_path, ".")[1] == {("SAI102", "other/requirements.txt", 1)}


def test_explicit_config_replaces_every_nested_config(tmp_path):
    write_tree(tmp_path, {**TWO_SERVICES, "strict.yaml": "fail-on: warning\n"})
    assert run(tmp_path, ".", "--config", "strict.yaml")[1] == {
        ("SAI102", "svc-a/requirements.txt", 1), ("SAI102", "svc-b/requirements.txt", 1),
    }


def test_policy_command_shows_the_config_that_judges_a_path(tmp_path):
    write_tree(tmp_path, {"svc/.safeai-lint.yaml": "max-input-tokens: 8192\n", "svc/app/requirements.txt": UNPINNED})
    _git(tmp_path)

    def policy(cwd: Path, *args: str) -> str:
        out = subprocess.run([sys.executable, "-m", "safeai_lint", "policy", *args], cwd=cwd,
                             capture_output=True, text=True, timeout=120, check=True)
        return next(line for line in out.stdout.splitlines() if line.startswith("max-input-tokens:"))

    assert policy(tmp_path, "svc/app/requirements.txt") == "max-input-tokens: 8192"
    assert policy(tmp_path / "svc") == "max-input-tokens: 8192"
    assert policy(tmp_path) == "max-input-tokens: 4096"  # the root has no config: the defaults
