"""`safeai-lint inventory`: the deployed view a person reads when a finding surprises them.

The text of the example and of every fixture repository about workloads is checked against
reviewed files in tests/inventory-expected/ (regenerate with SAFEAI_LINT_REGEN=1 and review
the diff); the JSON form and the CLI are checked by assertions."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from safeai_lint.cli import main
from safeai_lint.inventory import build, collect, render_text

HERE = Path(__file__).parent
EXPECTED = HERE / "inventory-expected"
FIXTURES = HERE / "fixtures"
# the example and every fixture repository (a folder holding an expected*.json)
CASES = {
    "genai-assistant-v2": HERE.parent / "examples" / "genai-assistant-v2",
    "genai-assistant-v2-chart": HERE.parent / "examples" / "genai-assistant-v2-chart",  # rendered with Helm
    **{str(p.parent.relative_to(FIXTURES)).replace("/", "-"): p.parent for p in sorted(FIXTURES.rglob("expected*.json"))},
}


def _inventory(source: Path, tmp_path: Path) -> dict:
    target = tmp_path / source.name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("expected*.json"))
    project, config, _ = collect([str(target)], cwd=target)
    return build(project, config.policy)


@pytest.mark.parametrize("name", sorted(CASES))
def test_inventory_text_is_the_reviewed_one(name: str, tmp_path: Path):
    text = render_text(_inventory(CASES[name], tmp_path))
    golden = EXPECTED / f"{name}.txt"
    if os.environ.get("SAFEAI_LINT_REGEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text()


def _workload(inv: dict, name: str) -> dict:
    return next(w for w in inv["workloads"] if w["name"] == name)


def test_roles_carry_their_evidence(tmp_path: Path):
    inv = _inventory(CASES["deployed-clients-and-batch"], tmp_path)
    client = _workload(inv, "triton-client")
    assert (client["role"], client["ai_workload"]) == ("client", False)
    assert client["evidence"] == "client: its command only sleeps (a toolbox pod)"
    perf = _workload(inv, "genai-perf")
    assert (perf["role"], perf["ai_workload"]) == ("client", True)
    assert perf["accelerators"] == [{"resource": "nvidia.com/gpu", "count": "1"}]
    assert _workload(inv, "finetune")["role"] == "batch"
    pull = _workload(inv, "ollama-pull")
    assert (pull["role"], pull["ai_workload"]) == ("batch", False)
    assert pull["evidence"] == "batch: a Job that starts Ollama (runs to completion)"
    assert _workload(inv, "nim-operator")["role"] == "other"
    assert _workload(inv, "custom-server")["evidence"] == "serving: set by safeai-lint.io/role"


def test_a_kserve_service_shows_its_runtime_and_where_each_flag_was_set(tmp_path: Path):
    inv = _inventory(CASES["deployed-kserve"], tmp_path)
    summarize = _workload(inv, "summarize")
    assert summarize["runtime"] == {"kind": "ServingRuntime", "name": "vllm-runtime", "path": "runtimes/vllm-runtime.yaml",
                                    "line": 4, "selected_by": "modelFormat vllm (autoSelect, protocol v1)"}
    flags = [(f["flag"], f["value"], f["at"]["path"], f["at"]["line"]) for f in summarize["launches"][0]["flags"]]
    assert ("--max-model-len", "4096", "runtimes/vllm-runtime.yaml", 18) in flags
    assert flags[-1] == ("--max-model-len", "8192", "services/summarize.yaml", 19)
    assert [s["what"] for s in summarize["scraped_by"]] == ['annotation serving.kserve.io/enable-prometheus-scraping: "true"']
    assert all(w["name"] != "vllm-runtime" for w in inv["workloads"]), "a used runtime is shown inside its services"


def test_operators_and_scrape_configs_are_shown(tmp_path: Path):
    inv = _inventory(CASES["deployed-operators-and-variables"], tmp_path)
    worker = next(w for w in inv["workloads"] if w["name"] == "llama-serve" and w["part"] == "worker:gpu-group")
    assert any("ray.io/node-type=worker" in a for a in worker["added_by_operators"])
    assert [s["what"] for s in worker["scraped_by"]] == ["PodMonitor ray-workers"]
    raw = _workload(inv, "vllm-raw")
    assert raw["launches"][0]["model"] == {"value": "org/Llama-3.1-8B-Instruct", "at": {"path": "k8s/vllm.yaml", "line": 51}}
    tpu = _workload(inv, "vllm-tpu")
    assert tpu["accelerators"] == [{"resource": "google.com/tpu", "count": "4"}]


def test_cli_json_and_usage_errors(tmp_path: Path, capsys, monkeypatch):
    target = tmp_path / "repo"
    shutil.copytree(CASES["deployed-kserve"], target, ignore=shutil.ignore_patterns("expected*.json"))
    monkeypatch.chdir(target)
    assert main(["inventory", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["schema_version"] == 1 and out["tool"]["name"] == "safeai-lint"
    assert {w["name"] for w in out["workloads"]} == {"spare-tgi", "chat", "summarize", "hub"}
    assert main(["inventory", "--format", "yaml"]) == 2
    assert "unknown format" in capsys.readouterr().err
    assert main(["inventory", "no/such/path"]) == 2
    assert main(["inventory", "-f", "TEXT"]) == 0
    assert "InferenceService chat (predictor)" in capsys.readouterr().out


def test_files_a_nested_config_excludes_are_not_listed_and_the_cache_changes_nothing(tmp_path: Path, capsys, monkeypatch):
    """The inventory reads the repository as `check` does: the closest config's excludes
    apply (here one in a sub-folder), and a warm cache gives the same inventory."""
    target = tmp_path / "repo"
    shutil.copytree(CASES["deployed-kserve"], target, ignore=shutil.ignore_patterns("expected*.json"))
    (target / "team").mkdir()
    (target / "team" / ".safeai-lint.yaml").write_text("exclude: [old]\n", encoding="utf-8")
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: NAME}\nspec:\n  template:\n    spec:\n"
        "      containers:\n      - name: c\n        image: vllm/vllm-openai:v0.6.3\n        args: [--model, m]\n"
    )
    for folder, name in (("team/old", "retired-llm"), ("team/current", "current-llm"), *((f"team/more{n}", f"llm-{n}") for n in range(6))):
        (target / folder).mkdir(parents=True)
        (target / folder / "deploy.yaml").write_text(deployment.replace("NAME", name), encoding="utf-8")
    monkeypatch.chdir(target)
    monkeypatch.setenv("SAFEAI_LINT_CACHE_DIR", str(tmp_path / "cache"))
    outputs = []
    for args in (["--no-cache"], [], []):  # no cache, then filling it, then from it
        assert main(["inventory", "--format", "json", *args]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    names = {w["name"] for w in outputs[0]["workloads"]}
    assert "current-llm" in names and "retired-llm" not in names
    assert outputs[0] == outputs[1] == outputs[2]
    assert list((tmp_path / "cache").glob("*.pickle"))  # enough files for the cache: it was used
