"""`safeai-lint init` reads the repository: what it uses against the standard (registries,
instance types and accelerators, locked versions, engines) with the findings each causes,
written into the config as commented alternatives that never relax the standard by themselves."""
from __future__ import annotations

import json
import re
import os
import shutil
import subprocess
import sys
from pathlib import Path

from safeai_lint.configfiles import load_config
from safeai_lint.policy import default_policy

ROOT = Path(__file__).resolve().parent.parent
GKE = Path(__file__).parent / "fixtures" / "init" / "gke"
EXAMPLE = ROOT / "examples" / "genai-assistant-v2"


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "SAFEAI_LINT_CACHE_DIR": str(cwd.parent / "cache")}
    return subprocess.run([sys.executable, "-m", "safeai_lint", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


def _init(tmp_path: Path, source: Path) -> tuple[Path, str, str]:
    repo = tmp_path / "repo"
    shutil.copytree(source, repo)
    out = run(["init"], repo)
    assert out.returncode == 0, out.stderr
    return repo, (repo / ".safeai-lint.yaml").read_text(encoding="utf-8"), out.stderr


def _rules_at(repo: Path) -> set[tuple[str, str, int]]:
    doc = json.loads(run(["check", ".", "--format", "json"], repo).stdout)
    return {(f["rule"], f["path"], f["line"]) for f in doc["findings"]}


def test_init_on_a_gke_repository_reports_registries_accelerators_versions_and_engines(tmp_path):
    repo, config, report = _init(tmp_path, GKE)
    rows = [re.match(r"^  (.*?) +(\d+ findings? \(.*)$", l) for l in report.splitlines() if l.startswith("  ")]
    lines = [f"{m.group(1)} | {m.group(2)}" for m in rows if m]
    assert "us-docker.pkg.dev: us-docker.pkg.dev/vertex-ai/vertex-vision-model-garden-dockers/pytorch-vllm-serve | 1 finding (SAI201), first at k8s/vllm-l4.yaml:17" in lines
    assert "node.kubernetes.io/instance-type=a2-highgpu-1g | 1 finding (SAI308), first at k8s/tgi-a100.yaml:14" in lines
    assert "cloud.google.com/gke-accelerator=nvidia-l4 | 1 finding (SAI308), first at k8s/vllm-l4.yaml:4" in lines
    assert "torch declared ==2.3.0 | 1 finding (SAI101), first at requirements.txt:1" in lines
    assert "python declared ==3.12.* | 1 finding (SAI101), first at Dockerfile:1" in lines
    assert "vllm | 2 findings (SAI307, SAI501), first at k8s/vllm-l4.yaml:18" in lines
    assert "safeai-lint check --write-baseline .safeai-lint-baseline.json" in report

    # the alternatives sit next to the standard's values, commented out
    assert '  torch: "2.1.0"\n  # the repository declares torch ==2.3.0: 1 finding (SAI101), first at requirements.txt:1\n  # torch: "2.3.0"' in config
    assert '  - "lmsysorg/sglang"\n  # registry us-docker.pkg.dev: 2 findings\n' in config
    assert '#   - "a2-highgpu-1g"  # node.kubernetes.io/instance-type: 1 finding (SAI308)' in config
    assert "#   selected by cloud.google.com/gke-accelerator=nvidia-l4 instead of an instance type" in config


def test_the_written_config_keeps_the_standard_exactly(tmp_path):
    for source in (GKE, EXAMPLE):
        repo, _, _ = _init(tmp_path / source.name, source)
        assert load_config(repo / ".safeai-lint.yaml").policy == default_policy()


def test_uncommenting_an_alternative_is_a_valid_decision_that_clears_its_findings(tmp_path):
    repo, config, _ = _init(tmp_path, GKE)
    before = _rules_at(repo)
    assert ("SAI201", "k8s/vllm-l4.yaml", 17) in before and ("SAI308", "k8s/tgi-a100.yaml", 14) in before
    accepted = config.replace('  # - "us-docker.pkg.dev/vertex-ai/', '  - "us-docker.pkg.dev/vertex-ai/')
    accepted = accepted.replace('instance-types: ["p4d.24xlarge"]', 'instance-types: ["p4d.24xlarge", "a2-highgpu-1g"]')
    (repo / ".safeai-lint.yaml").write_text(accepted, encoding="utf-8")
    after = _rules_at(repo)
    assert before - after == {("SAI201", "k8s/vllm-l4.yaml", 17), ("SAI308", "k8s/tgi-a100.yaml", 14)}


def test_init_on_the_example_service(tmp_path):
    repo, config, report = _init(tmp_path, EXAMPLE)
    assert report.startswith("Scanned 11 file(s) with the standard's values: 70 finding(s) (48 errors, 19 warnings, 3 notes).")
    assert "docker.io: genai-community/pytorch-cuda" in report and "2 findings (SAI201), first at Dockerfile:2" in report
    assert '  # transformers: "4.36.2"  # what it pins; needs a performance regression report' in config
    assert '  # - "genai-community/pytorch-cuda"  # 2 findings (SAI201), first at Dockerfile:2' in config
    assert "#   GPU workloads pinned to no instance type: 1 finding (SAI308), first at k8s/deployment.yaml:4" in config
    assert "#   vllm: 8 findings (" in config


def test_init_without_scan_and_on_a_clean_repository(tmp_path):
    (tmp_path / "empty").mkdir()
    out = run(["init", "--no-scan"], tmp_path / "empty")
    assert out.returncode == 0 and "Scanned" not in out.stderr
    assert "allowed-images" not in (tmp_path / "empty" / ".safeai-lint.yaml").read_text()
    (tmp_path / "clean").mkdir()
    (tmp_path / "clean" / "requirements.txt").write_text("torch==2.1.0\n")
    out = run(["init"], tmp_path / "clean")
    assert "0 finding(s)" in out.stderr and "--write-baseline" not in out.stderr


def test_init_into_a_missing_folder_is_a_usage_error(tmp_path):
    out = run(["init", "nope/.safeai-lint.yaml"], tmp_path)
    assert out.returncode == 2 and "folder does not exist: nope" in out.stderr and "internal error" not in out.stderr


def test_values_from_the_repository_cannot_break_out_of_their_comments(tmp_path):
    deploy = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: llm}\nspec:\n  template:\n    spec:\n"
        '      nodeSelector: {cloud.google.com/gke-accelerator: "l4\\nmax-vram-fraction: 1.0\\u2028fail-on: never"}\n'
        "      containers:\n        - name: vllm\n          image: vllm/vllm-openai:v0.10.0\n"
        "          resources: {limits: {nvidia.com/gpu: 1}}\n"
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: other}\nspec:\n  template:\n    spec:\n"
        '      nodeSelector: {node.kubernetes.io/instance-type: "g2\\nexclude: [\\"**\\"]"}\n'
        "      containers:\n        - name: vllm\n          image: vllm/vllm-openai:v0.10.0\n"
        "          resources: {limits: {nvidia.com/gpu: 1}}\n"
    )
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "deploy.yaml").write_text(deploy, encoding="utf-8")
    out = run(["init"], repo)
    assert out.returncode == 0, out.stderr
    config = (repo / ".safeai-lint.yaml").read_text(encoding="utf-8")
    assert "gke-accelerator=l4\\u000amax-vram-fraction: 1.0\\u2028fail-on: never instead of" in config
    assert any(line.startswith('#   - "g2') for line in config.splitlines())
    for line in config.splitlines():  # the injected text stays inside comments
        if "vram-fraction: 1.0" in line or "fail-on: never" in line or "**" in line:
            assert line.lstrip().startswith("#"), line
    loaded = load_config(repo / ".safeai-lint.yaml")
    assert loaded.policy == default_policy() and loaded.fail_on == "warning" and loaded.exclude == ()
    assert "\x1b" not in out.stderr and "l4\\u000amax-vram" in out.stderr
