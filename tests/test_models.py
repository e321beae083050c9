"""SAI601-SAI603, SAI605 near-misses and Python surfaces."""
from __future__ import annotations

from conftest import hits, scan


# A Python inference service (a web app beside code that generates): Python SAI601 judges only its code.
SERVICE = {"app.py": "from fastapi import FastAPI\napp = FastAPI()\n\n\ndef answer(model, ids):\n    return model.generate(ids)\n"}


def test_half_and_unquantized_seq2seq(tmp_path):
    code = (
        "from transformers import AutoModelForSeq2SeqLM\n"
        "model = AutoModelForSeq2SeqLM.from_pretrained('/m', load_in_8bit=True)\n"
        "model = model.half()\n"
        "other = AutoModelForSeq2SeqLM.from_pretrained(name)\n"
        "MODEL_ID = 'google/flan-t5-xl'\n"
        "third = AutoModelForSeq2SeqLM.from_pretrained(MODEL_ID)\n"
    )
    # `name` is a variable we cannot read: not judged; MODEL_ID is a module constant: judged
    assert hits(scan(tmp_path, {"m.py": code, **SERVICE}), "SAI601") == {("SAI601", "m.py", 3), ("SAI601", "m.py", 6)}


def test_kwargs_may_hold_quantization(tmp_path):
    code = "from transformers import AutoModelForCausalLM\nm = AutoModelForCausalLM.from_pretrained('/m', **cfg)\n"
    assert hits(scan(tmp_path, {"m.py": code, **SERVICE}), "SAI601") == set()


def test_nim_bf16_profile(tmp_path):
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: nim}\nspec:\n  containers:\n    - name: nim\n"
        "      image: nvcr.io/nim/meta/llama3-8b-instruct:1.0.0\n      env:\n"
        "        - {name: NIM_MODEL_PROFILE, value: vllm-bf16-tp1-pp1}\n        - {name: NIM_MAX_MODEL_LEN, value: '4096'}\n"
    )
    result = scan(tmp_path, {"p.yaml": text})
    assert hits(result, "SAI601") == {("SAI601", "p.yaml", 9)}
    assert hits(result, "SAI501") == set() and hits(result, "SAI603") == set()


def test_python_offline_env_and_s3_from_pretrained(tmp_path):
    code = (
        "import os\nfrom vllm import LLM\nfrom transformers import AutoModelForCausalLM\n"
        "os.environ['HF_HUB_OFFLINE'] = '1'\n"
        "llm = LLM(model='org/m-AWQ', max_model_len=4096, gpu_memory_utilization=0.8)\n"
        "m = AutoModelForCausalLM.from_pretrained('s3://bucket/llama', load_in_4bit=True)\n"
    )
    result = scan(tmp_path, {"s.py": code, **SERVICE})
    assert hits(result, "SAI603") == set()
    assert hits(result, "SAI602") == {("SAI602", "s.py", 6)}
    assert hits(result, "SAI601") == set()


def test_mountpoint_s3_volume(tmp_path):
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: vllm/vllm-openai:v0.10.0\n"
        "  volumes:\n    - name: weights\n      csi: {driver: s3.csi.aws.com}\n"
    )
    assert hits(scan(tmp_path, {"p.yaml": text}), "SAI602") == {("SAI602", "p.yaml", 9)}


def test_allocator_from_value_from_is_unknown(tmp_path):
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: vllm/vllm-openai:v0.10.0\n"
        "      env:\n        - name: PYTORCH_CUDA_ALLOC_CONF\n          valueFrom: {configMapKeyRef: {name: a, key: b}}\n"
    )
    assert hits(scan(tmp_path, {"p.yaml": text}), "SAI605") == set()


def test_an_fp8_checkpoint_is_named_as_fp8_not_as_16_bit(tmp_path):
    deploy = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: llm\nspec:\n  template:\n    spec:\n      containers:\n"
              "        - name: vllm\n          image: vllm/vllm-openai:v0.10.0\n          args: [\"--model\", \"org/Model-17B-Instruct-FP8\"]\n")
    result = scan(tmp_path, {"d.yaml": deploy})
    found = [f for f in result.findings if f.rule == "SAI601"]
    assert [(f.location.path, f.location.line) for f in found] == [("d.yaml", 11)]
    assert "an FP8 checkpoint: FP8 is not INT8/4-bit" in found[0].message and "FP16/BF16" not in found[0].message
    allowed = scan(tmp_path / "ok", {"d.yaml": deploy, ".safeai-lint.yaml": "quantized-checkpoint-markers: [awq, fp8]\n"})
    assert not any(f.rule == "SAI601" for f in allowed.findings)
