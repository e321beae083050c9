"""Service mesh and ingress objects → resilience facts (SAI401/SAI404/SAI405/SAI406/SAI407).

Istio VirtualService / DestinationRule / EnvoyFilter, Gateway API HTTPRoute / GRPCRoute,
Kubernetes Ingress with ingress-nginx and Kong annotations, Linkerd ServiceProfile and its
annotations on Services and routes. Every route also becomes a `Route` fact, so the checks
can tell which hosts lead to an AI service.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Iterator

from ..facts import BodySizeLimit, CircuitBreaker, RateLimit, RetryPolicy, Route, Timeout
from ..policy import parse_quantity
from ..sources.base import SourceText
from ..sources.yaml import YList, YMap, as_list, as_map
from .envoy import envoy_config
from .yaml_values import NGINX, annotations, attempts, dig, item_loc, k8s_objects, key_loc, name_loc, nginx_size, scalar, seconds



# --- extractor ---------------------------------------------------------------------------


def mesh_objects(src: SourceText) -> Iterable[object]:
    for obj in k8s_objects(src):
        kind = obj["kind"]
        api = scalar(obj.get("apiVersion"))
        if kind == "VirtualService" and "istio.io" in api:
            yield from _virtual_service(src, obj)
        elif kind == "DestinationRule" and "istio.io" in api:
            yield from _destination_rule(src, obj)
        elif kind in ("HTTPRoute", "GRPCRoute"):
            yield from _gateway_route(src, obj)
        elif kind == "Ingress":
            yield from _ingress(src, obj)
        elif kind == "ServiceProfile" and "linkerd" in api:
            yield from _service_profile(src, obj)
        elif kind == "Service":
            yield from _service_annotations(src, obj)
        elif kind == "EnvoyFilter" and "istio.io" in api:
            yield from _envoy_filter(src, obj)


def _namespace(obj: YMap) -> str:
    return scalar(dig(obj, "metadata", "namespace"))


def _strings(items: Any) -> tuple[str, ...]:
    return tuple(s for s in (scalar(x) for x in as_list(items)) if s)


def _virtual_service(src: SourceText, obj: YMap) -> Iterator[object]:
    spec = as_map(obj.get("spec")) or YMap()
    hosts = _strings(spec.get("hosts"))
    http = as_list(spec.get("http"))
    for i, route in enumerate(http):
        if not isinstance(route, YMap):
            continue
        dests = tuple(
            h for h in (scalar(dig(r, "destination", "host")) for r in as_list(route.get("route"))) if h
        )
        where = item_loc(src, http, i)
        yield Route("istio", where, hosts, dests, _namespace(obj))
        targets = hosts + dests
        if "timeout" in route:
            yield Timeout("istio", seconds(route["timeout"]), key_loc(src, route, "timeout"), targets)
        else:
            yield Timeout("istio", math.inf, where, targets,
                          note="Istio sets no timeout on a VirtualService http route unless `timeout` is written")
        retries = as_map(route.get("retries"))
        if retries is not None and "attempts" in retries:
            loc = key_loc(src, retries, "attempts")
            yield RetryPolicy("istio", loc, attempts(retries["attempts"]), loc)


def _destination_rule(src: SourceText, obj: YMap) -> Iterator[object]:
    spec = as_map(obj.get("spec")) or YMap()
    host = scalar(spec.get("host"))
    policies = [as_map(spec.get("trafficPolicy"))]
    policies += [as_map(dig(s, "trafficPolicy")) for s in as_list(spec.get("subsets"))]
    for policy in list(policies):
        policies += [as_map(p) for p in as_list(dig(policy, "portLevelSettings"))]
    if host:  # the traffic policy of this host: where its breaker belongs (SAI405)
        yield Route("destinationrule", key_loc(src, spec, "host"), (), (host,), _namespace(obj))
    for policy in policies:
        if policy is None or not isinstance(policy.get("outlierDetection"), YMap):
            continue
        od = policy["outlierDetection"]
        window = seconds(od["interval"]) if "interval" in od else None
        yield CircuitBreaker(
            "istio", key_loc(src, policy, "outlierDetection"), (host,) if host else (),
            window=window, window_location=key_loc(src, od, "interval") if "interval" in od else None,
        )


def _gateway_route(src: SourceText, obj: YMap) -> Iterator[object]:
    spec = as_map(obj.get("spec")) or YMap()
    hosts = _strings(spec.get("hostnames"))
    notes = annotations(obj)
    ns = _namespace(obj)
    plugins = _kong_plugins(notes)
    linkerd = "timeout.linkerd.io/request" in notes or "timeout.linkerd.io/response" in notes
    rules = as_list(spec.get("rules"))
    all_targets: list[str] = list(hosts)
    for i, rule in enumerate(rules):
        if not isinstance(rule, YMap):
            continue
        dests = tuple(n for n in (scalar(dig(b, "name")) for b in as_list(rule.get("backendRefs"))) if n)
        paths = tuple(p for p in (scalar(dig(m, "path", "value")) for m in as_list(rule.get("matches"))) if p)
        where = item_loc(src, rules, i)
        all_targets += dests
        yield Route("gateway-api", where, hosts + paths, dests, ns, plugins)
        targets = hosts + paths + dests
        timeouts = as_map(rule.get("timeouts"))
        if timeouts is not None and ("request" in timeouts or "backendRequest" in timeouts):
            key = "request" if "request" in timeouts else "backendRequest"
            yield Timeout("gateway-api", seconds(timeouts[key]), key_loc(src, timeouts, key), targets)
        elif obj["kind"] == "HTTPRoute" and not linkerd:
            yield Timeout("gateway-api", math.inf, where, targets,
                          note="without `timeouts.request` the Gateway API leaves the timeout to the "
                               "implementation (Istio: none)")
        retry = as_map(rule.get("retry"))
        if retry is not None and "attempts" in retry:
            loc = key_loc(src, retry, "attempts")
            yield RetryPolicy("gateway-api", loc, attempts(retry["attempts"]), loc)
    yield from _linkerd_annotations(src, notes, tuple(all_targets))


def _kong_plugins(notes: YMap) -> tuple[str, ...]:
    text = scalar(notes.get("konghq.com/plugins"))
    return tuple(p.strip() for p in text.split(",") if p.strip())


def _ingress(src: SourceText, obj: YMap) -> Iterator[object]:
    spec = as_map(obj.get("spec")) or YMap()
    notes = annotations(obj)
    ns = _namespace(obj)
    plugins = _kong_plugins(notes)
    hosts: list[str] = []
    dests: list[str] = []
    paths: list[str] = []
    default = _backend_name(spec.get("defaultBackend") or spec.get("backend"))
    if default:
        dests.append(default)
    for i, rule in enumerate(as_list(spec.get("rules"))):
        if not isinstance(rule, YMap):
            continue
        host = scalar(rule.get("host"))
        rule_dests = []
        for p in as_list(dig(rule, "http", "paths")):
            name = _backend_name(dig(p, "backend"))
            if name:
                rule_dests.append(name)
            path = scalar(dig(p, "path"))
            if path:
                paths.append(path)
        hosts += [host] if host else []
        dests += rule_dests
        yield Route("ingress", item_loc(src, as_list(spec["rules"]), i), (host,) if host else (),
                    tuple(rule_dests), ns, plugins)
    if default and not hosts:
        yield Route("ingress", name_loc(src, obj), (), (default,), ns, plugins)
    targets = tuple(hosts + paths + dests)
    ingress_class = scalar(spec.get("ingressClassName")) or scalar(notes.get("kubernetes.io/ingress.class"))
    is_nginx = "nginx" in ingress_class.lower() or any(str(k).startswith(NGINX) for k in notes)
    if not is_nginx:
        return
    if NGINX + "proxy-read-timeout" in notes:
        key = NGINX + "proxy-read-timeout"
        yield Timeout("ingress-nginx", seconds(notes[key]), key_loc(src, notes, key), targets)
    else:
        yield Timeout("ingress-nginx", 60.0, name_loc(src, obj), targets,
                      note="ingress-nginx defaults proxy-read-timeout to 60 s")
    key = NGINX + "proxy-next-upstream-tries"
    if key in notes:
        tries = attempts(notes[key])
        note = "`0` means unlimited tries" if tries == 0 else ""
        loc = key_loc(src, notes, key)
        yield RetryPolicy("ingress-nginx", loc, math.inf if tries == 0 else tries, loc, attempts_note=note)
    for key, per in ((NGINX + "limit-rps", 1.0), (NGINX + "limit-rpm", 60.0)):
        if key in notes:
            loc = key_loc(src, notes, key)
            rate = parse_quantity(scalar(notes[key]))
            yield RateLimit("ingress-nginx", loc, None if rate is None else rate / per, loc,
                            f"{scalar(notes[key])} ({key.rsplit('/', 1)[1]})", "ip", loc, "", targets)
    key = NGINX + "proxy-body-size"
    if key in notes:
        written = scalar(notes[key])
        yield BodySizeLimit("ingress-nginx", written, nginx_size(written), key_loc(src, notes, key), targets)


def _backend_name(backend: Any) -> str:
    return scalar(dig(backend, "service", "name")) or scalar(dig(backend, "serviceName"))


def _service_profile(src: SourceText, obj: YMap) -> Iterator[object]:
    # A ServiceProfile is named after the FQDN of the service it describes.
    name = scalar(dig(obj, "metadata", "name"))
    routes = as_list(dig(obj, "spec", "routes"))
    for i, route in enumerate(routes):
        if not isinstance(route, YMap):
            continue
        targets = (name,) + tuple(p for p in (scalar(dig(route, "condition", "pathRegex")),) if p)
        if "timeout" in route:
            yield Timeout("linkerd", seconds(route["timeout"]), key_loc(src, route, "timeout"), targets)
        else:
            yield Timeout("linkerd", math.inf, item_loc(src, routes, i), targets,
                          note="a ServiceProfile route without `timeout` gets none on current Linkerd "
                               "(10 s on older releases)")


def _service_annotations(src: SourceText, obj: YMap) -> Iterator[object]:
    notes = annotations(obj)
    name = scalar(dig(obj, "metadata", "name"))
    if not name:
        return
    plugins = _kong_plugins(notes)
    external = scalar(dig(obj, "spec", "externalName"))
    if external:  # an alias: requests for this name reach the external host
        yield Route("service", name_loc(src, obj), (name,), (external,), _namespace(obj), plugins)
    elif plugins:
        yield Route("kong-annotation", key_loc(src, notes, "konghq.com/plugins"), (), (name,),
                    _namespace(obj), plugins)
    yield from _linkerd_annotations(src, notes, (name,))


def _linkerd_annotations(src: SourceText, notes: YMap, targets: tuple[str, ...]) -> Iterator[object]:
    for key in ("timeout.linkerd.io/request", "timeout.linkerd.io/response"):
        if key in notes:
            yield Timeout("linkerd", seconds(notes[key]), key_loc(src, notes, key), targets)
            break
    if "retry.linkerd.io/limit" in notes:
        loc = key_loc(src, notes, "retry.linkerd.io/limit")
        yield RetryPolicy("linkerd", loc, attempts(notes["retry.linkerd.io/limit"]), loc)


def _envoy_filter(src: SourceText, obj: YMap) -> Iterator[object]:
    spec = as_map(obj.get("spec")) or YMap()
    targets = [scalar(dig(obj, "metadata", "name"))]
    labels = as_map(dig(spec, "workloadSelector", "labels")) or YMap()
    targets += [scalar(v) for v in labels.values()]
    patches = as_list(spec.get("configPatches"))
    for patch in patches:
        match = as_map(dig(patch, "match")) or YMap()
        targets += [scalar(dig(match, "routeConfiguration", "vhost", "name")),
                    scalar(dig(match, "cluster", "service")), scalar(dig(match, "cluster", "name"))]
    clean = tuple(t for t in targets if t)
    for patch in patches:
        value = dig(patch, "patch", "value")
        if not isinstance(value, YMap):
            continue
        if scalar(dig(patch, "applyTo")) == "CLUSTER":  # the value is one cluster's fields
            wrapper = YMap(value.pos)
            wrapper["clusters"] = YList(value.pos)
            wrapper["clusters"].append(value)
            value = wrapper
        yield from envoy_config(src, value, clean, "envoyfilter")
