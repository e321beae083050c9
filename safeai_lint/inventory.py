"""`safeai-lint inventory`: the deployment as safeai-lint understands it.

Each workload with its file and line, kind, role and the evidence for it, accelerators, the
runtime merged into it, what operators add, its serving launches (engine, model, every flag
with its value and where it was set), the Services and routes that reach it, and the scrape
configs that match it. It is what a person reads when a finding surprises them: it shows the
deployed view the checks judged, built by the same code (`link/`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from .facts import Location, MetricsMonitor, Route, Service, ServingLaunch
from .link import Deployed, deployed_view
from .link.scrape import same_namespace, scrape_paths
from .policy import Policy
from .project import Project

SCHEMA_VERSION = 1


def collect(paths: Sequence[str], config_path: str | None = None, cwd: Path | None = None, jobs: int = 1,
            cache_dir: Path | None = None):
    """Discover, render and analyse `paths` as `check` does: (project, config, scan root).
    Objects of a Helm chart or Kustomize overlay are listed as rendered, at the lines a person
    edits; files a config excludes (the closest config, as for `check`) are not listed."""
    from .configfiles import ConfigTree
    from .discover import discover
    from .engine import plan, read_facts, resolve_config

    scan = plan(paths, cwd)
    config = resolve_config(scan.root, config_path, cwd)
    tree = ConfigTree(scan.root, config, nested=config_path is None)
    files = discover(scan.root, list(scan.targets), tree.excluded, scan.use_git)
    stage, results = read_facts(scan, files, config, jobs, cache_dir)
    return Project(sorted([*results, *stage.results], key=lambda r: r.path)), config, scan.root


def _where(loc: Location | None) -> dict[str, Any] | None:
    return {"path": loc.path, "line": loc.line} if loc is not None else None


def _launch(s: ServingLaunch) -> dict[str, Any]:
    return {
        "engine": s.engine,
        "surface": s.surface,
        "container": s.container,
        **_where(s.location),  # type: ignore[dict-item]
        "model": {"value": s.model, "at": _where(s.model_location)} if s.model else None,
        "flags": [{"flag": flag, "value": value, "at": _where(loc)} for flag, value, loc in s.flags],
        "opaque": s.opaque,
    }


def _reaching(d: Deployed, services: Sequence[Service], routes: Sequence[Route]) -> tuple[list[Service], list[Route]]:
    labels = dict(d.workload.labels)
    mine = [s for s in services if s.selector and same_namespace(s.namespace, d.workload.namespace)
            and all(labels.get(k) == v for k, v in s.selector)]
    names = {s.name for s in mine}
    reach = [r for r in routes if any(dest.split(".", 1)[0] in names for dest in r.destinations)]
    return mine, reach


def build(project: Project, policy: Policy) -> dict[str, Any]:
    """The inventory as a JSON-ready object (see docs/json-output.md)."""
    view = deployed_view(project, policy)
    services, routes = project.all(Service), project.all(Route)
    monitors: list[MetricsMonitor] = project.all(MetricsMonitor)
    workloads = []
    for d in view.workloads:
        w = d.workload
        mine, reach = _reaching(d, services, routes)
        workloads.append({
            **_where(w.location),  # type: ignore[dict-item]
            "kind": w.kind,
            "surface": w.surface,
            "name": w.name,
            "namespace": w.namespace,
            "part": w.part,
            "role": d.role,
            "evidence": d.evidence,
            "ai_workload": d.ai,
            "accelerators": [{"resource": k, "count": v} for k, v in d.accelerators],
            "runtime": {"kind": d.runtime.kind, "name": d.runtime.name, **_where(d.runtime.location), "selected_by": d.runtime_choice}
            if d.runtime is not None else None,
            "storage_uri": {"value": w.storage_uri, "at": _where(w.storage_location)} if w.storage_uri else None,
            "added_by_operators": list(d.added),
            "containers": [c.name for c in w.containers if not c.init],
            "launches": [_launch(s) for s in d.launches],
            "services": [{"name": s.name, "namespace": s.namespace, **_where(s.location)} for s in mine],  # type: ignore[dict-item]
            "routes": [{"surface": r.surface, "hosts": list(r.hosts), **_where(r.location)} for r in reach],  # type: ignore[dict-item]
            "scraped_by": [{"what": what, **_where(loc)} for what, loc in scrape_paths(w, monitors, mine)],  # type: ignore[dict-item]
        })
    others = [_launch(s) for s in view.launches if not s.workload]
    return {"schema_version": SCHEMA_VERSION, "workloads": workloads, "other_launches": others}


def render_text(inv: dict[str, Any]) -> str:
    """The inventory for a person: one block per workload, `path:line` first."""
    lines: list[str] = []
    for w in inv["workloads"]:
        name = f"{w['kind']} {w['name']}" + (f" ({w['part']})" if w["part"] else "")
        lines.append(f"{w['path']}:{w['line']}: {name}")
        lines.append(f"  role: {w['evidence']}" + ("" if w["ai_workload"] else "; not an AI workload"))
        if w["accelerators"]:
            lines.append("  accelerators: " + ", ".join(f"{a['resource']}: {a['count']}" for a in w["accelerators"]))
        if w["runtime"]:
            rt = w["runtime"]
            lines.append(f"  runtime: {rt['kind']} {rt['name']} at {rt['path']}:{rt['line']} (selected by {rt['selected_by']})")
        if w["storage_uri"]:
            at = w["storage_uri"]["at"]
            lines.append(f"  storageUri: {w['storage_uri']['value']}" + (f" at {at['path']}:{at['line']}" if at else ""))
        for added in w["added_by_operators"]:
            lines.append(f"  added at run time: {added}")
        for launch in w["launches"]:
            lines.extend(_launch_lines(launch))
        for s in w["services"]:
            lines.append(f"  service: {s['name']} at {s['path']}:{s['line']}")
        for r in w["routes"]:
            lines.append(f"  route: {r['surface']} {', '.join(r['hosts']) or '(no host)'} at {r['path']}:{r['line']}")
        if w["role"] == "serving" and w["surface"] != "compose":  # Compose has no Prometheus discovery
            scraped = w["scraped_by"]
            lines.append("  scraped by: " + ("; ".join(f"{s['what']} at {s['path']}:{s['line']}" for s in scraped) if scraped else "nothing"))
        lines.append("")
    if inv["other_launches"]:
        lines.append("Serving launches outside Kubernetes and Compose (Dockerfiles, Python):")
        for launch in inv["other_launches"]:
            lines.extend(_launch_lines(launch))
        lines.append("")
    if not inv["workloads"] and not inv["other_launches"]:
        lines.append("No workload or serving launch found.")
    return "\n".join(lines).rstrip("\n") + "\n"


def _launch_lines(launch: dict[str, Any]) -> list[str]:
    where = f"{launch['path']}:{launch['line']}"
    head = f"  launch: {launch['engine']} ({launch['surface']}" + (f", container {launch['container']}" if launch["container"] else "") + f") at {where}"
    out = [head + (" - settings may come from a file or envFrom we cannot read" if launch["opaque"] else "")]
    if launch["model"]:
        at = launch["model"]["at"]
        out.append(f"    model: {launch['model']['value']}" + (f" at {at['path']}:{at['line']}" if at else ""))
    for f in launch["flags"]:
        at = f["at"]
        value = f" {f['value']}" if f["value"] else ""
        out.append(f"    {f['flag']}{value}" + (f" at {at['path']}:{at['line']}" if at else ""))
    return out
