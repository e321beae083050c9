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
    lines = text.splitlines()
    # one clickable line per finding: path:line:col: level rule [*] message [name]
    assert [l.split(" [*] ")[0] for l in lines if l.startswith("requirements.txt:")] == [
        "requirements.txt:1:1: error SAI102", "requirements.txt:2:1: error SAI101"
    ]
    assert lines[0].endswith("[version-not-pinned]")
    assert "| transformers==4.36.2" in text and "^^^^^^^^^^^^" in text
    assert "= docs: https://github.com/safeai-lint/safeai-lint/blob/main/docs/rules/SAI101.md" in text
    assert text.rstrip().endswith("[*] 2 fixable with the `--fix` option.")


def test_grouped_format_keeps_findings_under_their_file(tmp_path):
    write_tree(tmp_path, BAD)
    text = run(["check", ".", "--format", "grouped"], tmp_path).stdout.decode()
    assert text.splitlines()[0] == "requirements.txt"
    assert "  1:1  error    SAI102 [*]  torch" in text and "  2:1  error    SAI101 [*]" in text
    assert "docs/rules/SAI102.md" in text


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
    assert out.returncode == 2 and b"valid formats: text, grouped, json, sarif" in out.stderr
    out = run(["check", ".", "--select", "SAI999"], tmp_path)
    assert out.returncode == 2 and b"valid rule ids: SAI001" in out.stderr and b"did you mean" not in out.stderr
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
    assert "1  SAI101  error    version-mismatch  [*] 1 fixable" in out
    assert "[*] 2 fixable with the `--fix` option." in out


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


def test_did_you_mean_for_a_mistyped_rule_format_and_config_key(tmp_path):
    write_tree(tmp_path, CLEAN)
    out = run(["check", ".", "--select", "SAI3077"], tmp_path)
    assert out.returncode == 2 and b"unknown rule 'SAI3077' (did you mean SAI307?)" in out.stderr
    out = run(["check", ".", "--ignore", "gpu-memory-fraction-to-high"], tmp_path)
    assert b"(did you mean gpu-memory-fraction-too-high?)" in out.stderr
    out = run(["check", ".", "--format", "jsn"], tmp_path)
    assert b"unknown format 'jsn' (did you mean json?)" in out.stderr
    write_tree(tmp_path, {".safeai-lint.yaml": "selct: [SAI101]\n"})
    out = run(["check", "."], tmp_path)
    assert out.returncode == 2 and b".safeai-lint.yaml:1: selct: expected a known key" in out.stderr
    assert out.stderr.rstrip().endswith(b"unknown key (did you mean select?)")


def test_every_config_error_is_reported_at_once_each_with_its_line(tmp_path):
    write_tree(tmp_path, {**CLEAN, ".safeai-lint.yaml": "max-vram-fraction: 1.5\nfail-on: sometimes\nlevels:\n  SAI3O7: error\nmax-input-tokens: 4096\n"})
    out = run(["check", "."], tmp_path)
    assert out.returncode == 2 and out.stdout == b""
    lines = out.stderr.decode().splitlines()
    assert [l.split(": ")[2] for l in lines] == [".safeai-lint.yaml:1", ".safeai-lint.yaml:2", ".safeai-lint.yaml:4"]
    assert all(l.startswith("safeai-lint: error: ") for l in lines)
    assert "levels.SAI3O7: expected a known rule id (did you mean SAI307?)" in lines[2]


def test_format_is_case_insensitive_and_jobs_rejects_negatives(tmp_path):
    write_tree(tmp_path, BAD)
    out = run(["check", ".", "--format", "JSON"], tmp_path)
    assert json.loads(out.stdout)["summary"]["total"] == 2
    out = run(["check", ".", "--jobs", "-2"], tmp_path)
    assert out.returncode == 2 and b"--jobs must be 0 (one per core) or more, not -2" in out.stderr


def test_exit_zero_reports_findings_but_exits_0_and_errors_still_exit_2(tmp_path):
    write_tree(tmp_path, BAD)
    out = run(["check", ".", "--exit-zero"], tmp_path)
    assert out.returncode == 0 and b"SAI101" in out.stdout
    assert run(["check", ".", "--exit-zero", "--format", "nope"], tmp_path).returncode == 2


def test_color_option_overrides_the_terminal_guess(tmp_path):
    write_tree(tmp_path, BAD)
    always = run(["check", ".", "--color", "always"], tmp_path)  # NO_COLOR is set by run()
    assert b"\x1b[1;31merror\x1b[0m" in always.stdout
    never = run(["check", ".", "--color", "never"], tmp_path, env={"FORCE_COLOR": "1"})
    assert b"\x1b[" not in never.stdout and b"requirements.txt:2:1: error SAI101" in never.stdout
    assert run(["check", ".", "--color", "sometimes"], tmp_path).returncode == 2


def test_control_characters_from_a_scanned_file_never_reach_the_terminal(tmp_path):
    write_tree(tmp_path, {"requirements.txt": "torch>=2.0 \x1b[2J\x1b]0;owned\x07\n"})
    out = run(["check", ".", "--color", "always"], tmp_path)
    assert b"torch" in out.stdout
    assert b"\x1b[2J" not in out.stdout and b"\x1b]0" not in out.stdout and b"\x07" not in out.stdout


def test_text_report_to_a_json_named_file_warns(tmp_path):
    write_tree(tmp_path, BAD)
    out = run(["check", ".", "-o", "out.json"], tmp_path)
    assert b"warning: text format to out.json; did you mean --format json?" in out.stderr
    assert (tmp_path / "out.json").read_text().startswith("requirements.txt:1:1: error SAI102")
    quiet = run(["check", ".", "-o", "out.txt"], tmp_path)
    assert b"warning" not in quiet.stderr


def test_short_help_and_shell_completion(tmp_path):
    out = run(["-h"], tmp_path)
    assert out.returncode == 0 and b"Usage: safeai-lint" in out.stdout
    assert b"--exit-zero" in run(["check", "-h"], tmp_path).stdout
    script = run(["--show-completion", "bash"], tmp_path)
    assert script.returncode == 0 and b"_SAFEAI_LINT_COMPLETE=complete_bash" in script.stdout
    done = run([], tmp_path, env={"_SAFEAI_LINT_COMPLETE": "complete_bash", "COMP_WORDS": "safeai-lint check --exit", "COMP_CWORD": "2"})
    assert done.stdout.split() == [b"--exit-zero"]


def test_every_bad_item_of_a_list_is_reported_too(tmp_path):
    config = (
        "ignore: [SAI3077, SAI101, SAI9]\n"
        "waivers:\n"
        "  - rule: SAI101\n    until: soon\n"
        "  - rule: SAI102\n    reason: ok\n"
        "  - rule: SAI104\n    reasons: typo\n"
    )
    write_tree(tmp_path, {**CLEAN, ".safeai-lint.yaml": config})
    lines = run(["check", "."], tmp_path).stderr.decode().splitlines()
    assert [l.split(": ")[2:4] for l in lines] == [
        [".safeai-lint.yaml:1", "ignore[0]"], [".safeai-lint.yaml:1", "ignore[2]"],
        [".safeai-lint.yaml:4", "waivers[0].until"], [".safeai-lint.yaml:8", "waivers[2].reasons"],
    ]
