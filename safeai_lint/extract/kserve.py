"""Pod templates of custom resources: KServe InferenceService / ServingRuntime /
ClusterServingRuntime, LeaderWorkerSet (leader + worker) and Ray (head + worker groups)."""
from __future__ import annotations

from typing import Iterator

from ..sources.base import SourceText
from ..sources.yaml import YMap, dig
from . import podspec
from .podspec import as_list, as_map, scalar

# Legacy KServe predictor keys naming a framework (each a container with a storageUri).
_FRAMEWORKS = ("huggingface", "pytorch", "tensorflow", "sklearn", "xgboost", "onnx", "triton",
               "lightgbm", "pmml", "paddle")


def _template(spec: YMap) -> YMap:
    t = YMap(spec.pos)
    t["spec"] = spec
    return t


def _inference_service(src: SourceText, obj: YMap, doc: int) -> Iterator[list[object]]:
    predictor = dig(obj, "spec", "predictor")
    if predictor is None:
        return
    more = []
    storage, storage_loc, model_format, runtime, protocol = "", None, "", "", ""
    for key in ("model", *_FRAMEWORKS):
        m = as_map(predictor.get(key))
        if m is None:
            continue
        c = podspec.container(src, m, False, 0)
        if "name" not in m:
            c = _renamed(c, "kserve-container")
        more.append((c, m))
        if scalar(m.get("storageUri")):
            storage, storage_loc = scalar(m["storageUri"]) or "", src.loc(m.value_pos("storageUri"))
        fmt = as_map(m.get("modelFormat"))
        model_format = (scalar(fmt.get("name")) if fmt is not None else None) or (key if key != "model" else "")
        runtime = scalar(m.get("runtime")) or ""
        protocol = scalar(m.get("protocolVersion")) or ""
        break
    if not storage:
        for c, m in podspec.containers(src, predictor):
            for e in c.env:
                if e.name == "STORAGE_URI" and e.value:
                    storage, storage_loc = e.value, e.location
    extra = {"storage_uri": storage, "storage_location": storage_loc, "model_format": model_format, "runtime": runtime,
             "protocols": (protocol,) if protocol else (), "multi_node": "workerSpec" in predictor}
    yield podspec.pod_workload(src, obj, doc, _template(predictor), part="predictor", surface="kserve", extra=extra, more=more)


def _runtime_fields(spec: YMap) -> dict:
    """What a (Cluster)ServingRuntime adds to the pods of the services using it: the model
    formats it serves (with `autoSelect`), and `spec.annotations` (KServe copies them to the
    pod, e.g. `serving.kserve.io/enable-prometheus-scraping`)."""
    formats = []
    for item in as_list(spec.get("supportedModelFormats")):
        m = as_map(item)
        if m is not None and scalar(m.get("name")):
            priority = m.get("priority")
            rank = priority if isinstance(priority, int) and not isinstance(priority, bool) else 0
            formats.append((str(scalar(m.get("name"))).lower(), m.get("autoSelect") is True, rank))
    protocols = tuple(p for v in as_list(spec.get("protocolVersions")) if (p := scalar(v)))
    return {"model_formats": tuple(formats), "protocols": protocols, "multi_node": "workerSpec" in spec,
            "pod_annotations": podspec.pairs(spec.get("annotations"))}


def _renamed(c, name: str):
    import dataclasses

    return dataclasses.replace(c, name=name)


def other_workloads(src: SourceText, obj: YMap, doc: int) -> Iterator[list[object]]:
    """Facts of each pod template of a custom resource we know (one list per template)."""
    pod_workload = podspec.pod_workload
    kind = obj.get("kind")
    if kind == "InferenceService" and str(obj.get("apiVersion", "")).startswith("serving.kserve.io"):
        yield from _inference_service(src, obj, doc)
    elif kind in ("ServingRuntime", "ClusterServingRuntime"):
        spec = dig(obj, "spec")
        if spec is not None:
            yield pod_workload(src, obj, doc, _template(spec), surface="kserve", extra=_runtime_fields(spec))
    elif kind == "LeaderWorkerSet":
        lwt = dig(obj, "spec", "leaderWorkerTemplate")
        if lwt is None:
            return
        for part in ("leaderTemplate", "workerTemplate"):
            t = as_map(lwt.get(part))
            if t is not None:
                yield pod_workload(src, obj, doc, t, part=part.replace("Template", ""))
    elif kind in ("RayService", "RayCluster"):
        spec = dig(obj, "spec", "rayClusterConfig") if kind == "RayService" else dig(obj, "spec")
        if spec is None:
            return
        head = dig(spec, "headGroupSpec", "template")
        if head is not None:
            yield pod_workload(src, obj, doc, head, part="head")
        for group in as_list(spec.get("workerGroupSpecs")):
            g = as_map(group)
            t = dig(g, "template") if g is not None else None
            if t is not None:
                yield pod_workload(src, obj, doc, t, part="worker:" + (scalar(g.get("groupName")) or "workers"))
