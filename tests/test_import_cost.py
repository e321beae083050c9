"""Start-up cost guard (not timed): the CLI must not load heavy modules it does not need.

A pre-commit hook pays the import cost on every commit, so `import safeai_lint.cli`,
`safeai-lint --version` and a one-file check of a clean requirements file (stdout not a
terminal) must leave the heavy optional modules unloaded. Each case runs in a fresh
interpreter and reports the top-level names in `sys.modules` after the work is done.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY_AT_IMPORT = ("rich", "jsonschema", "ruamel", "pip_requirements_parser", "dockerfile")

# Runs in the child: do the work, then write the loaded top-level module names to argv[1].
_PROBE = """
import json, sys
out, mode, args = sys.argv[1], sys.argv[2], sys.argv[3:]
code = 0
if mode == "import":
    import safeai_lint.cli
else:
    from safeai_lint.cli import main
    code = main(args)
with open(out, "w") as fh:
    json.dump({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules}), "all": sorted(sys.modules)}, fh)
"""


def _probe_all(tmp_path: Path, mode: str, *args: str, cwd: Path | None = None) -> tuple[int, set[str], str]:
    """Like _probe, with every loaded module name (not only the top-level packages)."""
    _probe(tmp_path, mode, *args, cwd=cwd)
    data = json.loads((tmp_path / "modules.json").read_text())
    return data["code"], set(data["all"]), ""


def _probe(tmp_path: Path, mode: str, *args: str, cwd: Path | None = None) -> tuple[int, set[str], str]:
    report = tmp_path / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(report), mode, *args],
        cwd=cwd or tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )
    assert report.exists(), proc.stderr
    data = json.loads(report.read_text())
    return data["code"], set(data["modules"]), proc.stdout


def test_import_cli_loads_no_heavy_module(tmp_path: Path) -> None:
    code, modules, _ = _probe(tmp_path, "import")
    assert code == 0
    assert "safeai_lint" in modules  # the probe really imported the package
    assert sorted(modules & set(HEAVY_AT_IMPORT)) == []


def test_version_does_not_load_rich(tmp_path: Path) -> None:
    code, modules, out = _probe(tmp_path, "run", "--version")
    assert code == 0
    assert out.startswith("safeai-lint ")
    assert "rich" not in modules
    assert sorted(modules & set(HEAVY_AT_IMPORT)) == []


def test_clean_one_file_check_does_not_load_rich(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("requests==2.31.0\nnumpy==1.26.2\n", encoding="utf-8")
    code, modules, out = _probe(tmp_path, "run", "check", "requirements.txt", cwd=project)
    assert code == 0, out
    assert "1 file" in out  # the file really was checked, and the report went to stdout
    assert "rich" not in modules


def test_one_dockerfile_check_reads_no_yaml_and_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pre-commit case outside git: one Dockerfile. The default policy and compat table
    come from their JSON twins (no PyYAML), package names are normalised without
    packaging.utils (which loads packaging.tags, sysconfig, logging), one file starts no cache
    (no pickle, no file written: only a stat says there is none to use), a clean file needs no
    fingerprint (no OpenSSL through hashlib), the Python source layer is not loaded for a file
    that is not Python, the deployed view (link/view.py) not when there is no workload, and
    tempfile not when no file is written."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "Dockerfile").write_text("FROM python:3.11.4-slim@sha256:" + "a" * 64 + "\nRUN pip install torch==2.1.0\n", encoding="utf-8")
    monkeypatch.setenv("SAFEAI_LINT_CACHE_DIR", str(tmp_path / "cache"))
    code, modules, _ = _probe_all(tmp_path, "run", "check", "Dockerfile", cwd=project)
    assert code == 0
    assert "dockerfile" in modules  # the Dockerfile really was parsed
    assert sorted(modules & {"yaml", "pickle", "packaging.utils", "packaging.tags", "hashlib", "safeai_lint.sources.python",
                             "safeai_lint.link.view", "tempfile"}) == []
    assert not (tmp_path / "cache").exists()


def test_precommit_check_in_git_with_warm_cache_loads_no_openssl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pre-commit case: one Dockerfile named in a git repository whose cache is warm. The
    cache is keyed with the builtin BLAKE2 (hashlib would load OpenSSL), the scan reads the
    file's deployable unit, not the repository, and renders no chart."""
    project = tmp_path / "project"
    (project / "svc").mkdir(parents=True)
    (project / "other").mkdir()
    (project / "svc" / "Dockerfile").write_text("FROM python:3.11.4-slim@sha256:" + "a" * 64 + "\nRUN pip install torch==2.1.0\n", encoding="utf-8")
    (project / "svc" / "requirements.txt").write_text("torch==2.1.0\n", encoding="utf-8")
    (project / "other" / "app.py").write_text("import openai\n", encoding="utf-8")
    (project / "other" / "Chart.yaml").write_text("apiVersion: v2\nname: x\nversion: 0.1.0\n", encoding="utf-8")
    for n in range(8):
        (project / "svc" / f"job{n}.yaml").write_text(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{n}}}\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    monkeypatch.setenv("SAFEAI_LINT_CACHE_DIR", str(tmp_path / "cache"))
    assert _probe(tmp_path, "run", "check", ".", "--fail-on", "never", cwd=project)[0] == 0  # fills the cache
    assert list((tmp_path / "cache").glob("*.pickle"))
    code, modules, _ = _probe_all(tmp_path, "run", "check", "svc/Dockerfile", "--fail-on", "never", cwd=project)
    assert code == 0
    assert "safeai_lint.cache" in modules and "pickle" in modules  # the warm cache really was read
    assert sorted(modules & {"hashlib", "_hashlib", "safeai_lint.render.helm", "safeai_lint.sources.python", "dockerfile"}) == []


