"""`--diff-base`: only findings on lines changed since a git ref, on a real temporary repo."""
from __future__ import annotations

import subprocess

from safeai_lint.diffbase import REPO_LEVEL_RULES, changed_lines, filter_findings, parse_unified_diff
from safeai_lint.engine import lint
from safeai_lint.facts import Location
from safeai_lint.findings import Finding


def _git(root, *args):
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(root), "PATH": "/usr/bin:/bin:/usr/local/bin"}
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env=env)


def _repo(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    (root / "requirements.txt").write_text("torch>=2.0\ntransformers==4.36.2\n", encoding="utf-8")
    (root / "constraints.txt").write_text("triton>=2.0\n", encoding="utf-8")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "first")
    # second commit: one new bad line at the top, one line fixed, the rest shifted
    (root / "requirements.txt").write_text("nccl>=2\n\ntorch>=2.0\ntransformers==4.34.0\n", encoding="utf-8")
    _git(root, "commit", "-q", "-am", "second")
    return root


def _lines(findings):
    return {(f.rule, f.location.path, f.location.line) for f in findings}


def test_changed_lines_between_two_commits(tmp_path):
    root = _repo(tmp_path)
    assert changed_lines(root, "HEAD~1") == {"requirements.txt": {1, 2, 4}}


def test_only_findings_on_changed_lines_are_kept(tmp_path):
    root = _repo(tmp_path)
    result = lint([str(root)], cwd=root)
    # the whole scan still sees the old torch>=2.0 and triton>=2.0 findings
    assert {("SAI102", "requirements.txt", 3), ("SAI102", "constraints.txt", 1)} <= _lines(result.findings)
    kept = filter_findings(result.findings, changed_lines(root, "HEAD~1"))
    assert _lines(kept) == {("SAI102", "requirements.txt", 1)}


def test_uncommitted_and_untracked_changes_count(tmp_path):
    root = _repo(tmp_path)
    (root / "constraints.txt").write_text("triton>=2.0\ntransformers>=4\n", encoding="utf-8")
    (root / "extra.txt").write_text("a\nb\nc\n", encoding="utf-8")
    (root / ".gitignore").write_text("ignored.txt\n", encoding="utf-8")
    (root / "ignored.txt").write_text("x\n", encoding="utf-8")
    changed = changed_lines(root, "HEAD")
    assert changed == {"constraints.txt": {2}, "extra.txt": {1, 2, 3}, ".gitignore": {1}}


def test_merge_base_is_used_so_commits_on_the_base_branch_are_not_blamed(tmp_path):
    root = _repo(tmp_path)
    _git(root, "checkout", "-q", "-b", "feature")
    (root / "constraints.txt").write_text("triton>=2.0\nnccl>=2\n", encoding="utf-8")
    _git(root, "commit", "-q", "-am", "feature work")
    _git(root, "checkout", "-q", "main")
    (root / "requirements.txt").write_text("nccl>=2\n\ntorch>=2.0\ntransformers==4.34.0\nnumpy==1.26.0\n", encoding="utf-8")
    _git(root, "commit", "-q", "-am", "main moves on")
    _git(root, "checkout", "-q", "feature")
    assert changed_lines(root, "main") == {"constraints.txt": {2}}


def test_bad_refs_and_non_repositories_give_none(tmp_path):
    root = _repo(tmp_path)
    assert changed_lines(root, "no-such-branch") is None
    assert changed_lines(root, "--output=/tmp/x") is None
    assert changed_lines(root, "") is None
    plain = tmp_path / "plain"
    plain.mkdir()
    assert changed_lines(plain, "HEAD") is None


def test_repo_level_rules_are_kept_wherever_they_point():
    assert {"SAI104", "SAI702", "SAI703"} == set(REPO_LEVEL_RULES)
    drift = Finding("SAI104", "numpy pinned twice", Location("a.txt", 9))
    other = Finding("SAI102", "unpinned", Location("a.txt", 9))
    spanning = Finding("SAI301", "no limits", Location("k.yaml", 3, 1, 6, 1))
    kept = filter_findings([drift, other, spanning], {"a.txt": {1}, "k.yaml": {5}})
    assert kept == [drift, spanning]


def test_parse_unified_diff_deletions_renames_and_quoted_paths():
    text = (
        "diff --git a/x.txt b/x.txt\n--- a/x.txt\n+++ b/x.txt\n"
        "@@ -3,2 +2,0 @@\n-gone\n-gone\n@@ -10 +9 @@\n-a\n+b\n"
        "diff --git a/old.txt b/old.txt\n--- a/old.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n"
        'diff --git "a/sp\\303\\251c ial.txt" "b/sp\\303\\251c ial.txt"\n--- "a/sp\\303\\251c ial.txt"\n'
        '+++ "b/sp\\303\\251c ial.txt"\n@@ -0,0 +1,2 @@\n+a\n+b\n'
    )
    assert parse_unified_diff(text) == {"x.txt": {2, 3, 9}, "spéc ial.txt": {1, 2}}
