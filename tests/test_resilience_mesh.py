"""SAI401-SAI407 on mesh, gateway, Envoy, nginx and app-config surfaces: what a user sees
(rule, path, line), near-misses included."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import hits, scan

from safeai_lint.discover import SourceFile
from safeai_lint.engine import analyze
from safeai_lint.facts import BodySizeLimit

FIXTURE = Path(__file__).parent / "fixtures" / "resilience" / "service-repo"

VS_TO = """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: front
spec:
  hosts: [front.example.com]
  http:
  - {timeout}route:
    - destination:
        host: {host}
"""

GPU_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: backend
spec:
  selector:
    matchLabels: {app: backend}
  template:
    metadata:
      labels: {app: backend}
    spec:
      containers:
      - name: server
        image: example.com/team/server:1.0
        resources:
          limits: {resources}
---
apiVersion: v1
kind: Service
metadata:
  name: backend
spec:
  selector: {app: backend}
  ports:
  - port: 80
"""


def sai4(result):
    return {h for h in hits(result) if h[0].startswith("SAI4")}


def test_fixture_service_repo_yields_exactly_the_expected_set(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "repo", ignore=shutil.ignore_patterns("expected.json"))
    result = scan(tmp_path / "repo")
    expected = {tuple(item) for item in json.loads((FIXTURE / "expected.json").read_text())}
    assert sai4(result) == expected


def test_service_selecting_a_gpu_workload_is_an_ai_service(repo):
    files = {
        "k8s/app.yaml": GPU_DEPLOYMENT.replace("{resources}", '{nvidia.com/gpu: 1, memory: 34Gi}'),
        "mesh/vs.yaml": VS_TO.format(timeout="", host="backend.default.svc.cluster.local"),
    }
    result = repo(files)
    assert ("SAI404", "mesh/vs.yaml", 8) in hits(result, "SAI404")
    assert hits(result, "SAI405") == {("SAI405", "k8s/app.yaml", 21)}


def test_same_service_without_gpu_is_not_judged(repo):
    files = {
        "k8s/app.yaml": GPU_DEPLOYMENT.replace("{resources}", "{memory: 1Gi}"),
        "mesh/vs.yaml": VS_TO.format(timeout="", host="backend.default.svc.cluster.local"),
    }
    result = repo(files)
    assert hits(result, "SAI404") == set()
    assert hits(result, "SAI405") == set()


def test_istio_durations_are_parsed_exactly(repo):
    for written, fires in (("5s", False), ("5000ms", False), ("0.5s", False), ("1m", True), ("5001ms", True), ("0s", True)):
        result = scan_one(repo, "mesh/vs.yaml", VS_TO.format(timeout=f"timeout: {written}\n    ", host="vllm"))
        assert bool(hits(result, "SAI404")) is fires, written


def scan_one(repo, path, text):
    return repo({path: text})


def test_destination_rule_for_the_host_is_a_breaker(repo):
    dr = """\
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: all
spec:
  host: "*.ml.svc.cluster.local"
  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 5, interval: 30s}
"""
    result = repo({"mesh/vs.yaml": VS_TO.format(timeout="timeout: 5s\n    ", host="vllm.ml.svc.cluster.local"),
                   "mesh/dr.yaml": dr})
    assert hits(result, "SAI405") == set()


def test_destination_rule_for_another_host_does_not_cover(repo):
    dr = """\
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: docs
spec:
  host: docs-site
  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 5}
"""
    result = repo({"mesh/vs.yaml": VS_TO.format(timeout="timeout: 5s\n    ", host="vllm"), "mesh/dr.yaml": dr})
    assert hits(result, "SAI405") == {("SAI405", "mesh/vs.yaml", 8)}


