"""Every rule's documented examples (rules/SAIxxx.yaml) run as tests: a bad example fires
exactly that rule at exactly the stated lines; a good example (near-misses included) fires
none of it. The same examples render in `safeai-lint rule`."""
from __future__ import annotations

import pytest

from safeai_lint.catalog import all_rules
from conftest import hits, scan

CASES = [
    pytest.param(doc.id, i, example, id=f"{doc.id}-{'bad' if example.bad else 'good'}-{i}")
    for doc in all_rules().values()
    for i, example in enumerate(doc.examples)
]


@pytest.mark.parametrize("rule, index, example", CASES)
def test_rule_example(tmp_path, rule, index, example):
    files = dict(example.files)
    if example.config:
        files[".safeai-lint.yaml"] = example.config
    result = scan(tmp_path, files)
    got = {(path, line) for _, path, line in hits(result, rule)}
    if example.bad:
        assert got == set(example.expect), f"{rule} example {index} ({example.title}): fired at {sorted(got)}"
    else:
        assert got == set(), f"{rule} good example {index} ({example.title}) fired at {sorted(got)}"


def test_every_rule_has_bad_and_good_examples():
    for doc in all_rules().values():
        kinds = {e.bad for e in doc.examples}
        assert kinds == {True, False}, f"{doc.id} needs at least one bad and one good example"


def test_every_bad_example_states_its_lines():
    for doc in all_rules().values():
        for example in doc.examples:
            if example.bad:
                assert example.expect, f"{doc.id} bad example {example.title!r} has no expected line"
