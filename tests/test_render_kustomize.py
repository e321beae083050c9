"""Kustomize overlays are built with kustomize itself and judged as built; findings land at
the patch, `images:` entry or base line that set the value (RULES.md "The deployed view")."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import hits, write_tree
from safeai_lint.engine import lint
from safeai_lint.render import kustomize

FIXTURES = Path(__file__).parent / "fixtures" / "render" / "overlays"


def overlays(tmp_path: Path, extra: dict[str, str] | None = None) -> Path:
    shutil.copytree(FIXTURES, tmp_path / "repo")
    if extra:
        write_tree(tmp_path / "repo", extra)
    return tmp_path / "repo"


def run(root: Path, **kwargs):
    return lint([str(root)], cwd=root, ignore=["SAI7"], **kwargs)


EXPECTED = {
    # the base, through both overlays: one finding per place
    ("SAI305", "base/deployment.yaml", 3),
    ("SAI308", "base/deployment.yaml", 3),
    ("SAI301", "base/deployment.yaml", 25),
    # `:latest` is still deployed by args-patch; images-fix sets v0.6.3, still without a digest
    ("SAI202", "base/deployment.yaml", 13),
    ("SAI203", "base/deployment.yaml", 13),
    ("SAI203", "images-fix/kustomization.yaml", 4),
    # the base's --max-model-len=8192, deployed by images-fix
    ("SAI502", "base/deployment.yaml", 18),
    ("SAI605", "base/deployment.yaml", 12),
    # args-patch replaces the args: its lines are the last writer
    ("SAI307", "args-patch/patch.yaml", 13),
    ("SAI502", "args-patch/patch.yaml", 14),
    ("SAI605", "args-patch/patch.yaml", 9),
}


def test_overlays_are_built_and_reported_at_the_last_writer(tmp_path: Path) -> None:
    result = run(overlays(tmp_path))
    assert hits(result) == EXPECTED
    sai307 = next(f for f in result.findings if f.rule == "SAI307")
    assert "0.95" in sai307.message and "kustomize build of args-patch" in sai307.message
    assert sai307.snippet.strip() == "- --gpu-memory-utilization=0.95"
    # a finding both overlays share is one finding naming both
    sai301 = next(f for f in result.findings if f.rule == "SAI301")
    assert "args-patch" in sai301.message and "images-fix" in sai301.message


def test_images_entry_fixing_the_tag_removes_the_latest_finding(tmp_path: Path) -> None:
    root = overlays(tmp_path)
    shutil.rmtree(root / "args-patch")
    found = hits(run(root))
    assert not [h for h in found if h[0] == "SAI202"]
    assert ("SAI203", "images-fix/kustomization.yaml", 4) in found


def test_base_alone_is_built_when_no_overlay_uses_it(tmp_path: Path) -> None:
    root = overlays(tmp_path)
    shutil.rmtree(root / "args-patch")
    shutil.rmtree(root / "images-fix")
    found = hits(run(root))
    assert ("SAI202", "base/deployment.yaml", 13) in found
    assert not [h for h in found if h[1].endswith("kustomization.yaml")]


def edited(tmp_path: Path, rel: str, old: str, new: str) -> set:
    """(rule, path, line) of the fixture overlays scanned after one edit of `rel`."""
    root = overlays(tmp_path)
    path = root / rel
    path.write_text(path.read_text().replace(old, new), encoding="utf-8")
    return hits(run(root))


def test_suppression_comment_in_a_base_file_counts(tmp_path: Path) -> None:
    comment = "          # safeai-lint: ignore[SAI301] -- LimitRange sets them\n"
    found = edited(tmp_path, "base/deployment.yaml", "          resources:\n", comment + "          resources:\n")
    assert not [h for h in found if h[0] in ("SAI301", "SAI004")]
    assert ("SAI305", "base/deployment.yaml", 3) in found


def test_suppression_annotation_in_a_patch_covers_the_built_object(tmp_path: Path) -> None:
    annotation = '    metadata:\n      annotations:\n        safeai-lint.io/ignore: "SAI307=vLLM sole tenant of an 80 GB GPU"\n'
    found = edited(tmp_path, "args-patch/patch.yaml", "  template:\n", "  template:\n" + annotation)
    assert not [h for h in found if h[0] in ("SAI307", "SAI004")]
    assert [h for h in found if h[0] == "SAI502" and h[1] == "args-patch/patch.yaml"]


def test_remote_base_is_not_built(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        "k/kustomization.yaml": "resources:\n  - deploy.yaml\n  - https://github.com/example/base?ref=v1\n",
        "k/deploy.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    })
    result = run(root)
    assert hits(result) == {("SAI002", "k/kustomization.yaml", 3)}
    assert "remote or outside the repository" in result.findings[0].message


def test_resource_outside_the_repository_is_refused_and_never_read(tmp_path: Path) -> None:
    (tmp_path / "secret.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: TOPSECRET}\n", encoding="utf-8")
    root = write_tree(tmp_path / "repo", {
        "k/kustomization.yaml": "resources:\n  - ../../secret.yaml\n",
        ".safeai-lint.yaml": "fail-on: error\n",
    })
    (root / "k" / "link.yaml").symlink_to(tmp_path / "secret.yaml")
    write_tree(root, {"j/kustomization.yaml": "resources:\n  - ../k/link.yaml\n"})
    result = run(root)
    assert ("SAI002", "k/kustomization.yaml", 2) in hits(result)
    assert [f for f in result.findings if f.location.path == "j/kustomization.yaml" and f.rule == "SAI002"]
    assert "TOPSECRET" not in json.dumps([(f.message, f.snippet) for f in result.findings])


def test_overlay_that_does_not_build_is_sai001_and_its_files_judged_alone(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        "k/kustomization.yaml": "resources:\n  - deploy.yaml\npatches:\n  - path: missing.yaml\n",
        "k/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      containers:\n        - name: a\n          image: nginx:latest\n",
    })
    found = hits(run(root))
    assert ("SAI001", "k/kustomization.yaml", 1) in found
    assert ("SAI202", "k/deploy.yaml", 9) in found


def test_no_renderer_is_a_note_and_files_are_judged_one_by_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kustomize, "renderer", lambda: [])
    result = run(overlays(tmp_path))
    notes = {h for h in hits(result, "SAI002")}
    assert notes == {("SAI002", "args-patch/kustomization.yaml", 1), ("SAI002", "images-fix/kustomization.yaml", 1)}
    assert all(f.level == "note" for f in result.findings if f.rule == "SAI002")
    assert ("SAI202", "base/deployment.yaml", 13) in hits(result)


def test_kubectl_wheel_builds_when_nothing_is_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    argv = kustomize.renderer()
    assert argv and argv[-1] == "kustomize" and os.path.basename(argv[0]) == "kubectl"
    assert hits(run(overlays(tmp_path))) == EXPECTED


def test_generator_files_in_subfolders_are_copied_for_the_build(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        "k/kustomization.yaml": (
            "resources:\n  - deploy.yaml\nconfigMapGenerator:\n  - name: cfg\n    files:\n      - conf/app.properties\n"
            "    envs:\n      - env/vars.env\n"
        ),
        "k/conf/app.properties": "a=1\n",
        "k/env/vars.env": "B=2\n",
        "k/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      containers:\n        - name: a\n          image: nginx:latest\n",
    })
    assert hits(run(root)) == {("SAI202", "k/deploy.yaml", 9), ("SAI203", "k/deploy.yaml", 9)}


def test_overlays_that_rename_the_object_give_one_finding_per_base_line(tmp_path: Path) -> None:
    root = overlays(tmp_path, {})
    for folder, prefix in (("images-fix", "dev-"), ("args-patch", "prod-")):
        path = root / folder / "kustomization.yaml"
        path.write_text(path.read_text() + f"namePrefix: {prefix}\n", encoding="utf-8")
    result = run(root)
    assert hits(result) == EXPECTED
    sai301 = [f for f in result.findings if f.rule == "SAI301"]
    assert len(sai301) == 1 and "args-patch" in sai301[0].message and "images-fix" in sai301[0].message


def test_overlay_inflating_helm_charts_is_a_note_and_not_built(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        "k/kustomization.yaml": "resources:\n  - deploy.yaml\nhelmCharts:\n  - name: redis\n    repo: https://charts.example.com\n",
        "k/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      containers:\n        - name: a\n          image: nginx:latest\n",
    })
    result = run(root)
    assert hits(result) == {("SAI002", "k/kustomization.yaml", 3), ("SAI202", "k/deploy.yaml", 9), ("SAI203", "k/deploy.yaml", 9)}
    assert next(f for f in result.findings if f.rule == "SAI002").level == "note"


@pytest.mark.parametrize("files, why", [
    ({"app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
      "overlay/kustomization.yaml": "resources:\n  - ../app.yaml\n"}, "outside its own folder"),
    ({"overlay/kustomization.yaml": "configMapGenerator:\n  - name: p\n    envs: [params.env]\n"}, "not in the repository"),
])
def test_an_overlay_this_checkout_cannot_build_is_sai002_not_a_parse_error(tmp_path: Path, files, why) -> None:
    root = write_tree(tmp_path / "repo", files)
    result = lint([str(root)], cwd=root)
    found = [f for f in result.findings if f.location.path == "overlay/kustomization.yaml"]
    assert [(f.rule, f.location.line) for f in found] == [("SAI002", 1)]
    assert why in found[0].message and "judged one by one" in found[0].message


def test_an_overlay_whose_own_text_is_broken_stays_sai001(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo", {"overlay/kustomization.yaml": "resources:\n  - app.yaml\npatches:\n  - path: missing-target.yaml\n",
                                           "overlay/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
                                           "overlay/missing-target.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: nope\n"})
    result = lint([str(root)], cwd=root)
    assert {(f.rule, f.location.path) for f in result.findings if f.rule in ("SAI001", "SAI002")} == {("SAI001", "overlay/kustomization.yaml")}
