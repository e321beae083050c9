"""Inline suppressions: what silences a finding, and what is reported instead."""
from __future__ import annotations

from conftest import hits, scan


def test_same_line_and_line_above(tmp_path):
    result = scan(tmp_path, {"requirements.txt": (
        "torch>=2.0  # safeai-lint: ignore[SAI102] -- pinned in constraints.txt\n"
        "# safeai-lint: ignore[SAI101] -- upgrade approved, see docs/perf/tf.md\n"
        "transformers==4.36.2\n"
        "triton>=2.0\n"
    )})
    assert hits(result) == {("SAI102", "requirements.txt", 4)}


def test_a_comment_above_covers_only_the_next_line(tmp_path):
    result = scan(tmp_path, {"requirements.txt": "# safeai-lint: ignore[SAI102] -- reason\n\ntorch>=2.0\n"})
    assert hits(result) == {("SAI102", "requirements.txt", 3), ("SAI004", "requirements.txt", 1)}


def test_file_ignore(tmp_path):
    result = scan(tmp_path, {"requirements.txt": "# safeai-lint: file-ignore[SAI102,SAI101] -- legacy file\ntorch>=2.0\ntransformers==4.0.0\n"})
    assert hits(result) == set()


def test_no_reason_does_not_suppress(tmp_path):
    result = scan(tmp_path, {"requirements.txt": "torch>=2.0  # safeai-lint: ignore[SAI102]\n"})
    assert hits(result) == {("SAI102", "requirements.txt", 1), ("SAI003", "requirements.txt", 1)}
    message = next(f.message for f in result.findings if f.rule == "SAI003")
    assert "no reason" in message


def test_unknown_rule_and_malformed_directive(tmp_path):
    result = scan(tmp_path, {"requirements.txt": "torch==2.1.0  # safeai-lint: ignore[SAI777] -- x\n# safeai-lint: disable SAI101\n"})
    assert hits(result) == {("SAI003", "requirements.txt", 1), ("SAI003", "requirements.txt", 2)}


def test_unused_suppression_is_a_note(tmp_path):
    result = scan(tmp_path, {"requirements.txt": "torch==2.1.0  # safeai-lint: ignore[SAI101] -- pinned\n"})
    assert hits(result) == {("SAI004", "requirements.txt", 1)}
    assert result.findings[0].level == "note"


def test_suppression_in_yaml_and_toml(tmp_path):
    result = scan(tmp_path, {
        "pyproject.toml": '[project]\nname = "x"\n# safeai-lint: ignore[SAI102] -- library range\nrequires-python = ">=3.10"\n',
        "environment.yml": "name: x\ndependencies:\n  - pytorch=2.0.1  # safeai-lint: ignore[SAI101] -- pinned by platform team\n",
    })
    assert hits(result) == set()
