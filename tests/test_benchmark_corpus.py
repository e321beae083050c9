"""The benchmark corpus (benchmarks/make_corpus.py) is deterministic, shaped as documented,
and safeai-lint scans all of it: a benchmark over files the linter skips would prove nothing."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from safeai_lint.engine import lint

ROOT = Path(__file__).resolve().parents[1]


def _make_corpus():
    spec = importlib.util.spec_from_file_location("make_corpus", ROOT / "benchmarks" / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_corpus"] = module
    spec.loader.exec_module(module)
    return module


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_corpus_is_deterministic_and_shaped(tmp_path: Path) -> None:
    mc = _make_corpus()
    assert mc.write_corpus(12, tmp_path / "a") == 12 * 8
    mc.write_corpus(12, tmp_path / "b")
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert first == second
    assert mc.write_corpus(12, tmp_path / "c", seed="other") == 96
    assert _files(tmp_path / "c") != first
    services = {rel.split("/")[1] for rel in first}
    assert len(services) == 12
    for rel, data in first.items():
        if rel.endswith(".py"):
            assert 200 <= data.count(b"\n") <= 400, rel
    bad = [mc.draw("safeai-bench", i)[2] for i in range(200)]
    assert 70 <= sum(1 for b in bad if b) <= 130  # about half break the standard


def test_safeai_lint_scans_every_corpus_file(tmp_path: Path) -> None:
    mc = _make_corpus()
    mc.write_corpus(10, tmp_path)
    result = lint([str(tmp_path)], cwd=tmp_path, jobs=1)
    assert result.files_scanned == 80
    assert [f for f in result.findings if f.rule in ("SAI001", "SAI002")] == []
    flagged = {f.location.path.split("/")[1] for f in result.findings}
    breaking = {mc.draw("safeai-bench", i)[1] for i in range(10) if mc.draw("safeai-bench", i)[2]}
    assert breaking and breaking <= flagged  # each breaking service shows up in the report


def _run_script():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _fig(name: str, wall: float) -> dict:
    return {"name": name, "command": name, "runs": 3, "wall": wall, "wall_min": wall, "cpu": wall, "rss_mb": 20, "tree_rss_mb": 20, "exit_codes": [0]}


def test_benchmark_judges_the_precommit_case_against_hadolint_on_the_same_file() -> None:
    run = _run_script()
    single = [
        _fig("safeai-lint check ONE Dockerfile (cold)", 0.120),
        _fig("hadolint ONE Dockerfile", 0.050),
        _fig("safeai-lint check ONE Dockerfile in git, cache warm (pre-commit)", 0.160),
        _fig("hadolint ONE Dockerfile in git", 0.050),
        _fig("safeai-lint check ONE Dockerfile in git, cache warm, that file just edited", 0.170),
        _fig("hadolint ONE Dockerfile in git, just edited", 0.050),
    ]
    lines = run.verdicts({"corpora": [], "single": single})
    assert "PASS  cold one-file check / hadolint one file = 2.4x (budget <= 3x)" in lines
    assert any(line.startswith("FAIL  pre-commit case") and "3.2x hadolint" in line for line in lines)
    assert any(line.startswith("info  the same, the Dockerfile edited") and "3.4x" in line for line in lines)
    single[2] = _fig("safeai-lint check ONE Dockerfile in git, cache warm (pre-commit)", 0.140)
    assert any(line.startswith("PASS  pre-commit case") and "2.8x" in line for line in run.verdicts({"corpora": [], "single": single}))
