"""`--fix`: golden before/after trees per fixable surface, byte for byte; idempotent; the
diff preview writes nothing; anything ambiguous is left alone."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from safeai_lint.engine import lint
from safeai_lint.findings import Finding
from safeai_lint.facts import Location
from safeai_lint.fixes import fixable_rules, plan_fixes, render_diff
from safeai_lint.fixes.text import pinned_requirement
from safeai_lint.policy import default_policy, merge_policy

GOLDEN = Path(__file__).parent / "fixtures" / "fix"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "before").is_dir())


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _plan(root: Path):
    result = lint([str(root)], cwd=root)

    def read(rel: str) -> str:
        return (root / rel).read_bytes().decode("utf-8")

    return result, plan_fixes(result.findings, read, default_policy()), read


def _write(root: Path, planned: dict[str, str]) -> None:
    for rel, text in planned.items():
        (root / rel).write_bytes(text.encode("utf-8"))


@pytest.mark.parametrize("case", CASES)
def test_golden_fix_matches_byte_for_byte_and_is_idempotent(case, tmp_path):
    root = tmp_path / case
    shutil.copytree(GOLDEN / case / "before", root)
    before = _files(root)
    _, planned, read = _plan(root)
    assert planned, "nothing to fix: the fixture is wrong"

    # --fix --diff: a preview, nothing written
    diff = render_diff(planned, read)
    assert diff.startswith("--- a/") and "+++ b/" in diff
    assert _files(root) == before

    _write(root, planned)
    assert _files(root) == _files(GOLDEN / case / "after")

    # a second run changes nothing, and no lock finding is left on a line the fix rewrote
    result, again, _ = _plan(root)
    assert again == {}
    rewritten = {
        (rel, n)
        for rel in planned
        for n, (old, new) in enumerate(zip(before[rel].splitlines(), _files(root)[rel].splitlines()), 1)
        if old != new
    }
    assert rewritten
    left = {(f.location.path, f.location.line) for f in result.findings if f.rule in ("SAI101", "SAI102")}
    assert not rewritten & left


def test_unfixable_lines_keep_their_findings(tmp_path):
    root = tmp_path / "requirements"
    shutil.copytree(GOLDEN / "requirements" / "after", root)
    result = lint([str(root)], cwd=root)
    left = {(f.rule, f.location.path, f.location.line) for f in result.findings if f.rule in ("SAI101", "SAI102")}
    # the hash line, the continuation, the local build and the NCCL wheel (torch pins its
    # own) stay for a person to decide
    assert left == {
        ("SAI101", "constraints.txt", 2), ("SAI102", "constraints.txt", 3), ("SAI101", "constraints.txt", 5),
        ("SAI101", "requirements.txt", 6),
    }


def test_prefix_lock_is_not_pinned(tmp_path):
    # lock torch "2.1" admits 2.1.0 and 2.1.2: there is no single version to write
    policy = merge_policy({"version-lock": {"torch": "2.1"}})
    finding = Finding("SAI102", "m", Location("requirements.txt", 1), subject="torch")
    assert plan_fixes([finding], lambda _: "torch>=2.0\n", policy) == {}


def test_unreadable_files_and_odd_findings_are_skipped():
    def fail(_: str) -> str:
        raise OSError("gone")

    findings = [
        Finding("SAI102", "m", Location("requirements.txt", 1), subject="torch"),
        Finding("SAI102", "m", Location("requirements.txt", 99), subject="torch"),
        Finding("SAI102", "m", Location("pyproject.toml", 1), subject="torch"),
        Finding("SAI301", "m", Location("k8s/deploy.yaml", 3)),
    ]
    assert plan_fixes(findings[:1], fail, default_policy()) == {}
    assert plan_fixes(findings[1:], lambda _: "[project\n", default_policy()) == {}


@pytest.mark.parametrize("written, expected", [
    ("torch>=2.0", "torch==2.1.0"),
    ("torch [cuda] >=2.0", "torch[cuda]==2.1.0"),
    ('torch>=2 ; sys_platform == "linux"', 'torch==2.1.0 ; sys_platform == "linux"'),
    ("pytorch>=2", None),                       # a placeholder package on PyPI
    ("torch @ https://example.com/t.whl", None),
    ("torch==2.2.0+cu121", None),               # build label: SAI103
    ("torchvision>=0.16", None),
    ("torch>=", None),
])
def test_pinned_requirement(written, expected):
    assert pinned_requirement(written, "torch", "2.1.0") == expected


def test_the_fixable_rules():
    assert fixable_rules() == {"SAI101", "SAI102", "SAI307", "SAI501", "SAI502"}


def test_the_rules_with_fixers_are_the_rules_whose_doc_describes_a_fix():
    from safeai_lint.catalog import all_rules

    # the [*] marks read the docs first, so a scan without such findings never loads the fixers
    assert {doc.id for doc in all_rules().values() if doc.fix} == fixable_rules()
