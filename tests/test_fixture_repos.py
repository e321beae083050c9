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


@pytest.mark.parametrize("case", CASES, ids=[str(c.relative_to(FIXTURES)) for c in CASES])
def test_fixture_repo_yields_exactly_the_expected_findings(case: Path, tmp_path: Path):
    expected = {tuple(item) for item in json.loads((case / "expected.json").read_text())}
    got = hits(scan_fixture(case, tmp_path))
    assert sorted(got - expected) == [], "unexpected findings"
    assert sorted(expected - got) == [], "missing findings"
