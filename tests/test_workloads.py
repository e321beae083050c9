"""Workload extraction: every shape, annotations, suppressions, quantities, and the files
that look like workloads but are not."""
from __future__ import annotations

from conftest import hits

from safeai_lint.checks.aiscope import matches_ai_image
from safeai_lint.extract.k8s import kubernetes
from safeai_lint.facts import Suppression, Workload
from safeai_lint.policy import default_policy
from safeai_lint.sources.base import SourceText


def facts(text: str, rel: str = "w.yaml") -> tuple[list[object], SourceText]:
    src = SourceText(rel, "yaml", text)
    return list(kubernetes(src)), src


def workloads(text: str) -> list[Workload]:
    return [f for f in facts(text)[0] if isinstance(f, Workload)]


POD = """
      containers:
        - name: c
          image: vllm/vllm-openai:v0.10.0
"""


def test_cronjob_list_and_podtemplate_shapes():
    text = (
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n"
        "          containers: [{name: c, image: 'python:3.11.4'}]\n---\n"
        "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: p}\n    spec:\n"
        "      containers: [{name: c, image: 'nginx:1.25.3'}]\n"
    )
    ws = workloads(text)
    assert [(w.kind, w.name, w.long_running) for w in ws] == [("CronJob", "nightly", False), ("Pod", "p", True)]
    assert ws[0].location.line == 3


def test_leaderworkerset_and_ray_templates_are_separate_pods():
    text = (
        "apiVersion: leaderworkerset.x-k8s.io/v1\nkind: LeaderWorkerSet\nmetadata: {name: lws}\nspec:\n  leaderWorkerTemplate:\n"
        "    leaderTemplate:\n      spec:\n        containers: [{name: l, image: 'vllm/vllm-openai:v0.10.0'}]\n"
        "    workerTemplate:\n      spec:\n        containers: [{name: w, image: 'vllm/vllm-openai:v0.10.0'}]\n---\n"
        "apiVersion: ray.io/v1\nkind: RayService\nmetadata: {name: rs}\nspec:\n  rayClusterConfig:\n    headGroupSpec:\n      template:\n"
        "        spec: {containers: [{name: head, image: 'rayproject/ray:2.9.0'}]}\n    workerGroupSpecs:\n      - groupName: gpu\n"
        "        template:\n          spec: {containers: [{name: w, image: 'rayproject/ray:2.9.0', resources: {limits: {nvidia.com/gpu: 1}}}]}\n"
    )
    assert [w.part for w in workloads(text)] == ["leader", "worker", "head", "worker:gpu"]
    assert len({w.id for w in workloads(text)}) == 4


def test_kserve_predictor_model_and_storage_uri():
    text = (
        "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: m}\nspec:\n  predictor:\n    model:\n"
        "      modelFormat: {name: huggingface}\n      args: [--model_id=org/m]\n      storageUri: s3://b/m\n"
    )
    (w,) = workloads(text)
    assert w.surface == "kserve" and w.storage_uri == "s3://b/m" and w.storage_location.line == 9
    assert w.containers[0].name == "kserve-container"


def test_annotation_suppressions_object_and_container():
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  annotations:\n"
        "    safeai-lint.io/ignore: 'SAI304=tp2 approved; SAI308'\nspec:\n  template:\n    metadata:\n      annotations:\n"
        "        safeai-lint.io/ignore.c: 'SAI605=set in image'\n    spec:\n" + POD
    )
    sups = [f for f in facts(text)[0] if isinstance(f, Suppression)]
    assert [(s.rule, s.reason, s.first_line) for s in sups] == [("SAI304", "tp2 approved", 1), ("SAI308", "", 1), ("SAI605", "set in image", 15)]
    assert all(s.origin == "annotation" for s in sups)


def test_invalid_quantity_is_sai001_at_its_line():
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: 'nginx:1.25.3'\n" \
           "      resources:\n        limits:\n          memory: 34Gb\n          cpu: 500m\n"
    found, src = facts(text)
    (w,) = [f for f in found if isinstance(f, Workload)]
    assert [d.location.line for d in src.diagnostics if d.rule == "SAI001"] == [10]
    assert [k for k, _, _ in w.containers[0].limits] == ["cpu"]


def test_bad_types_never_crash():
    text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: [1]\nspec:\n  template:\n    spec:\n      containers:\n" \
           "        - name: [x]\n          image: 3\n          env: {a: b}\n          resources: {limits: [1]}\n          args: {x: 1}\n" \
           "        - null\n        - 'text'\n"
    facts(text)  # no exception


def test_ai_image_patterns_match_whole_words():
    policy = default_policy()
    assert matches_ai_image("nvcr.io/nim/meta/llama3-8b-instruct:1.0", policy)
    assert matches_ai_image("lmcache/vllm-openai:latest", policy)
    assert not matches_ai_image("ghcr.io/acme/animation-service:1.0", policy)


def test_helm_values_and_kustomize_patches_are_silent(tmp_path):
    from conftest import scan

    files = {
        "chart/values.yaml": "gpuMemoryUtilization: 0.95\nextraArgs: ['--gpu-memory-utilization', '0.4']\nrequestGPU: 1\n",
        "overlay/kustomization.yaml": "resources: [../base]\npatches:\n  - path: patch.yaml\n",
        "overlay/patch.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: llm}\nspec:\n  template:\n    spec:\n"
                              "      containers:\n        - name: vllm\n          image: vllm/vllm-openai:v0.10.0\n"
                              "          resources: {limits: {nvidia.com/gpu: 2}}\n",
    }
    result = scan(tmp_path, files)
    assert {h for h in hits(result) if h[0].startswith(("SAI3", "SAI5", "SAI6"))} == set()


def test_annotation_suppression_applies_and_reasonless_entry_is_sai003(tmp_path):
    from conftest import scan

    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  annotations:\n"
        "    safeai-lint.io/ignore: 'SAI304=tp2 approved; SAI308'\nspec:\n  template:\n    spec:\n"
        "      containers:\n        - name: c\n          image: vllm/vllm-openai:v0.10.0\n"
        "          resources: {limits: {memory: 34Gi, cpu: '8', nvidia.com/gpu: 2}}\n"
    )
    result = scan(tmp_path, {"d.yaml": text})
    assert hits(result, "SAI304") == set()
    assert ("SAI003", "d.yaml", 6) in hits(result, "SAI003")
    assert ("SAI308", "d.yaml", 4) in hits(result, "SAI308")
