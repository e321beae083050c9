"""`--fix` of SAI307/SAI501/SAI502 in Kubernetes YAML: what gets rewritten (byte for byte, the
rule silent afterwards) and every near-miss that must be left for a person."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import write_tree
from test_cli import run

from safeai_lint.engine import lint, resolve_config
from safeai_lint.facts import Location
from safeai_lint.findings import Finding
from safeai_lint.fixes import plan_fixes, render_diff
from safeai_lint.fixes.yaml import fix_serving_yaml
from safeai_lint.policy import default_policy, merge_policy

RULES = ("SAI307", "SAI501", "SAI502")

HEAD = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: llm
spec:
  template:
    spec:
      containers:
"""


def _fix(root: Path, files: dict[str, str | bytes], rule: str) -> tuple[set, dict[str, str], set]:
    """(findings of `rule` before, planned new texts, findings of `rule` after writing them)."""
    write_tree(root, files)
    result = lint([str(root)], cwd=root)
    policy = resolve_config(Path(result.root), None).policy
    found = [f for f in result.findings if f.rule == rule]

    def read(rel: str) -> str:
        return (root / rel).read_bytes().decode("utf-8")

    planned = plan_fixes(found, read, policy)
    for rel, text in planned.items():
        (root / rel).write_bytes(text.encode("utf-8"))
    after = lint([str(root)], cwd=root)
    return ({(f.location.path, f.location.line) for f in found}, planned,
            {(f.location.path, f.location.line) for f in after.findings if f.rule == rule})


# --- what is fixed ---------------------------------------------------------------------------

FIXED = [
    pytest.param("SAI307", HEAD + """\
        - name: vllm
          image: vllm/vllm-openai:v0.10.0
          args:
            - --model=/m
            - --gpu-memory-util=0.95   # abbreviated, argparse accepts it
""", "--gpu-memory-util=0.85   # abbreviated", id="abbreviated-flag-keeps-its-spelling"),
    pytest.param("SAI501", HEAD + """\
        - name: vllm
          image: vllm/vllm-openai:v0.10.0
          command: ["vllm", "serve", "/m"]
          args: []
""", 'args: ["--max-model-len=4096"]', id="empty-flow-args-get-the-flag"),
    pytest.param("SAI502", HEAD + """\
        - name: tgi
          image: ghcr.io/huggingface/text-generation-inference:2.4.0
          args: ["--model-id", "/data/m", "--max-total-tokens", "16000"]
""", '"--max-total-tokens", "4096"]', id="tgi-total-tokens-lowered"),
    pytest.param("SAI502", HEAD + """\
        - name: vllm
          image: vllm/vllm-openai:v0.10.0
          args: ["--model", "/m", "--max-model-len", "2048", "--max-model-len", "32k"]
""", '"--max-model-len", "2048", "--max-model-len", "4096"]', id="only-the-last-repeat-is-rewritten"),
    pytest.param("SAI501", HEAD + """\
        - name: vllm
          image: vllm/vllm-openai:v0.10.0
          args: [--model, /m, --max-model-len=0]   # 0: "no cap"
""", "args: [--model, /m, --max-model-len=4096]   # 0", id="zero-cap-set-to-the-budget"),
    pytest.param("SAI501", HEAD + """\
        - name: sglang
          image: lmsysorg/sglang:v0.4.1
          command: ['python3', '-m', 'sglang.launch_server', '--model-path', '/m']
""", "'--model-path', '/m', '--context-length', '4096']", id="sglang-single-quotes-kept"),
    pytest.param("SAI307", HEAD + """\
        - name: tgi
          image: ghcr.io/huggingface/text-generation-inference:2.4.0
          args:
          - --model-id
          - /data/m""", "  - /data/m\n          - --cuda-memory-fraction\n          - \"0.85\"", id="no-newline-at-end-of-file"),
    pytest.param("SAI307", HEAD + """\
        - name: tgi
          image: ghcr.io/huggingface/text-generation-inference:2.4.0
          env:
            - {name: MODEL_ID, value: /data/m}   # weights
""", "            - {name: MODEL_ID, value: /data/m}   # weights\n            - {name: CUDA_MEMORY_FRACTION, value: \"0.85\"}\n",
        id="tgi-env-only-flow-entry-cloned"),
    pytest.param("SAI501", HEAD + """\
        - name: tgi
          image: ghcr.io/huggingface/text-generation-inference:3.0.1
          env:
            - name: MODEL_ID
              value: '/data/m'
""", "              value: '/data/m'\n            - name: MAX_INPUT_TOKENS\n              value: '4096'\n",
        id="tgi-env-only-block-entry-cloned"),
]


