"""The role of a workload (serving / batch / client / other) and the accelerators it holds,
each decided from evidence a person can check (RULES.md, "Terms used below").

The evidence is a short phrase ("runs vLLM", "Job: runs to completion") that messages and
`safeai-lint inventory` show, so a surprising finding can be traced to why a workload counts.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

from ..facts import Container, ServingLaunch, Workload
from ..policy import Policy, parse_quantity

ROLES = ("serving", "batch", "client", "other")
ROLE_MARK = "safeai-lint.io/role"
AI_MARK = "safeai-lint.io/ai-workload"

GPU_PREFIXES = ("nvidia.com/gpu", "nvidia.com/mig-", "amd.com/gpu")
ACCELERATOR_PREFIXES = (*GPU_PREFIXES, "google.com/tpu", "aws.amazon.com/neuron")

ENGINE_NAMES = {"vllm": "vLLM", "tgi": "TGI", "sglang": "SGLang", "llama.cpp": "llama.cpp", "ollama": "Ollama",
                "nim": "NVIDIA NIM", "kserve-hf": "KServe's Hugging Face server"}

# Programs that load or probe a server rather than serve: load generators, benchmark
# drivers, smoke tests. A workload whose main containers run one of them is a client.
_CLIENT_PROGRAMS = {"genai-perf", "perf_analyzer", "perf_client", "locust", "vegeta", "k6", "hey", "wrk", "ab",
                    "nvidia-smi", "curl", "wget", "guidellm", "llmperf"}
# Words in an image's repository path or tag that mark a client or tool image (Triton's
# `-py3-sdk` tags, locust, k6...).
_CLIENT_IMAGE_WORDS = {"sdk", "locust", "k6", "vegeta", "genai-perf", "perf-analyzer", "loadgen", "load-generator",
                       "benchmark", "benchmarks", "client"}
# Images of an AI vendor that run the control plane, not a model: operators, controllers,
# admission webhooks, device plugins, exporters.
_CONTROL_WORDS = {"operator", "controller", "controller-manager", "webhook", "device-plugin", "exporter",
                  "validator", "admission", "manager", "router", "gateway", "proxy"}
_SHELL_WORDS = {"sh", "bash", "ash", "dash", "zsh", "exec", "-c", "-lc", "-ec", "-ex", "-exc", "-cex"}


def is_gpu_resource(key: str) -> bool:
    return key.startswith(GPU_PREFIXES)


def is_accelerator(key: str) -> bool:
    return key.startswith(ACCELERATOR_PREFIXES)


def image_repository(image: str) -> str:
    """The repository path of an image reference, lower-cased, tag and digest dropped."""
    ref = image.lower().split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        ref = ref[: len(ref) - len(last)] + last.split(":", 1)[0]
    return ref


def _image_tag(image: str) -> str:
    last = image.lower().split("@", 1)[0].rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else ""


def matched_ai_image(image: str, policy: Policy) -> str:
    """The `ai-images` pattern the image's repository path contains, "" when none.

    A pattern is a substring of the repository path that starts where a word starts, so
    `neuron-sdk2.20-vllm0.5.0-neuron` holds "vllm" while `animation` does not hold "nim"."""
    repo = image_repository(image)
    if not repo:
        return ""
    for pattern in policy.get("ai-images") or ():
        if isinstance(pattern, str) and pattern and re.search(rf"(?<![a-z0-9]){re.escape(pattern.lower())}", repo):
            return pattern
    return ""


def _words_of(text: str) -> set[str]:
    parts = set(re.split(r"[/_.:@]+", text.lower()))
    return parts | {p for part in parts for p in part.split("-")}


def is_control_plane_image(image: str) -> bool:
    """An operator, controller, webhook, device plugin or exporter image."""
    repo = image_repository(image)
    names = {p for p in re.split(r"[/_.]+", repo) if p}
    return bool(names & _CONTROL_WORDS) or any(p.endswith(tuple("-" + w for w in _CONTROL_WORDS)) for p in names)


def client_image_word(image: str) -> str:
    repo, tag = image_repository(image), _image_tag(image)
    found = (_words_of(repo.rsplit("/", 1)[-1]) | _words_of(tag)) & _CLIENT_IMAGE_WORDS
    return sorted(found)[0] if found else ""


def accelerators(w: Workload) -> tuple[tuple[str, str], ...]:
    """(resource, count) of every accelerator the pod's containers ask for (limits, else
    requests), summed per resource; a zero count is no accelerator."""
    totals: dict[str, float] = {}
    shown: dict[str, str] = {}
    for c in w.containers:
        entries = {k: v for k, v, _ in c.requests}
        entries.update({k: v for k, v, _ in c.limits})
        for key, value in entries.items():
            if not is_accelerator(key):
                continue
            if value == "all":
                shown[key] = "all"
                totals[key] = float("inf")
                continue
            number = parse_quantity(value)
            if number:
                totals[key] = totals.get(key, 0) + number
                shown.setdefault(key, "")
    return tuple((k, shown[k] or _count(totals[k])) for k in sorted(totals) if totals[k] > 0)


def _count(number: float) -> str:
    return str(int(number)) if number == int(number) else str(number)


def _programs(c: Container) -> list[str]:
    """The programs a container's command runs, in order (shell wrappers skipped)."""
    out = []
    expect = True
    for text, _ in c.shell:
        if text in (";", "&&", "||", "|", "&", "\n", "(", ")"):
            expect = True
            continue
        if not expect:
            continue
        base = text.rsplit("/", 1)[-1]
        if base in _SHELL_WORDS or "=" in base and not base.startswith("-"):
            continue
        out.append(base)
        expect = False
    return out


