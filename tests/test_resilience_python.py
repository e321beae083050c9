"""SAI401-SAI405 in Python service code: import-aware, exact lines, near-misses."""
from __future__ import annotations

import pytest
from conftest import hits


def lines(result, rule):
    return sorted(line for _, _, line in hits(result, rule))


def run(repo, code, config=None):
    files = {"app/mod.py": code}
    if config:
        files[".safeai-lint.yaml"] = config
    return repo(files)


@pytest.mark.parametrize(
    "code, fires",
    [
        ("import tenacity as t\n\n@t.retry\ndef f(): pass\n", [3]),
        ("from tenacity import retry as again\n\n@again()\ndef f(): pass\n", [3]),
        ("import tenacity\n\nfor attempt in tenacity.Retrying(wait=tenacity.wait_random_exponential()):\n    pass\n", [3]),
        ("from tenacity.asyncio import AsyncRetrying\n\nr = AsyncRetrying(wait=None)\n", [3]),
        ("from tenacity import retry, stop_never\n\n@retry(stop=stop_never)\ndef f(): pass\n", [3]),
        ("from tenacity import retry, stop_after_attempt as n, stop_after_delay as d\n\n@retry(stop=n(9) | d(30))\ndef f(): pass\n", [3]),
        ("from tenacity import retry, stop_after_attempt as n, stop_after_delay as d\n\n@retry(stop=n(3) | d(30))\ndef f(): pass\n", []),
        ("from tenacity import retry, stop_after_attempt as n, stop_never\n\n@retry(stop=n(3) & stop_never)\ndef f(): pass\n", [3]),
        ("from tenacity import retry\n\n@retry(**OPTIONS)\ndef f(): pass\n", []),
        ("from tenacity import retry\n\n@retry(stop=STOP)\ndef f(): pass\n", []),
        ("import requests\n\ndef retry(fn):\n    return fn\n\n@retry\ndef f(): pass\n", []),
        ("import requests\nfrom mylib import retry\n\n@retry\ndef f(): pass\n", []),
        ("import backoff\n\n@backoff.on_predicate(backoff.fibo)\ndef f(): pass\n", [3]),
        ("import backoff\n\n@backoff.on_exception(backoff.expo, Exception, max_time=30)\ndef f(): pass\n", []),
        ("import backoff\n\n@backoff.on_exception(backoff.expo, Exception, max_tries=None)\ndef f(): pass\n", [3]),
        ("from anthropic import Anthropic\n\nc = Anthropic(max_retries=8)\n", [3]),
        ("from langchain_openai import ChatOpenAI\n\nm = ChatOpenAI(model='x', max_retries=12, timeout=5)\n", [3]),
        ("from langchain_openai import ChatOpenAI\n\nchain = ChatOpenAI(timeout=5).with_retry(stop_after_attempt=10)\n", [3]),
        ("from urllib3 import Retry\n\nr = Retry(backoff_factor=0.5, backoff_jitter=0.5)\n", [3]),
        ("from urllib3 import Retry\n\nr = Retry(connect=3, read=3, backoff_factor=0.5, backoff_jitter=0.5)\n", []),
    ],
)
def test_unbounded_retries(repo, code, fires):
    assert lines(run(repo, code), "SAI401") == fires


def test_policy_raises_the_retry_limit(repo):
    code = "from tenacity import retry, stop_after_attempt, wait_random_exponential\n\n@retry(stop=stop_after_attempt(10), wait=wait_random_exponential())\ndef f(): pass\n"
    assert lines(run(repo, code), "SAI401") == [3]
    assert lines(run(repo, code, "max-retry-attempts: 10\n"), "SAI401") == []


