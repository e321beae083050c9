"""SAI701-SAI704: scrape paths, required metrics, required alerts and their thresholds."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import hits, scan
from safeai_lint.engine import lint
from safeai_lint.extract.prometheus import analyse
from safeai_lint.sources.base import SourceText

FIXTURE = Path(__file__).parent / "fixtures" / "observability" / "service"
MINE = ["SAI503", "SAI504", "SAI604", "SAI701", "SAI702", "SAI703", "SAI704", "SAI801", "SAI802"]

DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: genai-assistant
spec:
  selector:
    matchLabels: {app: genai}
  template:
    metadata:
      labels: {app: genai}
      annotations: {prometheus.io/scrape: "true"}
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.4.0
          resources:
            limits: {nvidia.com/gpu: 1}
"""


def _fixture(tmp_path: Path, drop: tuple[str, ...] = ()) -> set[tuple[str, str, int]]:
    target = tmp_path / "service"
    shutil.copytree(FIXTURE, target, ignore=shutil.ignore_patterns("expected-*.json"))
    for rel in drop:
        (target / rel).unlink()
    return hits(lint([str(target)], cwd=target, select=MINE))


def test_fixture_service_yields_exactly_the_expected_set(tmp_path):
    expected = {tuple(x) for x in json.loads((FIXTURE / "expected-observability.json").read_text())}
    assert _fixture(tmp_path) == expected


def test_removing_the_servicemonitor_adds_exactly_one_sai701(tmp_path):
    expected = {tuple(x) for x in json.loads((FIXTURE / "expected-observability.json").read_text())}
    got = _fixture(tmp_path, drop=("k8s/servicemonitor.yaml",))
    assert got - expected == {("SAI701", "k8s/deployment.yaml", 4)}
    assert expected <= got


def _comparisons(expr: str):
    src = SourceText("r.yaml", "yaml", f"expr: {expr}\n")
    return analyse(expr, src, 1, 1)


def test_promql_comparison_normalised_and_described():
    (c,) = _comparisons("0.9 < sum(DCGM_FI_DEV_FB_USED) / sum(DCGM_FI_DEV_FB_TOTAL)")
    assert (c.op, c.threshold, c.ratio, c.scale) == (">", 0.9, True, 1.0)
    (c,) = _comparisons("histogram_quantile(0.99, sum by (le) (rate(lat_seconds_bucket[5m]))) * 1000 > 10000")
    assert (c.quantile, c.scale, c.metrics) == (0.99, 1000.0, ("lat_seconds_bucket",))
    (c,) = _comparisons('sum(rate(req_total{code=~"5.."}[5m])) / sum(rate(req_total[5m])) * 100 > 2')
    assert c.status_5xx and c.scale == 100.0
    (c,) = _comparisons('sum(rate(req_total{code!~"5.."}[5m])) > 2')
    assert not c.status_5xx


def test_unparseable_expression_is_silent():
    assert _comparisons("sum(rate(x[5m]) >") is None


def test_alert_rule_with_broken_expr_counts_for_nothing(tmp_path):
    rules = """groups:
  - name: g
    rules:
      - alert: VramHigh
        expr: DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE) >>> 0.8
        for: 3m
"""
    result = scan(tmp_path, {"k8s/deploy.yaml": DEPLOY, "rules.yaml": rules}, select=["SAI703", "SAI704"])
    assert hits(result) == {("SAI703", "k8s/deploy.yaml", 4)}
    assert len([f for f in result.findings if f.rule == "SAI703"]) == 4


def test_missing_for_is_reported_at_the_alert_name(tmp_path):
    rules = """groups:
  - name: g
    rules:
      - alert: VramCritical
        expr: gpu_memory_used_bytes / gpu_memory_total_bytes > 0.9
        labels: {severity: critical}
"""
    result = scan(tmp_path, {"rules.yaml": rules}, select=["SAI704"])
    (finding,) = result.findings
    assert (finding.location.line, finding.rule) == (4, "SAI704")
    assert "first evaluation" in finding.message and "30s" in finding.message


