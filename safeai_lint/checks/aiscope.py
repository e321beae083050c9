"""Which workloads are AI workloads and which containers serve, exactly as RULES.md "Terms"
defines them. Other families (resilience, observability) import these helpers; this module
reports nothing itself."""
from __future__ import annotations

import re
from typing import Callable, Iterable, Sequence

from ..facts import Container, KustomizePatch, ServingLaunch, Workload
from ..policy import Policy
from ..project import Project

AI_MARK = "safeai-lint.io/ai-workload"
GPU_PREFIXES = ("nvidia.com/gpu", "nvidia.com/mig-", "amd.com/gpu")
CHECKS: tuple = ()


def is_gpu_resource(key: str) -> bool:
    return key.startswith(GPU_PREFIXES)


def image_repository(image: str) -> str:
    """The repository path of an image reference, lower-cased, tag and digest dropped."""
    ref = image.lower().split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        ref = ref[: len(ref) - len(last)] + last.split(":", 1)[0]
    return ref


def matches_ai_image(image: str, policy: Policy) -> bool:
    """Does the image's repository contain an `ai-images` pattern as a whole word
    (`vllm/vllm-openai` yes; `animation` does not contain "nim")?"""
    repo = image_repository(image)
    if not repo:
        return False
    for pattern in policy.get("ai-images") or ():
        if isinstance(pattern, str) and pattern and re.search(rf"(?<![a-z0-9]){re.escape(pattern.lower())}(?![a-z0-9])", repo):
            return True
    return False


def _patched_paths(project: Project) -> set[str]:
    return {p.path for p in project.all(KustomizePatch)}


def serving_launches(project: Project) -> list[ServingLaunch]:
    """Every serving launch, except those in Kustomize patch files (partial objects)."""
    def build() -> list[ServingLaunch]:
        patched = _patched_paths(project)
        launches = project.all(ServingLaunch)
        return [s for s in launches if s.location.path not in patched] if patched else launches

    return project.derived("serving-launches", None, build)


def launches_of(project: Project, workload: Workload) -> list[ServingLaunch]:
    return [s for s in project.all(ServingLaunch) if s.workload == workload.id]


def gpu_count(container: Container) -> int:
    """GPUs a container asks for (limits, else requests); "all" counts as a large number."""
    total = 0
    for key, value, _ in container.limits or container.requests:
        if is_gpu_resource(key):
            total += 1_000_000 if value == "all" else _int(value)
    return total


def _int(value: str) -> int:
    try:
        return int(float(value))
    except ValueError:
        return 0


def asks_gpu(workload: Workload) -> bool:
    return any(is_gpu_resource(k) for c in workload.containers for k, _, _ in (*c.limits, *c.requests))


def is_ai_workload(workload: Workload, policy: Policy, launched: set[str]) -> bool:
    if workload.kind == "InferenceService":
        return True
    if workload.id in launched or asks_gpu(workload):
        return True
    if any(matches_ai_image(c.image, policy) for c in workload.containers):
        return True
    marks = dict(workload.object_labels + workload.labels + workload.annotations)
    return str(marks.get(AI_MARK, "")).lower() == "true"


def ai_workloads(project: Project, policy: Policy) -> list[Workload]:
    """Every AI workload of the scan, in file order (Kustomize patch files excluded)."""
    def build() -> list[Workload]:
        patched = _patched_paths(project)
        launched = {s.workload for s in project.all(ServingLaunch) if s.workload}
        return [
            w for w in project.all(Workload)
            if w.location.path not in patched and is_ai_workload(w, policy, launched)
        ]

    return project.derived("ai-workloads", policy, build)


def launched_containers(launches: Iterable[ServingLaunch]) -> set[tuple[str, str]]:
    """(workload id, container name) of each launch, for `is_serving_container`."""
    return {(s.workload, s.container) for s in launches}


def is_serving_container(workload: Workload, container: Container, launched: set[tuple[str, str]]) -> bool:
    """Runs a serving launch, or exposes a containerPort, in a long-running pod. Batch pods
    (Job, CronJob) are not serving containers, even when they start an engine to pull a model.
    `launched`: the (workload id, container name) pairs of the serving launches."""
    if container.init or not workload.long_running:
        return False
    if (workload.id, container.name) in launched:
        return True
    return workload.long_running and bool(container.ports)


def name_matches_patterns(name: str, patterns: Iterable[str]) -> bool:
    """Does a host or service name match one of the `ai-service-patterns`?

    A pattern must start where a word of the name starts (after a `-`, `.`, `_`, `/` or at the
    beginning), so "embed" matches `text-embedder` and "llm" matches `llm-gateway`, but "llm"
    does not match `fullmoon`."""
    lowered = name.lower()
    for pattern in patterns:
        if isinstance(pattern, str) and pattern and re.search(r"(?<![a-z0-9])" + re.escape(pattern.lower()), lowered):
            return True
    return False


def pods_selected_by(workloads: Sequence[Workload]) -> Callable[[Iterable[tuple[str, str]]], list[Workload]]:
    """A lookup: the workloads whose pod labels hold every pair of a Service selector.

    Why an index: matching every Service against every workload is quadratic, 4 million
    label comparisons for 2,000 services. Each workload is listed under each of its label
    pairs; a selector is looked up by its first pair (which any match must have), then checked
    in full against those few."""
    index: dict[tuple[str, str], list[tuple[Workload, dict[str, str]]]] = {}
    for w in workloads:
        labels = dict(w.labels)
        for pair in labels.items():
            index.setdefault(pair, []).append((w, labels))

    def lookup(selector: Iterable[tuple[str, str]]) -> list[Workload]:
        pairs = sorted(selector)
        if not pairs:
            return []
        return [w for w, labels in index.get(pairs[0], ()) if all(labels.get(k) == v for k, v in pairs)]

    return lookup
