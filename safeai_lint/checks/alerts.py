"""SAI703 (a required alert is missing) and SAI704 (an alert on the right signal has the wrong
threshold, `for`, or severity).

Each alert's parsed comparisons are classified into the policy's signals (`vram`,
`latency-p99`, `error-rate-5xx`) by the metrics they compare; thresholds are normalised
(75 % = 0.75, 10000 ms = 10 s) before they are compared with the policy. The required alerts
of one signal are paired with that signal's alerts: exact matches first, then the closest
(same severity, nearest threshold); an unpaired requirement is SAI703, a paired one that
differs is SAI704 at the offending key.
"""
from __future__ import annotations

import math
import re
from typing import Any, Iterable

from ..facts import AlertRule, Location, PromComparison
from ..findings import Finding
from ..policy import Policy, parse_duration
from ..project import Project
from . import Check
from .observability import repo_anchor
from ..records import Frozen, record

_RATIO_NAME = re.compile(r"(?i)(ratio|perc|percent|fraction|util)")
_RATIO_SIGNALS = {"vram", "error-rate-5xx"}
_SIGNAL_TEXT = {"vram": "GPU VRAM", "latency-p99": "P99 inference latency", "error-rate-5xx": "5xx error rate"}


@record(slots=False)
class _Required(Frozen):
    key: str
    signal: str
    op: str
    threshold: float  # ratio for ratio signals, seconds for latency
    for_seconds: float | None
    for_text: str
    severity: str
    metrics: tuple[re.Pattern[str], ...]  # a metric name matching any of them carries the signal


@record(slots=False)
class _Candidate(Frozen):
    alert: AlertRule
    comparison: PromComparison
    value: float | None  # normalised threshold; None when its unit cannot be known


def _required(policy: Policy) -> list[_Required]:
    out = []
    signals = policy.get("alert-signals") or {}
    table = policy.get("required-alerts") or {}
    for key, spec in table.items() if isinstance(table, dict) else ():
        if not isinstance(spec, dict) or not isinstance(spec.get("signal"), str):
            continue
        signal = spec["signal"]
        raw = spec.get("threshold")
        if signal == "latency-p99":
            threshold = parse_duration(raw, bare_unit="ms")
        else:
            threshold = float(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) else None
            if threshold is not None and threshold > 1:
                threshold /= 100  # the policy wrote a percent
        if threshold is None:
            continue
        # the alert's own `metrics:`, else the policy's `alert-signals` for its signal
        patterns = spec.get("metrics")
        if not (isinstance(patterns, list) and patterns and all(isinstance(p, str) for p in patterns)):
            patterns = signals.get(signal) if isinstance(signals, dict) else None
        if not (isinstance(patterns, list) and patterns and all(isinstance(p, str) for p in patterns)):
            continue  # a signal we do not know how to recognise
        try:  # one by one: each may carry its own inline flags, like (?i)
            metrics = tuple(re.compile(p) for p in patterns)
        except re.error:
            continue  # the config validator reports it
        for_raw = spec.get("for")
        out.append(_Required(
            str(key), signal, str(spec.get("op") or ">"), threshold,
            parse_duration(for_raw) if for_raw is not None else None,
            str(for_raw) if for_raw is not None else "",
            str(spec.get("severity") or ""), metrics,
        ))
    return out


def _direction(op: str) -> str:
    return ">" if op in (">", ">=") else "<" if op in ("<", "<=") else op


def _normalised(req: _Required, c: PromComparison) -> float | None:
    if not c.scale:
        return None
    value = c.threshold / c.scale
    if req.signal in _RATIO_SIGNALS:
        return value / 100 if 1 < value <= 100 else value
    if req.signal == "latency-p99":
        if any("seconds" in m.lower() for m in c.metrics):
            return value
        if any(re.search(r"(?i)(_ms(_|$)|milliseconds)", m) for m in c.metrics):
            return value / 1000
        return None
    return value


def _fits(req: _Required, c: PromComparison) -> bool:
    """Is this comparison an alert on the requirement's signal, in its direction?"""
    if _direction(c.op) != _direction(req.op):
        return False
    if not any(pattern.search(m) for pattern in req.metrics for m in c.metrics):
        return False
    if req.signal == "vram":
        return c.ratio or c.scale == 100 or any(_RATIO_NAME.search(m) for m in c.metrics)
    if req.signal == "latency-p99":
        return c.quantile is not None and math.isclose(c.quantile, 0.99)
    if req.signal == "error-rate-5xx":
        return c.status_5xx and (c.ratio or any(_RATIO_NAME.search(m) for m in c.metrics))
    return True


