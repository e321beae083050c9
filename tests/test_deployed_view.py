"""The deployed view (link/): roles with evidence, KServe runtime selection and merging,
operator additions, `$(VAR)` expansion, JSON arguments, TGI by env, scrape configs. Each
heuristic is tested with the near-misses it must not take."""
from __future__ import annotations

import pytest

from conftest import hits
from safeai_lint.extract.serving import build_launch, expand_env_refs, expand_words
from safeai_lint.facts import Location
from safeai_lint.inventory import build, collect
from safeai_lint.link.roles import client_image_word, is_control_plane_image, matched_ai_image
from safeai_lint.policy import default_policy

HERE = Location("x.yaml", 1, 1)
POLICY = default_policy()


def _pod(name: str, container: str, kind: str = "Pod") -> str:
    head = f"apiVersion: v1\nkind: {kind}\nmetadata:\n  name: {name}\n"
    if kind == "Pod":
        return head + "spec:\n  containers:\n" + container
    return head + "spec:\n  template:\n    spec:\n      containers:\n" + "\n".join("    " + l if l else l for l in container.splitlines()) + "\n"


def _roles(repo_path, files) -> dict[str, tuple[str, str, bool]]:
    from conftest import write_tree

    write_tree(repo_path, files)
    project, config, _ = collect([str(repo_path)], cwd=repo_path)
    return {w["name"]: (w["role"], w["evidence"], w["ai_workload"]) for w in build(project, config.policy)["workloads"]}


@pytest.mark.parametrize("image, expected", [
    ("vllm/vllm-openai:v0.6.3", "vllm"),
    ("public.ecr.aws/neuron/neuron-sdk2.20-vllm0.5.0-neuron:1.0", "vllm"),  # a substring, not a whole word
    ("nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3", "nim"),
    ("registry.example.com/animation/render:1.0", ""),  # "nim" inside a word
    ("registry.example.com/ml/myllvm:1.0", ""),
])
def test_ai_images_match_a_substring_that_starts_a_word(image, expected):
    assert matched_ai_image(image, POLICY) == expected


@pytest.mark.parametrize("image, expected", [
    ("nvcr.io/nvidia/tritonserver:24.08-py3-sdk", "sdk"),
    ("locustio/locust:2.31.1", "locust"),
    ("nvcr.io/nvidia/tritonserver:24.08-py3", ""),
    ("vllm/vllm-openai:v0.6.3", ""),
])
def test_client_images(image, expected):
    assert client_image_word(image) == expected


@pytest.mark.parametrize("image, expected", [
    ("nvcr.io/nvidia/cloud-native/k8s-nim-operator:v1.0.1", True),
    ("kserve/kserve-controller:v0.14.0", True),
    ("nvcr.io/nvidia/k8s-device-plugin:v0.16.2", True),
    ("nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3", False),
    ("vllm/vllm-openai:v0.6.3", False),
])
def test_control_plane_images(image, expected):
    assert is_control_plane_image(image) is expected


def test_roles_from_evidence(tmp_path):
    c = "  - name: c\n    image: {image}\n    command: {command}\n{extra}"
    roles = _roles(tmp_path, {
        "smoke.yaml": _pod("smoke", c.format(image="nvidia/cuda:12.2.0-base-ubuntu22.04", command='["nvidia-smi"]',
                                             extra="    resources: {limits: {nvidia.com/gpu: 1}}\n")),
        "bench.yaml": _pod("bench", c.format(image="python:3.11.4", command='["python", "benchmarks/benchmark_serving.py"]', extra="")),
        "vegeta.yaml": _pod("vegeta", c.format(image="peterevans/vegeta:6.9", command='["sh", "-c", "vegeta attack -rate=50 | vegeta report"]', extra="")),
        "done.yaml": _pod("done", c.format(image="vllm/vllm-openai:v0.6.3", command='["python", "-m", "vllm.entrypoints.openai.api_server"]',
                                           extra="  restartPolicy: Never\n")),
        "svc.yaml": _pod("server", c.format(image="vllm/vllm-openai:v0.6.3", command='["vllm", "serve", "/m"]', extra=""), kind="Deployment"),
        "image.yaml": _pod("image", "  - name: c\n    image: nvcr.io/nvidia/tritonserver:24.08-py3\n", kind="Deployment"),
        "sleeper.yaml": _pod("sleeper", c.format(image="ollama/ollama:0.3.12", command='["sleep", "infinity"]', extra=""), kind="Deployment"),
        "off.yaml": _pod("disabled", "  - name: c\n    image: ollama/ollama:0.3.12\n", kind="Deployment").replace(
            "  name: disabled\n", "  name: disabled\n  labels: {safeai-lint.io/ai-workload: \"false\"}\n"),
    })
    assert roles["smoke"] == ("client", "client: runs nvidia-smi", True)  # a client, but it holds a GPU
    assert roles["bench"] == ("client", "client: runs the benchmark script benchmark_serving.py", False)
    assert roles["vegeta"][:2] == ("client", "client: runs vegeta")
    assert roles["done"] == ("batch", "batch: restartPolicy Never (runs to completion)", False)
    assert roles["server"] == ("serving", "serving: runs vLLM", True)
    assert roles["image"] == ("serving", "serving: runs the tritonserver image nvcr.io/nvidia/tritonserver with its own entrypoint", True)
    assert roles["sleeper"][:2] == ("client", "client: its command only sleeps (a toolbox pod)")
    assert roles["disabled"] == ("other", 'other: set by safeai-lint.io/ai-workload: "false"', False)


