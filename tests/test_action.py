"""The composite GitHub Action: schema-valid, zizmor-clean, no expression in a script, actions
pinned by SHA; and its scan/fail steps, run here with bash, behave as the workflow expects."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[1]
ACTION = PROJECT / "action.yml"
WORKFLOW = PROJECT / ".github" / "workflows" / "safeai-lint.yml"
FIXTURES = Path(__file__).parent / "fixtures" / "ci"
BIN = Path(sys.executable).parent
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def _action() -> dict:
    return yaml.safe_load(ACTION.read_text(encoding="utf-8"))


def _step(name: str) -> dict:
    return next(s for s in _action()["runs"]["steps"] if s.get("name") == name)


def test_action_validates_against_the_github_actions_schema():
    proc = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(ACTION)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflow_validates_against_the_github_workflows_schema():
    proc = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("target", [ACTION, WORKFLOW], ids=["action", "workflow"])
def test_zizmor_reports_nothing(target):
    proc = subprocess.run([str(BIN / "zizmor"), "--offline", "--no-progress", str(target)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout


def test_no_expression_inside_any_run_script():
    for path in (ACTION, WORKFLOW):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        steps = doc["runs"]["steps"] if "runs" in doc else [s for job in doc["jobs"].values() for s in job["steps"]]
        scripts = [s["run"] for s in steps if "run" in s]
        assert scripts
        for script in scripts:
            assert "${{" not in script, f"{path.name}: an expression in run: is a script-injection path"


def test_third_party_actions_are_pinned_by_full_sha_with_a_version_comment():
    for path in (ACTION, WORKFLOW):
        text = path.read_text(encoding="utf-8")
        uses = re.findall(r"^\s*(?:-\s*)?uses:\s*(\S+)(.*)$", text, re.M)
        assert uses
        for ref, comment in uses:
            if ref.startswith("./"):
                continue
            assert SHA_PIN.match(ref), ref
            assert re.search(r"#\s*v\d+\.\d+\.\d+", comment), f"{ref}: add the release as a comment"


def test_inputs_outputs_and_step_order():
    action = _action()
    assert action["runs"]["using"] == "composite"
    inputs = action["inputs"]
    assert set(inputs) == {"paths", "config", "fail-on", "diff-base", "sarif-file", "upload-sarif", "category", "python-version", "version"}
    assert inputs["sarif-file"]["default"] == "safeai-lint.sarif"
    assert inputs["upload-sarif"]["default"] == "true"
    assert set(action["outputs"]) == {"sarif-file", "findings", "exit-code"}
    steps = action["runs"]["steps"]
    kinds = [s.get("uses", "run").split("@")[0] for s in steps]
    assert kinds == ["actions/setup-python", "run", "run", "github/codeql-action/upload-sarif", "run"]
    upload = steps[3]
    # uploads even when the scan found something (the scan step itself never fails), unless disabled
    assert "!cancelled()" in upload["if"] and "inputs.upload-sarif == 'true'" in upload["if"]
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"
    assert upload["with"]["category"] == "${{ inputs.category }}"
    # exactly one scan: one safeai-lint invocation, producing SARIF
    scan = _step("Run safeai-lint")["run"]
    assert scan.count("-m safeai_lint ") == 1 and "--format sarif" in scan


# --- the scan and fail steps, executed ------------------------------------------------------


def _run_step(name: str, env: dict[str, str], cwd: Path) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    """Run a step's script the way GitHub runs `shell: bash` (bash -eo pipefail)."""
    out_file = cwd.parent / f"{cwd.name}-github-output"
    out_file.write_text("")
    full_env = {**os.environ, **env, "GITHUB_OUTPUT": str(out_file), "NO_COLOR": "1"}
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", _step(name)["run"]], cwd=cwd, env=full_env, capture_output=True, text=True, check=False, timeout=120)
    outputs = dict(line.split("=", 1) for line in out_file.read_text().splitlines() if "=" in line)
    return proc, outputs


