"""SAI201-SAI204, SAI206: container images are trusted, pinned and reproducible.

Every `ImageRef` is judged the same way whatever named it (Dockerfile FROM, a Kubernetes
container, a Compose service, a KServe runtime). An unresolved reference gets SAI206 and
nothing else: its registry, tag and digest are unknown, and a guess would be noise.
"""
from __future__ import annotations

import fnmatch
import re
from typing import Any, Iterable, Iterator

from ..facts import ImageRef, PackageInstall
from ..findings import Finding
from ..policy import Policy
from ..project import Project
from ..sources.image_ref import ImageName, parse_image
from . import Check

DOCKER_OFFICIAL = "docker-official"


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if isinstance(v, (str, int, float)) and not isinstance(v, bool) and str(v).strip()]
    return []


def _resolved(project: Project) -> Iterator[tuple[ImageRef, ImageName]]:
    for ref in project.all(ImageRef):
        if ref.unresolved or not ref.reference:
            continue
        name = parse_image(ref.reference)
        if name is not None and not _local_build(ref, name):
            yield ref, name


def _local_build(ref: ImageRef, image: ImageName) -> bool:
    """A single-component name that is not a Docker Official Image (`tritonserver`,
    `collector:v0.1.0`): an image built locally or renamed at deploy time, not a Hub image."""
    return image.in_library and "/" not in ref.reference.split("@")[0] and not image.official


# --- SAI201 -------------------------------------------------------------------------------


def allowed_by(entry: str, image: ImageName) -> bool:
    """Whether one `allowed-images` entry admits `image` (see rules/SAI201.yaml):
    `docker-official`; a prefix ending in "/" or "/*"; a glob (matched against the short and
    the full name); or a repository, optionally with a tag."""
    entry = entry.strip()
    if entry.lower() == DOCKER_OFFICIAL:
        return image.official
    if entry.endswith("/*") or entry.endswith("/"):
        prefix = entry.rstrip("*").rstrip("/")
        if not prefix:
            return False
        first, _, rest = prefix.partition("/")
        if "." in first or ":" in first or first == "localhost":
            registry, path = first.lower(), rest
            if registry in ("index.docker.io", "registry-1.docker.io"):
                registry = "docker.io"
        else:
            registry, path = "docker.io", prefix
        if image.registry != registry:
            return False
        return not path or image.repository.startswith(path + "/")
    if any(c in entry for c in "*?["):
        return any(fnmatch.fnmatchcase(name, entry) for name in (image.familiar, image.full, str(image)))
    wanted = parse_image(entry)
    if wanted is None:
        return False
    if (wanted.registry, wanted.repository) != (image.registry, image.repository):
        return False
    return (not wanted.tag or wanted.tag == image.tag) and (not wanted.digest or wanted.digest == image.digest)


def untrusted(project: Project, policy: Policy) -> Iterator[Finding]:
    entries = _strings(policy.get("allowed-images"))
    shown = ", ".join(entries) if entries else "(empty)"
    for ref, image in _resolved(project):
        if any(allowed_by(entry, image) for entry in entries):
            continue
        yield Finding(
            "SAI201",
            f"image `{image.familiar}` (registry {image.registry}) is not in allowed-images [{shown}]; "
            "community images bring their own libraries (the incident's clashing libcusparse)",
            ref.location,
            subject=image.familiar,
        )


# --- SAI202 / SAI203 ------------------------------------------------------------------------


# A build date (20260701, 2026-07-01) or a commit hash (6af3d12) in a tag names one build.
_DATE = re.compile(r"(?<!\d)20\d\d[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?!\d)")
_COMMIT = re.compile(r"(?<![0-9a-z])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{7,40}(?![0-9a-z])")


def floating_match(tag: str, entries: Iterable[str]) -> str:
    """The `floating-tags` entry `tag` matches ("" when none). A tag that only starts like a
    floating one (`nightly*`) but names a dated build or a commit (`nightly-20260701-6af3d12`)
    is pinned."""
    lower = tag.lower()
    for entry in entries:
        e = entry.lower()
        if lower == e:
            return entry
        if e.endswith("*") and lower.startswith(e[:-1]) and not (_DATE.search(lower) or _COMMIT.search(lower)):
            return entry
    return ""


def floating(project: Project, policy: Policy) -> Iterator[Finding]:
    entries = _strings(policy.get("floating-tags"))
    for ref, image in _resolved(project):
        if image.digest:
            continue  # a digest fixes the content whatever the tag says
        if not image.tag:
            message = f"image `{image.familiar}` has no tag and no digest: it pulls `latest`, whatever that is today"
        else:
            entry = floating_match(image.tag, entries)
            if not entry:
                continue
            how = f"matches `{entry}`" if entry.lower() != image.tag.lower() else "is"
            message = f"image `{image.familiar}:{image.tag}` uses a floating tag (`{image.tag}` {how} in floating-tags); pin a release tag and a digest"
        yield Finding("SAI202", message, ref.location, subject=image.familiar)


def no_digest(project: Project, policy: Policy) -> Iterator[Finding]:
    for ref, image in _resolved(project):
        if image.digest:
            continue
        shown = f"{image.familiar}:{image.tag}" if image.tag else image.familiar
        yield Finding(
            "SAI203",
            f"image `{shown}` is not pinned by digest; a tag can be re-pushed, `@sha256:…` cannot",
            ref.location,
            subject=image.familiar,
        )


# --- SAI204 / SAI206 ------------------------------------------------------------------------


def unpinned_installs(project: Project, policy: Policy) -> Iterator[Finding]:
    for inst in project.all(PackageInstall):
        if inst.version or not inst.package:
            continue
        how = {
            "apt": "apt-get install name=version",
            "apk": "apk add name=version",
            "conda": "name=version",
        }.get(inst.manager, "name==version")
        yield Finding(
            "SAI204",
            f"{inst.manager} installs `{inst.package}` without a version, so each build may get a different one; pin it ({how})",
            inst.location,
            subject=inst.package,
        )


def unresolved(project: Project, policy: Policy) -> Iterator[Finding]:
    for ref in project.all(ImageRef):
        if ref.unresolved:
            message = f"image `{ref.written}` cannot be verified: {ref.unresolved}; give the build arg a default or lint the rendered manifest"
        else:
            image = parse_image(ref.reference) if ref.reference else None
            if image is None or not _local_build(ref, image):
                continue
            message = (
                f"image `{ref.written}` cannot be verified: `{image.familiar}` names no registry and is not a Docker "
                "Official Image, so it is a local build or a name replaced at deploy time; push it to an allowed "
                "registry and reference it by digest"
            )
        yield Finding("SAI206", message, ref.location, subject=ref.written)


CHECKS = (
    Check(("SAI201",), untrusted),
    Check(("SAI202",), floating),
    Check(("SAI203",), no_digest),
    Check(("SAI204",), unpinned_installs),
    Check(("SAI206",), unresolved),
)
