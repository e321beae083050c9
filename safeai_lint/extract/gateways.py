"""API gateways at the edge → resilience facts: Kong rate-limiting (KongPlugin /
KongClusterPlugin CRDs and declarative `kong.yml`) and plain nginx (`nginx.conf`).

Kong plugins attach to routes by name (`konghq.com/plugins` annotations, read in `mesh.py`
as `Route.plugins`); a plugin's own name is kept among its targets so the checks can link
them. `"*"` among the targets marks a global plugin (it covers every route).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from ..facts import BodySizeLimit, Location, RateLimit, RetryPolicy, Timeout
from ..policy import parse_duration
from ..sources.base import SourceText
from ..sources.yaml import YMap, as_list, as_map
from .yaml_values import attempts, dig, k8s_objects, key_loc, nginx_size, scalar

RATE_PLUGINS = ("rate-limiting", "rate-limiting-advanced")
GLOBAL = "*"


# --- Kong --------------------------------------------------------------------------------


def kong(src: SourceText) -> Iterable[object]:
    for obj in k8s_objects(src):
        if obj["kind"] in ("KongPlugin", "KongClusterPlugin") and "konghq.com" in scalar(obj.get("apiVersion")):
            name = scalar(dig(obj, "metadata", "name"))
            is_global = scalar(dig(obj, "metadata", "labels", "global")).lower() == "true"
            yield from _rate_limit(src, obj, "plugin", name, (GLOBAL,) if is_global else ())
    for doc in src.yaml_documents():
        root = as_map(doc.value)
        if root is not None and "_format_version" in root and "kind" not in root:
            yield from _declarative(src, root)


def _rate_limit(src: SourceText, plugin: YMap, name_key: str, name: str, targets: tuple[str, ...]) -> Iterator[RateLimit]:
    kind = scalar(plugin.get(name_key))
    if kind not in RATE_PLUGINS:
        return
    config = as_map(plugin.get("config")) or YMap()
    where = key_loc(src, plugin, name_key)
    rps, rps_loc, written = None, None, ""
    if kind == "rate-limiting":
        for unit, per in (("second", 1.0), ("minute", 60.0)):
            value = attempts(config.get(unit)) if unit in config else None
            if value is not None:
                rps, rps_loc, written = value / per, key_loc(src, config, unit), f"{unit}: {scalar(config[unit])}"
                break
        key_name, default = "limit_by", "consumer"
    else:  # rate-limiting-advanced: parallel lists `limit` and `window_size` (seconds)
        pairs = list(zip(as_list(config.get("limit")), as_list(config.get("window_size"))))
        rates = [(attempts(n), attempts(w)) for n, w in pairs]
        rates = [(n, w) for n, w in rates if n is not None and w]
        if rates:
            n, w = min(rates, key=lambda pair: pair[1])
            rps, rps_loc, written = n / w, key_loc(src, config, "limit"), f"{n:g} per {w:g} s"
        key_name, default = "identifier", "consumer"
    key = scalar(config.get(key_name)) or default
    key_loc_ = key_loc(src, config, key_name) if key_name in config else None
    own = (name,) if name else ()
    yield RateLimit("kong", where, rps, rps_loc, written, key, key_loc_, name, own + targets)


def _declarative(src: SourceText, root: YMap) -> Iterator[RateLimit]:
    services: dict[str, tuple[str, ...]] = {}
    for service in as_list(root.get("services")):
        if not isinstance(service, YMap):
            continue
        own = tuple(t for t in (scalar(service.get(k)) for k in ("name", "host", "url")) if t)
        route_targets: list[str] = []
        for route in as_list(service.get("routes")):
            mine = _route_targets(route)
            route_targets += mine
            for plugin in as_list(dig(route, "plugins")):
                if isinstance(plugin, YMap):
                    yield from _rate_limit(src, plugin, "name", "", mine + own)
        services[scalar(service.get("name"))] = own + tuple(route_targets)
        for plugin in as_list(service.get("plugins")):
            if isinstance(plugin, YMap):
                yield from _rate_limit(src, plugin, "name", "", own + tuple(route_targets))
    routes: dict[str, tuple[str, ...]] = {}
    for route in as_list(root.get("routes")):
        service = dig(route, "service")
        ref = scalar(dig(service, "name")) if isinstance(service, YMap) else scalar(service)
        mine = _route_targets(route) + services.get(ref, (ref,) if ref else ())
        routes[scalar(dig(route, "name"))] = mine
        for plugin in as_list(dig(route, "plugins")):
            if isinstance(plugin, YMap):
                yield from _rate_limit(src, plugin, "name", "", mine)
    for plugin in as_list(root.get("plugins")):
        if not isinstance(plugin, YMap):
            continue
        refs: list[str] = []
        for key, table in (("service", services), ("route", routes), ("consumer", {})):
            ref = plugin.get(key)
            ref = scalar(dig(ref, "name")) if isinstance(ref, YMap) else scalar(ref)
            if ref:
                refs += list(table.get(ref, (ref,)))
        yield from _rate_limit(src, plugin, "name", "", tuple(refs) or (GLOBAL,))


def _route_targets(route: object) -> tuple[str, ...]:
    if not isinstance(route, YMap):
        return ()
    found = [scalar(route.get("name"))]
    found += [scalar(x) for x in as_list(route.get("paths"))]
    found += [scalar(x) for x in as_list(route.get("hosts"))]
    return tuple(t for t in found if t)


# --- nginx.conf --------------------------------------------------------------------------


@dataclass
class Directive:
    name: str
    args: list[str]
    line: int
    column: int
    children: list["Directive"] | None = None
    parent: "Directive | None" = field(default=None, repr=False)


_TOKEN = re.compile(r"#[^\n]*|\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|[{};]|[^\s{};\"'#]+")


def parse_nginx(text: str) -> list[Directive]:
    """nginx directives as a tree, each with its line; unbalanced input is read as far as it
    makes sense (nginx itself would refuse it, we only lose the broken tail)."""
    top: list[Directive] = []
    stack: list[list[Directive]] = [top]
    parents: list[Directive | None] = [None]
    words: list[tuple[str, int, int]] = []
    line, last = 1, 0
    for match in _TOKEN.finditer(text):
        line += text.count("\n", last, match.start())
        last = match.start()
        token = match.group()
        if token.startswith("#"):
            continue
        if token in (";", "{"):
            if words:
                name, at, col = words[0]
                node = Directive(name, [w for w, _, _ in words[1:]], at, col, parent=parents[-1])
                stack[-1].append(node)
                if token == "{":
                    node.children = []
                    stack.append(node.children)
                    parents.append(node)
            words = []
        elif token == "}":
            words = []
            if len(stack) > 1:
                stack.pop()
                parents.pop()
        else:
            col = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
            words.append((token.strip("\"'"), line, col))
    return top


def _walk(nodes: list[Directive]) -> Iterator[Directive]:
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        yield node
        if node.children:
            stack.extend(reversed(node.children))


def _scope_value(node: Directive, name: str) -> Directive | None:
    """The nearest `name` directive in `node`'s block or an enclosing one (nginx inheritance)."""
    block = node.parent
    while block is not None:
        for child in block.children or ():
            if child.name == name:
                return child
        block = block.parent
    return None


