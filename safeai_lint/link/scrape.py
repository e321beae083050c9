"""Which Prometheus scrape paths reach a workload: a scrape annotation on its pods, a
PodMonitor (or GMP PodMonitoring) selecting its pods, or a ServiceMonitor selecting a Service
that selects them. Shared by SAI701 and `safeai-lint inventory`."""
from __future__ import annotations

from typing import Sequence

from ..facts import LabelSelector, Location, MetricsMonitor, Service, Workload

SCRAPE = "prometheus.io/scrape"
KSERVE_SCRAPE = "serving.kserve.io/enable-prometheus-scraping"


def selector_matches(selector: LabelSelector, labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics; an empty selector selects everything. An
    operator we do not know counts as a match (we stay silent rather than guess)."""
    for key, value in selector.match_labels:
        if labels.get(key) != value:
            return False
    for key, op, values in selector.match_expressions:
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def same_namespace(a: str, b: str) -> bool:
    # an unwritten namespace is whatever `kubectl -n` says: assume it may match
    return not a or not b or a == b


def monitor_sees(monitor: MetricsMonitor, namespace: str) -> bool:
    if monitor.any_namespace:
        return True
    if monitor.namespaces:
        return not namespace or namespace in monitor.namespaces
    return same_namespace(monitor.namespace, namespace)


def scrape_paths(w: Workload, monitors: Sequence[MetricsMonitor], services: Sequence[Service]) -> list[tuple[str, Location]]:
    """(what, where) of each scrape path reaching `w`; `services`: those whose selector
    picks its pods."""
    out: list[tuple[str, Location]] = []
    notes = dict(w.pod_annotations) if w.surface == "kubernetes" else dict(w.annotations)
    for key in (SCRAPE, KSERVE_SCRAPE):
        if str(notes.get(key, "")).lower() == "true":
            out.append((f'annotation {key}: "true"', w.location))
    labels = dict(w.labels)
    for monitor in monitors:
        if monitor.kind == "PodMonitor":
            if monitor_sees(monitor, w.namespace) and selector_matches(monitor.selector, labels):
                out.append((f"PodMonitor {monitor.name}", monitor.location))
            continue
        for service in services:
            if not same_namespace(service.namespace, w.namespace):
                continue
            if monitor_sees(monitor, service.namespace) and selector_matches(monitor.selector, dict(service.labels)):
                out.append((f"ServiceMonitor {monitor.name} through Service {service.name}", monitor.location))
    return out