def test_envoy_zero_timeout_means_none(repo):
    envoy = """\
static_resources:
  listeners:
  - name: l
    filter_chains:
    - filters:
      - name: hcm
        typed_config:
          route_config:
            virtual_hosts:
            - name: v
              domains: ["*"]
              routes:
              - match: {prefix: "/"}
                route: {cluster: tgi, timeout: 0s}
              - match: {prefix: "/docs"}
                route: {cluster: docs, timeout: 60s}
  clusters:
  - name: tgi
    outlier_detection: {failure_percentage_threshold: 5, enforcing_failure_percentage: 100, interval: 60s}
"""
    result = repo({"envoy.yaml": envoy})
    assert hits(result, "SAI404") == {("SAI404", "envoy.yaml", 14)}
    assert hits(result, "SAI405") == set()


def test_envoyfilter_patch_is_read(repo):
    ef = """\
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: llm-outlier
spec:
  workloadSelector:
    labels: {app: vllm}
  configPatches:
  - applyTo: CLUSTER
    patch:
      operation: MERGE
      value:
        outlier_detection:
          failure_percentage_threshold: 20
          enforcing_failure_percentage: 100
"""
    # a CLUSTER patch holds one cluster's fields; its workload selector names the AI service
    assert hits(repo({"mesh/ef.yaml": ef}), "SAI405") == {("SAI405", "mesh/ef.yaml", 14)}


def test_envoyfilter_route_patch_with_retries(repo):
    ef = """\
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: llm-routes
spec:
  configPatches:
  - applyTo: ROUTE_CONFIGURATION
    patch:
      operation: MERGE
      value:
        virtual_hosts:
        - name: llm
          domains: [llm.example.com]
          routes:
          - match: {prefix: /}
            route:
              cluster: outbound|8000||vllm.ml.svc.cluster.local
              timeout: 120s
              retry_policy: {num_retries: 20}
"""
    result = repo({"mesh/ef.yaml": ef})
    assert hits(result, "SAI404") == {("SAI404", "mesh/ef.yaml", 18)}
    assert hits(result, "SAI401") == {("SAI401", "mesh/ef.yaml", 19)}


def test_linkerd_service_profile_and_annotations(repo):
    sp = """\
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: tgi.ml.svc.cluster.local
spec:
  routes:
  - name: POST /generate
    condition: {method: POST, pathRegex: /generate}
  - name: GET /health
    condition: {method: GET, pathRegex: /health}
    timeout: 2s
---
apiVersion: v1
kind: Service
metadata:
  name: embedder
  annotations:
    timeout.linkerd.io/request: 30s
    retry.linkerd.io/limit: "9"
spec:
  selector: {app: embedder}
"""
    result = repo({"mesh/linkerd.yaml": sp})
    assert hits(result, "SAI404") == {("SAI404", "mesh/linkerd.yaml", 7), ("SAI404", "mesh/linkerd.yaml", 18)}
    assert hits(result, "SAI401") == {("SAI401", "mesh/linkerd.yaml", 19)}


def test_ingress_nginx_bare_seconds_and_other_controllers(repo):
    ingress = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: llm
  annotations:
    nginx.ingress.kubernetes.io/proxy-read-timeout: "{value}"
spec:
  ingressClassName: {cls}
  defaultBackend:
    service:
      name: vllm
      port: {number: 8000}
"""
    ok = repo({"k8s/ing.yaml": ingress.replace("{value}", "5").replace("{cls}", "nginx")})
    assert hits(ok, "SAI404") == set()
    slow = scan(ok_root(ok), {"k8s/ing.yaml": ingress.replace("{value}", "6").replace("{cls}", "nginx")})
    assert hits(slow, "SAI404") == {("SAI404", "k8s/ing.yaml", 6)}


def ok_root(result):
    return Path(result.root)


def test_ingress_without_nginx_is_not_given_the_nginx_default(repo):
    ingress = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: llm
spec:
  ingressClassName: alb
  defaultBackend:
    service:
      name: vllm
      port: {number: 8000}
"""
    assert hits(repo({"k8s/ing.yaml": ingress}), "SAI404") == set()


