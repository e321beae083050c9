"""SAI101-SAI105: the version lock table, CUDA builds, drift between files, package indexes."""
from __future__ import annotations

import functools
import re
from collections import defaultdict
from typing import Iterable, Iterator

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from ..facts import CudaBuild, ImageRef, Location, PackageSource, VersionDecl, Workload
from ..findings import Finding
from ..policy import Policy
from ..project import Project
from ..sources import specs
from ..sources.shell import INDEX_VARIABLES
from . import Check

# Package names (PEP 503) that declare a locked component under another name.
ALIASES = {
    "pytorch": "torch",
    "nvidia-nccl-cu12": "nccl",
    "nvidia-nccl-cu11": "nccl",
    "pytorch-triton": "triton",
    "cudatoolkit": "cuda",
    "cuda-toolkit": "cuda",
}
PLATFORM = {"python", "cuda", "cuda-driver", "nccl"}


def _lock_key(component: str, lock: dict) -> str | None:
    key = ALIASES.get(component, component)
    return key if key in lock else None


def _probes(spec: SpecifierSet, lock: Version) -> set[Version]:
    """Versions that reveal what a specifier admits near the lock and near its own bounds."""
    seeds = {lock.release}
    for item in spec:
        try:
            seeds.add(Version(item.version.replace(".*", "")).release)
        except InvalidVersion:
            continue
    out: set[Version] = set()
    for release in seeds:
        parts = list(release) + [0] * max(0, 3 - len(release))
        for i in range(len(parts)):
            for delta in (-1, 0, 1):
                bumped = parts.copy()
                bumped[i] = max(bumped[i] + delta, 0)
                out.add(Version(".".join(map(str, bumped))))
        out.add(Version(".".join(map(str, parts)) + ".1"))
        out.add(Version(".".join(map(str, parts)) + ".post1"))
        out.add(Version(".".join(map(str, parts[:2]))))
        out.add(Version(".".join(map(str, parts[:2])) + ".99"))
    return out


def _matches_lock(version: Version, lock: str) -> bool:
    want = specs.release(lock) or ()
    got = version.release + (0,) * max(0, len(want) - len(version.release))
    if len(want) >= 3:
        return got == want + (0,) * (len(got) - len(want)) if len(got) > len(want) else got[: len(want)] == want and version.post is None
    return got[: len(want)] == want


def judge(specifier: str, lock: str) -> str | None:
    """"mismatch" when the specifier excludes the lock, "unpinned" when it admits other
    versions too, None when it pins exactly what the lock asks."""
    # memoised: a repository repeats its specifiers (short ones only are kept)
    return _judge_memo(specifier, lock) if len(specifier) <= 512 else _judge(specifier, lock)


def _judge(specifier: str, lock: str) -> str | None:
    specifier = re.sub(r"\+[A-Za-z0-9.]+", "", specifier)  # the build variant is SAI103's
    try:
        spec = SpecifierSet(specifier)
        lock_version = Version(lock)
    except (InvalidSpecifier, InvalidVersion):
        return None
    if not str(spec):
        return "unpinned"
    probes = _probes(spec, lock_version)
    admitted = {v for v in probes if spec.contains(v, prereleases=True)}
    if not any(_matches_lock(v, lock) for v in admitted):
        return "mismatch"
    if any(not _matches_lock(v, lock) for v in admitted):
        return "unpinned"
    if not any(item.operator in ("==", "===") for item in spec):
        return "unpinned"  # bounded only by inequalities: admits unlisted releases
    return None


# `FROM python:${PYTHON_VERSION}-slim`, or `FROM ${BASE}` with `ARG BASE=python:${PYTHON_VERSION}`:
# the version is declared (and reported) on the ARG line that sets PYTHON_VERSION; each FROM
# would report the same declaration again.
_PYTHON_VERSION_ARG = re.compile(r"\$\{?PYTHON_VERSION\b")


