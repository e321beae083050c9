"""Prometheus objects: alerting and recording rules (PrometheusRule CRDs and plain rule files
with `groups:`), ServiceMonitor/PodMonitor, and deployed dcgm-exporters.

Alert expressions are read with a real PromQL parser (`promql-parser`); an expression it
cannot parse yields an `AlertRule` with `parsed=False`, and no rule judges it.
"""
from __future__ import annotations

import dataclasses

import re
from typing import Any, Iterable

from ..facts import AlertRule, DcgmExporter, LabelSelector, Location, MetricExport, MetricsMonitor, PromComparison
from ..policy import parse_duration
from ..sources.base import SourceText
from ..sources.yaml import YList, YMap

_COMPARISONS = {">": ">", ">=": ">=", "<": "<", "<=": "<=", "==": "==", "!=": "!="}
_FLIPPED = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "!=": "!="}
_STATUS_LABELS = {"code", "status", "status_code", "response_code", "http_status", "status_class", "http_code", "response_status"}
_COMPARISON_TEXT = re.compile(r"(>=|<=|==|!=|>|<)\s*(?:bool\s+)?(-?[0-9][0-9.eE+_]*|\.[0-9]+)")


def rules_and_monitors(src: SourceText) -> Iterable[object]:
    facts: list[object] = []
    for doc in src.yaml_documents():
        root = doc.value
        if not isinstance(root, YMap):
            continue
        kind = root.get("kind")
        spec = root.get("spec")
        if kind == "PrometheusRule" and isinstance(spec, YMap):
            facts.extend(_groups(src, spec.get("groups")))
        elif kind is None and "groups" in root and "apiVersion" not in root:
            facts.extend(_groups(src, root.get("groups")))
        elif kind in ("ServiceMonitor", "PodMonitor") and isinstance(spec, YMap):
            facts.append(_monitor(src, root, kind, spec))
        elif kind in ("PodMonitoring", "ClusterPodMonitoring") and isinstance(spec, YMap):
            # Google Managed Prometheus: pod scrape configs, namespaced or cluster-wide
            monitor = _monitor(src, root, "PodMonitor", spec)
            if kind == "ClusterPodMonitoring":
                monitor = dataclasses.replace(monitor, any_namespace=True)
            facts.append(monitor)
        elif kind is None and "apiVersion" not in root and _gpu_operator_values_enable_dcgm(root):
            facts.append(DcgmExporter(src.loc(root.key_pos("dcgmExporter"))))
        if kind == "ClusterPolicy" and isinstance(spec, YMap):
            dcgm = spec.get("dcgmExporter")
            # the GPU Operator deploys dcgm-exporter unless told not to
            if not (isinstance(dcgm, YMap) and dcgm.get("enabled") is False):
                facts.append(DcgmExporter(src.loc(root.key_pos("kind"))))
        facts.extend(_dcgm_images(src, root))
    return facts


# --- rules --------------------------------------------------------------------------------


def _groups(src: SourceText, groups: Any) -> Iterable[object]:
    if not isinstance(groups, YList):
        return
    for group in groups:
        rules = group.get("rules") if isinstance(group, YMap) else None
        if not isinstance(rules, YList):
            continue
        for rule in rules:
            if not isinstance(rule, YMap):
                continue
            record, alert = rule.get("record"), rule.get("alert")
            if isinstance(record, str) and record:
                yield MetricExport(record, "recording-rule", "recording-rule", src.loc(rule.value_pos("record")))
            elif isinstance(alert, str) and alert:
                yield _alert(src, rule, alert)