def test_env_references_take_the_containers_literal_values():
    env = [("MODEL", "org/m", HERE), ("SECRET", None, HERE), ("LEN", "4096", HERE)]
    words = [("--model=$(MODEL)", HERE), ("$(SECRET)", HERE), ("--max-model-len=$(LEN)", HERE), ("$$(MODEL)", HERE), ("$(NOPE)", HERE)]
    assert [w for w, _ in expand_env_refs(words, env)] == ["--model=org/m", "$(SECRET)", "--max-model-len=4096", "$$(MODEL)", "$(NOPE)"]


def test_a_json_argument_is_one_word_and_a_flag_string_still_splits():
    words = [("--hf-overrides", HERE), ('{"rope_scaling": {"factor": 2}}', HERE), ("--max-model-len 4096 --dtype half", HERE)]
    assert [w for w, _ in expand_words(None, words)] == ["--hf-overrides", '{"rope_scaling": {"factor": 2}}', "--max-model-len", "4096", "--dtype", "half"]
    broken = [("{not json at all}", HERE)]
    assert [w for w, _ in expand_words(None, broken)] == ["{not", "json", "at", "all}"]


@pytest.mark.parametrize("env, engine", [
    ([("MODEL_ID", "org/m", HERE), ("MAX_INPUT_TOKENS", "2048", HERE)], "tgi"),
    ([("MODEL_ID", "org/m", HERE), ("NUM_SHARD", "2", HERE)], "tgi"),
    ([("MODEL_ID", "org/m", HERE)], None),  # MODEL_ID alone is too common a name
    ([("MAX_INPUT_TOKENS", "2048", HERE)], None),
])
def test_tgi_is_recognised_by_its_env_on_any_image(env, engine):
    launch = build_launch(None, [], env, image="registry.example.com/ml/llm:1.0", only_args=True, location=HERE, surface="kubernetes")
    assert (launch.engine if launch else None) == engine


def test_tgi_by_image_name_includes_cloud_builds():
    image = "us-docker.pkg.dev/deeplearning-platform-release/gcr.io/huggingface-text-generation-inference-cu124.2-4.ubuntu2204.py311"
    launch = build_launch(None, [], [], image=image, only_args=True, location=HERE, surface="kubernetes")
    assert launch is not None and launch.engine == "tgi"


RUNTIME = """\
apiVersion: serving.kserve.io/v1alpha1
kind: {kind}
metadata:
  name: rt
{ns}spec:
  supportedModelFormats:
    - name: vllm
      autoSelect: {auto}
  containers:
    - name: kserve-container
      image: vllm/vllm-openai:v0.6.3
      args: ["--model=/mnt/models", "--gpu-memory-utilization=0.95"]
"""
ISVC = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: svc
  namespace: team-a
spec:
  predictor:
    model:
{runtime}      modelFormat: {{name: vllm}}
      storageUri: pvc://m