@pytest.mark.parametrize(
    "loop, fires",
    [
        # counter checked in the handler
        ("    n = 0\n    while True:\n        try:\n            return requests.post(URL, timeout=5)\n        except Exception:\n            n += 1\n            if n > 3:\n                raise\n", []),
        # deadline
        ("    start = time.monotonic()\n    while True:\n        try:\n            return requests.post(URL, timeout=5)\n        except Exception:\n            if time.monotonic() - start > 20:\n                raise\n", []),
        # the handler re-raises: not a retry
        ("    while True:\n        try:\n            return requests.post(URL, timeout=5)\n        except Exception:\n            raise\n", []),
        # success check is not an attempt bound
        ("    while True:\n        try:\n            r = client.chat.completions.create(model='m', messages=[])\n            if r.choices == 1:\n                return r\n        except Exception:\n            time.sleep(1)\n", [5]),
        # a worker loop moves on to the next item, it does not retry
        ("    while True:\n        try:\n            job = queue.get()\n            requests.post(URL, json=job, timeout=5)\n        except Exception:\n            log(job)\n", []),
        # a loop with no remote call
        ("    while True:\n        try:\n            return compute()\n        except Exception:\n            continue\n", []),
    ],
)
def test_while_true_retry_loops(repo, loop, fires):
    code = "import time\nimport requests\n\ndef f():\n" + loop
    assert lines(run(repo, code), "SAI401") == fires  # the `while` line


@pytest.mark.parametrize(
    "code, fires",
    [
        ("from tenacity import retry, stop_after_attempt, wait_incrementing\n\n@retry(stop=stop_after_attempt(3), wait=wait_incrementing(1))\ndef f(): pass\n", [3]),
        ("from tenacity import retry, stop_after_attempt, wait_fixed, wait_random\n\n@retry(stop=stop_after_attempt(3), wait=wait_fixed(1) + wait_random(0, 1))\ndef f(): pass\n", [3]),
        ("from tenacity import retry, stop_after_attempt, wait_chain, wait_fixed\n\n@retry(stop=stop_after_attempt(3), wait=wait_chain(wait_fixed(1), wait_fixed(5)))\ndef f(): pass\n", [3]),
        ("from tenacity import retry, stop_after_attempt, wait_random\n\n@retry(stop=stop_after_attempt(3), wait=wait_random(1, 3))\ndef f(): pass\n", []),
        ("from tenacity import retry, stop_after_attempt\n\n@retry(stop=stop_after_attempt(3), wait=my_wait)\ndef f(): pass\n", []),
        ("import requests\nfrom urllib3.util.retry import Retry\n\nr = Retry(total=3, backoff_factor=0)\n", [4]),
        ("import requests\nfrom urllib3.util.retry import Retry\n\nr = Retry(total=False)\n", []),
        ("import requests\nfrom urllib3.util.retry import Retry\n\nr = Retry(total=3, backoff_factor=FACTOR)\n", []),
    ],
)
def test_retry_without_backoff(repo, code, fires):
    assert lines(run(repo, code), "SAI402") == fires


@pytest.mark.parametrize(
    "code, fires",
    [
        ("from tenacity import retry, stop_after_attempt, wait_exponential, wait_combine\n\n@retry(stop=stop_after_attempt(3), wait=wait_combine(wait_exponential(), wait_exponential()))\ndef f(): pass\n", [3]),
        ("from tenacity import retry, stop_after_attempt, wait_exponential, wait_random\n\n@retry(stop=stop_after_attempt(3), wait=wait_exponential() + my_wait)\ndef f(): pass\n", []),
        ("from tenacity import retry, stop_after_attempt, wait_full_jitter\n\n@retry(stop=stop_after_attempt(3), wait=wait_full_jitter())\ndef f(): pass\n", []),
        ("import backoff\n\n@backoff.on_exception(backoff.expo, Exception, max_tries=3, jitter=backoff.random_jitter)\ndef f(): pass\n", []),
        ("import backoff\n\n@backoff.on_exception(backoff.constant, Exception, max_tries=3, jitter=None)\ndef f(): pass\n", []),
        ("from urllib3.util.retry import Retry\n\nr = Retry(total=3, backoff_factor=FACTOR)\n", []),
        ("from langchain_openai import ChatOpenAI\n\nc = ChatOpenAI(timeout=5).with_retry(stop_after_attempt=3, wait_exponential_jitter=False)\n", [3]),
    ],
)
def test_retry_without_jitter(repo, code, fires):
    assert lines(run(repo, code), "SAI403") == fires


