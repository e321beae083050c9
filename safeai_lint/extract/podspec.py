"""Pod templates and containers, the parts shared by Kubernetes objects, KServe and Ray.

Everything keeps its own line: each command word, env var, resources entry, probe and port.
Values of the wrong type are skipped, never an exception.
"""
from __future__ import annotations

from typing import Any, Iterable

from ..facts import AffinityExpr, Container, EnvVar, ImageRef, Location, ServingLaunch, Suppression, Volume, Workload
from ..policy import parse_quantity
from ..sources.base import SourceText
from ..sources.yaml import YList, YMap, as_list, as_map
from .serving import build_launch, expand_env_refs, expand_words

AI_ANNOTATION = "safeai-lint.io/ai-workload"
IGNORE_ANNOTATION = "safeai-lint.io/ignore"
PROFILE_ANNOTATION = "safeai-lint.io/profiled-peak-memory"


def scalar(value: Any) -> str | None:
    """A YAML scalar as text (`true` -> "true", 2 -> "2"); None for maps, lists and null."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def pairs(value: Any) -> tuple[tuple[str, str], ...]:
    m = as_map(value)
    if m is None:
        return ()
    return tuple((str(k), s) for k, v in m.items() if (s := scalar(v)) is not None)


def image_fact(src: SourceText, text: str, pos: Any, surface: str) -> ImageRef | None:
    """An ImageRef through the images extractor's helper when it exists (it resolves
    placeholders the same way everywhere), else a plain one."""
    try:
        from .images import image_fact as helper
    except ImportError:
        helper = None
    if helper is not None:
        return helper(src, text, pos, surface)
    return ImageRef(text, text, src.loc(pos), surface)


def _words(src: SourceText, m: YMap, key: str) -> tuple[tuple[str, Location], ...]:
    value = m.get(key)
    if isinstance(value, YList):
        return tuple((s, src.loc(value.item_pos(i))) for i, v in enumerate(value) if (s := scalar(v)) is not None)
    s = scalar(value)
    return ((s, src.loc(m.value_pos(key))),) if s is not None else ()


def _resources(src: SourceText, res: YMap | None, key: str) -> tuple[tuple[str, str, Location], ...]:
    entries = as_map(res.get(key)) if res is not None else None
    if entries is None:
        return ()
    out = []
    for name, value in entries.items():
        text = scalar(value)
        pos = entries.value_pos(name)
        if text is None or parse_quantity(text) is None:
            src.problem("SAI001", f"invalid Kubernetes quantity for {key}.{name}: {value!r}", pos[0], pos[1])
            continue
        out.append((str(name), text, src.loc(entries.key_pos(name))))
    return tuple(out)


def _env(src: SourceText, c: YMap) -> tuple[EnvVar, ...]:
    out = []
    env = as_list(c.get("env"))
    for i, item in enumerate(env):
        m = as_map(item)
        if m is None or scalar(m.get("name")) is None:
            continue
        value = scalar(m.get("value")) if "valueFrom" not in m else None
        if value is None and "valueFrom" not in m:
            value = ""
        out.append(EnvVar(str(m["name"]), value, src.loc(m.key_pos("name"))))
    return tuple(out)


def _probe(src: SourceText, c: YMap, key: str) -> Location | None:
    return src.loc(c.key_pos(key)) if as_map(c.get(key)) is not None else None


def container(src: SourceText, c: YMap, init: bool, index: int) -> Container:
    name = scalar(c.get("name")) or f"container-{index}"
    loc = src.loc(c.key_pos("name")) if "name" in c else src.loc(c.pos)
    res = as_map(c.get("resources"))
    ports = []
    for i, p in enumerate(as_list(c.get("ports"))):
        pm = as_map(p)
        if pm is not None and scalar(pm.get("containerPort")) is not None:
            ports.append((scalar(pm["containerPort"]) or "", src.loc(pm.key_pos("containerPort"))))
    post = as_map(as_map(as_map(c.get("lifecycle")) or YMap()).get("postStart"))
    post_words = _words(src, as_map(post.get("exec")) or YMap(), "command") if post is not None else ()
    cmd_key = "command" if "command" in c else ("args" if "args" in c else None)
    command, args = _words(src, c, "command"), _words(src, c, "args")
    image = scalar(c.get("image")) or ""
    return Container(
        name=name,
        location=loc,
        image=image,
        image_location=src.loc(c.value_pos("image")) if "image" in c else None,
        init=init,
        command=command,
        args=args,
        shell=tuple(expand_words(src, [*command, *args])),
        command_location=src.loc(c.key_pos(cmd_key)) if cmd_key else None,
        env=_env(src, c),
        env_from="envFrom" in c,
        limits=_resources(src, res, "limits"),
        requests=_resources(src, res, "requests"),
        resources_location=src.loc(c.key_pos("resources")) if "resources" in c else None,
        readiness_probe=_probe(src, c, "readinessProbe"),
        liveness_probe=_probe(src, c, "livenessProbe"),
        startup_probe=_probe(src, c, "startupProbe"),
        ports=tuple(ports),
        post_start=tuple(expand_words(src, post_words)),
        first_line=c.pos[0],
        last_line=c.pos[2],
    )


def containers(src: SourceText, spec: YMap) -> list[tuple[Container, YMap]]:
    out = []
    for key, init in (("initContainers", True), ("containers", False)):
        for i, item in enumerate(as_list(spec.get(key))):
            m = as_map(item)
            if m is not None:
                out.append((container(src, m, init, i), m))
    return out


def node_selector(src: SourceText, spec: YMap) -> tuple[tuple[str, str, Location], ...]:
    sel = as_map(spec.get("nodeSelector"))
    if sel is None:
        return ()
    return tuple((str(k), scalar(v) or "", src.loc(sel.key_pos(k))) for k, v in sel.items())


def node_affinity(src: SourceText, spec: YMap) -> tuple[AffinityExpr, ...]:
    """Required nodeAffinity match expressions, each with the index of its term (terms are
    ORed, expressions within a term ANDed)."""
    aff = as_map((as_map(spec.get("affinity")) or YMap()).get("nodeAffinity"))
    if aff is None:
        return ()
    req = as_map(aff.get("requiredDuringSchedulingIgnoredDuringExecution"))
    if req is None:
        return ()
    out = []
    for t, term in enumerate(as_list(req.get("nodeSelectorTerms"))):
        tm = as_map(term)
        if tm is None:
            continue
        for expr in as_list(tm.get("matchExpressions")):
            em = as_map(expr)
            if em is None or scalar(em.get("key")) is None:
                continue
            values = tuple(s for v in as_list(em.get("values")) if (s := scalar(v)) is not None)
            out.append(AffinityExpr(t, str(em["key"]), scalar(em.get("operator")) or "", values, src.loc(em.key_pos("key"))))
    return tuple(out)


def volumes(src: SourceText, spec: YMap) -> tuple[Volume, ...]:
    out = []
    for item in as_list(spec.get("volumes")):
        m = as_map(item)
        if m is None:
            continue
        name = scalar(m.get("name")) or ""
        loc = src.loc(m.key_pos("name")) if "name" in m else src.loc(m.pos)
        if as_map(m.get("csi")) is not None:
            out.append(Volume(name, "csi", scalar(m["csi"].get("driver")) or "", loc))
        elif as_map(m.get("emptyDir")) is not None and m["emptyDir"].get("medium") == "Memory":
            out.append(Volume(name, "emptyDir-memory", "", loc, scalar(m["emptyDir"].get("sizeLimit")) or ""))
        elif as_map(m.get("persistentVolumeClaim")) is not None:
            out.append(Volume(name, "pvc", scalar(m["persistentVolumeClaim"].get("claimName")) or "", loc))
    return tuple(out)


def ignore_suppressions(src: SourceText, annotations: Iterable[YMap | None], first: int, last: int,
                        spans: dict[str, tuple[int, int]]) -> list[Suppression]:
    """`safeai-lint.io/ignore: "SAI304=reason; SAI308=reason"` on the object or pod template
    (covering the object) and `safeai-lint.io/ignore.<container>` (covering that container)."""
    out = []
    for ann in annotations:
        if ann is None:
            continue
        for key, value in ann.items():
            key = str(key)
            if key == IGNORE_ANNOTATION:
                span = (first, last)
            elif key.startswith(IGNORE_ANNOTATION + ".") and key[len(IGNORE_ANNOTATION) + 1 :] in spans:
                span = spans[key[len(IGNORE_ANNOTATION) + 1 :]]
            else:
                continue
            loc = src.loc(ann.value_pos(key))
            for entry in (scalar(value) or "").split(";"):
                rule, _, reason = entry.partition("=")
                if rule.strip():
                    out.append(Suppression(rule.strip().upper(), reason.strip(), loc, span[0], span[1], origin="annotation"))
    return out


def launches_for(src: SourceText, workload_id: str, surface: str, items: list[tuple[Container, YMap]],
                 engine_hint: str = "") -> list[ServingLaunch]:
    """The serving launch of each (non-init) container, if its command starts a known engine."""
    out = []
    for c, _ in items:
        if c.init:
            continue
        where = c.command_location or c.location
        env = [(e.name, e.value, e.location) for e in c.env]
        launch = build_launch(
            src, expand_env_refs([*c.command, *c.args], env), env,
            image=c.image, only_args=not c.command, location=where, surface=surface,
            workload=workload_id, container=c.name, opaque=c.env_from, engine_hint=engine_hint,
        )
        if launch is not None:
            out.append(launch)
    return out


def pod_workload(src: SourceText, obj: YMap, doc: int, template: YMap, *, part: str = "", surface: str = "kubernetes",
                 long_running: bool = True, extra: dict[str, Any] | None = None,
                 more: list[tuple[Container, YMap]] | None = None) -> list[object]:
    """Facts for one pod template (`template` holds `metadata` and `spec`); `more` adds
    containers written outside `spec.containers` (a KServe `predictor.model`)."""
    kind = str(obj.get("kind"))
    meta = as_map(obj.get("metadata")) or YMap()
    name = scalar(meta.get("name")) or ""
    spec = as_map(template.get("spec"))
    if spec is None:
        return []
    items = list(more or []) + containers(src, spec)
    if not items or (surface == "kubernetes" and any(not c.image for c, _ in items)):
        return []  # a partial object (a patch) or an empty template: not judged
    tmeta = as_map(template.get("metadata")) or (meta if kind == "Pod" else YMap())
    wid = f"{src.rel}#{doc}/{kind}/{name}" + (f"/{part}" if part else "")
    obj_ann, pod_ann = as_map(meta.get("annotations")), as_map(tmeta.get("annotations"))
    location = src.loc(meta.key_pos("name")) if "name" in meta else src.loc(obj.pos)
    written = tuple(c for c, _ in items)
    fields: dict[str, Any] = dict(
        id=wid, kind=kind, name=name, namespace=scalar(meta.get("namespace")) or "", surface=surface,
        location=location, containers=written, labels=pairs(tmeta.get("labels")),
        object_labels=pairs(meta.get("labels")), annotations=(), pod_annotations=pairs(pod_ann),
        long_running=long_running, node_selector=node_selector(src, spec), node_affinity=node_affinity(src, spec),
        volumes=volumes(src, spec), part=part, restart_policy=scalar(spec.get("restartPolicy")) or "",
        first_line=obj.pos[0], last_line=obj.pos[2],
    )
    fields.update(extra or {})
    merged = dict(pairs(obj_ann))
    merged.update(fields["pod_annotations"])
    fields["annotations"] = tuple(merged.items())
    workload = Workload(**fields)
    facts: list[object] = [workload]
    spans = {c.name: (c.first_line, c.last_line) for c in written}
    facts.extend(ignore_suppressions(src, (obj_ann, pod_ann), obj.pos[0], obj.pos[2], spans))
    for c, m in items:
        if c.image and c.image_location is not None:
            ref = image_fact(src, c.image, m.value_pos("image"), surface)
            if ref is not None:
                facts.append(ref)
    return facts
