"""Python service code: tokenizer calls (SAI503), CUDA cache release (SAI604), and the facts
other rules read (metrics, token-budget constants, web apps)."""
from __future__ import annotations

from conftest import hits, scan
from safeai_lint.extract.python_code import extract
from safeai_lint.facts import MetricExport, TokenBudget, TokenizerCall, WebApp
from safeai_lint.sources.base import SourceText

# A Python inference service (a web app beside code that generates): SAI503 judges only its code.
SERVICE = {"app.py": "from fastapi import FastAPI\napp = FastAPI()\n\n\ndef answer(model, ids):\n    return model.generate(ids)\n"}


def facts(text: str, path: str = "m.py") -> list[object]:
    return list(extract(SourceText(path, "python", text)))


def test_metric_names_joined_like_prometheus_client():
    code = """from prometheus_client import Counter, Gauge, Histogram as H
import prometheus_client as pc
a = Gauge("utilization_percentage", "x", namespace="gpu")
b = H("latency", "x", namespace="token", subsystem="generation", unit="ms")
c = Counter("requests_total", "x")
d = pc.Summary("kv_cache_utilization", "x", unit="ratio")
e = Gauge(name="temperature_celsius", documentation="x", namespace="gpu", unit="celsius")
"""
    names = [f.name for f in facts(code) if isinstance(f, MetricExport)]
    assert names == ["gpu_utilization_percentage", "token_generation_latency_ms", "requests",
                     "kv_cache_utilization_ratio", "gpu_temperature_celsius"]


def test_odd_arguments_never_crash_and_yield_nothing_unknown():
    code = """from prometheus_client import Gauge
from transformers import AutoTokenizer
tok = AutoTokenizer.from_pretrained(None)
Gauge(123, "x")
Gauge(f"{x}_util", "x")
Gauge()
tok(**kwargs)
tok(text, truncation=flag)
tok(text, truncation=True, max_length=cfg.n)
"""
    got = facts(code)
    assert not [f for f in got if isinstance(f, MetricExport)]
    calls = [f for f in got if isinstance(f, TokenizerCall)]
    assert [(c.truncation, c.max_length_known) for c in calls] == [(None, False), (None, True), (True, False)]


def test_token_budget_constants_exposed_for_sai502():
    code = "import torch\nMAX_INPUT_TOKENS = 8 * 1024\nmax_prompt_tokens: int = 2048\nOTHER = 5\n"
    assert [(f.name, f.value) for f in facts(code) if isinstance(f, TokenBudget)] == [("MAX_INPUT_TOKENS", 8192), ("max_prompt_tokens", 2048)]


def test_settings_module_with_only_constants_is_read():
    assert [f.value for f in facts("MAX_INPUT_TOKENS = 16384\n") if isinstance(f, TokenBudget)] == [16384]


def test_web_apps_resolved_through_aliases():
    code = "import flask as fl\nfrom aiohttp import web\nimport grpc\na = fl.Flask(__name__)\nb = web.Application()\nc = grpc.server(None)\n"
    assert [f.framework for f in facts(code) if isinstance(f, WebApp)] == ["Flask", "aiohttp", "gRPC"]


def test_tokenizer_variable_max_length_from_constant(tmp_path):
    code = """from transformers import AutoTokenizer
LIMIT = 8192
tok = AutoTokenizer.from_pretrained("m")
def f(t):
    return tok(t, truncation=True, max_length=LIMIT)
"""
    assert hits(scan(tmp_path, {"a.py": code, **SERVICE}, select=["SAI503"])) == {("SAI503", "a.py", 5)}


def test_tokenizer_from_another_module_is_not_guessed(tmp_path):
    code = "from transformers import pipeline\nfrom .model import tokenizer\n\ndef f(t):\n    return tokenizer(t)\n"
    assert hits(scan(tmp_path, {"svc/a.py": code, **SERVICE}, select=["SAI503"])) == set()


def test_len_of_encoded_ids_in_module_silences_sai503(tmp_path):
    code = """from transformers import AutoTokenizer
tok = AutoTokenizer.from_pretrained("m")
def f(t):
    enc = tok(t)
    if len(enc.input_ids) > 4096:
        raise ValueError
    return enc
"""
    assert hits(scan(tmp_path, {"a.py": code, **SERVICE}, select=["SAI503"])) == set()


def test_word_count_is_not_a_token_count(tmp_path):
    code = """from transformers import AutoTokenizer
tok = AutoTokenizer.from_pretrained("m")
def f(t):
    if len(t.split()) > 3000:
        raise ValueError
    return tok(t)
"""
    assert hits(scan(tmp_path, {"a.py": code, **SERVICE}, select=["SAI503"])) == {("SAI503", "a.py", 6)}


def test_sai604_grpc_servicer_and_helper_called_by_a_handler(tmp_path):
    code = """import torch
import grpc

def _run(model, ids):
    return model.generate(ids)

class Gen(pb2_grpc.GeneratorServicer):
    def Generate(self, request, context):
        return self.model.generate(request.ids)

@router.post("/x")
async def handler(req):
    return _run(model, req.ids)
"""
    result = scan(tmp_path, {"svc/grpc_server.py": code}, select=["SAI604"])
    assert hits(result) == {("SAI604", "svc/grpc_server.py", 5)}
    assert len(result.findings) == 1  # one per module


def test_sai604_silent_when_released_through_alias(tmp_path):
    code = """from torch import cuda
import torch

@app.post("/x")
def h(req):
    out = model.generate(req)
    cuda.empty_cache()
    return out
"""
    assert hits(scan(tmp_path, {"a.py": code}, select=["SAI604"])) == set()


def test_sai604_generate_of_non_torch_module_is_silent(tmp_path):
    code = "from vllm import LLM\nllm = LLM(model='m')\nfor p in prompts:\n    llm.generate(p)\n"
    assert hits(scan(tmp_path, {"a.py": code}, select=["SAI604"])) == set()
