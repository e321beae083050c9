"""Which files are scanned: git awareness, excludes, symlinks, special files, odd inputs."""
from __future__ import annotations

import os
import subprocess

from conftest import hits, scan, write_tree
from safeai_lint.discover import classify
from safeai_lint.engine import lint


def test_classification_by_name():
    assert classify("requirements.txt") == "requirements"
    assert classify("requirements/prod.txt") == "requirements"
    assert classify("constraints-gpu.txt") == "requirements"
    assert classify("reqs.in") == "requirements"
    assert classify("svc/Dockerfile.gpu") == "dockerfile"
    assert classify("build/api.Dockerfile") == "dockerfile"
    assert classify("Containerfile") == "dockerfile"
    assert classify("k8s/deploy.yml") == "yaml"
    assert classify("poetry.lock") == "lockfile"
    assert classify("README.md") is None
    assert classify("notes.txt") is None
    assert classify("migrations/001_init.sql") == "sql"
    assert classify("db/Schema.SQL") == "sql"


def test_gitignored_files_are_not_scanned(tmp_path):
    write_tree(tmp_path, {".gitignore": "build/\n", "build/requirements.txt": "torch>=1\n", "requirements.txt": "torch>=2.0\n"})
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    assert hits(lint([str(tmp_path)], cwd=tmp_path)) == {("SAI102", "requirements.txt", 1)}


def test_a_git_worktree_is_a_git_scan_and_a_plain_folder_is_walked(tmp_path):
    # a linked worktree has a `.git` FILE, not a folder: git must still decide what is scanned
    main = write_tree(tmp_path / "main", {".gitignore": "build/\n", "requirements.txt": "torch>=2.0\n"})
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], cwd=main, check=True)
    subprocess.run([*git, "add", "-A"], cwd=main, check=True)
    subprocess.run([*git, "commit", "-qm", "x"], cwd=main, check=True)
    subprocess.run([*git, "worktree", "add", "-q", str(tmp_path / "wt")], cwd=main, check=True)
    tree = write_tree(tmp_path / "wt", {"build/requirements.txt": "torch>=1\n"})
    assert (tree / ".git").is_file()
    assert hits(lint([str(tree)], cwd=tree)) == {("SAI102", "requirements.txt", 1)}
    # the same files outside git: everything is walked, build/ included
    plain = write_tree(tmp_path / "plain", {".gitignore": "build/\n", "requirements.txt": "torch>=2.0\n", "build/requirements.txt": "torch>=1\n"})
    assert hits(lint([str(plain)], cwd=plain)) == {("SAI102", "requirements.txt", 1), ("SAI102", "build/requirements.txt", 1)}


def test_explicitly_named_folder_is_scanned_even_if_excluded(tmp_path):
    write_tree(tmp_path, {".safeai-lint.yaml": "exclude: [examples]\n", "examples/demo/requirements.txt": "torch>=2.0\n"})
    assert hits(lint([str(tmp_path)], cwd=tmp_path)) == set()
    assert hits(lint([str(tmp_path / "examples/demo")], cwd=tmp_path)) == {("SAI102", "examples/demo/requirements.txt", 1)}


def test_symlinks_do_not_escape_the_root_and_loops_end(tmp_path):
    outside = tmp_path / "outside"
    write_tree(outside, {"requirements.txt": "torch>=1\n"})
    root = tmp_path / "repo"
    write_tree(root, {"requirements.txt": "torch==2.1.0\n"})
    os.symlink(outside / "requirements.txt", root / "requirements-ext.txt")
    os.symlink(outside, root / "linked")
    os.symlink(root / "loop", root / "loop")
    assert hits(lint([str(root)], cwd=root)) == set()


def test_symlink_to_a_file_inside_the_root_is_read(tmp_path):
    root = write_tree(tmp_path / "repo", {"svc/requirements.txt": "torch>=2.0\n"})
    os.symlink(root / "svc" / "requirements.txt", root / "requirements.txt")
    os.symlink(root / "svc", root / "svc-link")  # a linked folder is not entered: no third finding
    assert hits(lint([str(root)], cwd=root)) == {("SAI102", "svc/requirements.txt", 1), ("SAI102", "requirements.txt", 1)}


def test_fifo_named_like_a_requirements_file_does_not_block(tmp_path):
    os.mkfifo(tmp_path / "requirements.txt")
    result = scan(tmp_path, {})
    assert hits(result) == {("SAI002", "requirements.txt", 1)}


def test_directory_named_requirements_txt_is_walked_not_read(tmp_path):
    result = scan(tmp_path, {"requirements.txt/inner/requirements.txt": "torch>=2.0\n"})
    assert hits(result) == {("SAI102", "requirements.txt/inner/requirements.txt", 1)}


def test_odd_encodings_and_empty_files(tmp_path):
    result = scan(tmp_path, {
        "a/requirements.txt": "torch>=2.0\r\n".encode(),
        "b/requirements.txt": "\ufefftorch>=2.0\n".encode("utf-8"),
        "c/requirements.txt": "torch>=2.0\n".encode("utf-16"),
        "d/requirements.txt": b"torch>=2.0 \xff\xfe\xfa\n",
        "e/requirements.txt": b"",
        "f/requirements.txt": b"\x00\x01\x02binary",
    })
    assert hits(result) == {
        ("SAI102", "a/requirements.txt", 1),
        ("SAI102", "b/requirements.txt", 1),
        ("SAI102", "c/requirements.txt", 1),
        ("SAI002", "d/requirements.txt", 1),
        ("SAI002", "f/requirements.txt", 1),
    }


def test_file_over_the_size_cap_is_skipped_with_a_finding(tmp_path):
    result = scan(tmp_path, {".safeai-lint.yaml": "max-file-size: 1KB\n", "requirements.txt": "torch>=2.0\n" + "#" * 4096 + "\n"})
    assert hits(result) == {("SAI002", "requirements.txt", 1)}
    assert "over the size cap" in result.findings[0].message


def test_broken_files_give_sai001_and_the_scan_goes_on(tmp_path):
    result = scan(tmp_path, {
        "requirements.txt": "torch>=2.0\nthis is not a requirement ===\n",
        "pyproject.toml": "[project\n",
        "environment.yml": "name: x\ndependencies: [\n",
    })
    assert hits(result) == {
        ("SAI102", "requirements.txt", 1),
        ("SAI001", "requirements.txt", 2),
        ("SAI001", "pyproject.toml", 1),
        ("SAI001", "environment.yml", 2),  # the end of the file
    }
