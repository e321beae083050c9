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
    assert set(inputs) == {
        "paths", "config", "fail-on", "diff-base", "sarif-file", "upload-sarif", "category", "python-version", "version",
        "args", "baseline", "working-directory", "annotate",
    }
    assert inputs["annotate"]["default"] == "true" and inputs["working-directory"]["default"] == "."
    assert inputs["sarif-file"]["default"] == "safeai-lint.sarif"
    assert inputs["upload-sarif"]["default"] == "true"
    assert set(action["outputs"]) == {"sarif-file", "findings", "exit-code", "not-annotated"}
    steps = action["runs"]["steps"]
    kinds = [s.get("uses", "run").split("@")[0] for s in steps]
    assert kinds == ["actions/setup-python", "run", "run", "github/codeql-action/upload-sarif", "run"]
    upload = steps[3]
    # uploads even when the scan found something (the scan step itself never fails), unless disabled
    # the scan step decides (input upload-sarif, and never from a fork's pull request)
    assert "!cancelled()" in upload["if"] and "steps.scan.outputs.upload == 'true'" in upload["if"]
    assert upload["with"]["sarif_file"] == "${{ steps.scan.outputs.sarif-file }}"
    assert upload["with"]["category"] == "${{ inputs.category }}"
    # exactly one scan: one safeai-lint invocation, producing SARIF
    scan = _step("Run safeai-lint")
    assert scan["run"].count("-m safeai_lint.ghaction.step") == 1
    assert scan["working-directory"] == "${{ inputs.working-directory }}"
    for name in ("args", "baseline", "annotate", "upload-sarif"):
        assert f"${{{{ inputs.{name} }}}}" in scan["env"].values(), name


# --- the scan and fail steps, executed ------------------------------------------------------


def _run_step(name: str, env: dict[str, str], cwd: Path) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    """Run a step's script the way GitHub runs `shell: bash` (bash -eo pipefail)."""
    out_file = cwd.parent / f"{cwd.name}-github-output"
    out_file.write_text("")
    _summary_file(cwd).write_text("")
    full_env = {**os.environ, **env, "GITHUB_OUTPUT": str(out_file), "GITHUB_STEP_SUMMARY": str(_summary_file(cwd)), "NO_COLOR": "1"}
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", _step(name)["run"]], cwd=cwd, env=full_env, capture_output=True, text=True, check=False, timeout=120)
    outputs = dict(line.split("=", 1) for line in out_file.read_text().splitlines() if "=" in line)
    return proc, outputs


def _summary_file(cwd: Path) -> Path:
    return cwd.parent / f"{cwd.name}-step-summary.md"


def _scan_env(**overrides: str) -> dict[str, str]:
    env = {
        "SCAN_PATHS": ".", "SCAN_CONFIG": "", "SCAN_FAIL_ON": "", "SCAN_DIFF_BASE": "", "SCAN_BASELINE": "", "SCAN_ARGS": "",
        "SARIF_FILE": "safeai-lint.sarif", "ANNOTATE": "true", "UPLOAD": "true", "EVENT_NAME": "push", "HEAD_REPO": "",
        "REPOSITORY": "acme/svc", "GITHUB_BASE_REF": "", "SAFEAI_LINT_PYTHON": sys.executable,
    }
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
    assert outputs["sarif-file"] == str(work / "safeai-lint.sarif")
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


# --- job summary, annotations within GitHub's limits, inputs ---------------------------------

MANY = {f"svc{n:02d}/requirements.txt": "torch>=2.0\n" for n in range(12)}  # 12 errors (SAI102)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", *args], cwd=cwd, check=True, capture_output=True)


def _many(tmp_path: Path, changed: bool = False) -> Path:
    work = tmp_path / "many"
    for rel, text in MANY.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text)
    (work / "svc00/requirements.txt").write_text("torch==2.1.0\ntransformers==4.36.2\n")  # one SAI101 (fixable)
    if changed:  # a pull request that changed svc11's pin, with its base branch fetched
        _git(work, "init", "-q", "-b", "main")
        _git(work, "add", "-A")
        _git(work, "commit", "-qm", "base")
        _git(work, "update-ref", "refs/remotes/origin/main", "HEAD")
        (work / "svc11/requirements.txt").write_text("torch>=2.1\n")
    return work


