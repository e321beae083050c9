"""Small helpers shared by the YAML extractors of the resilience family (mesh, Envoy,
gateways, app configs): scalars and paths of a parsed YAML tree, the location of a key,
Kubernetes objects of a file, durations, attempt counts and nginx sizes."""
from __future__ import annotations

import math
from typing import Any, Iterator

from ..facts import Location
from ..policy import parse_duration
from ..sources.base import SourceText
from ..sources.yaml import YList, YMap, as_list, as_map

NGINX = "nginx.ingress.kubernetes.io/"


def scalar(value: Any) -> str:
    """A scalar as text ("" for maps, lists, booleans and null)."""
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()


def dig(node: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(node, YMap):
            return None
        node = node.get(key)
    return node


def key_loc(src: SourceText, m: YMap, key: str) -> Location:
    """The location of `key: value` as written: the key's line, from key to value end."""
    k, v = m.key_pos(key), m.value_pos(key)
    if v[2] == k[0]:
        return src.loc((k[0], k[1], v[2], v[3]))
    return src.loc(k)


def item_loc(src: SourceText, items: YList, index: int) -> Location:
    """The first line of a list item (its first key for a mapping)."""
    pos = items.item_pos(index)
    return src.line_loc(pos[0], pos[1])


def k8s_objects(src: SourceText) -> Iterator[YMap]:
    """Kubernetes-style objects (apiVersion + kind) of a YAML file, `kind: List` unpacked."""
    for doc in src.yaml_documents():
        obj = as_map(doc.value)
        if obj is None or not isinstance(obj.get("kind"), str) or "apiVersion" not in obj:
            continue
        if obj["kind"] == "List":
            for item in as_list(obj.get("items")):
                if isinstance(item, YMap) and isinstance(item.get("kind"), str):
                    yield item
        else:
            yield obj


def annotations(obj: YMap) -> YMap:
    return as_map(dig(obj, "metadata", "annotations")) or YMap()


def name_loc(src: SourceText, obj: YMap) -> Location:
    meta = as_map(obj.get("metadata"))
    if meta is not None and "name" in meta:
        return key_loc(src, meta, "name")
    return src.loc(obj.pos)


def seconds(written: Any, bare_unit: str = "s") -> float | None:
    """A duration in seconds; 0 means "no timeout" on every surface here, so it becomes inf."""
    value = parse_duration(written, bare_unit) if not isinstance(written, (dict, list)) else None
    if value is None:
        return None
    return math.inf if value == 0 else value


def attempts(written: Any) -> float | None:
    text = scalar(written)
    if not text:
        return None
    try:
        return float(int(text))
    except ValueError:
        return None



def nginx_size(text: str) -> float | None:
    """An nginx size ("0", "8m", "1g", "512k") in bytes."""
    text = text.strip().lower()
    factor = {"k": 1024, "m": 1024**2, "g": 1024**3}.get(text[-1:], 1)
    number = text[:-1] if text[-1:] in "kmg" else text
    try:
        return float(number) * factor
    except ValueError:
        return None
