"""SAI205 and SAI3xx: runtime installs, resource limits, GPU isolation, memory profile,
VRAM fraction, instance type and probes of AI workloads."""
from __future__ import annotations

from typing import Iterable, Iterator

from ..facts import Container, GpuSharing, InstancePool, Location, MemoryFraction, StartCommand, Workload
from ..findings import Finding
from ..policy import Policy, parse_quantity
from ..project import Project
from ..sources.shell import package_installs
from . import Check
from .aiscope import (
    ai_workloads,
    asks_gpu,
    cuda_launches,
    is_gpu_resource,
    is_serving_container,
    launched_containers,
    matches_ai_image,
    reason,
    serving_launches,
    serving_workloads,
)
from ..extract.serving import commands, expand_words, split_script

PROFILE = "safeai-lint.io/profiled-peak-memory"
INSTANCE_KEYS = ("node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type", "karpenter.k8s.aws/instance-type")


def _entry(entries: Iterable[tuple[str, str, Location]], key: str) -> tuple[str, str, Location] | None:
    return next((e for e in entries if e[0] == key), None)


def _where(c: Container) -> Location:
    return c.resources_location or c.location


# --- SAI205 ----------------------------------------------------------------------------------


def runtime_installs(project: Project, policy: Policy) -> Iterator[Finding]:
    for w in ai_workloads(project, policy):
        for c in w.containers:
            for source, words in (("command", c.shell), ("postStart hook", c.post_start)):
                for cmd in commands(words):
                    installs = [i for i in package_installs([t for t, _ in cmd]) if not i.option]
                    if installs:
                        names = ", ".join(i.package for i in installs[:5])
                        yield Finding("SAI205", f"container {c.name!r} of AI workload {w.name!r} ({reason(project, policy, w)}) installs packages when it starts "
                                      f"({cmd[0][0]} install {names}) in its {source}; bake them into the image", cmd[0][1], subject=c.name)
    for sc in project.all(StartCommand):
        if not (sc.launches or matches_ai_image(sc.base_image, policy)):
            continue
        for cmd in commands(expand_words(None, split_script(None, sc.text, sc.location))):
            installs = [i for i in package_installs([t for t, _ in cmd]) if not i.option]
            if installs:
                yield Finding("SAI205", f"the final stage's ENTRYPOINT/CMD installs packages at start ({cmd[0][0]} install "
                              f"{', '.join(i.package for i in installs[:5])}); install them in a RUN instruction", sc.location)


# --- SAI301-SAI303 ---------------------------------------------------------------------------


def limits(project: Project, policy: Policy) -> Iterator[Finding]:
    for w in ai_workloads(project, policy):
        for c in w.containers:
            if c.init:
                continue
            wanted = ("memory",) if w.surface == "compose" else ("memory", "cpu")
            missing = [k for k in wanted if _entry(c.limits, k) is None]
            if missing:
                what = " and ".join(f"limits.{k}" for k in missing)
                if w.surface == "compose":
                    what = "deploy.resources.limits.memory (or mem_limit)"
                yield Finding("SAI301", f"container {c.name!r} of AI workload {w.name!r} ({reason(project, policy, w)}) has no {what}; an AI container "
                              "without hard limits can take the node down", _where(c), subject=c.name)
            for key, value, loc in c.requests:
                if is_gpu_resource(key):
                    limit = _entry(c.limits, key)
                    if limit is None:
                        yield Finding("SAI302", f"container {c.name!r} requests {key}: {value} but sets no {key} limit; "
                                      "GPUs must be set in limits (requests default to them)", loc, subject=c.name)
                    elif parse_quantity(limit[1]) != parse_quantity(value):
                        yield Finding("SAI302", f"container {c.name!r} requests {key}: {value} but its limit is {limit[1]}; "
                                      "a GPU request must equal its limit", loc, subject=c.name)
                elif key in ("cpu", "memory"):
                    limit = _entry(c.limits, key)
                    if limit is not None and parse_quantity(limit[1]) != parse_quantity(value):
                        yield Finding("SAI303", f"container {c.name!r} requests {key}: {value} but its limit is {limit[1]}; "
                                      "set the request equal to the limit (Guaranteed QoS)", loc, subject=c.name)


# --- SAI304 ----------------------------------------------------------------------------------