def _scan_env(**overrides: str) -> dict[str, str]:
    env = {"SCAN_PATHS": ".", "SCAN_CONFIG": "", "SCAN_FAIL_ON": "", "SCAN_DIFF_BASE": "", "SARIF_FILE": "safeai-lint.sarif", "SAFEAI_LINT_PYTHON": sys.executable}
    env.update(overrides)
    return env


def _fixture(tmp_path: Path, name: str) -> Path:
    work = tmp_path / name
    shutil.copytree(FIXTURES / name, work)
    return work


def test_scan_step_on_findings_writes_sarif_annotations_and_exit_code(tmp_path):
    work = _fixture(tmp_path, "bad")
    proc, outputs = _run_step("Run safeai-lint", _scan_env(), work)
    assert proc.returncode == 0, proc.stderr  # the step never fails: the upload must still run
    assert outputs["exit-code"] == "1"
    assert outputs["findings"] == "1"
    assert outputs["sarif-written"] == "true"
    assert outputs["sarif-file"] == "safeai-lint.sarif"
    log = json.loads((work / "safeai-lint.sarif").read_text(encoding="utf-8"))
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["SAI001"]
    assert "::error file=k8s/deploy.yaml,line=4," in proc.stdout
    fail, _ = _run_step("Fail on findings", {"EXIT_CODE": outputs["exit-code"]}, work)
    assert fail.returncode == 1


def test_scan_step_on_clean_repo(tmp_path):
    work = _fixture(tmp_path, "clean")
    proc, outputs = _run_step("Run safeai-lint", _scan_env(SARIF_FILE="out/report.sarif"), work)
    assert proc.returncode == 0, proc.stderr
    assert (outputs["exit-code"], outputs["findings"]) == ("0", "0")
    assert json.loads((work / "out/report.sarif").read_text(encoding="utf-8"))["runs"][0]["results"] == []
    assert "::" not in proc.stdout.replace("safeai-lint:", "")


def test_scan_step_passes_fail_on_and_several_paths(tmp_path):
    work = _fixture(tmp_path, "bad")
    shutil.copytree(FIXTURES / "clean" / "k8s", work / "more")
    proc, outputs = _run_step("Run safeai-lint", _scan_env(SCAN_PATHS="k8s\n more ", SCAN_FAIL_ON="never"), work)
    assert proc.returncode == 0, proc.stderr
    assert (outputs["exit-code"], outputs["findings"]) == ("0", "1")


def test_scan_step_does_not_evaluate_inputs(tmp_path):
    work = _fixture(tmp_path, "clean")
    proc, outputs = _run_step("Run safeai-lint", _scan_env(SCAN_PATHS="$(touch pwned) `touch pwned2`", SCAN_CONFIG="$(touch pwned3)"), work)
    assert not any((work / n).exists() for n in ("pwned", "pwned2", "pwned3"))
    assert outputs["exit-code"] == "2"  # a path that does not exist is a usage error
    assert "sarif-written" not in outputs


def test_install_step_rejects_a_version_that_is_not_a_version(tmp_path):
    env = {"PYTHON": sys.executable, "SAFEAI_VERSION": "1.0; rm -rf /", "ACTION_PATH": str(PROJECT), "RUNNER_TEMP": str(tmp_path)}
    proc, outputs = _run_step("Install safeai-lint", env, tmp_path)
    assert proc.returncode == 2
    assert "is not a version number" in proc.stdout
    assert "python" not in outputs


def test_scan_step_passes_diff_base(tmp_path):
    work = _fixture(tmp_path, "bad")
    proc, outputs = _run_step("Run safeai-lint", _scan_env(SCAN_DIFF_BASE="no-such-ref"), work)
    assert outputs["exit-code"] == "2"  # the ref reached the CLI (outside git it cannot be diffed)
