"""SAI701 (metrics scraped), SAI702 (required metrics exported), and the repo-level anchor
that SAI702/SAI703 findings are located at. SAI703/SAI704 live in `alerts.py`."""
from __future__ import annotations

import posixpath
import re
from typing import Iterable

from ..facts import (
    AiUsage,
    DcgmExporter,
    Location,
    MetricExport,
    MetricsMonitor,
    Service,
    ServingLaunch,
    WebApp,
)
from ..findings import Finding
from ..policy import Policy
from ..project import Project
from . import Check
from ..link.scrape import SCRAPE, scrape_paths
from .aiscope import ai_workloads, matches_ai_image, pods_selected_by, reason, serving_workloads

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
        if scrape_paths(w, monitors, services_of.get(w.id, [])):
            continue
        hint = f"; the repo's {len(monitors)} ServiceMonitor/PodMonitor(s) select other pods" if monitors else ""
        yield Finding(
            "SAI701",
            f"serving workload {w.kind} {w.name} ({reason(project, policy, w)}) is not scraped by Prometheus: no "
            f"`{SCRAPE}: \"true\"` on its pod "
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
