"""Fixture repositories with an `expected.json` of [rule, path, line]: the scan must yield
exactly that set. Each fixture is copied to a temporary, non-git folder first, so the
project's own config and git state play no part."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import hits
from safeai_lint.engine import lint

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(p.parent for p in FIXTURES.rglob("expected.json"))


def scan_fixture(case: Path, tmp_path: Path):
    target = tmp_path / case.name
    shutil.copytree(case, target, ignore=shutil.ignore_patterns("expected.json"), symlinks=True)
    return lint([str(target)], cwd=target)


def load_expected(case: Path) -> tuple[set[tuple], list[list]]:
    """An `expected.json` is the exact list of [rule, path, line], or an object with that list
    as `findings` and, as `must_not`, the near-misses the fixture exists for: [rule, path] (no
    such finding anywhere in the file) or [rule, path, line], each with a `why`."""
    data = json.loads((case / "expected.json").read_text())
    if isinstance(data, list):
        return {tuple(item) for item in data}, []
    return {tuple(item) for item in data["findings"]}, [item["not"] for item in data.get("must_not", [])]


@pytest.mark.parametrize("case", CASES, ids=[str(c.relative_to(FIXTURES)) for c in CASES])
def test_fixture_repo_yields_exactly_the_expected_findings(case: Path, tmp_path: Path):
    expected, must_not = load_expected(case)
    got = hits(scan_fixture(case, tmp_path))
    for entry in must_not:
        assert not any(hit[: len(entry)] == tuple(entry) for hit in got), f"must not fire: {entry}"
        assert not any(hit[: len(entry)] == tuple(entry) for hit in expected), f"contradicts the findings: {entry}"
    assert sorted(got - expected) == [], "unexpected findings"
    assert sorted(expected - got) == [], "missing findings"
