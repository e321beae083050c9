"""SAI201-SAI204 and SAI206 end to end, the facts the Dockerfile extractor gives the version
rules, the shared `image_fact` helper, and bad input that must never crash."""
from __future__ import annotations

import pytest

from conftest import hits, scan
from safeai_lint.checks.images import allowed_by, floating_match
from safeai_lint.extract.dockerfile import extract
from safeai_lint.extract.images import image_fact
from safeai_lint.facts import CudaBuild, ImageRef, PackageInstall, PackageSource, VersionDecl
from safeai_lint.sources.base import SourceText
from safeai_lint.sources.image_ref import parse_image

D = "sha256:" + "b" * 64


def facts_of(text: str) -> tuple[list[object], SourceText]:
    src = SourceText("Dockerfile", "dockerfile", text)
    return list(extract(src)), src


# --- allowed-images matching ------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry, image, allowed",
    [
        ("docker-official", "python:3.11", True),
        ("docker-official", "docker.io/library/python", True),
        ("docker-official", "nvidia/cuda:12.2.2-runtime-ubuntu22.04", False),
        ("docker-official", "ghcr.io/library/python", False),
        ("nvidia/cuda", "docker.io/nvidia/cuda:12.2.2-base", True),
        ("nvidia/cuda", "nvidia/cuda-fake", False),
        ("nvidia/cuda", "nvcr.io/nvidia/cuda", False),
        ("python", "library/python:3.11", True),
        ("nvcr.io/nvidia/*", "nvcr.io/nvidia/pytorch:23.08-py3", True),
        ("nvcr.io/nvidia/*", "nvcr.io/nvidia/tritonserver:23.10-py3", True),
        ("nvcr.io/nvidia/*", "nvcr.io/nvidiax/pytorch", False),
        ("nvcr.io/nvidia/*", "nvidia/pytorch", False),
        ("nvcr.io/nvidia/", "nvcr.io/nvidia/a/b", True),
        ("registry.corp:5000/", "registry.corp:5000/any/thing:1", True),
        ("myorg/*", "myorg/app:1", True),
        ("myorg/*", "docker.io/myorg/app", True),
        ("myorg/*", "ghcr.io/myorg/app", False),
        ("*/vllm-openai", "vllm/vllm-openai:v0.6.3", True),
        ("ghcr.io/acme/*-server", "ghcr.io/acme/llm-server:1", True),
        ("python:3.11.4-slim", "python:3.11.4-slim", True),
        ("python:3.11.4-slim", "python:3.12-slim", False),
        ("Not A Valid Entry", "python", False),
    ],
)
def test_allowed_by(entry, image, allowed):
    assert allowed_by(entry, parse_image(image)) is allowed


@pytest.mark.parametrize(
    "tag, entry",
    [("latest", "latest"), ("Latest", "latest"), ("latest-gpu", "latest-*"), ("nightly-2024", "nightly*"), ("v0.6.3", ""), ("stable-v1", ""), ("main", "main")],
)
def test_floating_match(tag, entry):
    assert floating_match(tag, ["latest", "main", "stable", "latest-*", "nightly*"]) == entry


# --- end to end ---------------------------------------------------------------------------------


def test_every_stage_and_only_images(tmp_path):
    result = scan(tmp_path, {
        "Dockerfile": (
            "ARG BASE=python:3.11.4-slim\n"
            "FROM ${BASE} AS build\n"
            "FROM build AS test\n"
            "FROM scratch AS empty\n"
            f"FROM nvcr.io/nvidia/cuda:12.2.2-runtime-ubuntu22.04@{D}\n"
            "FROM someone/thing\n"
        ),
    })
    got = {h for h in hits(result) if h[0].startswith("SAI2")}
    assert got == {
        ("SAI203", "Dockerfile", 2),
        ("SAI201", "Dockerfile", 6), ("SAI202", "Dockerfile", 6), ("SAI203", "Dockerfile", 6),
    }


def test_findings_point_at_the_image_word(tmp_path):
    result = scan(tmp_path, {"Dockerfile": "FROM --platform=linux/amd64 someone/thing:1.0 AS x\n"})
    finding = next(f for f in result.findings if f.rule == "SAI201")
    loc = finding.location
    assert (loc.line, loc.column, loc.end_column) == (1, 29, 46)
    assert "someone/thing" in finding.message and "allowed-images" in finding.message


