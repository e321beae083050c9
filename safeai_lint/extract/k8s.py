"""Kubernetes manifests -> Workload, Service, ServingLaunch, ImageRef and annotation
Suppression facts (plus KServe, LeaderWorkerSet and Ray pod templates, see `kserve.py`).

Objects without `apiVersion`/`kind` (Helm values, app configs) are not workloads, and neither
is a partial object (a Kustomize patch whose containers have no image): we stay silent on
what we cannot see whole.
"""
from __future__ import annotations

import dataclasses
from typing import Iterator

from ..facts import GpuSharing, InstancePool, KustomizePatch, Service, Workload
from ..sources.base import SourceText
from ..sources.yaml import YMap, dig
from . import kserve, podspec
from .podspec import as_list, as_map, pairs, pod_workload, scalar

# kind -> path from the object to its pod template (metadata + spec)
_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
    "PodTemplate": ("template",),
}
_BATCH = {"Job", "CronJob"}
_INSTANCE_KEYS = ("node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type", "karpenter.k8s.aws/instance-type")


def objects(src: SourceText) -> Iterator[tuple[int, YMap]]:
    """(document index, object) for every Kubernetes object, `kind: List` items included."""
    for index, doc in enumerate(src.yaml_documents()):
        root = as_map(doc.value)
        if root is None or not isinstance(root.get("kind"), str) or "apiVersion" not in root:
            continue
        if root["kind"].endswith("List") and isinstance(root.get("items"), list):
            for j, item in enumerate(as_list(root["items"])):
                m = as_map(item)
                if m is not None and isinstance(m.get("kind"), str):
                    yield index * 10000 + j, m
        else:
            yield index, root


def _profile_annotation(src: SourceText, obj: YMap, template: YMap | None) -> None:
    """An unreadable profiled-peak-memory annotation is a parse error (SAI001) at its line."""
    from ..policy import parse_quantity

    for meta in (as_map(obj.get("metadata")), as_map((template or YMap()).get("metadata"))):
        ann = as_map((meta or YMap()).get("annotations"))
        if ann is not None and podspec.PROFILE_ANNOTATION in ann:
            value = ann[podspec.PROFILE_ANNOTATION]
            if parse_quantity(scalar(value)) is None:
                pos = ann.value_pos(podspec.PROFILE_ANNOTATION)
                src.problem("SAI001", f"invalid quantity in {podspec.PROFILE_ANNOTATION}: {value!r}", pos[0], pos[1])


def _service(src: SourceText, obj: YMap) -> Service | None:
    meta = as_map(obj.get("metadata")) or YMap()
    spec = as_map(obj.get("spec")) or YMap()
    ports = []
    for p in as_list(spec.get("ports")):
        pm = as_map(p)
        if pm is not None and scalar(pm.get("port")) is not None:
            ports.append((scalar(pm["port"]) or "", src.loc(pm.key_pos("port"))))
    loc = src.loc(meta.key_pos("name")) if "name" in meta else src.loc(obj.pos)
    return Service(
        scalar(meta.get("name")) or "", scalar(meta.get("namespace")) or "", pairs(spec.get("selector")), tuple(ports), loc,
        labels=pairs(meta.get("labels")),
    )


def _sharing(src: SourceText, config: YMap) -> list[GpuSharing]:
    """Device-plugin `sharing.timeSlicing.resources[].replicas` and `sharing.mps`."""
    sharing = as_map(config.get("sharing"))
    if sharing is None:
        return []
    out = []
    for mode in ("timeSlicing", "mps"):
        block = as_map(sharing.get(mode))
        if block is None:
            continue
        for r in as_list(block.get("resources")):
            rm = as_map(r)
            replicas = rm.get("replicas") if rm is not None else None
            if isinstance(replicas, int) and not isinstance(replicas, bool):
                out.append(GpuSharing(mode, replicas, src.loc(rm.key_pos("replicas"))))
        if mode == "mps" and not block.get("resources"):
            out.append(GpuSharing(mode, 0, src.loc(sharing.key_pos(mode))))
    return out


def _configmap_sharing(src: SourceText, obj: YMap) -> list[GpuSharing]:
    """Device-plugin configs embedded as YAML text in a ConfigMap, located in this file."""
    from ..facts import Location
    from ..sources.yaml import parse_documents

    out: list[GpuSharing] = []
    data = as_map(obj.get("data"))
    for key, text in (data or {}).items():
        if not isinstance(text, str) or "sharing" not in text:
            continue
        docs, _ = parse_documents(text)
        line0 = data.value_pos(key)[0]
        block = 1 if src.line_text(line0).rstrip().endswith(("|", "|-", ">", ">-")) else 0
        for d in docs:
            if as_map(d.value) is not None:
                for found in _sharing(SourceText(src.rel, "yaml", text), d.value):
                    loc = found.location
                    line = line0 + block + loc.line - 1
                    out.append(GpuSharing(found.mode, found.replicas, Location(src.rel, line, 1, line, len(src.line_text(line)) + 1)))
    return out


