"""SAI701 (metrics scraped), SAI702 (required metrics exported), and the repo-level anchor
that SAI702/SAI703 findings are located at. SAI703/SAI704 live in `alerts.py`."""
from __future__ import annotations

import posixpath
import re
from typing import Iterable

from ..facts import (
    AiUsage,
    DcgmExporter,
    LabelSelector,
    Location,
    MetricExport,
    MetricsMonitor,
    Service,
    ServingLaunch,
    WebApp,
    Workload,
)
from ..findings import Finding
from ..policy import Policy
from ..project import Project
from . import Check
from .aiscope import ai_workloads, matches_ai_image, pods_selected_by, reason, serving_workloads

_SCRAPE = "prometheus.io/scrape"
_KSERVE_SCRAPE = "serving.kserve.io/enable-prometheus-scraping"
_AI_CODE = ("vllm.LLM", "vLLM engine", "sglang.Engine", ".generate()")


# --- shared: does the repo serve AI, and where do repo-level findings go -------------------


def ai_service_name(name: str, policy: Policy) -> bool:
    """Does a host/service name match the policy's `ai-service-patterns`?"""
    from .aiscope import name_matches_patterns

    return name_matches_patterns(name, policy.get("ai-service-patterns") or ())


def _package_of(path: str) -> str:
    return posixpath.dirname(path)


def inference_apps(project: Project, policy: Policy) -> list[WebApp]:
    """Web apps in a package (the app module's folder and below) that also serves AI."""
    ai_code = [u.location for u in project.all(AiUsage)
               if u.what in _AI_CODE or (u.what.startswith("url ") and ai_service_name(u.what[4:], policy))]
    ai_code += [s.location for s in project.all(ServingLaunch) if s.surface == "python"]
    # every folder holding AI code, and every folder above it (one pass, not apps x usages)
    holds_ai: set[str] = set()
    for loc in ai_code:
        folder = _package_of(loc.path)
        while folder not in holds_ai:
            holds_ai.add(folder)
            if not folder:
                break
            folder = _package_of(folder)
    return [app for app in project.all(WebApp) if _package_of(app.location.path) in holds_ai]


def repo_anchor(project: Project, policy: Policy) -> tuple[Location, str] | None:
    """Where repo-level findings (SAI702/SAI703) go: the `metadata.name` line of the first
    serving workload (files in path order, documents in file order), else of the first AI
    workload, else the line creating the first Python inference service app; with a phrase
    saying which it is. None when the repo serves no AI."""
    for workloads, what in ((serving_workloads(project, policy), "serving workload"), (ai_workloads(project, policy), "AI workload")):
        if workloads:
            first = min(workloads, key=lambda w: (w.location.path, w.location.line, w.location.column))
            return first.location, f"{first.kind} {first.name}, the first {what} ({reason(project, policy, first)})"
    apps = inference_apps(project, policy)
    if apps:
        first_app = min(apps, key=lambda a: (a.location.path, a.location.line))
        return first_app.location, f"the {first_app.framework} app, the first Python inference service"
    return None


# --- SAI701 -------------------------------------------------------------------------------


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


def _same_namespace(a: str, b: str) -> bool:
    # an unwritten namespace is whatever `kubectl -n` says: assume it may match
    return not a or not b or a == b


def _monitor_sees(monitor: MetricsMonitor, namespace: str) -> bool:
    if monitor.any_namespace:
        return True
    if monitor.namespaces:
        return not namespace or namespace in monitor.namespaces
    return _same_namespace(monitor.namespace, namespace)


def _scraped(w: Workload, monitors: list[MetricsMonitor], services: list[Service]) -> bool:
    """`services`: those whose selector picks this workload's pods."""
    notes = dict(w.pod_annotations) if w.surface == "kubernetes" else dict(w.annotations)
    if str(notes.get(_SCRAPE, "")).lower() == "true" or str(notes.get(_KSERVE_SCRAPE, "")).lower() == "true":
        return True
    labels = dict(w.labels)
    for monitor in monitors:
        if monitor.kind == "PodMonitor":
            if _monitor_sees(monitor, w.namespace) and selector_matches(monitor.selector, labels):
                return True
            continue
        for service in services:
            if not _same_namespace(service.namespace, w.namespace):
                continue
            if _monitor_sees(monitor, service.namespace) and selector_matches(monitor.selector, dict(service.labels)):
                return True
    return False