def test_config_replaces_allowed_images_and_floating_tags(tmp_path):
    result = scan(tmp_path, {
        ".safeai-lint.yaml": "allowed-images: [\"registry.corp:5000/ml/*\"]\nfloating-tags: [\"rc*\"]\n",
        "Dockerfile": "FROM registry.corp:5000/ml/base:rc1\nFROM python:latest\n",
    })
    assert hits(result, "SAI201") == {("SAI201", "Dockerfile", 2)}
    assert hits(result, "SAI202") == {("SAI202", "Dockerfile", 1)}


def test_unresolved_gets_only_sai206(tmp_path):
    result = scan(tmp_path, {"Dockerfile": "ARG IMG\nFROM $IMG\nFROM {{ base_image }}\n"})
    got = {h for h in hits(result) if h[0].startswith("SAI2")}
    assert got == {("SAI206", "Dockerfile", 2), ("SAI206", "Dockerfile", 3)}


def test_sai204_one_finding_per_package_at_its_word(tmp_path):
    result = scan(tmp_path, {
        "Dockerfile": (
            "FROM python:3.11.4-slim\n"
            "RUN pip install numpy torchvision==0.16.0 \\\n"
            "    torch && apt-get install -y git\n"
            "ONBUILD RUN pip install later\n"
            "RUN pip install ${PKG} $(cat list) \"numpy<2\"\n"
        ),
    })
    found = sorted((f.location.line, f.location.column, f.subject) for f in result.findings if f.rule == "SAI204")
    assert found == [(2, 17, "numpy"), (3, 5, "torch"), (3, 33, "git")]


def test_shell_in_json_form_and_sh_c(tmp_path):
    result = scan(tmp_path, {
        "Dockerfile": 'FROM python:3.11.4\nRUN ["sh", "-c", "pip install rich && echo done"]\n',
    })
    assert hits(result, "SAI204") == {("SAI204", "Dockerfile", 2)}


# --- facts for the version rules -----------------------------------------------------------------


def test_version_facts_from_runs_and_variables():
    facts, src = facts_of(
        "ARG PYTHON_VERSION=3.11.4\n"
        "FROM nvidia/cuda:12.2.2-devel-ubuntu22.04\n"
        "ENV CUDA_VERSION=12.2.2 NV_LIBNCCL_PACKAGE_VERSION=2.18.3-1+cuda12.2\n"
        "RUN pip install torch==2.1.0+cu118 Transformers_X>=4 --index-url https://download.pytorch.org/whl/cu121 \\\n"
        "    --trusted-host my.mirror git+https://github.com/a/b.git\n"
        "RUN conda install -y pytorch=2.1 pytorch-cuda=12.1 cudatoolkit=11.8 && apt-get install -y libnccl2=2.17.1-1+cuda12.1\n"
    )
    decls = [(f.component, f.specifier, f.local, f.location.line) for f in facts if isinstance(f, VersionDecl)]
    assert decls == [
        ("python", "==3.11.4", "", 1),
        ("cuda", "==12.2.2", "", 3),
        ("nccl", "==2.18.3", "", 3),
        ("torch", "==2.1.0", "cu118", 4),
        ("transformers-x", ">=4", "", 4),
        ("torch", "==2.1.*", "", 6),
        ("cuda", "==11.8.*", "", 6),
        ("nccl", "==2.17.1", "", 6),
    ]
    builds = [(f.package, f.cuda, f.location.line) for f in facts if isinstance(f, CudaBuild)]
    assert builds == [("torch", "11.8", 4), ("torch", "12.1", 4), ("torch", "12.1", 6)]
    sources = [(f.option, f.url, f.location.line) for f in facts if isinstance(f, PackageSource)]
    assert sources == [
        ("--index-url", "https://download.pytorch.org/whl/cu121", 4),
        ("--trusted-host", "my.mirror", 5),
        ("url-requirement", "git+https://github.com/a/b.git", 5),
    ]
    torch = next(f for f in facts if isinstance(f, VersionDecl) and f.local == "cu118")
    assert (torch.location.column, torch.location.end_column) == (17, 35)
    assert src.diagnostics == []


def test_variables_known_to_the_stage_are_substituted():
    facts, _ = facts_of("FROM python:3.11.4\nARG TORCH=2.1.0\nRUN pip install torch==${TORCH} numpy==$NUMPY\n")
    decls = [(f.component, f.specifier) for f in facts if isinstance(f, VersionDecl)]
    assert decls == [("torch", "==2.1.0")]
    installs = [(f.package, f.version) for f in facts if isinstance(f, PackageInstall)]
    assert installs == [("torch", "==2.1.0"), ("numpy", "==$NUMPY")]


