"""Which workloads are AI workloads and which containers serve, exactly as RULES.md "Terms"
defines them. Other families (resilience, observability) import these helpers; this module
reports nothing itself."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from ..facts import Container, ServingLaunch, Workload
from ..link.roles import image_repository, is_gpu_resource, matched_ai_image
from ..policy import Policy
from ..project import Project

if TYPE_CHECKING:
    from ..link import Deployed


def deployed_view(project: Project, policy: Policy):  # noqa: ANN201 - link.View
    """The deployed view. A scan with no workload (one Dockerfile, a Python service) gets the
    plain one without importing link/view.py: its only launches are Dockerfile and Python ones."""
    if not project.all(Workload):
        return project.derived("no-workload-view", None, lambda: _NoWorkloads(tuple(project.all(ServingLaunch))))
    from ..link import deployed_view as view

    return view(project, policy)


class _NoWorkloads:
    """The deployed view of a scan that found no workload."""

    workloads: tuple = ()
    shared: tuple = ()

    def __init__(self, launches: tuple[ServingLaunch, ...]) -> None:
        self.launches = launches

    def of(self, workload_id: str) -> None:
        return None

CHECKS: tuple = ()

__all__ = ["image_repository", "is_gpu_resource", "matches_ai_image"]


def matches_ai_image(image: str, policy: Policy) -> bool:
    """Does the image's repository path hold an `ai-images` pattern (see `link.roles`)?"""
    return bool(matched_ai_image(image, policy))


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


def ai_deployed(project: Project, policy: Policy) -> list[Deployed]:
    """Every AI workload of the deployed view (serving, or holding an accelerator)."""
    return project.derived("ai-deployed", policy, lambda: [d for d in deployed_view(project, policy).workloads if d.ai])


def ai_workloads(project: Project, policy: Policy) -> list[Workload]:
    """Every AI workload as deployed, in file order: what the resource and isolation rules
    (SAI205, SAI301-SAI304, SAI306, SAI308) judge."""
    return project.derived("ai-workloads", policy, lambda: [d.workload for d in ai_deployed(project, policy)])


def serving_workloads(project: Project, policy: Policy) -> list[Workload]:
    """Workloads whose role is serving: what the serving rules (SAI305, SAI309, SAI5xx,
    SAI60x, SAI701) judge."""
    return project.derived(
        "serving-workloads", policy,
        lambda: [d.workload for d in deployed_view(project, policy).workloads if d.role == "serving"],
    )


def serving_launches(project: Project, policy: Policy) -> list[ServingLaunch]:
    """The serving launches the serving rules judge: those of serving workloads (KServe
    predictors merged with their runtime), Dockerfile and Python launches; never those of
    batch, client or other workloads, nor of Kustomize patch files."""
    return list(deployed_view(project, policy).launches)


def cuda_launches(project: Project, policy: Policy) -> list[ServingLaunch]:
    """Serving launches that may run on a CUDA GPU (not on a TPU- or Neuron-only workload):
    what CUDA-only rules (SAI307, SAI605) judge."""
    view = deployed_view(project, policy)
    out = []
    for s in view.launches:
        d = view.of(s.workload) if s.workload else None
        if d is None or d.cuda:
            out.append(s)
    return out


def reason(project: Project, policy: Policy, w: Workload) -> str:
    """Why `w` is an AI workload ("serving: runs vLLM", "accelerator: nvidia.com/gpu: 1")."""
    d = deployed_view(project, policy).of(w.id)
    return d.reason if d is not None else "an AI workload"


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