def _nodepool(src: SourceText, obj: YMap) -> list[InstancePool]:
    """Karpenter NodePools that provision GPUs (a GPU taint or GPU requirement), with their
    instance-type requirements."""
    meta = as_map(obj.get("metadata")) or YMap()
    spec = dig(obj, "spec", "template", "spec") or YMap()
    reqs = [as_map(r) for r in as_list(spec.get("requirements"))]
    taints = [as_map(t) for t in as_list(spec.get("taints"))]
    gpu = any(t is not None and "gpu" in str(t.get("key", "")).lower() for t in taints) or any(
        r is not None and "gpu" in str(r.get("key", "")).lower() for r in reqs
    )
    if not gpu:
        return []
    out = []
    name = scalar(meta.get("name")) or ""
    for r in reqs:
        if r is not None and r.get("key") in _INSTANCE_KEYS:
            values = tuple(s for v in as_list(r.get("values")) if (s := scalar(v)) is not None)
            out.append(InstancePool(name, str(r["key"]), scalar(r.get("operator")) or "", values, src.loc(r.key_pos("key"))))
    if not any(p.key in _INSTANCE_KEYS for p in out):
        loc = src.loc(meta.key_pos("name")) if "name" in meta else src.loc(obj.pos)
        out.append(InstancePool(name, "", "", (), loc))
    return out


def _kustomization(src: SourceText, root: YMap) -> list[KustomizePatch]:
    folder = src.rel.rsplit("/", 1)[0] + "/" if "/" in src.rel else ""
    out = []
    for key in ("patches", "patchesStrategicMerge", "patchesJson6902"):
        for i, item in enumerate(as_list(root.get(key))):
            path = scalar(item) if not isinstance(item, dict) else scalar(item.get("path"))
            if path and "\n" not in path:
                out.append(KustomizePatch(_normalise(folder + path), src.loc(root[key].item_pos(i))))
    return out


def _normalise(path: str) -> str:
    parts: list[str] = []
    for p in path.split("/"):
        if p in ("", "."):
            continue
        if p == ".." and parts:
            parts.pop()
        else:
            parts.append(p)
    return "/".join(parts)


def kubernetes(src: SourceText) -> Iterator[object]:
    """Every workload-related fact of one YAML file."""
    name = src.rel.rsplit("/", 1)[-1]
    if name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        for doc in src.yaml_documents():
            if as_map(doc.value) is not None:
                yield from _kustomization(src, doc.value)
        return
    for doc in src.yaml_documents():
        if as_map(doc.value) is not None and "sharing" in doc.value and "apiVersion" not in doc.value:
            yield from _sharing(src, doc.value)
    for index, obj in objects(src):
        kind = obj["kind"]
        if kind == "Pod":
            _profile_annotation(src, obj, None)
            yield from _with_launches(src, pod_workload(src, obj, index, obj))
        elif kind in _TEMPLATE_PATHS:
            template = dig(obj, *_TEMPLATE_PATHS[kind])
            if template is not None:
                _profile_annotation(src, obj, template)
                yield from _with_launches(src, pod_workload(src, obj, index, template, long_running=kind not in _BATCH))
        elif kind == "Service":
            service = _service(src, obj)
            if service is not None:
                yield service
        elif kind == "ConfigMap":
            yield from _configmap_sharing(src, obj)
        elif kind == "NodePool":
            yield from _nodepool(src, obj)
        elif kind == "Kustomization":
            yield from _kustomization(src, obj)
        else:
            for facts in kserve.other_workloads(src, obj, index):
                yield from _with_launches(src, facts)


def _with_launches(src: SourceText, facts: list[object], engine_hint: str = "") -> list[object]:
    """Add the serving launches of the workload among `facts`."""
    out = list(facts)
    for fact in facts:
        if isinstance(fact, Workload):
            hint = "kserve-hf" if fact.model_format.lower() == "huggingface" else engine_hint
            items = [(c, None) for c in fact.containers]
            for launch in podspec.launches_for(src, fact.id, fact.surface, items, hint):  # type: ignore[arg-type]
                if not launch.model and fact.storage_uri and launch.engine == "kserve-hf":
                    launch = dataclasses.replace(launch, model=fact.storage_uri, model_location=fact.storage_location)
                out.append(launch)
    return out
