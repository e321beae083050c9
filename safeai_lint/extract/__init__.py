"""Extractors: parse trees to facts, one module per surface.

An extractor is `fn(source: SourceText) -> Iterable[fact]`. Every extractor registered for a
file kind gets the same `SourceText`, so a file is parsed once whatever reads it. Modules are
imported only when a file of their kind turns up (start-up time is a feature).
"""
from __future__ import annotations

import importlib
from typing import Callable, Iterable

from ..sources.base import SourceText

Extractor = Callable[[SourceText], Iterable[object]]

# (file kind, module in this package, function). Add a line to register an extractor.
REGISTRY: tuple[tuple[str, str, str], ...] = (
    ("requirements", "python_deps", "requirements"),
    ("pyproject", "python_toml", "pyproject"),
    ("pipfile", "python_toml", "pipfile"),
    ("setup-cfg", "python_deps", "setup_cfg"),
    ("python-version", "python_deps", "python_version_file"),
    ("runtime-txt", "python_deps", "runtime_txt"),
    ("lockfile", "python_toml", "lockfile"),
    ("yaml", "k8s", "kubernetes"),
    ("yaml", "compose", "compose"),
    ("yaml", "python_serving", "config_token_budgets"),
    ("dockerfile", "dockerfile_serving", "dockerfile_launches"),
    ("python", "python_serving", "python_launches"),
    ("dockerfile", "dockerfile", "extract"),
    ("yaml", "environments", "yaml_surfaces"),
    ("yaml", "policy_source", "config_yaml"),
    ("pyproject", "policy_source", "config_pyproject"),
    ("python", "python_code", "extract"),
    ("python", "vectors", "python_vectors"),
    ("yaml", "vectors", "config_dimensions"),
    ("sql", "vectors", "sql_dimensions"),
    ("yaml", "prometheus", "rules_and_monitors"),
    ("yaml", "mesh", "mesh_objects"),
    ("yaml", "envoy", "envoy_bootstrap"),
    ("yaml", "gateways", "kong"),
    ("nginx", "gateways", "nginx_conf"),
    ("yaml", "appconfig", "app_config_yaml"),
    ("json", "appconfig", "app_config_json"),
    ("toml", "appconfig", "app_config_toml"),
    ("python", "python_resilience", "python_resilience"),
)

_cache: dict[str, tuple[Extractor, ...]] = {}


def extractors_for(kind: str) -> tuple[Extractor, ...]:
    if kind not in _cache:
        found = []
        for k, module, function in REGISTRY:
            if k == kind:
                found.append(getattr(importlib.import_module(f".{module}", __name__), function))
        _cache[kind] = tuple(found)
    return _cache[kind]