@pytest.mark.parametrize(
    "code, fires",
    [
        ("import requests\n\nr = requests.post('http://vllm:8000/v1/completions', json={}, timeout=(3, 30))\n", [3]),
        ("import requests\n\nr = requests.post('http://vllm:8000/v1/completions', json={}, timeout=(3, 5))\n", []),
        ("import requests\n\nr = requests.post('http://vllm:8000/v1/completions', json={}, timeout=None)\n", [3]),
        ("import requests\n\nr = requests.get('http://docs/page', timeout=None)\n", [3]),
        ("import requests\n\nr = requests.get('http://docs/page', timeout=60)\n", []),
        ("import requests as rq\n\nr = rq.request('POST', 'http://x/v1/embeddings', json={})\n", [3]),
        ("import requests\n\nr = requests.get(url, **kwargs)\n", []),
        ("import requests\n\ns = requests.Session()\nr = s.post('http://tgi:80/generate', json={}, timeout=60)\n", [4]),
        ("import requests\n\ns = requests.Session()\nr = s.post('http://docs:80/page', json={}, timeout=60)\n", []),
        ("import httpx\n\nc = httpx.Client(base_url='http://vllm:8000', timeout=httpx.Timeout(60.0, connect=2.0))\n", [3]),
        ("import httpx\n\nc = httpx.AsyncClient(base_url='http://vllm:8000')\n", []),
        ("import aiohttp\n\ns = aiohttp.ClientSession(base_url='http://vllm:8000')\n", [3]),
        ("import aiohttp\n\ns = aiohttp.ClientSession(base_url='http://vllm:8000', timeout=aiohttp.ClientTimeout(total=5))\n", []),
        ("from openai import AsyncOpenAI\nimport httpx\n\nc = AsyncOpenAI(timeout=httpx.Timeout(30.0))\n", [4]),
        ("from openai import AzureOpenAI\n\nc = AzureOpenAI(timeout=5)\n", []),
        ("import openai\n\nc = openai.OpenAI()\n\ndef ask(m):\n    return c.chat.completions.create(model='x', messages=m, timeout=5)\n", []),
        ("import openai\n\nc = openai.OpenAI()\n\ndef ask(m):\n    return c.chat.completions.create(model='x', messages=m, timeout=60)\n", [6]),
        ("from anthropic import Anthropic\n\nc = Anthropic()\n", []),
        ("from anthropic import Anthropic\n\nc = Anthropic(timeout=120)\n", [3]),
        ("from langchain_openai import ChatOpenAI\n\nm = ChatOpenAI(request_timeout=60)\n", [3]),
        ("BASE = 'http://llm-gateway:8080'\nimport httpx\n\nr = httpx.post(BASE + '/chat', json={}, timeout=30)\n", [4]),
        ("import httpx\n\nr = httpx.post(f'{BASE}/v1/completions', json={}, timeout=30)\n", [3]),
    ],
)
def test_inference_timeouts(repo, code, fires):
    assert lines(run(repo, code), "SAI404") == fires


def test_app_level_breaker_covers_ai_services(repo):
    service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: vllm\nspec:\n  selector: {app: vllm}\n"
    assert hits(repo({"k8s/svc.yaml": service}), "SAI405") == {("SAI405", "k8s/svc.yaml", 4)}
    result = repo({"k8s/svc.yaml": service, "app/mod.py": "from circuitbreaker import circuit\n\n@circuit\ndef call(): pass\n"})
    assert hits(result, "SAI405") == set()


def test_syntax_error_does_not_stop_the_scan(repo):
    result = repo({"app/bad.py": "import requests\ndef (:\n", "app/good.py": "import requests\nrequests.get('http://x')\n"})
    assert ("SAI404", "app/good.py", 2) in hits(result, "SAI404")