def test_repo_level_findings_can_be_suppressed_at_the_anchor(tmp_path):
    deploy = DEPLOY.replace("  name: genai-assistant\n", "  # safeai-lint: ignore[SAI702] -- GPU metrics come from the platform team's exporter\n  name: genai-assistant\n")
    result = scan(tmp_path, {"k8s/deploy.yaml": deploy}, select=["SAI702"])
    assert hits(result) == set()


def test_dcgm_names_count_only_with_a_dcgm_exporter(tmp_path):
    rules = """groups:
  - name: g
    rules:
      - record: token_generation_latency_ms
        expr: x
      - record: kv_cache_utilization_ratio
        expr: y
"""
    without = scan(tmp_path / "a", {"k8s/deploy.yaml": DEPLOY, "rules.yaml": rules}, select=["SAI702"])
    missing = sorted(f.subject for f in without.findings)
    assert missing == ["gpu_memory_used_bytes", "gpu_temperature_celsius", "gpu_utilization_percentage"]
    assert "DCGM_FI_DEV_FB_USED" in next(f.message for f in without.findings if f.subject == "gpu_memory_used_bytes")
    helm = "dependencies:\n  - name: dcgm-exporter\n    version: 3.4.0\n    repository: https://nvidia.github.io/dcgm-exporter/helm-charts\n"
    with_dcgm = scan(tmp_path / "b", {"k8s/deploy.yaml": DEPLOY, "rules.yaml": rules, "chart/Chart.yaml": helm}, select=["SAI702"])
    assert hits(with_dcgm) == set()


def test_python_inference_service_anchor_and_dynamic_namespace(tmp_path):
    app = """import os
from fastapi import FastAPI
from prometheus_client import Gauge
NS = os.environ["METRICS_NS"]

app = FastAPI()
a = Gauge("gpu_utilization_percentage", "x")
b = Gauge("memory_used_bytes", "x", namespace=NS)
c = Gauge("gpu_temperature_celsius", "x")
d = Gauge("token_generation_latency_ms", "x")
LLM_URL = os.environ.get("LLM_URL", "http://vllm-server:8000/v1")
"""
    result = scan(tmp_path, {"svc/main.py": app}, select=["SAI702"])
    assert hits(result) == {("SAI702", "svc/main.py", 6)}
    assert [f.subject for f in result.findings] == ["kv_cache_utilization_ratio"]


def test_web_app_without_ai_is_not_an_inference_service(tmp_path):
    app = "from fastapi import FastAPI\nimport httpx\napp = FastAPI()\nURL = 'http://billing:8080'\n"
    assert hits(scan(tmp_path, {"svc/main.py": app}, select=["SAI702", "SAI703"])) == set()


def test_servicemonitor_in_another_namespace_does_not_match(tmp_path):
    deploy = DEPLOY.replace("  name: genai-assistant\n", "  name: genai-assistant\n  namespace: ai\n", 1).replace(
        '      annotations: {prometheus.io/scrape: "true"}\n', "")
    service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: genai\n  namespace: ai\n  labels: {app: genai}\nspec:\n  selector: {app: genai}\n"
    monitor = ("apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: m\n  namespace: monitoring\n"
               "spec:\n  selector:\n    matchLabels: {app: genai}\n  endpoints: [{port: http}]\n")
    result = scan(tmp_path, {"k8s/deploy.yaml": deploy, "k8s/svc.yaml": service, "k8s/mon.yaml": monitor}, select=["SAI701"])
    assert hits(result) == {("SAI701", "k8s/deploy.yaml", 4)}
    anywhere = monitor.replace("spec:\n", "spec:\n  namespaceSelector: {any: true}\n")
    (tmp_path / "k8s/mon.yaml").write_text(anywhere)
    assert hits(lint([str(tmp_path)], cwd=tmp_path, select=["SAI701"])) == set()
