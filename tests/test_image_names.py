"""Images: Docker Official Images from shipped data, local builds, dated build tags,
build-tool placeholders, and Go templates that happen to parse as YAML."""
from __future__ import annotations

import json
from pathlib import Path

from conftest import hits
from safeai_lint.sources.image_ref import official_names, parse_image

DIGEST = "@sha256:" + "a" * 64


def pod(image: str, extra: str = "") -> str:
    return f"""\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
    - name: c
      image: {image}
{extra}"""


def test_official_images_are_the_shipped_list():
    data = json.loads((Path(__file__).parent.parent / "rules" / "official-images.json").read_text())
    assert {"python", "ubuntu", "nginx", "redis", "alpine"} <= official_names() == frozenset(data["names"])
    assert parse_image("python:3.11").official and parse_image("docker.io/library/ubuntu:22.04").official
    assert not parse_image("tritonserver").official and not parse_image("collector:v0.1.0").official


def test_a_single_name_that_is_no_official_image_is_a_local_build(repo):
    result = repo({
        "Dockerfile": "FROM tritonserver\nRUN echo\n",
        "pod.yaml": pod("collector:v0.1.0"),
    })
    assert hits(result) == {("SAI206", "Dockerfile", 1), ("SAI206", "pod.yaml", 8)}
    assert "not a Docker Official Image" in next(f.message for f in result.findings if f.location.path == "pod.yaml")


def test_official_and_namespaced_images_are_still_judged(repo):
    result = repo({"Dockerfile": "FROM redis\nFROM someorg/tritonserver:1.0\nFROM docker.io/library/notofficial:1.0\n"})
    assert hits(result) == {
        ("SAI202", "Dockerfile", 1), ("SAI203", "Dockerfile", 1),
        ("SAI201", "Dockerfile", 2), ("SAI203", "Dockerfile", 2),
        ("SAI201", "Dockerfile", 3), ("SAI203", "Dockerfile", 3),
    }


def test_a_dated_nightly_build_tag_is_pinned(repo):
    result = repo({
        "a.yaml": pod("vllm/vllm-openai:nightly-20260701-6af3d12"),
        "b.yaml": pod("vllm/vllm-openai:nightly-2026-07-01"),
        "c.yaml": pod("vllm/vllm-openai:nightly"),
        "d.yaml": pod("vllm/vllm-openai:nightly-cuda12"),
        "e.yaml": pod(f"vllm/vllm-openai:latest-6af3d12{DIGEST}"),
    })
    assert hits(result, "SAI202") == {("SAI202", "c.yaml", 8), ("SAI202", "d.yaml", 8)}


def test_build_tool_and_brace_placeholders_are_unresolved_not_broken(repo):
    result = repo({
        "manager.yaml": pod("ko://github.com/kserve/kserve/cmd/manager"),
        "feast.yaml": pod('"{username}/feast-server:latest"'),
    })
    assert hits(result) == {("SAI206", "manager.yaml", 8), ("SAI206", "feast.yaml", 8)}


def test_a_template_that_parses_as_yaml_gets_no_sai001_for_its_placeholders(repo):
    deployment = pod("nvcr.io/nvidia/tritonserver:24.01-py3" + DIGEST, extra=(
        "      resources:\n"
        "        limits:\n"
        "          nvidia.com/gpu: {{ .Values.image.numGpus }}\n"
    ))
    result = repo({"templates/deployment.yaml": deployment, "broken.yaml": pod("x:1", "      resources: {limits: {memory: 12ZZ}}\n")})
    assert not any(f.rule == "SAI001" and f.location.path == "templates/deployment.yaml" for f in result.findings)
    assert ("SAI001", "broken.yaml", 9) in hits(result)


def test_an_envsubst_placeholder_value_is_not_broken_input(repo):
    result = repo({"deploy.yaml": pod("nvcr.io/nvidia/tritonserver:24.01-py3" + DIGEST, extra=(
        "      resources:\n        limits:\n          nvidia.com/gpu: ${ACCELERATOR_QUANTITY}\n"
        "          memory: 12ZZ\n"
    ))})
    assert hits(result, "SAI001") == {("SAI001", "deploy.yaml", 12)}


def test_a_from_made_invalid_by_an_empty_build_arg_is_unresolved(repo):
    result = repo({"Dockerfile": "ARG WINDOWS_VERSION=\nFROM mcr.microsoft.com/windows/servercore:${WINDOWS_VERSION}\n"
                                 "FROM spack/rockylinux8:sha256:" + "c" * 64 + "\n"})
    assert hits(result) == {("SAI206", "Dockerfile", 2), ("SAI001", "Dockerfile", 3)}


def test_broken_yaml_on_a_line_with_a_placeholder_is_still_reported(repo):
    result = repo({"deploy.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: ${NAME}\nspec: {}\n"})
    assert {h for h in hits(result) if h[0] in ("SAI001", "SAI002")} == {("SAI001", "deploy.yaml", 3)}


def test_a_from_invalid_through_a_non_empty_arg_is_still_sai001(repo):
    result = repo({"Dockerfile": "ARG BASE=Bad_Name:1\nFROM ${BASE}\n"})
    assert hits(result) == {("SAI001", "Dockerfile", 2)}


def test_an_image_with_an_empty_part_is_a_value_left_to_fill_in_not_broken(repo):
    result = repo({
        "a.yaml": pod('":1.0.0"'),  # `{{ .Values.repository }}:1.0.0` rendered with an empty repository
        "b.yaml": pod('"nvcr.io/nvidia/:24.01-py3"'),
        "c.yaml": pod('"registry.example.com/app:"'),
        "d.yaml": pod('"registry.example.com/app:1.0:extra"'),  # broken, with no empty part: stays SAI001
    })
    assert {h for h in hits(result) if h[0] in ("SAI001", "SAI206")} == {
        ("SAI206", "a.yaml", 8), ("SAI206", "b.yaml", 8), ("SAI206", "c.yaml", 8), ("SAI001", "d.yaml", 8)}