def test_scan_step_writes_a_job_summary_with_counts_rules_doc_links_and_fixable(tmp_path):
    work = _many(tmp_path)
    proc, outputs = _run_step("Run safeai-lint", _scan_env(), work)
    assert proc.returncode == 0, proc.stderr
    summary = _summary_file(work).read_text(encoding="utf-8")
    assert outputs["findings"] == "12"
    assert "**12 finding(s)** (12 errors); the scan fails the job (exit status 1)." in summary
    assert "12 of them can be fixed with `safeai-lint check --fix` (marked [*])." in summary
    row = "| [SAI102](https://github.com/safeai-lint/safeai-lint/blob/main/docs/rules/SAI102.md) version-not-pinned | error | 11 | 11 |"
    assert row in summary
    assert "| error | `svc00/requirements.txt:2:1` | SAI101 [*] | transformers is declared" in summary
    assert "### Findings (12)" in summary and "On lines this change touched" not in summary


def test_annotations_stop_at_githubs_limit_and_say_how_many_were_left_out(tmp_path):
    work = _many(tmp_path)
    proc, outputs = _run_step("Run safeai-lint", _scan_env(), work)
    errors = [l for l in proc.stdout.splitlines() if l.startswith("::error ")]
    assert len(errors) == 10
    assert outputs["not-annotated"] == "2"
    assert "::notice title=safeai-lint::2 more finding(s) not annotated" in proc.stdout
    assert "2 finding(s) have no annotation" in _summary_file(work).read_text(encoding="utf-8")


def test_findings_on_changed_lines_are_annotated_and_listed_first(tmp_path):
    work = _many(tmp_path, changed=True)
    proc, outputs = _run_step("Run safeai-lint", _scan_env(GITHUB_BASE_REF="main", EVENT_NAME="pull_request", HEAD_REPO="acme/svc"), work)
    errors = [l for l in proc.stdout.splitlines() if l.startswith("::error ")]
    assert errors[0].startswith("::error file=svc11/requirements.txt,line=1,")  # last by path, first by change
    assert len(errors) == 10 and outputs["not-annotated"] == "2"
    summary = _summary_file(work).read_text(encoding="utf-8")
    touched = summary[summary.index("### On lines this change touched (1)"):summary.index("### Elsewhere (11)")]
    assert "`svc11/requirements.txt:1:1`" in touched and "svc01" not in touched
    assert outputs["upload"] == "true"  # same repository: the upload runs


def test_fork_pull_request_skips_the_upload_with_a_notice(tmp_path):
    work = _fixture(tmp_path, "bad")
    proc, outputs = _run_step("Run safeai-lint", _scan_env(EVENT_NAME="pull_request", HEAD_REPO="someone/svc-fork"), work)
    assert outputs["upload"] == "false" and outputs["sarif-written"] == "true"
    assert "::notice title=safeai-lint::SARIF upload skipped: this pull request comes from a fork" in proc.stdout
    assert "SARIF upload skipped" in _summary_file(work).read_text(encoding="utf-8")
    _, pushed = _run_step("Run safeai-lint", _scan_env(UPLOAD="false"), work)
    assert pushed["upload"] == "false"


def test_args_input_is_split_like_words_and_never_run(tmp_path):
    work = _fixture(tmp_path, "bad")
    _, outputs = _run_step("Run safeai-lint", _scan_env(SCAN_ARGS="--ignore 'SAI001'"), work)
    assert (outputs["exit-code"], outputs["findings"]) == ("0", "0")
    _, outputs = _run_step("Run safeai-lint", _scan_env(SCAN_ARGS="--ignore SAI001 $(touch pwned) `touch pwned2`; touch pwned3"), work)
    assert not any((work / n).exists() for n in ("pwned", "pwned2", "pwned3"))
    assert outputs["exit-code"] == "2"  # the words became paths that do not exist
    proc, outputs = _run_step("Run safeai-lint", _scan_env(SCAN_ARGS="--format=json"), work)
    assert outputs["exit-code"] == "2" and "may not contain --format" in proc.stdout
    assert "sarif-written" not in outputs


def test_annotate_false_prints_no_annotation_and_baseline_input_is_applied(tmp_path):
    work = _fixture(tmp_path, "bad")
    proc, outputs = _run_step("Run safeai-lint", _scan_env(ANNOTATE="false"), work)
    assert "::error" not in proc.stdout and outputs["not-annotated"] == "1" and outputs["findings"] == "1"
    subprocess.run([sys.executable, "-m", "safeai_lint", "check", ".", "--write-baseline", "base.json"], cwd=work, check=True, capture_output=True)
    _, outputs = _run_step("Run safeai-lint", _scan_env(SCAN_BASELINE="base.json"), work)
    assert (outputs["exit-code"], outputs["findings"]) == ("0", "0")
    assert "No findings." in _summary_file(work).read_text(encoding="utf-8")
