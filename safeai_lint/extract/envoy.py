"""Envoy configuration → resilience facts: route `timeout` and `retry_policy`, cluster
`outlier_detection`, `local_ratelimit` token buckets.

Used for bootstrap/static files (a YAML document with `static_resources`) and for the patch
values of Istio EnvoyFilters (see `mesh.py`). The walk is by key, not by a fixed path, so
the same code reads a whole bootstrap or a fragment patched into one.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Iterator

from ..facts import CircuitBreaker, RateLimit, RetryPolicy, Route, Timeout
from ..sources.base import SourceText
from ..sources.yaml import YList, YMap
from ..sources.yaml import as_list, as_map
from .yaml_values import attempts, dig, key_loc, scalar, seconds


def envoy_bootstrap(src: SourceText) -> Iterable[object]:
    for doc in src.yaml_documents():
        root = as_map(doc.value)
        if root is None or "kind" in root or not isinstance(root.get("static_resources"), YMap):
            continue
        yield from envoy_config(src, root, (), "envoy")


def _cluster_addresses(cluster: YMap) -> tuple[str, ...]:
    found = []
    stack: list[Any] = [cluster.get("load_assignment")]
    while stack:
        node = stack.pop()
        if isinstance(node, YMap):
            addr = scalar(dig(node, "socket_address", "address"))
            if addr:
                found.append(addr)
            stack.extend(node.values())
        elif isinstance(node, YList):
            stack.extend(node)
    return tuple(found)


def envoy_config(src: SourceText, root: YMap, extra: tuple[str, ...], surface: str) -> Iterator[object]:
    clusters: list[YMap] = []
    routes: list[tuple[YMap, YMap, tuple[str, ...]]] = []  # (route entry, route action, vhost)
    buckets: list[tuple[YMap, YMap, tuple[str, ...]]] = []
    retries: list[YMap] = []
    domains: list[str] = []
    stack: list[tuple[Any, tuple[str, ...]]] = [(root, ())]
    while stack:
        node, vhost = stack.pop()
        if isinstance(node, YList):
            stack.extend((item, vhost) for item in reversed(node))
            continue
        if not isinstance(node, YMap):
            continue
        if "domains" in node and "routes" in node:
            vhost = tuple(d for d in (scalar(x) for x in as_list(node["domains"])) if d and d != "*")
            vhost += (scalar(node.get("name")),) if scalar(node.get("name")) else ()
            domains.extend(vhost)
        for key, value in node.items():
            if key == "clusters" and isinstance(value, YList):
                clusters.extend(c for c in value if isinstance(c, YMap))
            elif key == "route" and isinstance(value, YMap) and (
                "cluster" in value or "weighted_clusters" in value or "cluster_header" in value
            ):
                routes.append((node, value, vhost))
            elif key == "token_bucket" and isinstance(value, YMap):
                buckets.append((node, value, vhost))
            elif key == "retry_policy" and isinstance(value, YMap):
                retries.append(value)
            stack.append((value, vhost))

    addresses = {scalar(c.get("name")): _cluster_addresses(c) for c in clusters}
    everything = tuple(extra) + tuple(domains) + tuple(n for n in addresses if n)
    everything += tuple(a for group in addresses.values() for a in group)

    for entry, action, vhost in routes:
        names = [scalar(action.get("cluster"))]
        names += [scalar(dig(w, "name")) for w in as_list(dig(action, "weighted_clusters", "clusters"))]
        names = [n for n in names if n]
        dests = tuple(names) + tuple(a for n in names for a in addresses.get(n, ()))
        # a route is judged by where it goes: a route to a non-AI cluster is not an AI route
        # because its virtual host also routes elsewhere to one (the host is a fallback only
        # when the route names no cluster, e.g. `cluster_header`)
        targets = (dests or vhost) + extra
        yield Route(surface, key_loc(src, entry, "route"), vhost, dests)
        if "timeout" in action:
            yield Timeout(surface, seconds(action["timeout"]), key_loc(src, action, "timeout"), targets)
        else:
            yield Timeout(surface, 15.0, key_loc(src, entry, "route"), targets,
                          note="Envoy defaults a route timeout to 15 s")

    for policy in retries:
        if "num_retries" in policy:
            loc = key_loc(src, policy, "num_retries")
            yield RetryPolicy(surface, loc, attempts(policy["num_retries"]), loc)

    for cluster in clusters:
        od = as_map(cluster.get("outlier_detection"))
        if od is None:
            continue
        name = scalar(cluster.get("name"))
        targets = ((name,) if name else ()) + addresses.get(name, ()) + extra

        def num(key: str) -> tuple[float | None, Any]:
            value = attempts(od.get(key)) if key in od else None
            return value, (key_loc(src, od, key) if key in od else None)

        rate, rate_loc = num("failure_percentage_threshold")
        enforcing, enforcing_loc = num("enforcing_failure_percentage")
        window = seconds(od["interval"]) if "interval" in od else None
        yield CircuitBreaker(
            surface, key_loc(src, cluster, "outlier_detection"), targets,
            rate, rate_loc, enforcing, enforcing_loc,
            window, key_loc(src, od, "interval") if "interval" in od else None,
        )

    for owner, bucket, vhost in buckets:
        fill = seconds(bucket.get("fill_interval")) if "fill_interval" in bucket else None
        tokens = attempts(bucket.get("tokens_per_fill")) if "tokens_per_fill" in bucket else 1.0
        rps = None
        if fill is not None and tokens is not None and fill not in (0, math.inf):
            rps = tokens / fill
        where = key_loc(src, bucket, "tokens_per_fill") if "tokens_per_fill" in bucket else key_loc(src, owner, "token_bucket")
        written = f"{scalar(bucket.get('tokens_per_fill')) or 1} tokens every {scalar(bucket.get('fill_interval'))}"
        yield RateLimit(surface, key_loc(src, owner, "token_bucket"), rps, where, written,
                        "", None, scalar(owner.get("stat_prefix")), (vhost or everything) + extra)