def _mismatches(req: _Required, cand: _Candidate) -> list[tuple[str, str, Location]]:
    alert = cand.alert
    out = []
    if cand.value is not None and not math.isclose(cand.value, req.threshold, rel_tol=1e-6):
        out.append(("threshold", f"{_show(req, cand.value)} but the policy asks {req.op} {_show(req, req.threshold)}", cand.comparison.location))
    if req.for_seconds is not None:
        found = alert.for_seconds or 0.0
        if not math.isclose(found, req.for_seconds, abs_tol=1e-9):
            written = f"waits `for: {alert.for_text}`" if alert.for_text else "has no `for`, so it fires at the first evaluation"
            out.append(("for", f"{written}; the policy asks `for: {req.for_text}`", alert.for_location or alert.location))
    if req.severity and alert.severity.lower() != req.severity.lower():
        written = f"has `severity: {alert.severity}`" if alert.severity else "has no `severity` label"
        out.append(("severity", f"{written}; the policy asks `severity: {req.severity}`", alert.severity_location or alert.location))
    return out


def _show(req: _Required, value: float) -> str:
    if req.signal in _RATIO_SIGNALS:
        return f"{value * 100:g} % ({value:g})"
    if req.signal == "latency-p99":
        return f"{value * 1000:g} ms"
    return f"{value:g}"


def _pair(reqs: list[_Required], alerts: list[AlertRule]) -> tuple[list[tuple[_Required, _Candidate]], list[_Required]]:
    """Requirements paired with alerts (exact first, then closest), and the unpaired ones."""
    pools: dict[str, list[_Candidate]] = {}
    for req in reqs:
        pool = pools.setdefault(req.key, [])
        for alert in alerts:
            comparison = next((c for c in alert.comparisons if _fits(req, c)), None)
            if comparison is not None:
                pool.append(_Candidate(alert, comparison, _normalised(req, comparison)))
    used: set[int] = set()
    pairs: list[tuple[_Required, _Candidate]] = []
    pending = []
    for req in reqs:
        exact = next((c for c in pools[req.key] if id(c.alert) not in used and not _mismatches(req, c)), None)
        if exact is not None:
            used.add(id(exact.alert))
        else:
            pending.append(req)
    # the closest pairs first, across all pending requirements
    options = []
    for order, req in enumerate(pending):
        for cand in pools[req.key]:
            if id(cand.alert) not in used:
                distance = abs((cand.value if cand.value is not None else req.threshold) - req.threshold)
                options.append(((cand.alert.severity.lower() != req.severity.lower(), len(_mismatches(req, cand)), distance, order), req, cand))
    options.sort(key=lambda o: o[0])
    paired: set[str] = set()
    for _, req, cand in options:
        if req.key in paired or id(cand.alert) in used:
            continue
        paired.add(req.key)
        used.add(id(cand.alert))
        pairs.append((req, cand))
    missing = [req for req in pending if req.key not in paired]
    return pairs, missing


def _analysis(project: Project, policy: Policy) -> tuple[list[tuple[_Required, _Candidate]], list[_Required]]:
    alerts = [a for a in project.all(AlertRule) if a.parsed]
    return _pair(_required(policy), alerts)


def check_missing(project: Project, policy: Policy) -> Iterable[Finding]:
    anchor = repo_anchor(project, policy)
    if anchor is None:
        return
    where, what = anchor
    _, missing = _analysis(project, policy)
    for req in missing:
        for_text = f" for {req.for_text}" if req.for_text else ""
        severity = f" with severity {req.severity}" if req.severity else ""
        yield Finding(
            "SAI703",
            f"no alert rule covers required alert {req.key}: {_SIGNAL_TEXT.get(req.signal, req.signal)} {req.op} "
            f"{_show(req, req.threshold)}{for_text}{severity} (policy required-alerts); reported at {what}",
            where,
            subject=req.key,
        )


def check_mismatch(project: Project, policy: Policy) -> Iterable[Finding]:
    pairs, _ = _analysis(project, policy)
    for req, cand in pairs:
        for what, text, where in _mismatches(req, cand):
            yield Finding(
                "SAI704",
                f"alert {cand.alert.name} ({_SIGNAL_TEXT.get(req.signal, req.signal)}, closest to required alert {req.key}) {text}"
                if what != "threshold" else
                f"alert {cand.alert.name} ({_SIGNAL_TEXT.get(req.signal, req.signal)}, closest to required alert {req.key}) fires above {text}",
                where,
                subject=req.key,
            )


CHECKS: tuple[Any, ...] = (
    Check(("SAI703",), check_missing),
    Check(("SAI704",), check_mismatch),
)