@pytest.mark.parametrize("rule, text, expected", FIXED)
def test_fix_rewrites_and_the_rule_goes_quiet(tmp_path, rule, text, expected):
    before, planned, after = _fix(tmp_path, {"deploy.yaml": text}, rule)
    assert before and after == set()
    assert list(planned) == ["deploy.yaml"] and expected in planned["deploy.yaml"]
    untouched = [line for line in text.splitlines() if line not in planned["deploy.yaml"].splitlines()]
    assert len(untouched) <= 1  # one line changed (or one list extended), every other byte kept


def test_crlf_line_endings_are_kept(tmp_path):
    text = (HEAD + """\
        - name: vllm
          image: vllm/vllm-openai:v0.10.0
          args:
            - --model=/m
            - --max-model-len=4096
""").replace("\n", "\r\n")
    before, planned, after = _fix(tmp_path, {"deploy.yaml": text.encode()}, "SAI307")
    assert before and after == set()
    assert planned["deploy.yaml"] == text.replace(
        "--max-model-len=4096\r\n", "--max-model-len=4096\r\n            - --gpu-memory-utilization=0.85\r\n")


def test_the_policy_values_are_written(tmp_path):
    files = {
        ".safeai-lint.yaml": "max-vram-fraction: 0.8\nmax-input-tokens: 2048\n",
        "deploy.yaml": HEAD + """\
        - name: vllm
          image: vllm/vllm-openai:v0.10.0
          args: ["--model", "/m", "--gpu-memory-utilization", "0.85", "--max-model-len=4096"]
""",
    }
    _, planned, after = _fix(tmp_path, files, "SAI307")
    assert '"--gpu-memory-utilization", "0.8",' in planned["deploy.yaml"] and after == set()
    _, planned, after = _fix(tmp_path, {}, "SAI502")
    assert '"--max-model-len=2048"]' in planned["deploy.yaml"] and after == set()


# --- what is left alone ----------------------------------------------------------------------

LEFT = [
    pytest.param("SAI307", HEAD + """\
        - name: vllm
          image: vllm/vllm-openai:v0.10.0
          command: ["sh", "-c", "vllm serve /m --gpu-memory-utilization 0.95 --max-model-len 4096"]
""", id="sh-c-string"),
    pytest.param("SAI307", HEAD + """\
        - name: vllm
          image: vllm/vllm-openai:v0.10.0
          args: ["--model /m --gpu-memory-utilization 0.95 --max-model-len 4096"]
""", id="several-words-in-one-item"),
    pytest.param("SAI307", HEAD + """\
        - name: vllm
          image: vllm/vllm-openai:v0.10.0
          args: ["--model", "/m", "--max-model-len", "4096"]
          command: ["vllm", "serve"]
""", id="args-above-the-reported-command-key"),
    pytest.param("SAI502", HEAD + """\
        - name: a
          image: vllm/vllm-openai:v0.10.0
          args: &shared ["--model", "/m", "--max-model-len", "32768"]
        - name: b
          image: vllm/vllm-openai:v0.10.0
          args: *shared
""", id="anchored-list-shared-by-two-containers"),
    pytest.param("SAI307", HEAD + """\
        - name: vllm
          image: vllm/vllm-openai:v0.10.0
          env:
            - {name: MAX_MODEL_LEN, value: "4096"}
""", id="image-default-without-args"),
    pytest.param("SAI501", HEAD + """\
        - name: tgi
          image: ghcr.io/huggingface/text-generation-inference:1.4.5
          args: ["--model-id", "/data/m"]
""", id="tgi-1x-defaults-total-to-2048"),
    pytest.param("SAI501", HEAD + """\
        - name: tgi
          image: ghcr.io/huggingface/text-generation-inference:latest
          args: ["--model-id", "/data/m"]
""", id="tgi-unknown-version"),
    pytest.param("SAI501", HEAD + """\
        - name: tgi
          image: ghcr.io/huggingface/text-generation-inference:2.4.0
          args: ["--model-id", "/data/m", "--max-batch-prefill-tokens", "2048"]
""", id="tgi-prefill-below-the-budget"),
    pytest.param("SAI502", HEAD + """\
        - name: vllm
          image: vllm/vllm-openai:v0.10.0
          args:
            - --model
            - /m
            - --max-model-len
            - >-
              32768
""", id="folded-scalar"),
    pytest.param("SAI307", HEAD + """\
        - name: tgi
          image: ghcr.io/huggingface/text-generation-inference:2.4.0
          env:
            - name: MODEL_ID
              valueFrom: {configMapKeyRef: {name: m, key: id}}
""", id="tgi-env-entry-of-another-shape"),
    pytest.param("SAI502", """\
services:
  vllm:
    image: vllm/vllm-openai:v0.10.0
    command: ["--model", "/m", "--max-model-len", "32768"]
""", id="compose-is-not-kubernetes"),
]