def _script_word(c: Container) -> str:
    """A benchmark or load-test script the container runs (`python benchmark_serving.py`)."""
    for text, _ in c.shell:
        low = text.lower()
        if low.endswith(".py") and re.search(r"(bench|load_?test|perf|stress)", low.rsplit("/", 1)[-1]):
            return text.rsplit("/", 1)[-1]
    return ""


def client_evidence(c: Container) -> str:
    """Why a container is a client (load generator, SDK image, sleep-only toolbox, smoke
    test), or "" when it is not."""
    programs = _programs(c)
    for p in programs:
        if p in _CLIENT_PROGRAMS:
            return f"client: runs {p}"
    script = _script_word(c)
    if script:
        return f"client: runs the benchmark script {script}"
    if programs and programs[0] == "sleep" and all(p in ("sleep", "true", "while", "do", "done") for p in programs):
        return "client: its command only sleeps (a toolbox pod)"
    word = client_image_word(c.image)
    if word:
        return f"client: runs {image_repository(c.image)} with a {word} tag or name"
    return ""


def decide_role(w: Workload, launches: Sequence[ServingLaunch], policy: Policy) -> tuple[str, str]:
    """(role, evidence) of one workload. `launches`: its serving launches."""
    marks = dict((*w.object_labels, *w.labels, *w.annotations))
    override = str(marks.get(ROLE_MARK, "")).strip().lower()
    if override in ROLES:
        return override, f"{override}: set by {ROLE_MARK}"
    ai_mark = str(marks.get(AI_MARK, "")).strip().lower()
    if ai_mark == "true":
        return "serving", f"serving: set by {AI_MARK}: \"true\""
    if ai_mark == "false":
        return "other", f"other: set by {AI_MARK}: \"false\""
    main = [c for c in w.containers if not c.init]
    launched = {s.container for s in launches}
    if w.kind == "InferenceService":
        return "serving", "serving: a KServe InferenceService"
    if w.kind in ("ServingRuntime", "ClusterServingRuntime"):
        return "serving", f"serving: a KServe {w.kind} that no InferenceService in the repo uses (judged on its own)"
    if w.kind == "RayService":
        return "serving", "serving: a RayService (Ray Serve)"
    if not w.long_running:
        what = f" that starts {_engines(launches)}" if launches else ""
        return "batch", f"batch: a {w.kind}{what} (runs to completion)"
    if w.restart_policy in ("Never", "OnFailure"):
        return "batch", f"batch: restartPolicy {w.restart_policy} (runs to completion)"
    serving = [c for c in main if c.name in launched]
    if not serving:
        for c in main:
            evidence = client_evidence(c)
            if evidence:
                return "client", evidence
    if serving:
        return "serving", f"serving: runs {_engines([s for s in launches if s.container in launched])}"
    for c in main:
        pattern = matched_ai_image(c.image, policy)
        if not pattern or is_control_plane_image(c.image):
            continue
        if c.ports:
            return "serving", f"serving: runs the {pattern} image {image_repository(c.image)} with containerPort {c.ports[0][0]}"
        if not c.command:
            return "serving", f"serving: runs the {pattern} image {image_repository(c.image)} with its own entrypoint"
    control = next((c.image for c in main if matched_ai_image(c.image, policy) and is_control_plane_image(c.image)), "")
    if control:
        return "other", f"other: {image_repository(control)} is an operator or controller image, not a model server"
    held = accelerators(w)
    if held:
        for c in main:
            if c.ports and not is_control_plane_image(c.image):
                key, count = held[0]
                return "serving", f"serving: holds {key}: {count} and exposes containerPort {c.ports[0][0]}"
    return "other", "other: no serving launch, AI image or client evidence"


def _engines(launches: Iterable[ServingLaunch]) -> str:
    names = []
    for s in launches:
        name = ENGINE_NAMES.get(s.engine, s.engine)
        if name not in names:
            names.append(name)
    return " and ".join(names) or "an inference engine"