def test_kong_global_plugin_judged_only_when_repo_serves_ai(repo):
    plugin = """\
apiVersion: configuration.konghq.com/v1
kind: KongClusterPlugin
metadata:
  name: edge-limit
  labels: {global: "true"}
plugin: rate-limiting
config:
  second: 1000
  limit_by: service
"""
    result = repo({"k8s/plugin.yaml": plugin})
    assert hits(result, "SAI406") == set() and hits(result, "SAI407") == set()
    result = scan(Path(result.root), {"mesh/vs.yaml": VS_TO.format(timeout="timeout: 5s\n    ", host="vllm")})
    assert hits(result, "SAI406") == {("SAI406", "k8s/plugin.yaml", 8)}
    assert hits(result, "SAI407") == {("SAI407", "k8s/plugin.yaml", 9)}


def test_nginx_conf_surfaces(repo):
    conf = """\
http {
  limit_req_zone $binary_remote_addr zone=one:10m rate=600r/m;
  server {
    server_name _;
    location /v1/completions {
      proxy_pass http://upstream_llm;
      proxy_next_upstream_tries 0;
    }
    location /static {
      proxy_read_timeout 5s;
      proxy_pass http://cdn;
    }
  }
}
"""
    result = repo({"deploy/nginx.conf": conf})
    assert hits(result, "SAI404") == {("SAI404", "deploy/nginx.conf", 6)}
    assert hits(result, "SAI401") == {("SAI401", "deploy/nginx.conf", 7)}
    assert hits(result, "SAI406") == set()  # 600 r/m is 10 r/s
    assert hits(result, "SAI407") == {("SAI407", "deploy/nginx.conf", 2)}


def test_body_size_limit_fact_for_sai504():
    root = Path(__file__).parent
    src = root / "fixtures" / "resilience" / "body-size.conf"
    facts = analyze(SourceFile("nginx.conf", str(src), "nginx"), 10**6).facts
    sizes = [f for f in facts if isinstance(f, BodySizeLimit)]
    assert [(s.limit_bytes, s.location.line) for s in sizes] == [(0.0, 2)]


def test_app_config_only_in_config_like_files(repo):
    text = "retry:\n  max_retries: 50\n"
    result = repo({
        "config/app.yaml": text,
        ".github/workflows/ci.yaml": "on: push\njobs: {}\nretry:\n  max_retries: 50\n",
        "docs/notes.yaml": text,
        "config/k8s.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  retries: '50'\n",
        "config/client.toml": "[llm]\ntimeout = 5\n\n[llm.retry]\nmax_attempts = 9\n",
        "config/client.json": '{"a": {"retries": 2}, "b": {"retries": 12}}\n',
    })
    assert hits(result, "SAI401") == {
        ("SAI401", "config/app.yaml", 2),
        ("SAI401", "config/client.toml", 5),
        ("SAI401", "config/client.json", 1),
    }


def test_wrong_types_never_crash_and_stay_silent(repo):
    weird = """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: [1, 2]
spec:
  hosts: llm
  http: "nope"
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: x}
spec:
  http:
  - retries: [1]
    timeout: {a: 1}
    route: 5
  - null
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  annotations: [a, b]
spec:
  rules: {a: 1}
---
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
plugin: rate-limiting
config: [1]
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
spec:
  host: [a]
  trafficPolicy: {outlierDetection: 5}
  subsets: 7
"""
    result = repo({"mesh/weird.yaml": weird, "envoy.yaml": "static_resources: {clusters: [1, {outlier_detection: 3}], listeners: 5}\n",
                   "kong.yml": "_format_version: '3'\nservices: {a: 1}\nplugins: [1, {name: rate-limiting, config: 5}]\n",
                   "nginx.conf": "http { limit_req_zone ; location { proxy_pass ; } } } {"})
    assert {h for h in sai4(result) if h[0] != "SAI404"} == set()
    assert not [f for f in result.findings if f.rule == "SAI002" and "internal error" in f.message]
