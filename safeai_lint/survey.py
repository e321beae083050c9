"""What a repository uses that the standard does not allow, and how many findings each causes:
image registries, instance types and accelerators, versions of locked components, serving
engines. `safeai-lint init` reports it and writes it into the starter config as commented
alternatives, so a person decides; nothing here relaxes the policy.

The findings come from a scan with the built-in policy; the values (which registry, which
declared version) from the facts at each finding's location.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from .facts import ImageRef, InstancePool, ServingLaunch, VersionDecl, Workload
from .findings import Finding
from .sources.image_ref import parse_image

# node labels that name a GPU model rather than a machine type
ACCELERATOR_KEYS = ("cloud.google.com/gke-accelerator", "nvidia.com/gpu.product", "k8s.amazonaws.com/accelerator",
                    "karpenter.k8s.aws/instance-gpu-name", "cloud.google.com/gke-tpu-accelerator")
KINDS = ("registry", "instance-type", "accelerator", "version", "engine")
# control characters and every line break YAML knows (NEL, LS, PS too): the values come from
# scanned files and end up in comments of the written config and on the terminal
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _flat(text: str) -> str:
    """`text` on one printable line: unsafe characters as \\uXXXX escapes."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


@dataclass(frozen=True, slots=True)
class Usage:
    """One thing the repository uses against the standard.

    `kind`: one of KINDS. `key`: the registry, the node label, the locked component, the engine.
    `value`: an image, an instance type, an accelerator, a declared version ("" for an engine).
    `findings`: how many findings it causes; `rules` which; `first`: path:line of the first."""

    kind: str
    key: str
    value: str
    findings: int
    rules: tuple[str, ...]
    first: str


@dataclass(frozen=True, slots=True)
class Survey:
    findings: int
    levels: tuple[tuple[str, int], ...]
    files_scanned: int
    usages: tuple[Usage, ...]

    def of(self, kind: str) -> list[Usage]:
        return [u for u in self.usages if u.kind == kind]


def _at(loc) -> tuple[str, int, int]:  # noqa: ANN001 - Location
    return (loc.path, loc.line, loc.column)


def _registry(f: Finding) -> tuple[str, str] | None:
    image = parse_image(f.subject)
    return (image.registry, image.familiar) if image else None


def _versions(f: Finding, decls: dict) -> tuple[str, str]:
    decl = decls.get(_at(f.location)) or decls.get((f.location.path, f.location.line))
    return (f.subject, decl.specifier or "(any)") if decl else (f.subject, "(unknown)")


def _declarations(project) -> list[VersionDecl]:  # noqa: ANN001
    """Version declarations: the facts, and those the lock check reads off image tags."""
    found = list(project.all(VersionDecl))
    try:
        from .checks.versions import _image_versions  # the lock check's own reading of tags
    except ImportError:  # renamed: image tags then show as "(unknown)"
        return found
    return found + [d for d in _image_versions(project.all(ImageRef)) if isinstance(d, VersionDecl)]


def _placement(f: Finding, selectors: dict, workloads: dict, pools: dict) -> tuple[str, str, str] | None:
    """(kind, label, value) of the node placement an SAI308 finding is about."""
    entry = selectors.get(_at(f.location))
    if entry is not None:
        return ("instance-type", entry[0], entry[1])
    pool = pools.get(_at(f.location))
    if pool is not None:
        return ("instance-type", pool.key or "(none)", ", ".join(pool.values) or "(any)")
    workload = workloads.get(_at(f.location))
    if workload is not None:
        for key, value, _loc in workload.node_selector:
            if key in ACCELERATOR_KEYS:
                return ("accelerator", key, value)
        return ("instance-type", "(none)", "(not pinned)")
    return None


def _engine_spots(project) -> dict[tuple[str, int], str]:  # noqa: ANN001
    spots = {}
    for launch in project.all(ServingLaunch):
        for loc in (launch.location, *(e[2] for e in launch.flags), *(e[2] for e in launch.env)):
            spots.setdefault((loc.path, loc.line), launch.engine)
    return spots


def build(findings: list[Finding], project, files_scanned: int) -> Survey:  # noqa: ANN001 - Project
    """The survey of a scan's findings over its facts."""
    decls: dict = {}
    for d in _declarations(project):
        decls.setdefault(_at(d.location), d)
        decls.setdefault((d.location.path, d.location.line), d)
    workloads_list = project.all(Workload)
    selectors = {_at(e[2]): e for w in workloads_list for e in w.node_selector}
    selectors.update({_at(x.location): (x.key, ", ".join(x.values)) for w in workloads_list for x in w.node_affinity})
    workloads = {_at(w.location): w for w in workloads_list}
    pools = {_at(p.location): p for p in project.all(InstancePool)}
    engines = _engine_spots(project)
    groups: dict[tuple[str, str, str], list[Finding]] = defaultdict(list)
    for f in findings:
        key = None
        if f.rule == "SAI201":
            reg = _registry(f)
            key = ("registry", *reg) if reg else None
        elif f.rule in ("SAI101", "SAI102") and f.subject:
            key = ("version", *_versions(f, decls))
        elif f.rule == "SAI308":
            key = _placement(f, selectors, workloads, pools)
        if key is not None:
            groups[key].append(f)
        engine = engines.get((f.location.path, f.location.line))
        if engine is not None:
            groups[("engine", engine, "")].append(f)
    usages = []
    for (kind, key, value), found in groups.items():
        rules = tuple(sorted({f.rule for f in found}))
        first = min(found, key=Finding.sort_key).location
        usages.append(Usage(kind, _flat(key), _flat(value), len(found), rules, _flat(f"{first.path}:{first.line}")))
    usages.sort(key=lambda u: (KINDS.index(u.kind), u.key, -u.findings, u.value))
    levels = Counter(f.level for f in findings)
    return Survey(len(findings), tuple((lv, levels[lv]) for lv in ("error", "warning", "note") if levels[lv]), files_scanned, tuple(usages))


def survey(root: str | Path, jobs: int = 1, cache_dir: Path | None = None) -> Survey:
    """Scan `root` with the built-in policy (no config file) and survey what it uses."""
    from .config import Config
    from .engine import analyze_all, discover, lint, plan
    from .project import Project

    config = Config()
    result = lint([str(root)], config, jobs=jobs, cache_dir=cache_dir)
    scan = plan([str(root)])
    files = discover(scan.root, list(scan.targets), config.exclude, scan.use_git)
    project = Project(analyze_all(files, config.max_file_size, jobs))
    return build(list(result.findings), project, result.files_scanned)
