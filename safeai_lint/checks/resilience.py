"""SAI401–SAI407: bounded retries with backoff and jitter, timeouts, circuit breakers and
per-key rate limits — the incident's retry storm, in rules.

Which destinations are AI services (RULES.md "Terms"): Services whose selector matches an AI
workload's pod labels, names and hosts matching `ai-service-patterns`, the hosts of routes
leading to either, and URL paths of inference endpoints. Timeouts, breakers and rate limits
are judged only for those; retries are judged everywhere (a storm hurts any service).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from ..facts import CircuitBreaker, Location, RateLimit, RetryPolicy, Route, Service, Timeout
from ..findings import Finding
from ..policy import Policy, parse_duration
from .aiscope import ai_workloads, name_matches_patterns, pods_selected_by
from ..project import Project
from . import Check

INFERENCE_PATH = re.compile(r"/(v1/chat/completions|v1/completions|v1/embeddings|generate|predict|infer)\b")
GLOBAL = "*"
ROUTE_SURFACES = {"istio", "envoy", "envoyfilter", "gateway-api", "linkerd", "ingress-nginx", "nginx"}
NOT_PER_KEY = {"ip": "client IP", "service": "service", "path": "path"}


def _num(value: object, default: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return float(value)


def _secs(value: float) -> str:
    return "none" if value == math.inf else f"{value:g} s"


def _label(name: str) -> str:
    """`http://vllm.ml.svc.cluster.local:8000/x` -> `vllm` (what a Service name is)."""
    host = re.sub(r"^\w+://", "", name.strip().lower()).split("/")[0].split(":")[0]
    return host.split(".")[0]


@dataclass
class AiScope:
    patterns: list[str]
    services: set[str] = field(default_factory=set)  # first DNS labels of AI services
    hosts: set[str] = field(default_factory=set)  # hosts routed to an AI service

    def is_ai(self, target: str, derived: bool = True) -> bool:
        """Is `target` (a name, host, URL or path) an AI service? `derived` also counts hosts
        that some route sends to an AI service (right for a client URL, wrong for the other
        routes of the same host)."""
        t = target.strip().lower()
        if not t or t == GLOBAL:
            return False
        if t.startswith("/") or t.startswith("{}"):
            return bool(INFERENCE_PATH.search(t))
        host = re.sub(r"^\w+://", "", t)
        path = host[len(host.split("/")[0]):]
        host = host.split("/")[0].split(":")[0]
        if path and INFERENCE_PATH.search(path):
            return True
        return (host.split(".")[0] in self.services or (derived and host in self.hosts)
                or name_matches_patterns(host, self.patterns))

    def any_ai(self, targets: Iterable[str], derived: bool = True) -> bool:
        return any(self.is_ai(t, derived) for t in targets)


def ai_scope(project: Project, policy: Policy) -> AiScope:
    """The AI services of the scan: built once, shared by the resilience checks."""
    return project.derived("ai-scope", policy, lambda: _build_scope(project, policy))


def _build_scope(project: Project, policy: Policy) -> AiScope:
    scope = AiScope([p.lower() for p in policy.get("ai-service-patterns") or () if isinstance(p, str) and p])
    selected = pods_selected_by(ai_workloads(project, policy))
    for svc in project.all(Service):
        if selected(svc.selector):  # its selector picks an AI workload's pods
            scope.services.add(svc.name.lower())
    for route in project.all(Route):
        if scope.any_ai(route.destinations):
            scope.hosts.update(h.lower() for h in route.hosts if not h.startswith("/"))
    return scope


# --- SAI401-SAI403: retries ---------------------------------------------------------------


def retries(project: Project, policy: Policy) -> Iterator[Finding]:
    limit = _num(policy.get("max-retry-attempts"), 5)
    for r in project.all(RetryPolicy):
        where = r.attempts_location or r.location
        if r.attempts == math.inf:
            why = r.attempts_note or "the retry has no finite limit"
            yield Finding("SAI401", f"{r.surface}: unbounded retries — {why}; the policy allows at most {limit:g} attempts", where, subject=r.surface)
        elif r.attempts is not None and r.attempts > limit:
            extra = f" ({r.attempts_note})" if r.attempts_note else ""
            yield Finding("SAI401", f"{r.surface}: {r.attempts:g} retry attempts{extra}, above the policy's max-retry-attempts {limit:g}", where, subject=r.surface)
        if r.backoff in ("none", "fixed", "linear"):
            kind = {"none": "no delay", "fixed": "a constant delay", "linear": "a linearly growing delay"}[r.backoff]
            note = f" ({r.backoff_note})" if r.backoff_note else ""
            yield Finding("SAI402", f"{r.surface}: retries with {kind}{note}; use exponential backoff with jitter", r.backoff_location or r.location, subject=r.surface)
        if r.jitter is False and (r.backoff == "exponential" or (r.backoff == "" and r.surface == "config")):
            note = f" ({r.jitter_note})" if r.jitter_note else ""
            yield Finding("SAI403", f"{r.surface}: backoff without jitter{note}; synchronised clients retry in waves — add jitter", r.jitter_location or r.location, subject=r.surface)


# --- SAI404: timeouts ---------------------------------------------------------------------


def timeouts(project: Project, policy: Policy) -> Iterator[Finding]:
    limit_s = _num(policy.get("timeout-ms"), 5000) / 1000
    scope = ai_scope(project, policy)
    for t in project.all(Timeout):
        if t.seconds is None or t.seconds <= limit_s:
            continue
        routed = t.surface in ROUTE_SURFACES
        ai = t.ai or scope.any_ai(t.targets, derived=not routed)
        if not (t.always or ai):
            continue
        if ai:
            what = "a route to an AI service" if routed else "a call to an AI service"
        else:
            what = "an HTTP call"
        if t.seconds == math.inf:
            found = "has no timeout" + (f" ({t.note})" if t.note else "")
        elif t.note:
            found = f"has no explicit timeout ({t.note})"
        else:
            found = f"has a timeout of {_secs(t.seconds)}"
        yield Finding("SAI404", f"{t.surface}: {what} {found}; the policy's timeout-ms is {limit_s * 1000:g} ms", t.location, subject=t.surface)


# --- SAI405: circuit breakers -------------------------------------------------------------


def breakers(project: Project, policy: Policy) -> Iterator[Finding]:
    scope = ai_scope(project, policy)
    found = project.all(CircuitBreaker)
    app_level = any(not b.targets for b in found)
    covered = {_label(t) for b in found for t in b.targets}
    wildcard = any(t.startswith("*") for b in found for t in b.targets)
    rate_max = _num(policy.get("breaker-error-rate"), 5)
    window_max = parse_duration(policy.get("breaker-window")) or 60.0
    if not app_level and not wildcard:
        yield from _missing(project, scope, covered, f"{rate_max:g} % errors over {window_max:g} s")
    for b in found:
        if not b.targets or not scope.any_ai(b.targets, derived=False):
            continue
        if b.error_rate is not None and b.error_rate > rate_max:
            yield Finding("SAI405", f"{b.surface}: the breaker trips at {b.error_rate:g} % failures, laxer than the policy's {rate_max:g} %", b.error_rate_location or b.location)
        if b.enforcing == 0:
            yield Finding("SAI405", f"{b.surface}: enforcing_failure_percentage is 0, so failure-percentage ejection never happens", b.enforcing_location or b.location)
        elif b.enforcing is None and b.error_rate is not None:
            yield Finding("SAI405", f"{b.surface}: enforcing_failure_percentage is not set (Envoy default 0), so the failure-percentage threshold is never enforced", b.error_rate_location or b.location)
        if b.window is not None and b.window > window_max:
            yield Finding("SAI405", f"{b.surface}: outlier detection interval {_secs(b.window)} is longer than the policy's breaker-window {window_max:g} s", b.window_location or b.location)


def _missing(project: Project, scope: AiScope, covered: set[str], policy_text: str) -> Iterator[Finding]:
    """One finding per AI service without a breaker: at its Service, else its first route."""
    places: dict[str, Location] = {}
    for route in project.all(Route):  # a DestinationRule of the host is where the breaker goes
        if route.surface == "destinationrule":
            for dest in route.destinations:
                if scope.is_ai(dest, derived=False):
                    places.setdefault(_label(dest), route.location)
    for svc in project.all(Service):
        if scope.is_ai(svc.name, derived=False):
            places.setdefault(svc.name.lower(), svc.location)
    for route in project.all(Route):
        for dest in route.destinations:
            if scope.is_ai(dest, derived=False):
                places.setdefault(_label(dest), route.location)
    for name, where in sorted(places.items(), key=lambda item: (item[1], item[0])):
        if _label(name) in covered:
            continue
        yield Finding(
            "SAI405",
            f"AI service `{name}` has no circuit breaker: no DestinationRule outlierDetection for its host, "
            f"no Envoy cluster outlier_detection, no app-level breaker (the policy trips at {policy_text})",
            where, subject=name,
        )


# --- SAI406/SAI407: rate limits -----------------------------------------------------------


def rate_limits(project: Project, policy: Policy) -> Iterator[Finding]:
    scope = ai_scope(project, policy)
    limit = _num(policy.get("max-rps-per-key"), 200)
    routes = project.all(Route)
    has_ai = bool(scope.services or scope.hosts) or any(scope.any_ai(r.destinations) for r in routes)
    by_plugin: dict[str, list[Route]] = {}
    for route in routes:
        for plugin in route.plugins:
            by_plugin.setdefault(plugin, []).append(route)
    for rl in project.all(RateLimit):
        targets = list(rl.targets)
        for route in by_plugin.get(rl.name, ()) if rl.name else ():
            targets += [*route.hosts, *route.destinations]
        if not (scope.any_ai(targets) or (GLOBAL in targets and has_ai)):
            continue
        if rl.rps is not None and rl.rps > limit:
            yield Finding("SAI406", f"{rl.surface}: rate limit {rl.rps_written or rl.rps} allows {rl.rps:g} req/s on an AI route, above the policy's max-rps-per-key {limit:g}", rl.rps_location or rl.location)
        if rl.key in NOT_PER_KEY:
            how = "ingress-nginx limit-rps counts per client IP" if rl.surface == "ingress-nginx" else f"limited by {rl.key}"
            yield Finding("SAI407", f"{rl.surface}: the rate limit on an AI route is keyed by {NOT_PER_KEY[rl.key]} ({how}), not by API key / consumer / credential", rl.key_location or rl.location)


CHECKS = (
    Check(("SAI401", "SAI402", "SAI403"), retries),
    Check(("SAI404",), timeouts),
    Check(("SAI405",), breakers),
    Check(("SAI406", "SAI407"), rate_limits),
)
