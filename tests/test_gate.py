"""A merge gate never passes silently: input it did not judge is an error or a warning, never
"All clear" (stdin without a kind, named files the config excludes, zero files); every
usage, I/O or internal error exits 2; Ctrl-C restores the terminal and leaves no report."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_tree

BAD_REQS = "torch>=2.0\n"
CLEAN_REQS = "torch==2.1.0\n"


def run(args: list[str], cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "safeai_lint", *args],
        cwd=cwd, input=stdin, capture_output=True, text=False, env=env, timeout=120, check=False,
    )


def _git_repo(root: Path) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q"], cwd=root, env=env, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, env=env, check=True)


# --- stdin --------------------------------------------------------------------------------


def test_stdin_without_a_name_is_a_usage_error(tmp_path):
    write_tree(tmp_path, {"requirements.txt": CLEAN_REQS})
    out = run(["check", "-"], tmp_path, stdin=BAD_REQS.encode())
    assert out.returncode == 2 and out.stdout == b""
    assert b"--stdin-filename" in out.stderr and b"All clear" not in out.stdout


def test_stdin_with_a_name_no_rule_reads_is_a_usage_error(tmp_path):
    out = run(["check", "-", "--stdin-filename", "foo.txt"], tmp_path, stdin=BAD_REQS.encode())
    assert out.returncode == 2 and out.stdout == b""
    assert b"--stdin-filename foo.txt: no rule reads a file of that name" in out.stderr


def test_stdin_filename_without_dash_is_a_usage_error(tmp_path):
    write_tree(tmp_path, {"requirements.txt": CLEAN_REQS})
    out = run(["check", ".", "--stdin-filename", "x.yaml"], tmp_path, stdin=BAD_REQS.encode())
    assert out.returncode == 2 and b"add '-' to the paths" in out.stderr


def test_stdin_with_a_yaml_name_is_judged(tmp_path):
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: llm}\nspec:\n  template:\n    spec:\n"
        "      containers:\n      - name: vllm\n        image: vllm/vllm-openai:latest\n"
    )
    out = run(["check", "-", "--stdin-filename", "x.yaml", "--format", "json"], tmp_path, stdin=deployment.encode())
    doc = json.loads(out.stdout)
    assert out.returncode == 1
    assert ("SAI202", "x.yaml", 9) in {(f["rule"], f["path"], f["line"]) for f in doc["findings"]}


# --- named files the config excludes ------------------------------------------------------

EXCLUDING = {".safeai-lint.yaml": "exclude: [vendor]\n", "vendor/requirements.txt": BAD_REQS, "requirements.txt": CLEAN_REQS}


@pytest.mark.parametrize("git", [False, True], ids=["folder", "git"])
def test_named_excluded_file_is_judged_with_a_warning(tmp_path, git):
    write_tree(tmp_path, EXCLUDING)
    if git:
        _git_repo(tmp_path)
    out = run(["check", "vendor/requirements.txt", "--format", "json"], tmp_path)
    doc = json.loads(out.stdout)
    assert out.returncode == 1
    assert {(f["rule"], f["path"], f["line"]) for f in doc["findings"]} == {("SAI102", "vendor/requirements.txt", 1)}
    assert b"warning: vendor/requirements.txt: excluded by the config, judged because it was named" in out.stderr


@pytest.mark.parametrize("git", [False, True], ids=["folder", "git"])
def test_force_exclude_skips_a_named_excluded_file_with_a_warning(tmp_path, git):
    write_tree(tmp_path, EXCLUDING)
    if git:
        _git_repo(tmp_path)
    out = run(["check", "--force-exclude", "vendor/requirements.txt"], tmp_path)
    assert out.returncode == 0
    assert b"Nothing to check" in out.stdout and b"All clear" not in out.stdout
    assert b"warning: vendor/requirements.txt: excluded by the config; skipped (--force-exclude)" in out.stderr


def test_force_exclude_keeps_named_files_that_are_not_excluded(tmp_path):
    write_tree(tmp_path, {**EXCLUDING, "requirements.txt": BAD_REQS})
    out = run(["check", "--force-exclude", "requirements.txt", "vendor/requirements.txt", "--format", "json"], tmp_path)
    doc = json.loads(out.stdout)
    assert out.returncode == 1
    assert {(f["rule"], f["path"]) for f in doc["findings"]} == {("SAI102", "requirements.txt")}
    assert b"vendor/requirements.txt: excluded by the config; skipped" in out.stderr
    assert b"requirements.txt: excluded" not in out.stderr.replace(b"vendor/requirements.txt: excluded", b"")


def test_named_excluded_folder_is_judged_with_a_warning_or_skipped_when_forced(tmp_path):
    write_tree(tmp_path, EXCLUDING)
    out = run(["check", "vendor"], tmp_path)
    assert out.returncode == 1 and b"SAI102" in out.stdout
    assert b"warning: vendor: excluded by the config, judged because it was named" in out.stderr
    forced = run(["check", "--force-exclude", "vendor"], tmp_path)
    assert forced.returncode == 0 and b"Nothing to check" in forced.stdout
    assert b"warning: vendor: excluded by the config; skipped" in forced.stderr


def test_named_file_not_excluded_gives_no_warning(tmp_path):
    write_tree(tmp_path, {**EXCLUDING, "vendorized/requirements.txt": BAD_REQS})
    out = run(["check", "vendorized/requirements.txt"], tmp_path)
    assert out.returncode == 1 and b"warning" not in out.stderr


# --- nothing to check ---------------------------------------------------------------------


@pytest.mark.parametrize("files", [{}, {"README.md": "# hi\n", "notes.txt": "x\n"}], ids=["empty", "no-surface"])
def test_zero_files_is_nothing_to_check_not_all_clear(tmp_path, files):
    (tmp_path / "empty").mkdir()
    write_tree(tmp_path / "empty", files)
    out = run(["check", "empty"], tmp_path)
    assert out.returncode == 0
    assert out.stdout.startswith(b"Nothing to check") and b"All clear" not in out.stdout
    assert b"warning: nothing was checked" in out.stderr
    doc = json.loads(run(["check", "empty", "--format", "json"], tmp_path).stdout)
    assert doc["summary"]["files_scanned"] == 0


def test_one_clean_file_is_all_clear_without_warning(tmp_path):
    write_tree(tmp_path, {"requirements.txt": CLEAN_REQS})
    out = run(["check", "."], tmp_path)
    assert out.returncode == 0 and out.stdout.startswith(b"All clear") and out.stderr == b""


# --- exit codes and paths in messages ----------------------------------------------------


def test_output_to_a_directory_is_a_usage_error_naming_the_path(tmp_path):
    write_tree(tmp_path, {"requirements.txt": BAD_REQS, "reports/.keep": ""})
    out = run(["check", ".", "-o", "reports"], tmp_path)
    assert out.returncode == 2 and b"--output reports: is a directory" in out.stderr
    assert b"internal error" not in out.stderr


@pytest.mark.parametrize("debug", [[], ["--debug"]], ids=["plain", "debug"])
def test_unwritable_output_exits_2_whatever_the_flags(tmp_path, debug):
    write_tree(tmp_path, {"requirements.txt": BAD_REQS, "blocker": "a file, not a folder\n"})
    out = run([*debug, "check", ".", "-o", "blocker/report.json"], tmp_path)
    assert out.returncode == 2 and b"--output blocker/report.json: cannot be written" in out.stderr


def test_debug_internal_error_exits_2_with_a_traceback(tmp_path, monkeypatch, capsys):
    from safeai_lint import cli, engine

    write_tree(tmp_path, {"requirements.txt": BAD_REQS})
    monkeypatch.chdir(tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "lint", broken)
    assert cli.main(["--debug", "check", "."]) == 2
    assert "Traceback" in capsys.readouterr().err
    assert cli.main(["check", "."]) == 2
    assert "internal error: RuntimeError: boom" in capsys.readouterr().err


def test_missing_config_is_named_as_given(tmp_path):
    write_tree(tmp_path, {"requirements.txt": CLEAN_REQS})
    missing = str(tmp_path / "nowhere" / "cfg.yaml")
    out = run(["check", ".", "--config", missing], tmp_path)
    assert out.returncode == 2 and f"error: {missing}: config file not found".encode() in out.stderr


# --- Ctrl-C -------------------------------------------------------------------------------


def test_ctrl_c_restores_the_terminal_and_leaves_no_report(tmp_path, monkeypatch, capsys):
    from safeai_lint import cli, engine

    write_tree(tmp_path, {"requirements.txt": BAD_REQS})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FORCE_COLOR", "1")  # stderr counts as a terminal: the bar is drawn
    monkeypatch.delenv("NO_COLOR", raising=False)

    def interrupted(*args, progress=None, **kwargs):
        progress(10, 1000)  # the bar is on screen, the cursor hidden
        raise KeyboardInterrupt

    monkeypatch.setattr(engine, "lint", interrupted)
    assert cli.main(["check", ".", "-o", "out/report.sarif", "-f", "sarif"]) == 130
    err = capsys.readouterr().err
    hide, show = "\x1b[?25l", "\x1b[?25h"
    assert hide in err and err.rindex(show) > err.rindex(hide)
    assert "interrupted" in err
    assert not (tmp_path / "out" / "report.sarif").exists()
    assert [p.name for p in (tmp_path / "out").iterdir()] == []  # no temporary file either


def test_a_closed_stdout_is_an_io_error_exit_2(tmp_path, monkeypatch):
    from safeai_lint import cli

    write_tree(tmp_path, {"requirements.txt": BAD_REQS})
    monkeypatch.chdir(tmp_path)

    class ClosedPipe:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

        def isatty(self):
            return False

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert cli.main(["check", "."]) == 2


def test_baseline_paths_are_named_as_given_and_a_folder_is_refused(tmp_path):
    write_tree(tmp_path, {"requirements.txt": BAD_REQS, "reports/.keep": ""})
    out = run(["check", ".", "--baseline", "./missing.json"], tmp_path)
    assert out.returncode == 2 and b"error: ./missing.json: cannot read baseline" in out.stderr
    out = run(["check", ".", "--write-baseline", "reports"], tmp_path)
    assert out.returncode == 2 and b"--write-baseline reports: is a directory" in out.stderr
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [".keep"]


def test_stdin_named_as_an_excluded_file_warns_or_is_skipped_when_forced(tmp_path):
    write_tree(tmp_path, EXCLUDING)
    out = run(["check", "-", "--stdin-filename", "vendor/requirements.txt"], tmp_path, stdin=BAD_REQS.encode())
    assert out.returncode == 1 and b"SAI102" in out.stdout
    assert b"warning: vendor/requirements.txt (stdin): excluded by the config; judged because it was named" in out.stderr
    forced = run(["check", "--force-exclude", "-", "--stdin-filename", "vendor/requirements.txt"], tmp_path, stdin=BAD_REQS.encode())
    assert forced.returncode == 0 and forced.stdout.startswith(b"Nothing to check")
    assert b"(stdin): excluded by the config; skipped (--force-exclude)" in forced.stderr
    plain = run(["check", "-", "--stdin-filename", "requirements.txt"], tmp_path, stdin=BAD_REQS.encode())
    assert plain.returncode == 1 and b"warning" not in plain.stderr


def test_a_report_written_with_o_is_created_like_any_file_not_0600(tmp_path):
    import stat

    (tmp_path / "requirements.txt").write_text("torch>=2.0\n")
    old = os.umask(0o022)
    try:
        run(["check", ".", "-o", "report.json", "-f", "json"], tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "report.json").stat().st_mode) == 0o644