def _max_gpus(policy: Policy) -> int:
    value = policy.get("max-gpus-per-pod", 1)
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def gpu_sharing(project: Project, policy: Policy) -> Iterator[Finding]:
    limit = _max_gpus(policy)
    for w in ai_workloads(project, policy):
        total = 0
        for c in w.containers:
            if c.init:
                continue
            entries = list(c.limits) + [r for r in c.requests if _entry(c.limits, r[0]) is None]
            for key, value, loc in entries:
                if key.startswith("nvidia.com/mig-") or (is_gpu_resource(key) and key.endswith(".shared")):
                    yield Finding("SAI304", f"container {c.name!r} asks for a shared GPU slice ({key}: {value}); the standard "
                                  "requires one whole GPU per pod", loc, subject=c.name)
                    continue
                if not is_gpu_resource(key):
                    continue
                if value == "all":
                    yield Finding("SAI304", f"service {w.name!r} reserves all GPUs (count: all); at most {limit} GPU(s) per pod "
                                  "(policy max-gpus-per-pod)", loc, subject=c.name)
                    continue
                before, total = total, total + _count(value)
                if before <= limit < total:
                    yield Finding("SAI304", f"pod {w.name!r} asks for {total} GPUs ({c.name!r}: {key}: {value}); policy "
                                  f"max-gpus-per-pod is {limit}", loc, subject=c.name)
            for e in c.env:
                if e.name == "NVIDIA_VISIBLE_DEVICES" and (e.value or "").strip().lower() == "all":
                    yield Finding("SAI304", f"container {c.name!r} sets NVIDIA_VISIBLE_DEVICES=all, exposing every GPU of the "
                                  "node to one pod", e.location, subject=c.name)
    for s in project.all(GpuSharing):
        if s.mode == "mps":
            yield Finding("SAI304", "the GPU device-plugin config enables MPS sharing; the standard requires one pod per GPU", s.location)
        elif s.replicas > 1:
            yield Finding("SAI304", f"the GPU device-plugin config time-slices each GPU into {s.replicas} replicas; the "
                          "standard requires one pod per GPU", s.location)


def _count(value: str) -> int:
    number = parse_quantity(value)
    return int(number) if number is not None else 0


# --- SAI305 / SAI306 -------------------------------------------------------------------------


def memory_profile(project: Project, policy: Policy) -> Iterator[Finding]:
    """SAI305 for serving workloads (a serving rule); SAI306 for every AI workload with a
    profile (a resource rule)."""
    headroom = parse_quantity(policy.get("memory-headroom", "2Gi"))
    serving = {w.id for w in serving_workloads(project, policy)}
    for w in ai_workloads(project, policy):
        peak_text = w.annotation(PROFILE)
        if peak_text is None:
            if w.id in serving:
                yield Finding("SAI305", f"serving workload {w.name!r} ({reason(project, policy, w)}) has no {PROFILE} annotation "
                              "(the peak measured with nvidia-smi under maximum context), so its memory limit cannot be checked",
                              w.location, subject=w.name)
            continue
        peak = parse_quantity(peak_text)
        if peak is None or headroom is None:
            continue  # reported as SAI001 by the extractor
        want = peak + headroom
        for c in _profiled_containers(w):
            limit = _entry(c.limits, "memory")
            value = parse_quantity(limit[1]) if limit else None
            if limit is None or value is None:
                continue
            if abs(value - want) >= 1:
                yield Finding("SAI306", f"container {c.name!r} memory limit {limit[1]} is not profiled peak {peak_text} + "
                              f"headroom {policy.get('memory-headroom')} = {_human(want)}; no more, no less", limit[2], subject=c.name)


def _profiled_containers(w: Workload) -> list[Container]:
    main = [c for c in w.containers if not c.init]
    gpu = [c for c in main if any(is_gpu_resource(k) for k, _, _ in (*c.limits, *c.requests))]
    return gpu or main[:1]


def _human(number: float) -> str:
    for suffix, factor in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if number >= factor and number % factor == 0:
            return f"{int(number // factor)}{suffix}"
    return str(int(number))


# --- SAI307 ----------------------------------------------------------------------------------


_VRAM = {"vllm": ("--gpu-memory-utilization", 0.9), "tgi": ("--cuda-memory-fraction", 1.0),
         "sglang": ("--mem-fraction-static", None), "kserve-hf": ("--gpu_memory_utilization", None)}
_VRAM_NAMES = {"vllm": "vLLM", "tgi": "TGI", "sglang": "SGLang", "kserve-hf": "KServe's Hugging Face runtime"}


