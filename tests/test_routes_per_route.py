"""Routes judged per route (Envoy, nginx) and Python calls whose URL is built from variables,
shared HTTP sessions, and load-test / benchmark code (SAI404)."""
from __future__ import annotations

from conftest import hits

ENVOY = """\
static_resources:
  listeners:
    - name: main
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                route_config:
                  virtual_hosts:
                    - name: api
                      domains: ["api.example.com"]
                      routes:
                        - match: {prefix: "/v1/"}
                          route: {cluster: vllm, timeout: 60s}
                        - match: {prefix: "/auth"}
                          route: {cluster: auth, timeout: 60s}
  clusters:
    - name: vllm
      outlier_detection: {consecutive_5xx: 5, interval: 10s, failure_percentage_threshold: 5, enforcing_failure_percentage: 100}
    - name: auth
"""


def test_an_envoy_route_to_a_non_ai_cluster_is_not_an_ai_route(repo):
    assert hits(repo({"envoy.yaml": ENVOY}), "SAI404") == {("SAI404", "envoy.yaml", 14)}


NGINX = """\
http {
  server {
    listen 80;
    proxy_read_timeout 300s;
    location /v1/chat/completions {
      proxy_read_timeout 5s;
      proxy_pass http://vllm:8000;
    }
    location /static {
      proxy_pass http://files:8080;
    }
  }
  server {
    listen 81;
    proxy_read_timeout 120s;
    location / {
      proxy_pass http://llm-gateway:8000;
    }
  }
}
"""


def test_an_nginx_timeout_is_judged_with_the_proxies_it_governs(repo):
    assert hits(repo({"nginx.conf": NGINX}), "SAI404") == {("SAI404", "nginx.conf", 15)}


URLS = '''\
import aiohttp
import requests
from urllib.parse import urljoin

BASE = "http://inference-gateway:8000"
CHAT = f"{BASE}/v1/chat/completions"


def chat(payload, base):
    requests.post(CHAT, json=payload, timeout=30)
    url = f"{base}/v1/completions"
    requests.post(url, json=payload, timeout=60)
    requests.post(urljoin(BASE, "/generate"), json=payload, timeout=45)
    requests.get(urljoin(base, "/healthz"), timeout=30)


async def stream(payload):
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as session:
        async with session.post(f"{BASE}/v1/chat/completions", json=payload) as r:
            return await r.json()


async def health():
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        return await session.get("http://files:8080/ping")
'''


def test_calls_whose_url_is_built_from_variables(repo):
    assert hits(repo({"client.py": URLS}), "SAI404") == {
        ("SAI404", "client.py", 10), ("SAI404", "client.py", 12), ("SAI404", "client.py", 13),
        ("SAI404", "client.py", 18),
    }


def test_load_tests_and_benchmarks_are_not_service_clients(repo):
    result = repo({"load_tests/locustfile.py": URLS, "benchmarks/run.py": URLS, "perf/bench.py": URLS, "app/client.py": URLS})
    assert {p for _, p, _ in hits(result, "SAI404")} == {"app/client.py"}
