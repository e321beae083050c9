"""What operators add to the pods they create, so rules judge pods as they run.

KubeRay labels every Ray pod (`ray.io/node-type`, `ray.io/is-ray-node`, `ray.io/group`, and
`ray.io/cluster` with the RayCluster's name) and, by default, injects readiness and liveness
probes into the Ray container (the first container of the head and worker templates).
"""
from __future__ import annotations

import dataclasses

from ..facts import Workload

RAY_KINDS = ("RayService", "RayCluster")


def with_operator_additions(w: Workload) -> tuple[Workload, tuple[str, ...]]:
    """The workload with what its operator adds, and a phrase for each addition."""
    if w.kind not in RAY_KINDS or not w.part:
        return w, ()
    node_type = "head" if w.part == "head" else "worker"
    group = "headgroup" if node_type == "head" else w.part.split(":", 1)[-1]
    added = {"ray.io/node-type": node_type, "ray.io/is-ray-node": "yes", "ray.io/group": group}
    if w.kind == "RayCluster" and w.name:
        added["ray.io/cluster"] = w.name  # a RayService names its clusters at run time
    labels = dict(added)
    labels.update(w.labels)
    notes = [f"labels {', '.join(f'{k}={v}' for k, v in added.items())} (added by KubeRay)"]
    containers = list(w.containers)
    main = next((i for i, c in enumerate(containers) if not c.init), None)
    if main is not None:
        c = containers[main]
        if c.readiness_probe is None or c.liveness_probe is None:
            containers[main] = dataclasses.replace(
                c, readiness_probe=c.readiness_probe or w.location, liveness_probe=c.liveness_probe or w.location,
            )
            notes.append(f"readiness and liveness probes on container {c.name!r} (injected by KubeRay)")
    return dataclasses.replace(w, labels=tuple(labels.items()), containers=tuple(containers)), tuple(notes)
