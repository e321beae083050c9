"""The command line as a user runs it: exit codes, stdout hygiene, options, error messages."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_tree

BAD = {"requirements.txt": "torch>=2.0\ntransformers==4.36.2\n"}
CLEAN = {"requirements.txt": "torch==2.1.0\nfastapi>=0.100\n"}


def run(args: list[str], cwd: Path, stdin: bytes | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "safeai_lint", *args],
        cwd=cwd, input=stdin, capture_output=True, env=full_env, timeout=120,
    )


def test_clean_repo_exits_0(tmp_path):
    write_tree(tmp_path, CLEAN)
    out = run(["check", "."], tmp_path)
    assert out.returncode == 0, out.stderr
    assert b"All clear" in out.stdout


def test_findings_exit_1_and_show_rule_path_line_and_source(tmp_path):
    write_tree(tmp_path, BAD)
    out = run(["check", "."], tmp_path)
    assert out.returncode == 1
    text = out.stdout.decode()
    assert "requirements.txt" in text
    assert "1:1  error    SAI102" in text
    assert "2:1  error    SAI101" in text
    assert "| transformers==4.36.2" in text and "^^^^^^^^^^^^" in text


def test_fail_on_never_exits_0_and_fail_on_error_ignores_warnings(tmp_path):
    write_tree(tmp_path, {**BAD, "a/requirements.txt": "numpy==1.0.0\n", "b/requirements.txt": "numpy==2.0.0\n"})
    assert run(["check", ".", "--fail-on", "never"], tmp_path).returncode == 0
    only_warnings = run(["check", ".", "--select", "SAI104", "--fail-on", "error"], tmp_path)
    assert b"SAI104" in only_warnings.stdout and only_warnings.returncode == 0


def test_fail_on_from_config(tmp_path):
    write_tree(tmp_path, {**BAD, ".safeai-lint.yaml": "fail-on: never\n"})
    assert run(["check", "."], tmp_path).returncode == 0


def test_bad_config_exits_2_with_file_key_and_line(tmp_path):
    write_tree(tmp_path, {**CLEAN, ".safeai-lint.yaml": "max-input-tokens: 4096\nmax-vram-fraction: 1.5\n"})
    out = run(["check", "."], tmp_path)
    assert out.returncode == 2
    err = out.stderr.decode()
    assert ".safeai-lint.yaml:2: max-vram-fraction: expected a number" in err
    assert "Traceback" not in err and out.stdout == b""


def test_unknown_format_and_rule_exit_2_listing_valid_values(tmp_path):
    write_tree(tmp_path, CLEAN)
    out = run(["check", ".", "--format", "xml"], tmp_path)
    assert out.returncode == 2 and b"valid formats: text, json, sarif" in out.stderr
    out = run(["check", ".", "--select", "SAI999"], tmp_path)
    assert out.returncode == 2 and b"valid rule ids: SAI001" in out.stderr
    out = run(["rule", "SAI999"], tmp_path)
    assert out.returncode == 2 and b"unknown rule" in out.stderr


def test_missing_path_exits_2(tmp_path):
    out = run(["check", "nope"], tmp_path)
    assert out.returncode == 2 and b"path does not exist: nope" in out.stderr


def test_json_stdout_is_only_json(tmp_path):
    write_tree(tmp_path, BAD)
    out = run(["check", ".", "--format", "json"], tmp_path)
    doc = json.loads(out.stdout)
    assert doc["schema_version"] == 1 and doc["tool"]["name"] == "safeai-lint"
    assert [(f["rule"], f["path"], f["line"]) for f in doc["findings"]] == [
        ("SAI102", "requirements.txt", 1), ("SAI101", "requirements.txt", 2)
    ]
    assert doc["summary"]["by_level"]["error"] == 2 and doc["summary"]["files_scanned"] == 1


def test_output_file_and_quiet(tmp_path):
    write_tree(tmp_path, BAD)
    out = run(["check", ".", "--format", "json", "--output", "report/out.json"], tmp_path)
    assert out.returncode == 1 and out.stdout == b""
    assert json.loads((tmp_path / "report/out.json").read_text())["summary"]["total"] == 2
    quiet = run(["check", ".", "--quiet"], tmp_path)
    assert b"Found" not in quiet.stdout and b"SAI101" in quiet.stdout


def test_statistics(tmp_path):
    write_tree(tmp_path, BAD)
    out = run(["check", ".", "--statistics"], tmp_path).stdout.decode()
    assert "1  SAI101  error    version-mismatch" in out


def test_select_and_ignore(tmp_path):
    write_tree(tmp_path, BAD)
    assert b"SAI102" not in run(["check", ".", "--select", "SAI101"], tmp_path).stdout
    out = run(["check", ".", "--ignore", "SAI1"], tmp_path)
    assert out.returncode == 0 and b"SAI10" not in out.stdout
    assert b"SAI101" in run(["check", ".", "--select", "version-mismatch"], tmp_path).stdout


def test_stdin_with_filename(tmp_path):
    out = run(["check", "-", "--stdin-filename", "requirements.txt", "--format", "json"], tmp_path, stdin=b"torch>=2.0\n")
    doc = json.loads(out.stdout)
    assert [(f["rule"], f["path"], f["line"]) for f in doc["findings"]] == [("SAI102", "requirements.txt", 1)]
    assert out.returncode == 1


def test_explicit_file_reports_only_that_file(tmp_path):
    write_tree(tmp_path, {**BAD, "other/requirements.txt": "torch>=1\n"})
    doc = json.loads(run(["check", "requirements.txt", "--format", "json"], tmp_path).stdout)
    assert {f["path"] for f in doc["findings"]} == {"requirements.txt"}


def test_rules_and_rule_docs(tmp_path):
    listing = run(["rules"], tmp_path).stdout.decode()
    assert "SAI101  version-mismatch" in listing
    rules = json.loads(run(["rules", "--format", "json"], tmp_path).stdout)
    assert {"id": "SAI102", "name": "version-not-pinned"}.items() <= rules[2].items() or any(r["id"] == "SAI102" for r in rules)
    doc = run(["rule", "SAI101"], tmp_path).stdout.decode()
    for section in ("# SAI101 version-mismatch", "## What it does", "## Why is this bad?", "## Example", "Use instead:", "## How to fix"):
        assert section in doc
    assert run(["rule", "version-mismatch"], tmp_path).returncode == 0


def test_policy_prints_effective_values(tmp_path):
    write_tree(tmp_path, {".safeai-lint.yaml": "max-input-tokens: 8192\nversion-lock: {vllm: \"0.2.7\"}\n"})
    out = run(["policy"], tmp_path).stdout.decode()
    assert "max-input-tokens: 8192" in out
    assert "vllm: 0.2.7" in out and "torch: 2.1.0" in out


def test_version(tmp_path):
    out = run(["--version"], tmp_path)
    assert out.returncode == 0 and out.stdout.decode().startswith("safeai-lint ")


@pytest.mark.parametrize("args", [["check", "--jobs", "abc"], ["frobnicate"]])
def test_usage_errors_exit_2(tmp_path, args):
    assert run(args, tmp_path).returncode == 2
