"""Where the git work tree is: found from the folders themselves when that is plain, else by
asking git; either way the answer is git's own."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from safeai_lint import discover
from safeai_lint.discover import git_root


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "svc" / "deploy").mkdir(parents=True)
    _git("init", "-q", cwd=root)
    return root


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The folders git was asked about (the real answer is still given)."""
    calls: list[Path] = []
    real = discover._ask_git

    def spy(folder: Path) -> Path | None:
        calls.append(folder)
        return real(folder)

    monkeypatch.setattr(discover, "_ask_git", spy)
    return calls


def test_a_plain_repository_is_found_without_starting_git(repo: Path, asked: list[Path]) -> None:
    for start in (repo, repo / "svc", repo / "svc" / "deploy"):
        assert git_root(start) == repo.resolve() == Path(_git("rev-parse", "--show-toplevel", cwd=start)).resolve()
    assert asked == []


def test_outside_git_there_is_no_root_and_no_git_process(tmp_path: Path, asked: list[Path]) -> None:
    (tmp_path / "plain").mkdir()
    assert git_root(tmp_path / "plain") is None
    assert asked == []


def test_a_worktree_link_file_asks_git(repo: Path, tmp_path: Path, asked: list[Path]) -> None:
    (repo / "README").write_text("x\n")
    _git("add", "README", cwd=repo)
    _git("-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "x", cwd=repo)
    linked = tmp_path / "linked"
    _git("worktree", "add", "-q", str(linked), cwd=repo)
    assert (linked / ".git").is_file()
    assert git_root(linked) == linked.resolve()
    assert asked == [linked]


@pytest.mark.parametrize("line", ["\tworktree = /elsewhere", "\tbare = true", "\tbare", "\tbare = yes", "\tbare = 1",
                                  '[include]\n\tpath = other.config', "[extensions]\n\tobjectformat = sha256"])
def test_a_config_that_may_move_the_work_tree_asks_git(repo: Path, asked: list[Path], line: str) -> None:
    config = repo / ".git" / "config"
    config.write_text(config.read_text() + "[core]\n" + line + "\n")
    git_root(repo / "svc")
    assert asked == [repo / "svc"]


def test_environment_that_moves_git_asks_git(repo: Path, asked: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_DIR", str(repo / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(repo / "svc"))
    assert git_root(repo / "svc") == (repo / "svc").resolve()  # git's answer, not the folder holding .git
    assert asked == [repo / "svc"]


def test_a_repository_of_another_user_asks_git(repo: Path, asked: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(repo).st_uid + 1)  # git's safe.directory rules decide
    git_root(repo / "svc")
    assert asked == [repo / "svc"]


def test_inside_the_git_folder_asks_git(repo: Path, asked: list[Path]) -> None:
    assert git_root(repo / ".git" / "refs") is None  # git has no work tree there
    assert asked == [repo / ".git" / "refs"]


def test_a_one_line_section_naming_a_work_tree_asks_git(repo: Path, tmp_path: Path, asked: list[Path]) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = repo / ".git" / "config"
    config.write_text(config.read_text() + f"[core] worktree = {elsewhere}\n")
    assert git_root(repo / "svc") == Path(_git("rev-parse", "--show-toplevel", cwd=repo / "svc")).resolve()
    assert asked == [repo / "svc"]


def test_a_git_folder_that_is_not_a_repository_asks_git(repo: Path, asked: list[Path]) -> None:
    inner = repo / "svc" / "deploy"
    (inner / ".git").mkdir()
    (inner / ".git" / "HEAD").write_text("ref: refs/heads/main\n")  # no objects/, no refs/
    assert git_root(inner) == repo.resolve()  # git skips it and finds the repository above
    assert asked == [inner]


def test_a_symlinked_folder_is_judged_where_it_really_is(tmp_path: Path, asked: list[Path]) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    (b / "sub").mkdir(parents=True)
    a.mkdir()
    _git("init", "-q", cwd=a)
    _git("init", "-q", cwd=b)
    (a / "link").symlink_to(b / "sub")
    assert git_root(a / "link") == b.resolve() == Path(_git("rev-parse", "--show-toplevel", cwd=a / "link")).resolve()
    assert asked == []
