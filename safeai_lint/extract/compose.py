"""Compose files -> one Workload (with one Container) and maybe a ServingLaunch per service.

Compose memory sizes (`34g`, `512m`) are byte units, not Kubernetes quantities: they are
converted to bytes here so the checks compare numbers. GPU `devices` reservations become an
`nvidia.com/gpu` limit ("all" for `count: all`). Service labels double as annotations (Compose
has no annotations), so `safeai-lint.io/*` keys work the same way.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

from ..facts import Container, EnvVar, Location, Workload
from ..sources.base import SourceText
from ..sources.yaml import YList, YMap
from . import podspec
from .podspec import as_list, as_map, scalar
from .serving import build_launch, expand_words

_NAME = re.compile(r"^(docker-)?compose([.-].*)?\.ya?ml$|^.*\.compose\.ya?ml$", re.I)
_BYTES = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)b?\s*$", re.I)
_FACTOR = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def is_compose(src: SourceText, root: Any) -> bool:
    name = src.rel.rsplit("/", 1)[-1]
    services = as_map(root.get("services")) if as_map(root) is not None else None
    if services is None or "apiVersion" in root or name.lower().startswith("values"):
        return False
    if _NAME.match(name):
        return True
    return any(as_map(s) is not None and ("image" in s or "build" in s) for s in services.values())


def _bytes(src: SourceText, value: Any, pos: tuple[int, int, int, int]) -> str | None:
    text = scalar(value)
    match = _BYTES.match(text or "")
    if not match:
        src.problem("SAI001", f"invalid Compose memory size: {value!r}", pos[0], pos[1])
        return None
    return str(int(float(match.group(1)) * _FACTOR[match.group(2).lower()]))


def _env(src: SourceText, svc: YMap) -> tuple[EnvVar, ...]:
    env = svc.get("environment")
    out = []
    if isinstance(env, YMap):
        for k, v in env.items():
            out.append(EnvVar(str(k), scalar(v), src.loc(env.key_pos(k))))
    elif isinstance(env, YList):
        for i, item in enumerate(env):
            text = scalar(item)
            if text:
                name, eq, value = text.partition("=")
                out.append(EnvVar(name, value if eq else None, src.loc(env.item_pos(i))))
    return tuple(out)


def _words(src: SourceText, svc: YMap, key: str) -> tuple[tuple[str, Location], ...]:
    value = svc.get(key)
    if isinstance(value, YList):
        return tuple((s, src.loc(value.item_pos(i))) for i, v in enumerate(value) if (s := scalar(v)) is not None)
    text = scalar(value)
    if not text:
        return ()
    loc = src.loc(svc.value_pos(key))
    # Compose splits a string `command`/`entrypoint` into words as a shell would (quotes kept
    # together, no shell run): `sh -c "pip install x && vllm serve m"` is three words
    try:
        import shlex

        words = shlex.split(text)
    except ValueError:  # unbalanced quotes: Compose refuses it; keep the text as one word
        return ((text, loc),)
    out = []
    for word in words:
        first = word.split()[0] if word.split() else word
        found = src.find_loc(loc.line, first, loc.end_line) if first else loc
        out.append((word, found if found.line >= loc.line and first in src.line_text(found.line) else loc))
    return tuple(out)


def _resources(src: SourceText, svc: YMap) -> tuple[list[tuple[str, str, Location]], list[tuple[str, str, Location]]]:
    limits: list[tuple[str, str, Location]] = []
    requests: list[tuple[str, str, Location]] = []
    res = as_map((as_map(svc.get("deploy")) or YMap()).get("resources"))
    for block, out in (("limits", limits), ("reservations", requests)):
        m = as_map(res.get(block)) if res is not None else None
        if m is None:
            continue
        if "memory" in m and (b := _bytes(src, m["memory"], m.value_pos("memory"))):
            out.append(("memory", b, src.loc(m.key_pos("memory"))))
        if scalar(m.get("cpus")) is not None:
            out.append(("cpu", scalar(m["cpus"]) or "", src.loc(m.key_pos("cpus"))))
        for d in as_list(m.get("devices")):
            dm = as_map(d)
            if dm is None:
                continue
            caps = [str(c) for c in as_list(dm.get("capabilities"))]
            if "gpu" not in caps and dm.get("driver") != "nvidia":
                continue
            if "count" in dm:
                count = scalar(dm["count"]) or ""
                limits.append(("nvidia.com/gpu", count, src.loc(dm.key_pos("count"))))
            elif isinstance(dm.get("device_ids"), list):
                limits.append(("nvidia.com/gpu", str(len(dm["device_ids"])), src.loc(dm.key_pos("device_ids"))))
            else:  # no count and no ids: Compose reserves every GPU
                limits.append(("nvidia.com/gpu", "all", src.loc(d.pos if isinstance(d, YMap) else m.pos)))
    if "mem_limit" in svc and (b := _bytes(src, svc["mem_limit"], svc.value_pos("mem_limit"))):
        limits.append(("memory", b, src.loc(svc.key_pos("mem_limit"))))
    if "mem_reservation" in svc and (b := _bytes(src, svc["mem_reservation"], svc.value_pos("mem_reservation"))):
        requests.append(("memory", b, src.loc(svc.key_pos("mem_reservation"))))
    if scalar(svc.get("cpus")) is not None:
        limits.append(("cpu", scalar(svc["cpus"]) or "", src.loc(svc.key_pos("cpus"))))
    return limits, requests


def _labels(svc: YMap) -> tuple[tuple[str, str], ...]:
    labels = svc.get("labels")
    if isinstance(labels, YList):
        return tuple((k, v) for item in labels if (t := scalar(item)) for k, _, v in [t.partition("=")])
    return podspec.pairs(labels)


def compose(src: SourceText) -> Iterator[object]:
    for index, doc in enumerate(src.yaml_documents()):
        root = as_map(doc.value)
        if root is None or not is_compose(src, root):
            continue
        services = root["services"]
        for name, svc in services.items():
            if as_map(svc) is None:
                continue
            yield from _service(src, index, str(name), svc, services.key_pos(name))


def _service(src: SourceText, index: int, name: str, svc: YMap, key_pos: tuple[int, int, int, int]) -> Iterator[object]:
    limits, requests = _resources(src, svc)
    entrypoint, command = _words(src, svc, "entrypoint"), _words(src, svc, "command")
    ports = tuple((scalar(p) or "", src.loc(as_list(svc.get("ports")).item_pos(i))) for i, p in enumerate(as_list(svc.get("ports"))))
    image = scalar(svc.get("image")) or ""
    where = src.loc(svc.key_pos("command" if "command" in svc else "entrypoint")) if ("command" in svc or "entrypoint" in svc) else src.loc(key_pos)
    container = Container(
        name=name, location=src.loc(key_pos), image=image,
        image_location=src.loc(svc.value_pos("image")) if "image" in svc else None,
        command=entrypoint, args=command, shell=tuple(expand_words(src, [*entrypoint, *command])), command_location=where if where != src.loc(key_pos) else None,
        env=_env(src, svc), env_from="env_file" in svc, limits=tuple(limits), requests=tuple(requests),
        ports=ports, first_line=key_pos[0], last_line=svc.pos[2],
    )
    labels = _labels(svc)
    wid = f"{src.rel}#{index}/compose/{name}"
    yield Workload(
        id=wid, kind="ComposeService", name=name, namespace="", surface="compose", location=src.loc(key_pos),
        containers=(container,), labels=labels, object_labels=labels, annotations=labels, pod_annotations=labels,
        first_line=key_pos[0], last_line=svc.pos[2],
    )
    ref = podspec.image_fact(src, image, svc.value_pos("image"), "compose") if image else None
    if ref is not None:
        yield ref
    launch = build_launch(
        src, [*entrypoint, *command], [(e.name, e.value, e.location) for e in container.env],
        image=image, only_args=not entrypoint, location=where, surface="compose", workload=wid,
        container=name, opaque=container.env_from,
    )
    if launch is not None:
        yield launch
