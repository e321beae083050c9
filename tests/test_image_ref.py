"""The Docker reference grammar: registries, ports, namespaces, tags, digests, lowercase."""
from __future__ import annotations

import pytest

from safeai_lint.sources.image_ref import ImageName, invalid_reason, parse_image

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    "text, registry, repository, tag, digest, familiar",
    [
        ("python", "docker.io", "library/python", "", "", "python"),
        ("library/python:3.11", "docker.io", "library/python", "3.11", "", "python"),
        ("docker.io/library/python:3.11.4-slim", "docker.io", "library/python", "3.11.4-slim", "", "python"),
        ("index.docker.io/library/python", "docker.io", "library/python", "", "", "python"),
        ("nvidia/cuda:12.2.2-runtime-ubuntu22.04", "docker.io", "nvidia/cuda", "12.2.2-runtime-ubuntu22.04", "", "nvidia/cuda"),
        ("nvcr.io/nvidia/pytorch:23.08-py3", "nvcr.io", "nvidia/pytorch", "23.08-py3", "", "nvcr.io/nvidia/pytorch"),
        ("localhost:5000/app:1", "localhost:5000", "app", "1", "", "localhost:5000/app"),
        ("localhost/app", "localhost", "app", "", "", "localhost/app"),
        ("registry.corp.example:5000/ml/base", "registry.corp.example:5000", "ml/base", "", "", "registry.corp.example:5000/ml/base"),
        (f"python:3.11.4-slim@{DIGEST}", "docker.io", "library/python", "3.11.4-slim", DIGEST, "python"),
        (f"python@{DIGEST}", "docker.io", "library/python", "", DIGEST, "python"),
        ("ghcr.io/huggingface/text-generation-inference:2.0", "ghcr.io", "huggingface/text-generation-inference", "2.0", "", "ghcr.io/huggingface/text-generation-inference"),
        ("GHCR.IO/org/app", "ghcr.io", "org/app", "", "", "ghcr.io/org/app"),
        ("a__b/c-d.e_f:Tag_1", "docker.io", "a__b/c-d.e_f", "Tag_1", "", "a__b/c-d.e_f"),
        ("[::1]:5000/app", "[::1]:5000", "app", "", "", "[::1]:5000/app"),
    ],
)
def test_valid_references(text, registry, repository, tag, digest, familiar):
    name = parse_image(text)
    assert name == ImageName(registry, repository, tag, digest)
    assert name.familiar == familiar


def test_library_forms_are_one_image():
    forms = {parse_image(t).full for t in ("python:3", "library/python:3", "docker.io/library/python:3")}
    assert forms == {"docker.io/library/python"}
    assert parse_image("python").official and not parse_image("nvidia/cuda").official
    assert not parse_image("docker.io/library/a/b").official  # not a single-level library name


@pytest.mark.parametrize(
    "text, why",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("Python:3.11", "lowercase"),
        ("myorg/MyApp", "lowercase"),
        ("python:", "tag"),
        ("python:-bad", "tag"),
        ("python:" + "a" * 129, "tag"),
        ("python@sha256:abc", "digest"),
        ("python@sha256:" + "a" * 63, "64"),
        ("a//b", "path component"),
        ("-python", "path component"),
        ("py thon", "whitespace"),
        ("a" * 256, "longer"),
        ("bad_host:99/app", "registry host"),
    ],
)
def test_invalid_references(text, why):
    assert parse_image(text) is None
    assert why in invalid_reason(text)


@pytest.mark.parametrize("value", [None, 3, ["python"], {"a": 1}, True])
def test_non_strings_are_invalid_not_errors(value):
    assert parse_image(value) is None
    assert invalid_reason(value)


def test_str_round_trip():
    assert str(parse_image(f"docker.io/library/python:3.11@{DIGEST}")) == f"python:3.11@{DIGEST}"
