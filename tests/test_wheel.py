"""The built wheel carries everything it needs: installed into a fresh venv, the CLI finds its
rule data (rules/ ships inside the wheel as safeai_lint/_rules) and reports at the right line."""
from __future__ import annotations

import json
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_installs_and_runs_from_a_fresh_venv(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(ROOT)],
        check=True, capture_output=True, timeout=600,
    )
    wheel = next(dist.glob("safeai_lint-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "safeai_lint/_rules/policy.yaml" in names
    assert "safeai_lint/_rules/SAI101.yaml" in names

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True, timeout=900)

    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("torch==2.1.0\ntransformers==4.36.2\n")
    out = subprocess.run(
        [str(env_dir / "bin" / "safeai-lint"), "check", ".", "--format", "json"],
        cwd=project, capture_output=True, timeout=120,
    )
    assert out.returncode == 1, out.stderr
    findings = json.loads(out.stdout)["findings"]
    assert [(f["rule"], f["path"], f["line"]) for f in findings] == [("SAI101", "requirements.txt", 2)]
    # the installed package must not be the source checkout
    where = subprocess.run([str(python), "-c", "import safeai_lint; print(safeai_lint.__file__)"], cwd=project, capture_output=True, text=True, check=True)
    assert str(env_dir) in where.stdout