def _image_versions(images: Iterable[ImageRef]) -> Iterator[VersionDecl | CudaBuild]:
    """Versions carried by well-known image tags: python, nvidia/cuda, pytorch/pytorch."""
    try:
        from ..sources.image_ref import parse_image
    except ImportError:  # pragma: no cover - the image parser is being written
        return
    for ref in images:
        if not ref.reference:
            continue
        name = parse_image(ref.reference)
        if name is None or not name.tag:
            continue
        repo, tag, loc = name.familiar, name.tag, ref.location
        if repo == "python":
            match = specs.release(tag)
            if match and "PYTHON_VERSION" not in ref.variables and not _PYTHON_VERSION_ARG.search(ref.written.rpartition(":")[2]):
                yield VersionDecl("python", specs.exact_or_prefix(tag.split("-")[0]), loc, "image tag")
        elif repo in ("nvidia/cuda", "nvcr.io/nvidia/cuda"):
            if specs.release(tag):
                yield VersionDecl("cuda", specs.exact_or_prefix(tag.split("-")[0]), loc, "image tag")
        elif repo == "pytorch/pytorch":
            torch = tag.split("-")[0]
            if specs.release(torch):
                yield VersionDecl("torch", specs.exact_or_prefix(torch), loc, "image tag")
            cuda = specs.cuda_of_build(tag)
            if cuda:
                yield CudaBuild("torch", cuda, loc, "image tag")


def _describe(decl: VersionDecl) -> str:
    return decl.specifier or "without a version"


def check_lock(project: Project, policy: Policy) -> Iterator[Finding]:
    lock = {k: str(v) for k, v in (policy.get("version-lock") or {}).items()}
    if not lock:
        return
    extra = [f for f in _image_versions(project.all(ImageRef)) if isinstance(f, VersionDecl)]
    decls = [*project.all(VersionDecl), *extra]
    # lock files are judged only for components the project declares directly
    direct = {_lock_key(d.component, lock) for d in decls if not d.resolved}
    for decl in decls:
        key = _lock_key(decl.component, lock)
        if key is None or (decl.resolved and (key not in direct or decl.component.startswith("nvidia-"))):
            continue  # a CUDA runtime wheel torch pulls in is not the system library locked
        verdict = judge(decl.specifier, lock[key])
        shown = decl.component if decl.component == key else f"{decl.component} ({key})"
        if verdict == "mismatch":
            yield Finding("SAI101", f"{shown} is declared as `{_describe(decl)}` in {decl.surface}, but the lock table requires {lock[key]}", decl.location, subject=key)
        elif verdict == "unpinned" and not decl.resolved:
            if not decl.specifier:
                message = f"{shown} is declared {_describe(decl)} in {decl.surface}; pin it to the locked {lock[key]}"
            else:
                message = f"{shown} is declared as `{decl.specifier}` in {decl.surface}, which admits versions other than the locked {lock[key]}; pin it exactly"
            yield Finding("SAI102", message, decl.location, subject=key)


def check_cuda_builds(project: Project, policy: Policy) -> Iterator[Finding]:
    lock = (policy.get("version-lock") or {}).get("cuda")
    if not lock:
        return
    locked = specs.release(str(lock)) or ()
    if len(locked) < 2:
        return
    builds = [*project.all(CudaBuild), *(f for f in _image_versions(project.all(ImageRef)) if isinstance(f, CudaBuild))]
    for build in builds:
        got = specs.release(build.cuda) or ()
        if len(got) < 2 or got[:2] == locked[:2]:
            continue
        if got[0] != locked[0]:
            yield Finding("SAI103", f"{build.package} is built for CUDA {build.cuda}, a different major version than the locked CUDA {lock}", build.location, subject="cuda")
        else:
            message = (
                f"{build.package} is built for CUDA {build.cuda} while the lock is CUDA {lock}: minor-version "
                "compatibility holds, but two CUDA runtimes will sit in one image"
            )
            yield Finding("SAI103", message, build.location, level="note", subject="cuda")


_judge_memo = functools.lru_cache(maxsize=4096)(_judge)