@pytest.mark.parametrize("rule, text", LEFT)
def test_ambiguous_launches_are_not_fixed(tmp_path, rule, text):
    name = "compose.yaml" if text.startswith("services") else "deploy.yaml"
    before, planned, after = _fix(tmp_path, {name: text}, rule)
    assert before, "the rule must fire, or this near-miss tests nothing"
    assert planned == {} and after == before


def test_env_from_a_secret_is_not_rewritten(tmp_path):
    text = HEAD + """\
        - name: tgi
          image: ghcr.io/huggingface/text-generation-inference:2.4.0
          args: ["--model-id", "/data/m"]
          env:
            - name: MAX_INPUT_TOKENS
              value: "8192"
            - name: MAX_INPUT_TOKENS
              valueFrom: {secretKeyRef: {name: s, key: k}}
"""
    finding = Finding("SAI502", "m", Location("deploy.yaml", 12, 15, 12, 19), subject="tgi")
    assert fix_serving_yaml(text, finding, default_policy()) is None


@pytest.mark.parametrize("finding", [
    Finding("SAI307", "m", Location("deploy.yaml", 13, 15), subject="tgi"),       # wrong engine
    Finding("SAI307", "m", Location("deploy.yaml", 13, 16), subject="vllm"),      # not an item start
    Finding("SAI307", "m", Location("deploy.yaml", 12, 15), subject="vllm"),      # another flag
    Finding("SAI304", "m", Location("deploy.yaml", 13, 15), subject="vllm"),      # not our rule
    Finding("SAI307", "m", Location("deploy.yaml", 13, 15)),                       # Python finding: no engine
])
def test_findings_that_do_not_match_the_text_are_skipped(finding):
    text = HEAD + """\
        - name: vllm
          image: vllm/vllm-openai:v0.10.0
          args:
            - --model=/m
            - --gpu-memory-utilization=0.95
"""
    assert fix_serving_yaml(text, finding, default_policy()) is None
    right = Finding("SAI307", "m", Location("deploy.yaml", 13, 15), subject="vllm")
    assert fix_serving_yaml(text, right, default_policy()) == text.replace("=0.95", "=0.85")
    assert fix_serving_yaml(text, right, merge_policy({"max-vram-fraction": "high"})) is None
    assert fix_serving_yaml("{{ .Values.x }}\n" + text, right, default_policy()) is None


# --- the command line --------------------------------------------------------------------------

DEPLOY = HEAD + """\
        - name: vllm   # chat
          image: vllm/vllm-openai:v0.10.0
          args:
            - --model=/models/llama-awq
            - --quantization=awq
"""


def test_cli_fix_sets_the_vram_cap_and_the_token_cap(tmp_path):
    write_tree(tmp_path, {"k8s/deploy.yaml": DEPLOY})
    first = run(["check", ".", "--format", "json"], tmp_path)
    rules = {f["rule"] for f in json.loads(first.stdout)["findings"]}
    assert {"SAI307", "SAI501"} <= rules

    preview = run(["check", ".", "--fix", "--diff"], tmp_path)
    assert b"+            - --gpu-memory-utilization=0.85\n" in preview.stdout
    assert b"+            - --max-model-len=4096\n" in preview.stdout
    assert (tmp_path / "k8s/deploy.yaml").read_text() == DEPLOY

    fixed = run(["check", ".", "--fix", "--format", "json"], tmp_path)
    assert b"fixed 2 finding(s) in 1 file(s)" in fixed.stderr  # SAI307 and SAI501
    left = {f["rule"] for f in json.loads(fixed.stdout)["findings"]}
    assert not left & {"SAI307", "SAI501", "SAI502"}
    assert (tmp_path / "k8s/deploy.yaml").read_text() == DEPLOY + (
        "            - --gpu-memory-utilization=0.85\n            - --max-model-len=4096\n")

    again = run(["check", ".", "--fix", "--diff"], tmp_path)
    assert again.stdout == b""


def test_render_diff_of_a_yaml_fix():
    finding = Finding("SAI307", "m", Location("deploy.yaml", 13, 15), subject="vllm")
    text = HEAD + "        - name: vllm\n          image: vllm/vllm-openai:v0.10.0\n          args:\n            - --model=/m\n            - --gpu-memory-utilization=0.95\n"
    planned = plan_fixes([finding], lambda _: text, default_policy())
    diff = render_diff(planned, lambda _: text)
    assert "-            - --gpu-memory-utilization=0.95\n+            - --gpu-memory-utilization=0.85\n" in diff
