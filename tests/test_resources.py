"""SAI205 and SAI3xx through the engine: what a user sees (rule, path, line)."""
from __future__ import annotations

from conftest import hits, scan

HEAD = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: llm\nspec:\n  template:\n    spec:\n      containers:\n"


def deploy(container: str) -> str:
    return HEAD + container


def test_quantities_compare_exactly_for_profile(tmp_path):
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {safeai-lint.io/profiled-peak-memory: '34359738368'}\n"
        "spec:\n  containers:\n    - name: c\n      image: vllm/vllm-openai:v0.10.0\n"
        "      resources: {limits: {memory: 34Gi, cpu: 500m, nvidia.com/gpu: 1}}\n"
    )
    result = scan(tmp_path, {"p.yaml": text})
    assert hits(result, "SAI306") == set()  # 32Gi written in bytes + 2Gi = 34Gi


def test_profile_annotation_not_a_quantity_is_sai001(tmp_path):
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {safeai-lint.io/profiled-peak-memory: lots}\n"
        "spec:\n  containers:\n    - name: c\n      image: vllm/vllm-openai:v0.10.0\n"
    )
    result = scan(tmp_path, {"p.yaml": text})
    assert ("SAI001", "p.yaml", 5) in hits(result, "SAI001")
    assert hits(result, "SAI306") == set()


def test_two_containers_each_one_gpu_exceed_one_per_pod(tmp_path):
    c = "        - name: a\n          image: vllm/vllm-openai:v0.10.0\n          resources: {limits: {nvidia.com/gpu: 1}}\n" \
        "        - name: b\n          image: vllm/vllm-openai:v0.10.0\n          resources: {limits: {nvidia.com/gpu: 1}}\n"
    assert hits(scan(tmp_path, {"d.yaml": deploy(c)}), "SAI304") == {("SAI304", "d.yaml", 14)}


def test_label_marks_an_ai_workload(tmp_path):
    text = HEAD.replace("  name: llm\n", "  name: llm\n  labels: {safeai-lint.io/ai-workload: 'true'}\n") + \
        "        - name: app\n          image: ghcr.io/acme/rag:1.0\n"
    assert hits(scan(tmp_path, {"d.yaml": text}), "SAI301") == {("SAI301", "d.yaml", 10)}


def test_sidecar_without_port_is_not_serving(tmp_path):
    c = "        - name: vllm\n          image: vllm/vllm-openai:v0.10.0\n          args: [--model, /m]\n" \
        "          readinessProbe: {httpGet: {path: /health, port: 8000}}\n          livenessProbe: {httpGet: {path: /health, port: 8000}}\n" \
        "        - name: log-shipper\n          image: fluent/fluent-bit:2.2.0\n"
    assert hits(scan(tmp_path, {"d.yaml": deploy(c)}), "SAI309") == set()


def test_absent_flag_messages_name_the_engine_default(tmp_path):
    c = "        - name: vllm\n          image: vllm/vllm-openai:v0.10.0\n          args: [--model, /m]\n"
    result = scan(tmp_path, {"d.yaml": deploy(c)})
    (f,) = [f for f in result.findings if f.rule == "SAI307"]
    assert "defaults it to 0.9" in f.message and f.location.line == 11
    (g,) = [f for f in result.findings if f.rule == "SAI501"]
    assert "defaults --max-model-len" in g.message


def test_tgi_default_fraction_message(tmp_path):
    c = "        - name: tgi\n          image: ghcr.io/huggingface/text-generation-inference:2.4.0\n"
    (f,) = [f for f in scan(tmp_path, {"d.yaml": deploy(c)}).findings if f.rule == "SAI307"]
    assert "defaults it to 1.0" in f.message


def test_envfrom_makes_absent_flags_unknown(tmp_path):
    c = "        - name: vllm\n          image: vllm/vllm-openai:v0.10.0\n          args: [--model, /m, --config, /etc/vllm.yaml]\n"
    result = scan(tmp_path, {"d.yaml": deploy(c)})
    assert hits(result, "SAI307") == set() and hits(result, "SAI501") == set()