def _exact(spec: str) -> str | None:
    try:
        items = list(SpecifierSet(spec))
    except InvalidSpecifier:
        return None
    if len(items) == 1 and items[0].operator in ("==", "===") and not items[0].version.endswith(".*"):
        try:
            return str(Version(items[0].version).public) if items[0].operator == "==" else items[0].version
        except InvalidVersion:
            return items[0].version
    return None


_exact_memo = functools.lru_cache(maxsize=4096)(_exact)


def check_drift(project: Project, policy: Policy) -> Iterator[Finding]:
    lock = policy.get("version-lock") or {}
    # pins are compared within one deployable unit: two sub-projects may pin differently
    pins: dict[tuple[str, str], list[tuple[str, VersionDecl]]] = defaultdict(list)
    for decl in project.all(VersionDecl):
        if decl.resolved or decl.component in PLATFORM or _lock_key(decl.component, lock):
            continue  # locked components are judged against the lock itself (SAI101)
        version = _exact_memo(decl.specifier) if len(decl.specifier) <= 512 else _exact(decl.specifier)
        if version:
            pins[(project.unit_of(decl.location.path), decl.component)].append((version, decl))
    for (_unit, package), places in sorted(pins.items()):
        first: dict[str, VersionDecl] = {}
        for version, decl in places:
            first.setdefault(version, decl)
        if len(first) < 2:
            continue
        for version, decl in places:
            others = ", ".join(
                f"{v} at {d.location.path}:{d.location.line}" for v, d in sorted(first.items()) if v != version
            )
            yield Finding("SAI104", f"{package} is pinned to {version} here but to {others}", decl.location, subject=package)


def _normal_url(url: str) -> str:
    url = url.strip().lower()
    for scheme in ("https://", "http://"):
        if url.startswith(scheme):
            url = url[len(scheme):]
    return url.rstrip("/")


def _host(url: str) -> str:
    return _normal_url(url).split("/", 1)[0].split("@")[-1]


_REMOTE = re.compile(r"^(?:[a-z0-9]+\+)?[a-z][a-z0-9+.-]*://", re.I)


def _remote(url: str) -> bool:
    """A URL that reaches another machine: not `file:` URLs or paths (`../pkg`, `./wheels`),
    which name the project's own files."""
    return bool(_REMOTE.match(url)) and not url.lower().startswith(("file:", "git+file:"))


def _sources(project: Project) -> Iterator[PackageSource]:
    yield from project.all(PackageSource)
    seen: set[Location] = set()
    for workload in project.all(Workload):  # PIP_INDEX_URL and kin set for a container
        for env in (e for c in workload.containers for e in c.env):
            option = INDEX_VARIABLES.get(env.name)
            if option and env.value and "$" not in env.value and env.location not in seen:
                seen.add(env.location)
                for url in env.value.split():
                    yield PackageSource(url, option, env.location)


def check_indexes(project: Project, policy: Policy) -> Iterator[Finding]:
    allowed = [_normal_url(u) for u in policy.get("allowed-indexes") or ()]
    hosts = {_host(u) for u in allowed}
    for source in _sources(project):
        url = source.url
        if source.option != "--trusted-host" and not _remote(url):
            continue  # a local folder or file: the project's own code
        if source.option == "--trusted-host":
            if _host(url) not in hosts:
                yield Finding("SAI105", f"`--trusted-host {url}` turns off TLS checks for a host outside the allowed indexes", source.location)
            continue
        normal = _normal_url(url)
        if any(normal == a or normal.startswith(a + "/") for a in allowed):
            if "://" in url and not url.lower().startswith("http") and source.option == "url-requirement":
                pass
            elif not url.lower().startswith("http://"):
                continue
        what = {
            "url-requirement": "a direct URL or VCS requirement",
            "conda-channel": "a conda channel URL",
        }.get(source.option, f"`{source.option}`")
        yield Finding("SAI105", f"packages come from {what} outside the allowed indexes: {url}", source.location)


CHECKS = (
    Check(("SAI101", "SAI102"), check_lock),
    Check(("SAI103",), check_cuda_builds),
    Check(("SAI104",), check_drift),
    Check(("SAI105",), check_indexes),
)
