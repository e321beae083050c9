"""Baseline: written from one scan, it hides exactly those findings in later scans."""
from __future__ import annotations

import json

import pytest

from safeai_lint.baseline import BaselineError, apply_baseline, load_baseline, parse_baseline, write_baseline
from conftest import scan

REQS = "torch>=2.0\ntransformers==4.36.2\n"  # SAI102 line 1, SAI101 line 2


def _rules_lines(findings):
    return {(f.rule, f.location.path, f.location.line) for f in findings}


def _baseline(tmp_path, files):
    repo = tmp_path / "repo"
    repo.mkdir()
    first = scan(repo, files)
    path = tmp_path / "baseline.json"
    count = write_baseline(first.findings, path)
    return repo, path, first, count


def test_written_baseline_hides_every_current_finding(tmp_path):
    repo, path, first, count = _baseline(tmp_path, {"requirements.txt": REQS})
    assert count == len(first.findings) == 2
    kept, fixed = apply_baseline(scan(repo).findings, load_baseline(path))
    assert kept == [] and fixed == 0


def test_line_shift_and_new_finding_above_only_the_new_one_is_reported(tmp_path):
    repo, path, _, _ = _baseline(tmp_path, {"requirements.txt": REQS})
    (repo / "requirements.txt").write_text("triton>=2.0\n\n" + REQS, encoding="utf-8")
    kept, fixed = apply_baseline(scan(repo).findings, load_baseline(path))
    assert _rules_lines(kept) == {("SAI102", "requirements.txt", 1)}
    assert fixed == 0


def test_fixing_one_counts_it_as_fixed(tmp_path):
    repo, path, _, _ = _baseline(tmp_path, {"requirements.txt": REQS})
    (repo / "requirements.txt").write_text("torch>=2.0\ntransformers==4.34.0\n", encoding="utf-8")
    kept, fixed = apply_baseline(scan(repo).findings, load_baseline(path))
    assert kept == [] and fixed == 1


def test_editing_the_flagged_line_makes_it_new(tmp_path):
    # a different wrong version is a new decision, not the one that was accepted
    repo, path, _, _ = _baseline(tmp_path, {"requirements.txt": REQS})
    (repo / "requirements.txt").write_text("torch>=2.0\ntransformers==4.40.0\n", encoding="utf-8")
    kept, fixed = apply_baseline(scan(repo).findings, load_baseline(path))
    assert _rules_lines(kept) == {("SAI101", "requirements.txt", 2)}
    assert fixed == 1


def test_same_finding_in_another_file_is_new(tmp_path):
    repo, path, _, _ = _baseline(tmp_path, {"requirements.txt": REQS})
    (repo / "constraints.txt").write_text(REQS, encoding="utf-8")
    kept, _ = apply_baseline(scan(repo).findings, load_baseline(path))
    assert {p for _, p, _ in _rules_lines(kept)} == {"constraints.txt"}


def test_baseline_file_is_deterministic_and_documented_shape(tmp_path):
    repo, path, first, _ = _baseline(tmp_path, {"requirements.txt": REQS})
    again = tmp_path / "again.json"
    write_baseline(scan(repo).findings, again)
    assert path.read_bytes() == again.read_bytes()
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == "safeai-lint-baseline" and doc["schema_version"] == 1
    assert [(e["rule"], e["path"], e["line"]) for e in doc["findings"]] == [
        ("SAI102", "requirements.txt", 1), ("SAI101", "requirements.txt", 2),
    ]
    assert all(len(e["fingerprint"]) == 32 for e in doc["findings"])


@pytest.mark.parametrize("text, needle", [
    ("not json", "not a JSON baseline"),
    ("[]", "not a safeai-lint baseline"),
    ('{"format": "safeai-lint-baseline", "schema_version": 99, "findings": []}', "schema_version 99"),
    ('{"format": "safeai-lint-baseline", "schema_version": 1, "findings": {}}', "must be a list"),
    ('{"format": "safeai-lint-baseline", "schema_version": 1, "findings": [{"rule": "SAI101"}]}', "findings[0]"),
])
def test_bad_baseline_files_are_errors(text, needle):
    with pytest.raises(BaselineError, match=None) as info:
        parse_baseline(text, "b.json")
    assert needle in str(info.value)


def test_missing_baseline_file_is_an_error(tmp_path):
    with pytest.raises(BaselineError, match="cannot read baseline"):
        load_baseline(tmp_path / "nope.json")


def test_baseline_is_written_readable_by_others_like_any_committed_file(tmp_path):
    import os
    import stat

    result = scan(tmp_path, {"requirements.txt": REQS})
    old = os.umask(0o022)
    try:
        write_baseline(result.findings, tmp_path / "baseline.json")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "baseline.json").stat().st_mode) == 0o644


def test_fingerprints_are_sha256_of_rule_path_line_text_and_message() -> None:
    """Baselines written by earlier versions keep matching: the fingerprint is the first 32
    hex digits of SHA-256 over rule, path, normalised line text, normalised message and the
    occurrence count (digits in the message read as `#`: a line number it cites may move),
    whichever SHA-256 implementation computes it."""
    import hashlib

    from safeai_lint.catalog import rule_index
    from safeai_lint.facts import Location
    from safeai_lint.findings import Finding
    from safeai_lint.finish import finish

    found = Finding("SAI203", "image `python:3.11` has no digest", Location("Dockerfile", 1, 6))
    (done,) = finish([found], rule_index(), {}, {"Dockerfile": {1: "FROM   python:3.11"}})
    base = "\0".join(("SAI203", "Dockerfile", "FROM python:3.11", "image `python:#.#` has no digest"))
    assert done.fingerprint == hashlib.sha256(f"{base}\0{0}".encode()).hexdigest()[:32]