def _nginx_key(key: str) -> str:
    key = key.lower()
    if re.search(r"\$(http_(x_)?api_key|http_authorization|arg_api_key|http_x_api_token|jwt)", key):
        return "header"
    if "remote_addr" in key or "x_forwarded_for" in key or "realip" in key:
        return "ip"
    if "uri" in key:
        return "path"
    if "server_name" in key or "$host" in key:
        return "service"
    return ""


def nginx_conf(src: SourceText) -> Iterable[object]:
    tree = src.cached("nginx", lambda s: parse_nginx(s.text))
    nodes = list(_walk(tree))

    def loc(d: Directive) -> Location:
        return src.line_loc(d.line, d.column)

    everything: list[str] = []
    proxies: list[tuple[Directive, tuple[str, ...]]] = []
    for d in nodes:
        if d.name == "proxy_pass" and d.args:
            block = d.parent
            targets = [d.args[0], re.sub(r"^\w+://", "", d.args[0]).split("/")[0]]
            if block is not None and block.name == "location" and block.args:
                targets.append(block.args[-1])
            proxies.append((d, tuple(targets)))
            everything += targets
        elif d.name == "server_name":
            everything += [a for a in d.args if a != "_"]
    all_targets = tuple(everything)

    for d, targets in proxies:
        written = _scope_value(d, "proxy_read_timeout")
        if written is None:
            yield Timeout("nginx", 60.0, loc(d), targets, note="nginx defaults proxy_read_timeout to 60 s")
    for d in nodes:
        if d.name == "proxy_read_timeout" and d.args:
            value = parse_duration(d.args[0])
            # the proxies this directive governs: not those of an inner block with its own value
            covered = tuple(t for p, ts in proxies if _scope_value(p, "proxy_read_timeout") is d for t in ts)
            yield Timeout("nginx", math.inf if value == 0 else value, loc(d), covered)
        elif d.name == "proxy_next_upstream_tries" and d.args:
            tries = attempts(d.args[0])
            yield RetryPolicy("nginx", loc(d), math.inf if tries == 0 else tries, loc(d),
                              attempts_note="`0` means unlimited tries" if tries == 0 else "")
        elif d.name == "limit_req_zone" and len(d.args) >= 2:
            yield from _limit_zone(d, loc(d), all_targets)
        elif d.name == "client_max_body_size" and d.args:
            yield BodySizeLimit("nginx", d.args[0], nginx_size(d.args[0]), loc(d), all_targets)


def _limit_zone(d: Directive, where: Location, targets: tuple[str, ...]) -> Iterator[RateLimit]:
    zone = next((a.split("=", 1)[1].split(":")[0] for a in d.args if a.startswith("zone=")), "")
    rate = next((a.split("=", 1)[1] for a in d.args if a.startswith("rate=")), "")
    match = re.fullmatch(r"(\d+(?:\.\d+)?)r/([sm])", rate)
    rps = None
    if match:
        rps = float(match.group(1)) / (1.0 if match.group(2) == "s" else 60.0)
    yield RateLimit("nginx", where, rps, where, rate, _nginx_key(d.args[0]), where, zone, targets)
