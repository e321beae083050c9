"""The pre-commit hooks: a valid manifest, a `files` regex that covers every file the linter
reads, and the real `pre-commit try-repo` in a temporary git repository.

try-repo builds the hook's virtualenv from the project (pip install, dependencies from PyPI)
in a throw-away store on every call, about 30 s each. The project is first snapshotted (the
files pip needs, as they are in the working tree) into a committed repository, so try-repo
installs exactly the current code without shadow-committing the shared working tree.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from safeai_lint.discover import classify

PROJECT = Path(__file__).resolve().parents[1]
MANIFEST = PROJECT / ".pre-commit-hooks.yaml"
PRE_COMMIT = str(Path(sys.executable).parent / "pre-commit")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}
BROKEN_YAML = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: genai\nspec: {}\n"
CLEAN_YAML = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"


def _hooks() -> dict[str, dict]:
    return {h["id"]: h for h in yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))}


def test_manifest_validates():
    proc = subprocess.run([PRE_COMMIT, "validate-manifest", str(MANIFEST)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hook_definitions():
    hooks = _hooks()
    assert set(hooks) == {"safeai-lint", "safeai-lint-repo"}
    assert hooks["safeai-lint"].get("pass_filenames", True) is True
    assert hooks["safeai-lint-repo"]["pass_filenames"] is False
    for hook in hooks.values():
        assert hook["language"] == "python"
    # named files the config excludes are skipped, as they would be in a whole-repo scan
    assert hooks["safeai-lint"]["entry"] == "safeai-lint check --force-exclude"
    assert hooks["safeai-lint-repo"]["entry"] == "safeai-lint check"


SURFACES = [
    "Dockerfile", "svc/Dockerfile", "Dockerfile.gpu", "docker/Containerfile", "images/api.dockerfile",
    "k8s/deploy.yaml", "mesh/vs.yml", "pyproject.toml", "Pipfile", "Pipfile.lock", "poetry.lock", "uv.lock",
    "pdm.lock", "setup.cfg", ".python-version", "svc/.python-version", "runtime.txt", "requirements.txt",
    "requirements-dev.txt", "requirements/base.txt", "requirements/gpu/extra.txt", "constraints.txt",
    "svc/requirements.in", "dev-reqs.pip", "app/server.py", "config/settings.toml", "config/model.json",
    "nginx.conf", "deploy/nginx/site.conf", "migrations/001_init.sql", "db/Schema.SQL",
]
NOT_SURFACES = ["README.md", "main.go", "image.png", "docs/notes.txt", "Makefile", "app.conf", "setup.py.orig", "Dockerfile/README", "data/app.sqlite", "dump.sql.gz"]


@pytest.mark.parametrize("path", SURFACES)
def test_files_regex_matches_every_surface_the_linter_reads(path):
    assert classify(path) is not None, f"test data: {path} is not a surface"
    for hook in _hooks().values():
        assert re.search(hook["files"], path), f"{hook['id']} would never see {path}"


@pytest.mark.parametrize("path", NOT_SURFACES)
def test_files_regex_skips_files_the_linter_ignores(path):
    assert classify(path) is None
    for hook in _hooks().values():
        assert not re.search(hook["files"], path), f"{hook['id']} would run on {path}"


# --- the real pre-commit --------------------------------------------------------------------


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, check=True, capture_output=True)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory) -> Path:
    """A committed snapshot of the files pip needs to install the project (plus the manifest)."""
    dest = tmp_path_factory.mktemp("hook-repo")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "safeai_lint", "rules"],
        cwd=PROJECT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = PROJECT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "snapshot")
    return dest


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory) -> Path:
    # keeps pre-commit's logs and state out of the user's ~/.cache
    return tmp_path_factory.mktemp("pre-commit-home")


def _target(tmp_path: Path, files: dict[str, str]) -> Path:
    repo = tmp_path / "target"
    for rel, content in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(content, encoding="utf-8")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    return repo


def _try_repo(hook_repo: Path, home: Path, target: Path, hook: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1", "PRE_COMMIT_COLOR": "never"}
    return subprocess.run(
        [PRE_COMMIT, "try-repo", str(hook_repo), hook, "--all-files", "--verbose", "--color", "never"],
        cwd=target, env=env, capture_output=True, text=True, check=False, timeout=900,
    )


@pytest.mark.parametrize("hook", ["safeai-lint", "safeai-lint-repo"])
def test_try_repo_fails_on_a_bad_file(hook_repo, pre_commit_home, tmp_path, hook):
    target = _target(tmp_path, {"k8s/deploy.yaml": BROKEN_YAML, "k8s/cm.yaml": CLEAN_YAML, "README.md": "hi\n"})
    proc = _try_repo(hook_repo, pre_commit_home, target, hook)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "SAI001" in out and "k8s/deploy.yaml" in out
    assert "Failed" in out


@pytest.mark.parametrize("hook", ["safeai-lint", "safeai-lint-repo"])
def test_try_repo_passes_on_a_clean_repository(hook_repo, pre_commit_home, tmp_path, hook):
    target = _target(tmp_path, {"k8s/cm.yaml": CLEAN_YAML, "README.md": "hi\n"})
    proc = _try_repo(hook_repo, pre_commit_home, target, hook)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "Passed" in out and "SAI0" not in out


def test_try_repo_skips_a_file_the_config_excludes(hook_repo, pre_commit_home, tmp_path):
    """pre-commit names every file, also an excluded one: skipped with a warning, not judged."""
    target = _target(tmp_path, {
        ".safeai-lint.yaml": "exclude: [vendor]\n", "vendor/deploy.yaml": BROKEN_YAML, "k8s/cm.yaml": CLEAN_YAML,
    })
    proc = _try_repo(hook_repo, pre_commit_home, target, "safeai-lint")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "Passed" in out and "SAI001" not in out
    assert "vendor/deploy.yaml: excluded by the config; skipped (--force-exclude)" in out
