"""One place, one finding: a Python version carried through build args, installs repeated in
both branches of an if/else, package words built from variables, pins at their own line."""
from __future__ import annotations

from conftest import hits

DIGEST = "@sha256:" + "a" * 64


def test_python_version_carried_through_another_arg_is_reported_once_at_the_arg(repo):
    result = repo({"Dockerfile": (
        "ARG PYTHON_VERSION=3.11\n"
        "ARG BASE_IMAGE=python:${PYTHON_VERSION}-slim-bookworm\n"
        "FROM ${BASE_IMAGE} AS builder\n"
        "RUN echo build\n"
        "FROM ${BASE_IMAGE} AS prod\n"
    )})
    assert hits(result, "SAI102") == {("SAI102", "Dockerfile", 1)}
    assert hits(result, "SAI101") == set()


def test_a_mismatching_python_version_through_an_arg_chain_is_one_sai101(repo):
    result = repo({"Dockerfile": (
        "ARG PYTHON_VERSION=3.12.1\n"
        "ARG BASE=python:${PYTHON_VERSION:-3.12.1}-slim\n"
        "FROM ${BASE} AS a\n"
        "FROM ${BASE}\n"
    )})
    assert hits(result, "SAI101") == {("SAI101", "Dockerfile", 1)}


def test_a_python_tag_written_in_the_from_line_is_still_reported_there(repo):
    result = repo({"Dockerfile": "ARG BASE=python:3.12.1-slim\nFROM ${BASE}\n"})
    assert hits(result, "SAI101") == {("SAI101", "Dockerfile", 2)}


def test_one_install_in_both_branches_of_an_if_is_one_install(repo):
    result = repo({"Dockerfile": (
        f"FROM python:3.11.4{DIGEST}\n"
        'RUN if [ "$TARGETARCH" = "arm64" ]; then pip install --no-cache-dir numpy; \\\n'
        "    else pip install --no-cache-dir numpy; fi\n"
        "RUN pip install scipy && pip install scipy==1.11.0\n"
    )})
    assert sorted(hits(result, "SAI204")) == [("SAI204", "Dockerfile", 2), ("SAI204", "Dockerfile", 4)]
    assert len([f for f in result.findings if f.rule == "SAI204"]) == 2


def test_a_package_word_built_from_variables_is_not_sai204(repo):
    result = repo({"Dockerfile": (
        f"FROM ubuntu:22.04{DIGEST}\n"
        "ARG PYTHON_VERSION=3.12\n"
        "ARG EXTRA\n"
        "RUN apt-get update && \\\n"
        '    apt-get install -y --no-install-recommends "python${PYTHON_VERSION}" python${PYTHON_VERSION}-dev curl=7.81.0-1 && \\\n'
        "    pip install ${EXTRA} flash-attn${FLASH_SPEC} jq-lib\n"
    )})
    assert hits(result, "SAI204") == {("SAI204", "Dockerfile", 6)}
    assert [f.message for f in result.findings if f.rule == "SAI204"][0].startswith("pip installs `jq-lib`")


def test_a_pin_built_from_a_build_arg_is_reported_at_its_own_line(repo):
    result = repo({"Dockerfile": (
        f"FROM python:3.11.4{DIGEST}\n"
        "ARG TORCH_VERSION=2.7.0\n"
        "RUN cd app && \\\n"
        "    pip install --no-cache-dir \\\n"
        "        torch==${TORCH_VERSION}+cpu \\\n"
        "        torchvision==0.22.0\n"
    )})
    assert hits(result, "SAI101") == {("SAI101", "Dockerfile", 5)}


def test_a_json_argument_is_one_word_and_the_model_flag_is_still_read(repo):
    result = repo({"pod.yaml": f"""\
apiVersion: v1
kind: Pod
metadata: {{name: vllm}}
spec:
  containers:
    - name: vllm
      image: vllm/vllm-openai:v0.6.3{DIGEST}
      command: ["python3", "-m", "vllm.entrypoints.openai.api_server"]
      args:
        - --limit_mm_per_prompt
        - '{{"image": 5}}'
        - --model=meta-llama/Llama-4-Scout-17B-16E
        - --max-model-len=4096
"""})
    assert [f.message.split(" unquantized")[0] for f in result.findings if f.rule == "SAI601"] == \
        ["vLLM serves 'meta-llama/Llama-4-Scout-17B-16E'"]
    assert hits(result, "SAI601") == {("SAI601", "pod.yaml", 12)}
