"""Named files whose findings depend only on their deployable unit (a Dockerfile, a
requirements file: the pre-commit case) are judged reading only their units, not the whole
repository. The findings in the named files must be exactly those of a whole-repository scan."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


from conftest import write_tree
from safeai_lint.discover import classify
from safeai_lint.engine import UNIT_LOCAL_KINDS, _unit_context, lint, plan

HERE = Path(__file__).parent

MULTI_UNIT = {
    # two services, each a unit (a Dockerfile marks its folder), pinning one package differently:
    # not drift (SAI104 compares within a unit); inside svc-a, two files disagree: drift
    "svc-a/Dockerfile": "FROM python:3.11.4-slim\nRUN pip install --no-cache-dir numpy==1.26.3 fastapi==0.110.0\n",
    "svc-a/requirements.txt": "numpy==1.26.4\ntorch>=2.0\n",
    "svc-a/k8s/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\nspec:\n  template:\n    spec:\n"
                                 "      containers:\n        - name: vllm\n          image: vllm/vllm-openai:latest\n",
    "svc-b/Dockerfile": "FROM python:3.12.1\nRUN pip install numpy==1.25.0\n",
    "svc-b/app/pyproject.toml": "[project]\nname = 'b'\nversion = '1'\ndependencies = ['numpy==1.24.0', 'transformers==4.36.2']\n",
    "requirements.txt": "numpy==1.20.0\n",  # above every unit: the root's unit
}


def _git(root: Path) -> Path:
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    return root


def _rows(result, path: str) -> set[tuple]:
    return {(f.rule, f.location.path, f.location.line, f.message) for f in result.findings if f.location.path == path}


def _repos(tmp_path: Path):
    yield _git(write_tree(tmp_path / "multi", MULTI_UNIT))
    for source in (HERE.parent / "examples" / "genai-assistant-v2", HERE / "fixtures" / "versions" / "surfaces"):
        target = tmp_path / source.name
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("expected*.json"))
        yield _git(target)


def test_a_named_unit_local_file_gets_exactly_the_findings_of_a_whole_repository_scan(tmp_path: Path):
    checked = 0
    for root in _repos(tmp_path):
        whole = lint([str(root)], cwd=root)
        names = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout.split()
        for rel in names:
            if classify(rel) not in UNIT_LOCAL_KINDS:
                continue
            named = lint([str(root / rel)], cwd=root)
            assert _rows(named, rel) == _rows(whole, rel), rel
            checked += 1
    assert checked >= 8


def test_the_named_file_is_read_with_its_unit_only(tmp_path: Path):
    root = _git(write_tree(tmp_path / "multi", MULTI_UNIT))
    scan = _unit_context(plan([str(root / "svc-a" / "Dockerfile")], root))
    assert scan.targets == (root / "svc-a",)
    # a requirements file inside svc-b/app is in the unit of its pyproject.toml
    assert _unit_context(plan([str(root / "svc-b" / "app" / "pyproject.toml")], root)).targets == (root / "svc-b" / "app",)
    # outside every unit, or a manifest (judged against the whole repository): the whole scan
    assert _unit_context(plan([str(root / "requirements.txt")], root)).targets == (root,)
    assert _unit_context(plan([str(root / "svc-a" / "k8s" / "deployment.yaml")], root)).targets == (root,)
    drift = lint([str(root / "svc-a" / "requirements.txt")], cwd=root)
    assert {(f.rule, f.location.line) for f in drift.findings if f.rule == "SAI104"} == {("SAI104", 1)}
