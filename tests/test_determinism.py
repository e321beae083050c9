"""The report is byte-identical across runs, `--jobs 1` vs `--jobs 2` (the process pool), hash
seeds, and the order in which the file system hands out the files.

The tree is every example of every rule (rules/SAIxxx.yaml), each in its own folder: many file
kinds, cross-file rules, and more files than engine.PARALLEL_THRESHOLD.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from safeai_lint import engine

RULES = Path(__file__).resolve().parent.parent / "rules"


def _example_files() -> dict[str, str]:
    files: dict[str, str] = {}
    for doc_path in sorted(RULES.glob("SAI*.yaml")):
        doc = yaml.safe_load(doc_path.read_text(encoding="utf-8")) or {}
        for i, example in enumerate(doc.get("examples") or ()):
            if not isinstance(example, dict) or example.get("config"):
                continue  # a config applies to a whole tree; these examples would change the others
            for rel, content in (example.get("files") or {}).items():
                if isinstance(content, str) and not rel.startswith(".safeai-lint"):
                    files[f"{doc_path.stem}-{i}/{rel}"] = content
    return files


FILES = _example_files()


def _write(root: Path, order: list[str]) -> Path:
    root.mkdir(parents=True)
    for rel in order:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(FILES[rel], encoding="utf-8")
    return root


def _run(root: Path, *args: str, seed: str = "0") -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": seed, "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "safeai_lint", "check", ".", "--no-progress", *args],
        cwd=root, env=env, capture_output=True, timeout=300, check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr.decode()
    return proc.stdout


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("det") / "forward", sorted(FILES))


def test_tree_is_big_enough_for_the_process_pool(tree: Path) -> None:
    scanned = engine.lint([str(tree)], cwd=tree).files_scanned
    assert scanned >= engine.PARALLEL_THRESHOLD, scanned


def test_same_output_across_runs_and_hash_seeds(tree: Path) -> None:
    first = _run(tree, "--format", "json", "--jobs", "1", seed="0")
    assert b'"findings"' in first and first.count(b'"rule"') > 50
    assert _run(tree, "--format", "json", "--jobs", "1", seed="0") == first
    assert _run(tree, "--format", "json", "--jobs", "1", seed="12345") == first


@pytest.mark.parametrize("fmt", ["json", "sarif", "text"])
def test_jobs_1_and_jobs_2_give_the_same_bytes(tree: Path, fmt: str) -> None:
    assert _run(tree, "--format", fmt, "--jobs", "1") == _run(tree, "--format", fmt, "--jobs", "2", seed="777")


def test_file_system_creation_order_does_not_matter(tree: Path, tmp_path: Path) -> None:
    backward = _write(tmp_path / "backward", sorted(FILES, reverse=True))
    # interleaved: every other file first, so directory entry order differs from both
    names = sorted(FILES)
    shuffled = _write(tmp_path / "shuffled", names[1::2] + names[0::2])
    expected = _run(tree, "--format", "json", "--jobs", "2")
    assert _run(backward, "--format", "json", "--jobs", "2") == expected
    assert _run(shuffled, "--format", "json", "--jobs", "1") == expected
