"""`--diff-base`: what a change introduces since a git ref, on real temporary repositories:
findings on changed lines, and findings anywhere that REF's own tree does not have."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from safeai_lint.diffbase import REPO_LEVEL_RULES, changed_lines, export_tree, introduced, parse_unified_diff
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
    # REF had the same two unpinned findings (other lines, same text and message)
    before = [(f.rule, f.location.path, f.snippet, f.message) for f in result.findings if f.snippet in ("torch>=2.0", "triton>=2.0")]
    kept = introduced(result.findings, changed_lines(root, "HEAD~1"), before)
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


def test_repo_level_findings_are_kept_only_when_new_wherever_they_point():
    assert {"SAI104", "SAI702", "SAI703", "SAI802"} == set(REPO_LEVEL_RULES)
    drift = Finding("SAI104", "numpy pinned twice", Location("a.txt", 9), snippet="numpy==1")
    old_drift = Finding("SAI104", "numpy pinned twice", Location("a.txt", 1), snippet="numpy==2")
    other = Finding("SAI102", "unpinned", Location("a.txt", 9), snippet="torch")
    spanning = Finding("SAI301", "no limits", Location("k.yaml", 3, 1, 6, 1), snippet="- name: x")
    before = [("SAI104", "a.txt", "numpy==2", "numpy pinned twice"), ("SAI102", "a.txt", "torch", "unpinned"),
              ("SAI301", "k.yaml", "- name: x", "no limits")]
    # old_drift sits on a changed line but REF has it: not introduced; drift is new anywhere
    kept = introduced([drift, old_drift, other, spanning], {"a.txt": {1}, "k.yaml": {5}}, before)
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


# --- the CLI on real repositories ----------------------------------------------------------

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "genai-assistant-v2"


def _cli(root: Path, *args: str) -> tuple[int, list[tuple[str, str, int]], str]:
    out = subprocess.run(
        [sys.executable, "-m", "safeai_lint", "check", "--format", "json", *args],
        cwd=root, capture_output=True, text=True, timeout=300, env={**os.environ, "NO_COLOR": "1"}, check=False,
    )
    findings = json.loads(out.stdout)["findings"] if out.stdout.strip() else []
    return out.returncode, sorted((f["rule"], f["path"], f["line"]) for f in findings), out.stderr


def _example_repo(tmp_path: Path) -> Path:
    root = tmp_path / "example"
    shutil.copytree(EXAMPLE, root)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "example")
    return root


def test_clean_tree_reports_nothing_though_the_repository_has_repo_level_findings(tmp_path):
    root = _example_repo(tmp_path)
    code, whole, _ = _cli(root)
    assert code == 1 and {"SAI104", "SAI702", "SAI703", "SAI802"} <= {rule for rule, _, _ in whole}
    assert _cli(root, "--diff-base", "HEAD")[:2] == (0, [])


def test_a_change_that_adds_one_breach_reports_exactly_that_breach(tmp_path):
    root = _example_repo(tmp_path)
    # a third numpy pin: the two old SAI104 findings now name it too, but they are not new
    (root / "requirements-dev.txt").write_text("pytest==8.0.0\nnumpy==1.26.3\n", encoding="utf-8")
    assert _cli(root, "--diff-base", "HEAD")[:2] == (1, [("SAI104", "requirements-dev.txt", 2)])
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "dev requirements")
    assert _cli(root, "--diff-base", "HEAD~1")[:2] == (1, [("SAI104", "requirements-dev.txt", 2)])


def test_an_old_repo_level_finding_on_a_touched_line_is_not_reported(tmp_path):
    root = _example_repo(tmp_path)
    deployment = root / "k8s" / "deployment.yaml"
    text = deployment.read_text(encoding="utf-8")
    # deleting the line under `name:` marks the anchor line of SAI702/SAI703 as changed
    deployment.write_text(text.replace("  namespace: ai-services\n", "", 1), encoding="utf-8")
    assert changed_lines(root, "HEAD") == {"k8s/deployment.yaml": {4, 5}}
    code, findings, _ = _cli(root, "--diff-base", "HEAD")
    assert ("SAI702", "k8s/deployment.yaml", 4) in _cli(root)[1]
    assert not {rule for rule, _, _ in findings} & REPO_LEVEL_RULES


def test_a_finding_caused_on_an_unchanged_line_is_reported(tmp_path):
    root = _example_repo(tmp_path)
    # locking numpy in a new config makes the untouched pyproject pin a breach
    (root / ".safeai-lint.yaml").write_text('version-lock: {numpy: "1.26.2"}\n', encoding="utf-8")
    assert _cli(root, "--diff-base", "HEAD")[:2] == (1, [("SAI101", "pyproject.toml", 8)])


def test_ref_tree_is_read_through_git_without_touching_the_work_tree(tmp_path):
    root = _example_repo(tmp_path)
    (root / "requirements.txt").write_text("torch>=2.0\n", encoding="utf-8")  # uncommitted
    before = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout
    dest = tmp_path / "ref"
    dest.mkdir()
    assert export_tree(root, "HEAD", dest)
    assert (dest / "requirements.txt").read_text(encoding="utf-8") == (EXAMPLE / "requirements.txt").read_text(encoding="utf-8")
    assert (dest / "k8s" / "deployment.yaml").is_file() and not (dest / ".git").exists()
    after = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert after == before
    assert subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout == head


def test_diff_base_with_an_unknown_ref_or_stdin_exits_2(tmp_path):
    root = _example_repo(tmp_path)
    code, _, err = _cli(root, "--diff-base", "no-such-ref")
    assert code == 2 and "cannot diff against 'no-such-ref'" in err
    out = subprocess.run([sys.executable, "-m", "safeai_lint", "check", "-", "--stdin-filename", "x.yaml", "--diff-base", "HEAD"],
                         cwd=root, input="a: 1\n", capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 2 and "--diff-base" in out.stderr



def test_this_repository_clean_reports_nothing_and_one_breach_exactly(tmp_path):
    project = Path(__file__).resolve().parents[1]
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=project, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    root = tmp_path / "clone"
    for rel in filter(None, listed):
        if (project / rel).is_file() and not (project / rel).is_symlink():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(project / rel, root / rel)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "snapshot")
    assert _cli(root, "--diff-base", "HEAD")[:2] == (0, [])
    (root / "deploy").mkdir()
    (root / "deploy" / "requirements.txt").write_text("fastapi==0.110.0\ntorch>=2.0\n", encoding="utf-8")
    assert _cli(root, "--diff-base", "HEAD")[:2] == (1, [("SAI102", "deploy/requirements.txt", 2)])


def test_a_new_finding_among_equal_anchors_is_the_one_with_the_new_message():
    def missing(metric: str) -> Finding:
        return Finding("SAI702", f"required metric {metric} is exported nowhere", Location("k.yaml", 4), snippet="name: llm")

    before = [("SAI702", "k.yaml", "name: llm", f"required metric {m} is exported nowhere") for m in ("a_total", "c_total")]
    # a changed message on the same line still matches one leftover of REF's, one for one
    renamed = Finding("SAI702", "required metric c_total is missing", Location("k.yaml", 4), snippet="name: llm")
    assert introduced([missing("a_total"), missing("b_total"), missing("c_total")], {}, before) == [missing("b_total")]
    assert introduced([missing("a_total"), renamed], {}, before) == []