def _alert(src: SourceText, rule: YMap, name: str) -> AlertRule:
    expr = rule.get("expr")
    expr_text = str(expr) if isinstance(expr, (str, int, float)) and not isinstance(expr, bool) else ""
    expr_pos = rule.value_pos("expr") if "expr" in rule else rule.key_pos("alert")
    comparisons = analyse(expr_text, src, expr_pos[0], expr_pos[2]) if expr_text else None
    for_value = rule.get("for")
    for_text = str(for_value) if for_value is not None and not isinstance(for_value, (YMap, YList)) else ""
    for_seconds = parse_duration(for_text) if for_text else None
    labels = rule.get("labels")
    severity, severity_loc = "", None
    if isinstance(labels, YMap) and isinstance(labels.get("severity"), str):
        severity, severity_loc = labels["severity"], src.loc(labels.value_pos("severity"))
    return AlertRule(
        name=name,
        expr=expr_text,
        location=src.loc(rule.value_pos("alert")),
        expr_location=src.loc(expr_pos),
        for_seconds=for_seconds if for_text else None,
        for_text=for_text,
        for_location=src.loc(rule.value_pos("for")) if for_text else None,
        severity=severity,
        severity_location=severity_loc,
        comparisons=comparisons or (),
        parsed=comparisons is not None,
    )


def analyse(expr: str, src: SourceText, first_line: int = 1, last_line: int = 1) -> tuple[PromComparison, ...] | None:
    """Every comparison with a number in a PromQL expression; None when it does not parse."""
    try:
        import promql_parser
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    try:
        tree = promql_parser.parse(expr)
    except Exception:  # noqa: BLE001 - the parser raises ValueError, and worse on odd input
        return None
    found: list[PromComparison] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        name = type(node).__name__
        if name == "BinaryExpr":
            op = str(node.op)
            if op in _COMPARISONS:
                comparison = _comparison(node, op, src, first_line, last_line)
                if comparison:
                    found.append(comparison)
            stack.extend((node.rhs, node.lhs))
        else:
            stack.extend(reversed(_children(node)))
    return tuple(found)


def _children(node: Any) -> list[Any]:
    name = type(node).__name__
    if name in ("ParenExpr", "UnaryExpr", "SubqueryExpr"):
        return [node.expr]
    if name == "AggregateExpr":
        return [node.expr]
    if name == "Call":
        return list(node.args)
    if name == "MatrixSelector":
        return [node.vector_selector]
    if name == "BinaryExpr":
        return [node.lhs, node.rhs]
    return []


def _number(node: Any) -> float | None:
    name = type(node).__name__
    if name == "NumberLiteral":
        return float(node.val)
    if name == "ParenExpr":
        return _number(node.expr)
    if name == "UnaryExpr":
        inner = _number(node.expr)
        return -inner if inner is not None else None
    return None


def _comparison(node: Any, op: str, src: SourceText, first: int, last: int) -> PromComparison | None:
    right, left = _number(node.rhs), _number(node.lhs)
    if right is not None and left is None:
        side, threshold = node.lhs, right
    elif left is not None and right is None:
        side, threshold, op = node.rhs, left, _FLIPPED[op]
    else:
        return None
    metrics: list[str] = []
    status = False
    quantile: float | None = None
    ratio = False
    stack = [side]
    while stack:
        item = stack.pop()
        kind = type(item).__name__
        if kind == "VectorSelector":
            matchers = list(item.matchers.matchers)
            metric = item.name or next((m.value for m in matchers if m.name == "__name__"), "")
            if metric:
                metrics.append(metric)
                status = status or "5xx" in metric.lower()
            for m in matchers:
                if m.name in _STATUS_LABELS and m.value.lstrip("^(").startswith("5") and "not" not in str(m.op).lower() and "!" not in str(m.op):
                    status = True
                if m.name == "quantile" and quantile is None:
                    quantile = _float(m.value)
        elif kind == "Call" and item.func.name in ("histogram_quantile", "quantile_over_time") and item.args and quantile is None:
            quantile = _number(item.args[0])
        elif kind == "AggregateExpr" and str(item.op) == "quantile" and item.param is not None and quantile is None:
            quantile = _number(item.param)
        elif kind == "BinaryExpr" and str(item.op) == "/" and _number(item.lhs) is None and _number(item.rhs) is None:
            ratio = True
        stack.extend(_children(item))
    return PromComparison(op, threshold, tuple(dict.fromkeys(metrics)), _scale(side), ratio, quantile, status, _location_of(src, threshold, first, last))


