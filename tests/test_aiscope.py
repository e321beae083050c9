"""AI-service names: a pattern must start a word of the name."""
from __future__ import annotations

import pytest

from safeai_lint.checks.aiscope import name_matches_patterns
from safeai_lint.policy import default_policy

PATTERNS = default_policy()["ai-service-patterns"]


@pytest.mark.parametrize("name", ["llm-gateway", "text-embedder", "genai-assistant-v2.ai-services.svc", "vllm-llama3", "tgi", "my-model-server", "completions-api"])
def test_ai_service_names(name):
    assert name_matches_patterns(name, PATTERNS)


@pytest.mark.parametrize("name", ["fullmoon", "docs-site", "billing.svc.cluster.local", "modelserverless", "skilled-workers"])
def test_names_that_only_contain_a_pattern_inside_a_word(name):
    assert not name_matches_patterns(name, PATTERNS)