def vram_fraction(project: Project, policy: Policy) -> Iterator[Finding]:
    cap = policy.get("max-vram-fraction", 0.85)
    if not isinstance(cap, (int, float)):
        return
    for s in cuda_launches(project, policy):
        if s.engine not in _VRAM:
            continue
        flag, default = _VRAM[s.engine]
        name = _VRAM_NAMES[s.engine]
        shown = flag if s.surface != "python" else flag[2:].replace("-", "_")
        entry = s.flag(flag)
        if entry is None:
            if default is None or s.opaque or (s.engine == "vllm" and s.flag("--kv-cache-memory-bytes")):
                continue
            env = " / CUDA_MEMORY_FRACTION" if s.engine == "tgi" else ""
            yield Finding("SAI307", f"{name} launch sets no {shown}{env}; {name} defaults it to {default}, above the "
                          f"max-vram-fraction {cap}", s.location, subject=s.engine)
            continue
        value = _float(entry[1])
        if value is not None and value > cap:
            yield Finding("SAI307", f"{name} {shown} is {entry[1]}, above the max-vram-fraction {cap}", entry[2], subject=s.engine)
    for m in project.all(MemoryFraction):
        if m.value > cap:
            yield Finding("SAI307", f"torch.cuda.set_per_process_memory_fraction({m.value:g}) lets this process use more than "
                          f"the max-vram-fraction {cap}", m.location)


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


# --- SAI308 ----------------------------------------------------------------------------------


def instance_type(project: Project, policy: Policy) -> Iterator[Finding]:
    allowed = [t for t in policy.get("instance-types") or () if isinstance(t, str)]
    if not allowed:
        return
    shown = ", ".join(allowed)
    for w in ai_workloads(project, policy):
        if w.surface == "compose" or not asks_gpu(w):
            continue
        bad = [e for e in w.node_selector if e[0] in INSTANCE_KEYS and e[1] not in allowed]
        if bad:
            for key, value, loc in bad:
                yield Finding("SAI308", f"GPU workload {w.name!r} is pinned to {key}={value}; policy instance-types: {shown}", loc, subject=w.name)
            continue
        if any(e[0] in INSTANCE_KEYS for e in w.node_selector):
            continue
        terms: dict[int, list] = {}
        for expr in w.node_affinity:
            terms.setdefault(expr.term, []).append(expr)
        pinned = bool(terms) and all(
            any(x.key in INSTANCE_KEYS and x.operator == "In" and x.values and set(x.values) <= set(allowed) for x in exprs)
            for exprs in terms.values()
        )
        if pinned:
            continue
        loose = [x for x in w.node_affinity if x.key in INSTANCE_KEYS]
        if loose:
            for x in loose:
                yield Finding("SAI308", f"GPU workload {w.name!r} allows instance types {x.operator} {list(x.values)}; policy "
                              f"instance-types: {shown}", x.location, subject=w.name)
        else:
            yield Finding("SAI308", f"GPU workload {w.name!r} ({reason(project, policy, w)}) is not pinned to an instance type (no nodeSelector or required "
                          f"nodeAffinity on node.kubernetes.io/instance-type); policy instance-types: {shown}", w.location, subject=w.name)
    for pool in project.all(InstancePool):
        if not pool.key:
            yield Finding("SAI308", f"GPU NodePool {pool.name!r} does not restrict instance types; policy instance-types: {shown}",
                          pool.location, subject=pool.name)
        elif pool.operator != "In" or not set(pool.values) <= set(allowed):
            yield Finding("SAI308", f"GPU NodePool {pool.name!r} allows {pool.key} {pool.operator} {list(pool.values)}; policy "
                          f"instance-types: {shown}", pool.location, subject=pool.name)


# --- SAI309 ----------------------------------------------------------------------------------


def probes(project: Project, policy: Policy) -> Iterator[Finding]:
    launched = launched_containers(serving_launches(project, policy))
    for w in serving_workloads(project, policy):
        if w.surface != "kubernetes":
            continue  # KServe adds its own probes; Compose has healthcheck, not probes
        for c in w.containers:
            if not is_serving_container(w, c, launched):
                continue
            missing = [p for p, have in (("readinessProbe", c.readiness_probe), ("livenessProbe", c.liveness_probe)) if have is None]
            if missing:
                yield Finding("SAI309", f"serving container {c.name!r} of workload {w.name!r} ({reason(project, policy, w)}) has no "
                              f"{' and no '.join(missing)}",
                              c.location, subject=c.name)


CHECKS = (
    Check(("SAI205",), runtime_installs),
    Check(("SAI301", "SAI302", "SAI303"), limits),
    Check(("SAI304",), gpu_sharing),
    Check(("SAI305", "SAI306"), memory_profile),
    Check(("SAI307",), vram_fraction),
    Check(("SAI308",), instance_type),
    Check(("SAI309",), probes),
)