def _scale(side: Any) -> float:
    """The factor a side is multiplied by at its top (`(a/b) * 100` -> 100, `x / 1000` -> 0.001)."""
    factor = 1.0
    node = side
    for _ in range(20):
        kind = type(node).__name__
        if kind == "ParenExpr":
            node = node.expr
            continue
        if kind != "BinaryExpr" or str(node.op) not in ("*", "/"):
            break
        right, left = _number(node.rhs), _number(node.lhs)
        if right is not None and left is None:
            if str(node.op) == "*":
                factor *= right
            elif right:
                factor /= right
            node = node.lhs
        elif left is not None and right is None and str(node.op) == "*":
            factor *= left
            node = node.rhs
        else:
            break
    return factor


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _location_of(src: SourceText, threshold: float, first: int, last: int) -> Location:
    """Where `<op> threshold` is written inside the expression span (else its first line)."""
    for line in range(first, max(first, last) + 1):
        for match in _COMPARISON_TEXT.finditer(src.line_text(line)):
            value = _float(match.group(2).replace("_", ""))
            if value is not None and abs(value - threshold) <= 1e-9 * max(1.0, abs(threshold)):
                return src.find_loc(line, match.group(0))
    return src.line_loc(first)


# --- monitors and dcgm-exporter -----------------------------------------------------------


def label_selector(raw: Any) -> LabelSelector:
    """A LabelSelector from `{matchLabels, matchExpressions}`; a missing one selects all."""
    if not isinstance(raw, dict):
        return LabelSelector()
    labels = raw.get("matchLabels")
    pairs = tuple(sorted((str(k), str(v)) for k, v in labels.items())) if isinstance(labels, dict) else ()
    exprs = []
    for item in raw.get("matchExpressions") or () if isinstance(raw.get("matchExpressions"), list) else ():
        if isinstance(item, dict) and isinstance(item.get("key"), str) and isinstance(item.get("operator"), str):
            values = item.get("values")
            vals = tuple(str(v) for v in values) if isinstance(values, list) else ()
            exprs.append((item["key"], item["operator"], vals))
    return LabelSelector(pairs, tuple(exprs))


def _monitor(src: SourceText, root: YMap, kind: str, spec: YMap) -> MetricsMonitor:
    meta = root.get("metadata")
    name = str(meta.get("name", "")) if isinstance(meta, YMap) else ""
    namespace = str(meta.get("namespace") or "") if isinstance(meta, YMap) else ""
    ns_sel = spec.get("namespaceSelector")
    any_ns = isinstance(ns_sel, YMap) and ns_sel.get("any") is True
    names: tuple[str, ...] = ()
    if isinstance(ns_sel, YMap) and isinstance(ns_sel.get("matchNames"), YList):
        names = tuple(str(n) for n in ns_sel["matchNames"])
    loc: Location = src.loc(meta.value_pos("name")) if isinstance(meta, YMap) and "name" in meta else src.loc(root.key_pos("kind"))
    return MetricsMonitor(kind, name, namespace, label_selector(spec.get("selector")), names, any_ns, loc)


def _gpu_operator_values_enable_dcgm(root: YMap) -> bool:
    """gpu-operator Helm values (a `driver:`/`toolkit:`/`devicePlugin:` section beside
    `dcgmExporter:`) that leave the DCGM exporter enabled (the chart's default)."""
    dcgm = root.get("dcgmExporter")
    if not isinstance(dcgm, YMap) or not any(k in root for k in ("driver", "toolkit", "devicePlugin", "operator")):
        return False
    return dcgm.get("enabled") is not False


def _dcgm_images(src: SourceText, root: YMap) -> Iterable[DcgmExporter]:
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, YMap):
            for key, value in node.items():
                if key in ("image", "repository", "name") and isinstance(value, str) and "dcgm-exporter" in value:
                    if key != "name" or node.get("repository") is not None or "version" in node:  # Chart.yaml dependency
                        yield DcgmExporter(src.loc(node.value_pos(key)))
                        return
                elif isinstance(value, (YMap, YList)):
                    stack.append(value)
        elif isinstance(node, YList):
            stack.extend(v for v in node if isinstance(v, (YMap, YList)))
