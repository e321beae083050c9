"""The adoption workflow from the command line: baseline, --diff-base, --fix, init, schema."""
from __future__ import annotations

import json
import subprocess

from conftest import write_tree
from test_cli import run


def _findings(out) -> list[tuple[str, str, int]]:  # noqa: ANN001
    return [(f["rule"], f["path"], f["line"]) for f in json.loads(out.stdout)["findings"]]


def test_baseline_hides_recorded_findings_and_reports_new_ones(tmp_path):
    write_tree(tmp_path, {"requirements.txt": "torch>=2.0\ntransformers==4.36.2\n"})
    out = run(["check", ".", "--write-baseline", "baseline.json"], tmp_path)
    assert out.returncode == 0 and b"recorded 2 finding(s)" in out.stderr
    (tmp_path / "requirements.txt").write_text("\ntriton>=2\ntorch>=2.0\ntransformers==4.36.2\n")
    out = run(["check", ".", "--baseline", "baseline.json", "--format", "json"], tmp_path)
    assert _findings(out) == [("SAI102", "requirements.txt", 2)] and out.returncode == 1
    (tmp_path / "requirements.txt").write_text("torch==2.1.0\ntransformers==4.36.2\n")
    out = run(["check", ".", "--baseline", "baseline.json"], tmp_path)
    assert out.returncode == 0 and b"1 baselined finding(s) are fixed" in out.stderr


def test_bad_baseline_file_exits_2(tmp_path):
    write_tree(tmp_path, {"requirements.txt": "torch==2.1.0\n", "baseline.json": "{not json"})
    out = run(["check", ".", "--baseline", "baseline.json"], tmp_path)
    assert out.returncode == 2 and b"baseline" in out.stderr


def test_diff_base_reports_only_changed_lines(tmp_path):
    write_tree(tmp_path, {"requirements.txt": "torch>=2.0\n"})
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*git, "add", "."], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "one"], cwd=tmp_path, check=True)
    (tmp_path / "requirements.txt").write_text("torch>=2.0\ntransformers==4.36.2\n")
    subprocess.run([*git, "commit", "-qam", "two"], cwd=tmp_path, check=True)
    out = run(["check", ".", "--diff-base", "HEAD~1", "--format", "json"], tmp_path)
    assert _findings(out) == [("SAI101", "requirements.txt", 2)]
    bad = run(["check", ".", "--diff-base", "no-such-ref"], tmp_path)
    assert bad.returncode == 2 and b"cannot diff against 'no-such-ref'" in bad.stderr


def test_fix_diff_previews_and_fix_writes(tmp_path):
    original = "# serving\ntorch>=2.0  # keep me\ntransformers==4.36.2\n"
    write_tree(tmp_path, {"requirements.txt": original})
    preview = run(["check", ".", "--fix", "--diff"], tmp_path)
    assert preview.returncode == 1
    assert b"-torch>=2.0  # keep me" in preview.stdout and b"+torch==2.1.0  # keep me" in preview.stdout
    assert (tmp_path / "requirements.txt").read_text() == original
    fixed = run(["check", ".", "--fix"], tmp_path)
    assert fixed.returncode == 0, fixed.stdout
    assert (tmp_path / "requirements.txt").read_text() == "# serving\ntorch==2.1.0  # keep me\ntransformers==4.34.0\n"
    again = run(["check", ".", "--fix", "--diff"], tmp_path)
    assert again.returncode == 0 and again.stdout == b""


def test_diff_without_fix_is_a_usage_error(tmp_path):
    assert run(["check", ".", "--diff"], tmp_path).returncode == 2


def test_init_writes_a_config_that_loads_and_refuses_to_overwrite(tmp_path):
    assert run(["init"], tmp_path).returncode == 0
    text = (tmp_path / ".safeai-lint.yaml").read_text()
    assert "version-lock:" in text and "torch:" in text
    write_tree(tmp_path, {"requirements.txt": "torch==2.1.0\n"})
    assert run(["check", "."], tmp_path).returncode == 0
    again = run(["init"], tmp_path)
    assert again.returncode == 2 and b"already exists" in again.stderr


def test_schema_is_json_naming_every_policy_key(tmp_path):
    schema = json.loads(run(["schema"], tmp_path).stdout)
    assert {"version-lock", "max-vram-fraction", "waivers", "select"} <= set(schema["properties"])