def test_image_refs_carry_stage_and_final():
    facts, _ = facts_of("FROM python:3.11.4 AS a\nFROM nvidia/cuda:12.2.2-base-ubuntu22.04\n")
    refs = [(f.reference, f.stage, f.final, f.surface) for f in facts if isinstance(f, ImageRef)]
    assert refs == [("python:3.11.4", 0, False, "dockerfile"), ("nvidia/cuda:12.2.2-base-ubuntu22.04", 1, True, "dockerfile")]


# --- image_fact, the helper manifest extractors share ----------------------------------------------


@pytest.mark.parametrize(
    "value, reference, unresolved",
    [
        ("vllm/vllm-openai:v0.6.3", "vllm/vllm-openai:v0.6.3", False),
        ("  python:3.11.4  ", "python:3.11.4", False),
        ("{{ .Values.image }}", "", True),
        ("${IMAGE}", "", True),
        ("${REGISTRY:-docker.io}/vllm/vllm-openai:${TAG:-v0.6.3}", "docker.io/vllm/vllm-openai:v0.6.3", False),
        ("kserve/huggingfaceserver:replace", "", True),
        ("replace", "", True),
        ("<your-registry>/app:1", "", True),
        ("IMAGE_NAME", "", True),
        ("$(IMAGE)", "", True),
    ],
)
def test_image_fact(value, reference, unresolved):
    src = SourceText("k.yaml", "yaml", "x\n")
    fact = image_fact(src, value, (1, 1, 1, 5), "kubernetes")
    assert fact.reference == reference and bool(fact.unresolved) is unresolved
    assert fact.surface == "kubernetes" and fact.final and src.diagnostics == []


@pytest.mark.parametrize("value", [None, "", "   ", ["a"], {"a": 1}, True])
def test_image_fact_without_image(value):
    src = SourceText("k.yaml", "yaml", "x\n")
    assert image_fact(src, value, (1, 1, 1, 5), "kubernetes") is None
    assert src.diagnostics == []


def test_image_fact_invalid_is_sai001_at_its_line():
    src = SourceText("k.yaml", "yaml", "a\nb\nc\n")
    assert image_fact(src, "Vllm/Openai:1", (3, 10, 3, 20), "compose") is None
    assert [(d.rule, d.location.line, d.location.column) for d in src.diagnostics] == [("SAI001", 3, 10)]


# --- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "FROM\n",
        'FROM ""\n',
        "FROM a b c d\n",
        "FROM python:3.11 AS\n",
        "FROM Python:3.11\n",
        "ARG A=$B\nARG B=$A\nFROM ${A}${B}\n",
        "FROM python:3.11.4\nFROBNICATE now\nHEALTHCHECK --interval=x\nSHELL [\"pwsh\"]\n",
        "FROM python:3.11.4\nRUN pip install 'unterminated\n",
        "FROM python:3.11.4\nRUN <<EOF\n",
        "FROM python:3.11.4\nENV\nARG\nCOPY\nRUN\nCMD []\n",
        "\x01\x02\x7f FROM\n",
        "FROM python:3.11.4\nRUN " + "sh -c '" * 40 + "pip install x\n",
        "FROM ${A:-${B:-${C:-${D:-python}}}}\n",
        "FROM python@sha256:zz\n",
    ],
)
def test_bad_dockerfiles_never_crash(tmp_path, text):
    result = scan(tmp_path, {"Dockerfile": text})
    crashes = [f.message for f in result.findings if "internal error" in f.message or "not analysed" in f.message]
    assert crashes == []


@pytest.mark.parametrize("bad_from", ["FROM Python:3.11", "FROM someone/x:1 b c", "FROM someone/x:1 AS", "FROM"])
def test_invalid_from_is_sai001_and_nothing_else(tmp_path, bad_from):
    result = scan(tmp_path, {"Dockerfile": f"FROM python:3.11.4-slim\n{bad_from}\n"})
    assert {h for h in hits(result) if h[2] == 2} == {("SAI001", "Dockerfile", 2)}


def test_ten_thousand_line_dockerfile(tmp_path):
    body = "".join(f"RUN pip install pkg{i}==1.0 && apt-get install -y lib{i}=1 \\\n    extra{i}\n" for i in range(5000))
    result = scan(tmp_path, {"Dockerfile": "FROM python:3.11.4-slim\n" + body})
    # every RUN is analysed; the report shows 1,000 of one rule per file and sums up the rest
    assert len(hits(result, "SAI204")) == 1000
    capped = [f for f in result.findings if f.rule == "SAI002"]
    assert len(capped) == 1 and capped[0].message.startswith("4,000 more SAI204 finding(s)")