"""


@pytest.mark.parametrize("kind, ns, auto, runtime, merged", [
    ("ServingRuntime", "  namespace: team-a\n", "true", "", True),  # by format, autoSelect
    ("ServingRuntime", "  namespace: team-a\n", "false", "", False),  # autoSelect off: not chosen by format
    ("ServingRuntime", "  namespace: team-a\n", "false", "      runtime: rt\n", True),  # by name
    ("ServingRuntime", "  namespace: team-b\n", "true", "      runtime: rt\n", False),  # another namespace's runtime
    ("ClusterServingRuntime", "", "false", "      runtime: rt\n", True),  # cluster-wide
    ("ServingRuntime", "  namespace: team-a\n", "true", "      runtime: other\n", False),  # names another runtime
])
def test_kserve_runtime_selection(repo, kind, ns, auto, runtime, merged):
    result = repo({"rt.yaml": RUNTIME.format(kind=kind, ns=ns, auto=auto), "isvc.yaml": ISVC.format(runtime=runtime)})
    sai307 = hits(result, "SAI307")
    # merged: the runtime's flag is judged once, at the runtime; not merged: the runtime is
    # judged on its own (the same finding), and the service alone starts no known engine
    assert ("SAI307", "rt.yaml", 13 if ns else 12) in sai307
    found = {w["name"]: w for w in build(*_project(repo, result))["workloads"]}
    assert ("svc" in found and found["svc"]["runtime"] is not None) is merged
    assert ("rt" in found) is (not merged)


def _project(repo, result):
    from pathlib import Path

    root = Path(result.root)
    project, config, _ = collect([str(root)], cwd=root)
    return project, config.policy


def test_gmp_cluster_pod_monitoring_and_gpu_operator_values(repo):
    deploy = _pod("llm", "  - name: vllm\n    image: vllm/vllm-openai:v0.6.3\n    args: [\"--model=/m\"]\n", kind="Deployment")
    deploy = deploy.replace("    spec:\n", "    metadata:\n      labels: {app: llm}\n    spec:\n", 1)
    scraped = repo({
        "llm.yaml": deploy,
        "gmp.yaml": "apiVersion: monitoring.googleapis.com/v1\nkind: ClusterPodMonitoring\nmetadata:\n  name: all\nspec:\n"
                    "  selector:\n    matchLabels: {app: llm}\n  endpoints: [{port: 8000}]\n",
        "gpu-operator/values.yaml": "driver:\n  enabled: true\ndcgmExporter:\n  enabled: true\n",
    })
    assert hits(scraped, "SAI701") == set()
    assert not any("gpu_utilization_percentage" in f.message for f in scraped.findings if f.rule == "SAI702")


def test_gpu_operator_values_with_the_exporter_off_is_no_exporter(repo):
    deploy = _pod("llm", "  - name: vllm\n    image: vllm/vllm-openai:v0.6.3\n    args: [\"--model=/m\"]\n", kind="Deployment")
    result = repo({"llm.yaml": deploy, "gpu-operator/values.yaml": "driver:\n  enabled: true\ndcgmExporter:\n  enabled: false\n"})
    assert any("gpu_utilization_percentage" in f.message for f in result.findings if f.rule == "SAI702")


def test_repo_level_findings_are_anchored_at_the_first_serving_workload_and_say_so(repo):
    job = _pod("a-train", "  - name: t\n    image: pytorch/pytorch:2.1.0-cuda12.1-cudnn8-runtime\n    resources: {limits: {nvidia.com/gpu: 1}}\n", kind="Job")
    serve = _pod("z-serve", "  - name: vllm\n    image: vllm/vllm-openai:v0.6.3\n    args: [\"--model=/m\"]\n", kind="Deployment")
    result = repo({"a-job.yaml": job, "z-serve.yaml": serve})
    anchored = [f for f in result.findings if f.rule in ("SAI702", "SAI703")]
    assert anchored and {(f.location.path, f.location.line) for f in anchored} == {("z-serve.yaml", 4)}
    assert all("Deployment z-serve, the first serving workload (serving: runs vLLM)" in f.message for f in anchored)


def _csr(name: str, protocols: str, priority: int) -> str:
    return (f"apiVersion: serving.kserve.io/v1alpha1\nkind: ClusterServingRuntime\nmetadata:\n  name: {name}\nspec:\n"
            f"  protocolVersions: {protocols}\n  supportedModelFormats:\n    - {{name: sklearn, autoSelect: true, priority: {priority}}}\n"
            "  containers:\n    - name: kserve-container\n      image: kserve/sklearnserver:v0.14.0\n")


@pytest.mark.parametrize("protocol, chosen", [("", "sklearnserver"), ("      protocolVersion: v2\n", "mlserver")])
def test_kserve_selection_by_protocol_then_priority(repo, protocol, chosen):
    isvc = ("apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata:\n  name: iris\nspec:\n  predictor:\n"
            f"    model:\n      modelFormat: {{name: sklearn}}\n{protocol}      storageUri: pvc://m\n")
    result = repo({"a-mlserver.yaml": _csr("mlserver", "[v2]", 2), "b-sklearn.yaml": _csr("sklearnserver", "[v1, v2]", 1), "isvc.yaml": isvc})
    workloads = build(*_project(repo, result))["workloads"]
    assert next(w for w in workloads if w["name"] == "iris")["runtime"]["name"] == chosen


def test_a_multi_node_runtime_serves_only_multi_node_predictors(repo):
    def rt(name: str, worker: str) -> str:
        return (f"apiVersion: serving.kserve.io/v1alpha1\nkind: ClusterServingRuntime\nmetadata:\n  name: {name}\nspec:\n"
                "  supportedModelFormats:\n    - {name: huggingface, autoSelect: true, priority: 2}\n"
                "  containers:\n    - name: kserve-container\n      image: kserve/huggingfaceserver:v0.14.0\n" + worker)
    worker = "  workerSpec:\n    containers:\n      - name: worker-container\n        image: kserve/huggingfaceserver:v0.14.0\n"
    isvc = ("apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata:\n  name: {name}\nspec:\n  predictor:\n"
            "    model:\n      modelFormat: {{name: huggingface}}\n      storageUri: pvc://m\n{extra}")
    result = repo({"a-multi.yaml": rt("hf-multinode", worker), "b-single.yaml": rt("hf", ""),
                   "one.yaml": isvc.format(name="one", extra=""),
                   "many.yaml": isvc.format(name="many", extra="    workerSpec:\n      pipelineParallelSize: 2\n")})
    chosen = {w["name"]: (w["runtime"] or {}).get("name") for w in build(*_project(repo, result))["workloads"]}
    assert chosen["one"] == "hf" and chosen["many"] == "hf-multinode"


@pytest.mark.parametrize("runtime_path, ns, chosen", [
    ("samples/other/rt.yaml", "", "cluster-tf"),  # another sample's namespaced runtime is not deployed beside it
    ("samples/rt.yaml", "", "local-tf"),  # a runtime in a folder holding the service
    ("samples/other/rt.yaml", "team-a", "local-tf"),  # the same written namespace
])
def test_a_namespaced_runtime_is_auto_selected_only_near_its_service(repo, runtime_path, ns, chosen):
    def runtime(kind: str, name: str, namespace: str) -> str:
        meta = f"  name: {name}\n" + (f"  namespace: {namespace}\n" if namespace else "")
        return (f"apiVersion: serving.kserve.io/v1alpha1\nkind: {kind}\nmetadata:\n{meta}spec:\n"
                "  supportedModelFormats:\n    - {name: tensorflow, autoSelect: true}\n"
                "  containers:\n    - name: kserve-container\n      image: tensorflow/serving:2.6.2\n")
    isvc = ("apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata:\n  name: flowers\n"
            + (f"  namespace: {ns}\n" if ns else "") + "spec:\n  predictor:\n    model:\n      modelFormat: {name: tensorflow}\n"
            "      storageUri: pvc://m\n")
    result = repo({"config/cluster.yaml": runtime("ClusterServingRuntime", "cluster-tf", ""),
                   runtime_path: runtime("ServingRuntime", "local-tf", ns), "samples/tf/isvc.yaml": isvc})
    workloads = build(*_project(repo, result))["workloads"]
    assert next(w for w in workloads if w["name"] == "flowers")["runtime"]["name"] == chosen


def test_a_runtime_a_service_could_select_is_not_judged_on_its_own(repo):
    isvc = ("apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata:\n  name: iris\nspec:\n  predictor:\n"
            "    model:\n      modelFormat: {name: sklearn}\n      storageUri: pvc://m\n")
    result = repo({"a.yaml": _csr("first", "[v1]", 1), "b.yaml": _csr("second", "[v1]", 1),
                   "c.yaml": _csr("unrelated", "[v2]", 1), "isvc.yaml": isvc})
    names = {w["name"] for w in build(*_project(repo, result))["workloads"]}
    assert names == {"iris", "unrelated"}  # "second" could serve iris too: judged through it, not alone
    assert {f.location.path for f in result.findings if f.rule == "SAI305"} == {"isvc.yaml", "c.yaml"}