def test_a_small_unit_reads_the_cache_a_larger_scan_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A named Dockerfile whose unit holds fewer files than would start a cache of its own:
    the repository's cache, left by a scan of the whole repository, still serves its facts,
    so no parser is loaded (no YAML, no Dockerfile parser) for an unchanged file."""
    project = tmp_path / "project"
    (project / "svc").mkdir(parents=True)
    (project / "svc" / "Dockerfile").write_text("FROM python:3.11.4-slim@sha256:" + "a" * 64 + "\nRUN pip install torch==2.1.0\n", encoding="utf-8")
    (project / "svc" / "deploy.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    monkeypatch.setenv("SAFEAI_LINT_CACHE_DIR", str(tmp_path / "cache"))
    code, cold, _ = _probe_all(tmp_path, "run", "check", "svc/Dockerfile", "--fail-on", "never", cwd=project)
    assert code == 0 and "dockerfile" in cold and not (tmp_path / "cache").exists()  # two files: no cache started
    assert _probe(tmp_path, "run", "check", ".", "--fail-on", "never", cwd=project)[0] == 0
    assert not (tmp_path / "cache").exists()  # the whole repository is two files: still none
    for n in range(8):
        (project / f"c{n}.yaml").write_text(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{n}}}\n", encoding="utf-8")
    assert _probe(tmp_path, "run", "check", ".", "--fail-on", "never", cwd=project)[0] == 0
    assert list((tmp_path / "cache").glob("*.pickle"))  # ten files: the whole scan keeps a cache
    code, warm, _ = _probe_all(tmp_path, "run", "check", "svc/Dockerfile", "--fail-on", "never", cwd=project)
    assert code == 0 and "pickle" in warm
    assert sorted(warm & {"dockerfile", "yaml", "safeai_lint.sources.dockerfile"}) == []


def test_a_fixable_dockerfile_finding_loads_only_the_text_fixers(tmp_path: Path) -> None:
    """The text report marks a finding `--fix` would fix with `[*]`, which means trying its
    fixer: for a Dockerfile pin, the text fixers; never the YAML ones (ruamel.yaml, the serving
    extractors)."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "Dockerfile").write_text("FROM python:3.11.4-slim@sha256:" + "a" * 64 + "\nRUN pip install torch==2.0.1\n", encoding="utf-8")
    code, modules, _ = _probe_all(tmp_path, "run", "check", "Dockerfile", cwd=project)
    assert code == 1
    assert "safeai_lint.fixes.text" in modules  # the finding's fixer really was tried
    assert sorted(modules & {"safeai_lint.fixes.yaml", "safeai_lint.fixes.toml", "ruamel", "yaml"}) == []


def test_probe_sees_rich_when_it_is_imported(tmp_path: Path) -> None:
    """The probe itself can fail: a module the child imports does show up."""
    report = tmp_path / "modules.json"
    script = _PROBE.replace("import safeai_lint.cli", "import safeai_lint.cli, rich")
    subprocess.run([sys.executable, "-c", script, str(report), "import"], check=True, timeout=120)
    assert "rich" in json.loads(report.read_text())["modules"]
