"""KServe as the controller deploys it: an InferenceService predictor merged with the
(Cluster)ServingRuntime it selects.

KServe builds the predictor's container from the runtime's container patched with the
predictor's (a strategic merge: env by name, resources key by key, the predictor's fields
win), except that args are concatenated, runtime's first; the runtime's `spec.annotations`
go on the pod. A predictor's `model:` and a `containers:` entry named `kserve-container` are
one container. A runtime is chosen by `runtime:` name, else by the model format among the
runtimes that `autoSelect` it, speak the predictor's protocol (`protocolVersion`, default v1)
and are multi-node (`workerSpec`) exactly when the predictor is: a namespaced ServingRuntime
before a ClusterServingRuntime, then the highest `priority`, then the first in file order.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

from ..extract.serving import expand_words
from ..facts import Container, Workload
from .scrape import same_namespace

RUNTIME_KINDS = ("ServingRuntime", "ClusterServingRuntime")
MAIN = "kserve-container"


def is_runtime(w: Workload) -> bool:
    return w.kind in RUNTIME_KINDS


def is_predictor(w: Workload) -> bool:
    return w.kind == "InferenceService" and w.part == "predictor"


def select_runtime(isvc: Workload, runtimes: Sequence[Workload]) -> tuple[Workload | None, str, tuple[Workload, ...]]:
    """The runtime KServe would use for `isvc`, how it was chosen ("" when none in the repo
    fits: the service is judged as written), and every runtime that could serve it (a
    runtime some service could select is not judged on its own)."""
    ordered = sorted(runtimes, key=lambda r: (r.kind != "ServingRuntime", not _same_namespace(r, isvc)))
    if isvc.runtime:
        for r in ordered:
            if r.name == isvc.runtime and (r.kind == "ClusterServingRuntime" or _same_namespace(r, isvc)):
                return r, f"runtime: {isvc.runtime}", (r,)
        return None, "", ()
    fmt = isvc.model_format.lower()
    if not fmt:
        return None, "", ()
    protocol = isvc.protocols[0] if isvc.protocols else "v1"  # KServe's default protocol
    candidates = []
    for r in ordered:
        if r.kind != "ClusterServingRuntime" and not _nearby(r, isvc):
            continue
        if (r.protocols and protocol not in r.protocols) or r.multi_node != isvc.multi_node:
            continue  # KServe pairs multi-node predictors (workerSpec) with multi-node runtimes only
        ranks = [rank for name, auto, rank in r.model_formats if name == fmt and auto]
        if ranks:
            candidates.append((r.kind != "ServingRuntime", -max(ranks), len(candidates), r))
    if not candidates:
        return None, "", ()
    chosen = min(candidates)[3]
    return chosen, f"modelFormat {fmt} (autoSelect, protocol {protocol})", tuple(c[3] for c in candidates)


def _nearby(runtime: Workload, isvc: Workload) -> bool:
    """Could a namespaced runtime be auto-selected for this service? Both in one written
    namespace, or, when a namespace is left to `kubectl -n`, the runtime's folder holds the
    service (a sample's runtime in another folder of a repository of samples is not deployed
    beside it)."""
    if runtime.namespace and isvc.namespace:
        return runtime.namespace == isvc.namespace
    folder = runtime.location.path.rpartition("/")[0]
    return not folder or isvc.location.path.startswith(folder + "/")


def _same_namespace(a: Workload, b: Workload) -> bool:
    return same_namespace(a.namespace, b.namespace)


def merge_container(base: Container, over: Container) -> Container:
    """`over` patched onto `base` as KServe merges a predictor onto its runtime: scalar
    fields of `over` win when written, env merges by name, resources key by key, args are
    concatenated (base first). Locations follow the text that set each part; the merged
    container is located at `over` (where a missing setting would be added)."""
    env = {e.name: e for e in base.env}
    env.update({e.name: e for e in over.env})
    command = over.command or base.command
    args = (*base.args, *over.args)
    if (over.command or over.args) and (base.command or base.args):
        shell = tuple(expand_words(None, [*command, *args]))
    else:
        shell = over.shell or base.shell
    return dataclasses.replace(
        over,
        image=over.image or base.image,
        image_location=over.image_location if over.image else base.image_location,
        command=command,
        args=args,
        command_location=over.command_location or base.command_location,
        env=tuple(env.values()),
        env_from=over.env_from or base.env_from,
        limits=_merged(base.limits, over.limits),
        requests=_merged(base.requests, over.requests),
        resources_location=over.resources_location or base.resources_location,
        readiness_probe=over.readiness_probe or base.readiness_probe,
        liveness_probe=over.liveness_probe or base.liveness_probe,
        startup_probe=over.startup_probe or base.startup_probe,
        ports=over.ports or base.ports,
        post_start=over.post_start or base.post_start,
        shell=shell,
    )


def _merged(base: tuple, over: tuple) -> tuple:
    entries = {e[0]: e for e in base}
    entries.update({e[0]: e for e in over})
    return tuple(entries.values())


def _one_main(containers: Sequence[Container]) -> tuple[Container, ...]:
    """A predictor's `model:` and `containers: [{name: kserve-container}]` as one container."""
    out: list[Container] = []
    for c in containers:
        twin = next((i for i, o in enumerate(out) if o.name == c.name and not o.init and not c.init), None)
        if twin is None:
            out.append(c)
        else:
            out[twin] = merge_container(out[twin], c)
    return tuple(out)


def merge_predictor(isvc: Workload, runtime: Workload | None) -> Workload:
    """The predictor as deployed: its own containers made one, patched onto the runtime's."""
    own = _one_main(isvc.containers)
    if runtime is None:
        return dataclasses.replace(isvc, containers=own) if len(own) != len(isvc.containers) else isvc
    rt_main = [c for c in runtime.containers if not c.init]
    merged: list[Container] = []
    used: set[str] = set()
    for c in own:
        base = next((r for r in rt_main if r.name == c.name), None)
        if base is None and c.name == MAIN and rt_main:
            base = rt_main[0]
        if base is not None:
            used.add(base.name)
            merged.append(merge_container(base, c))
        else:
            merged.append(c)
    merged.extend(r for r in runtime.containers if r.name not in used and not (r.init and any(m.name == r.name for m in merged)))
    notes = dict(runtime.pod_annotations)
    notes.update(isvc.annotations)
    pod_notes = dict(runtime.pod_annotations)
    pod_notes.update(isvc.pod_annotations)
    return dataclasses.replace(
        isvc,
        containers=tuple(merged),
        annotations=tuple(notes.items()),
        pod_annotations=tuple(pod_notes.items()),
        node_selector=isvc.node_selector or runtime.node_selector,
        node_affinity=isvc.node_affinity or runtime.node_affinity,
        volumes=(*runtime.volumes, *isvc.volumes),
    )