def check_scraped(project: Project, policy: Policy) -> Iterable[Finding]:
    monitors = project.all(MetricsMonitor)
    workloads = serving_workloads(project, policy)
    # the Services of each workload, found through an index of pod labels (not services x workloads)
    selected = pods_selected_by(workloads)
    services_of: dict[str, list[Service]] = {}
    for service in project.all(Service) if monitors else ():
        for w in selected(service.selector):
            services_of.setdefault(w.id, []).append(service)
    for w in workloads:
        if w.surface == "compose" or not w.long_running:
            continue  # no Prometheus service discovery for Compose; batch pods are not scraped
        if _scraped(w, monitors, services_of.get(w.id, [])):
            continue
        hint = f"; the repo's {len(monitors)} ServiceMonitor/PodMonitor(s) select other pods" if monitors else ""
        yield Finding(
            "SAI701",
            f"serving workload {w.kind} {w.name} ({reason(project, policy, w)}) is not scraped by Prometheus: no "
            f"`{_SCRAPE}: \"true\"` on its pod "
            f"template and no ServiceMonitor (through a Service selecting its pods) or PodMonitor matches it{hint}",
            w.location,
            subject=w.name,
        )


# --- SAI702 -------------------------------------------------------------------------------


def _engines(project: Project, policy: Policy) -> set[str]:
    """Engines run in the repo (by serving launch or by an AI workload's image)."""
    from .aiscope import serving_launches

    engines = {s.engine.lower() for s in serving_launches(project, policy)}
    for w in ai_workloads(project, policy):
        for c in w.containers:
            if matches_ai_image(c.image, policy):
                engines.update(p for p in ("vllm", "sglang", "tgi", "nim") if re.search(rf"(?<![a-z]){p}", c.image.lower()))
    return engines


def metric_exported(required: str, exports: list[MetricExport]) -> bool:
    for export in exports:
        if export.name == required:
            return True
        if not export.prefix_known and required.endswith("_" + export.name):
            return True
    return False


def check_metrics(project: Project, policy: Policy) -> Iterable[Finding]:
    anchor = repo_anchor(project, policy)
    if anchor is None:
        return
    where, what = anchor
    exports = project.all(MetricExport)
    dcgm = bool(project.all(DcgmExporter))
    engines = _engines(project, policy)
    equivalents = policy.get("metric-equivalents") or {}
    for required in policy.get("required-metrics") or ():
        if not isinstance(required, str) or metric_exported(required, exports):
            continue
        alternatives = equivalents.get(required) or [] if isinstance(equivalents, dict) else []
        covered = False
        described = []
        for alt in alternatives if isinstance(alternatives, list) else ():
            if not isinstance(alt, str):
                continue
            if alt.startswith("dcgm:"):
                name = alt[len("dcgm:"):]
                described.append(f"{name} (counts when a dcgm-exporter is deployed in the repo; none is)")
                covered = covered or (dcgm and bool(name))
            else:
                described.append(alt)
                engine = alt.split(":", 1)[0].lower() if ":" in alt else ""
                covered = covered or metric_exported(alt, exports) or (bool(engine) and engine in engines)
        if covered:
            continue
        alt_text = f"; accepted equivalents: {', '.join(described)}" if described else ""
        yield Finding(
            "SAI702",
            f"required metric {required} is exported nowhere in the repo (no prometheus_client metric or "
            f"recording rule defines it){alt_text}; reported at {what}",
            where,
            subject=required,
        )


CHECKS = (
    Check(("SAI701",), check_scraped),
    Check(("SAI702",), check_metrics),
)
