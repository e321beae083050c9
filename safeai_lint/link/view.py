"""The deployed view: the facts of every file turned into what the repository deploys.

Built once per scan from the facts and the policy, read by the checks and by `safeai-lint
inventory`; a check never re-derives it. Data flows one way: extract -> link -> check.
"""
from __future__ import annotations

import dataclasses
from collections import defaultdict

from ..extract.serving import build_launch, expand_env_refs
from ..facts import KustomizePatch, ServingLaunch, Workload
from ..policy import Policy
from ..project import Project
from .kserve import is_predictor, is_runtime, merge_predictor, select_runtime
from .operators import with_operator_additions
from .roles import accelerators, decide_role, is_gpu_resource
from ..records import Frozen, record


@record(slots=False)
class Deployed(Frozen):
    """One workload as deployed, with its role and the evidence for it."""

    workload: Workload  # KServe predictors merged with their runtime, operator additions made
    role: str  # "serving", "batch", "client", "other"
    evidence: str  # why it has that role, e.g. "serving: runs vLLM"
    accelerators: tuple[tuple[str, str], ...] = ()  # (resource, count)
    launches: tuple[ServingLaunch, ...] = ()
    runtime: Workload | None = None  # the (Cluster)ServingRuntime merged in
    runtime_choice: str = ""  # how it was selected ("runtime: vllm-rt", "modelFormat huggingface (autoSelect)")
    added: tuple[str, ...] = ()  # what an operator adds at run time

    @property
    def ai(self) -> bool:
        """An AI workload: serving, or holding an accelerator whatever its role."""
        return self.role == "serving" or bool(self.accelerators)

    @property
    def gpu(self) -> bool:
        return any(is_gpu_resource(k) for k, _ in self.accelerators)

    @property
    def cuda(self) -> bool:
        """May run on a CUDA GPU: not a TPU- or Neuron-only workload."""
        return self.gpu or not self.accelerators

    @property
    def reason(self) -> str:
        """Why it is an AI workload, for messages: the serving evidence, else its accelerator."""
        if self.role == "serving":
            return self.evidence
        key, count = self.accelerators[0] if self.accelerators else ("", "")
        return f"accelerator: {key}: {count}" if key else self.evidence


@record(slots=False)
class View(Frozen):
    workloads: tuple[Deployed, ...]  # file order; runtimes used by a service are inside it
    launches: tuple[ServingLaunch, ...]  # the launches serving rules judge
    shared: tuple[tuple[str, int, int], ...]  # (path, first, last line) of runtimes merged into services

    def of(self, workload_id: str) -> Deployed | None:
        return self._index().get(workload_id)

    def _index(self) -> dict[str, Deployed]:
        index = self.__dict__.get("_by_id")
        if index is None:
            index = {d.workload.id: d for d in self.workloads}
            object.__setattr__(self, "_by_id", index)
        return index


def deployed_view(project: Project, policy: Policy) -> View:
    """The view of this scan (built once, shared by every check)."""
    return project.derived("deployed-view", policy, lambda: build_view(project, policy))


def build_view(project: Project, policy: Policy) -> View:
    patched = {p.path for p in project.all(KustomizePatch)}
    workloads = [w for w in project.all(Workload) if w.location.path not in patched]
    launches_of: dict[str, list[ServingLaunch]] = defaultdict(list)
    loose: list[ServingLaunch] = []
    for s in project.all(ServingLaunch):
        if s.location.path in patched:
            continue
        if s.workload:
            launches_of[s.workload].append(s)
        else:
            loose.append(s)  # a Dockerfile or Python launch
    runtimes = [w for w in workloads if is_runtime(w)]
    used: dict[str, Workload] = {}
    considered: set[tuple[str, str, str]] = set()
    out: list[Deployed] = []
    for w in workloads:
        if is_runtime(w):
            continue
        launches = launches_of.get(w.id, [])
        runtime, choice = None, ""
        if is_predictor(w):
            runtime, choice, candidates = select_runtime(w, runtimes)
            merged = merge_predictor(w, runtime)
            if merged is not w:
                launches = relaunch(merged)
            w = merged
            if runtime is not None:
                used[runtime.id] = runtime
            considered.update((r.kind, r.name, r.namespace) for r in candidates)
        w, added = with_operator_additions(w)
        out.append(_deployed(w, launches, policy, runtime, choice, added))
    # a runtime written several times (one copy per release folder, say) is one cluster
    # object: a service that could select one copy uses them all
    for r in runtimes:
        if r.id not in used and (r.kind, r.name, r.namespace) not in considered:
            out.append(_deployed(r, launches_of.get(r.id, []), policy))
    out.sort(key=lambda d: (d.workload.location.path, d.workload.first_line, d.workload.id))
    judged = [*loose, *(s for d in out if d.role == "serving" for s in d.launches)]
    shared = tuple(sorted((r.location.path, r.first_line, r.last_line) for r in used.values()))
    return View(tuple(out), tuple(judged), shared)


def _deployed(w: Workload, launches: list[ServingLaunch], policy: Policy, runtime: Workload | None = None,
              choice: str = "", added: tuple[str, ...] = ()) -> Deployed:
    role, evidence = decide_role(w, launches, policy)
    return Deployed(w, role, evidence, accelerators(w), tuple(launches), runtime, choice, added)


def relaunch(w: Workload) -> list[ServingLaunch]:
    """The serving launches of a merged KServe predictor, from its merged containers."""
    hint = "kserve-hf" if w.model_format.lower() == "huggingface" else ""
    out = []
    for c in w.containers:
        if c.init:
            continue
        env = [(e.name, e.value, e.location) for e in c.env]
        launch = build_launch(
            None, expand_env_refs([*c.command, *c.args], env), env, image=c.image, only_args=not c.command,
            location=c.command_location or c.location, surface=w.surface, workload=w.id, container=c.name,
            opaque=c.env_from, engine_hint=hint,
        )
        if launch is None:
            continue
        if not launch.model and w.storage_uri and launch.engine == "kserve-hf":
            launch = dataclasses.replace(launch, model=w.storage_uri, model_location=w.storage_location)
        out.append(launch)
    return out


def once_per_shared_place(findings: list, shared: tuple[tuple[str, int, int], ...]) -> list:
    """A finding that a shared runtime's own text causes is reported once at that text, not
    once per service using the runtime (their messages name different services)."""
    if not shared:
        return findings
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for path, first, last in shared:
        spans[path].append((first, last))
    seen: set[tuple] = set()
    out = []
    for f in sorted(findings, key=lambda f: f.sort_key()):
        loc = f.location
        if any(first <= loc.line <= last for first, last in spans.get(loc.path, ())):
            key = (f.rule, loc.path, loc.line, loc.column)
            if key in seen:
                continue
            seen.add(key)
        out.append(f)
    return out
