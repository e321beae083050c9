"""Container image references, read the way Docker reads them.

The grammar is the one of the distribution `reference` package that `docker pull` uses:

    reference  := name [":" tag] ["@" digest]
    name       := [domain "/"] path-component ("/" path-component)*
    domain     := host [":" port]          host: DNS name, IPv4 or [IPv6]
    path-comp. := [a-z0-9]+ ((_|__|.|-+) [a-z0-9]+)*
    tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
    digest     := algorithm ":" hex{32,}

The first component is a registry only when it contains "." or ":" or is "localhost" (or has
an upper-case letter), so `nvidia/cuda` is on Docker Hub and `nvcr.io/nvidia/cuda` is not.
Docker Hub names are normalised: `docker.io/library/python` == `library/python` == `python`.
"""
from __future__ import annotations

import functools
import re
from ..records import Frozen, record

DOCKER_HUB = "docker.io"
_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}

_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?"
)
_TAG = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
_DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
MAX_NAME_LENGTH = 255


@functools.lru_cache(maxsize=1)
def official_names() -> frozenset[str]:
    """The Docker Official Images shipped as data (rules/official-images.json)."""
    import json

    from ..catalog import rules_dir

    data = json.loads((rules_dir() / "official-images.json").read_text(encoding="utf-8"))
    return frozenset(data["names"])


@record
class ImageName(Frozen):
    """A parsed, normalised image reference.

    `registry` is lower-case ("docker.io" when none was written); `repository` is the path on
    that registry ("library/python" for an official image); `tag` and `digest` are "" when
    absent (`digest` keeps its algorithm: "sha256:…").
    """

    registry: str
    repository: str
    tag: str = ""
    digest: str = ""

    @property
    def familiar(self) -> str:
        """The short name people write: "python", "nvidia/cuda", "nvcr.io/nvidia/pytorch"."""
        if self.registry == DOCKER_HUB:
            if self.repository.startswith("library/") and self.repository.count("/") == 1:
                return self.repository[len("library/"):]
            return self.repository
        return f"{self.registry}/{self.repository}"

    @property
    def full(self) -> str:
        """Registry and repository: "docker.io/library/python"."""
        return f"{self.registry}/{self.repository}"

    @property
    def in_library(self) -> bool:
        """Named as docker.io/library/<name> (what a single-component name means to Docker)."""
        return self.registry == DOCKER_HUB and self.repository.startswith("library/") and self.repository.count("/") == 1

    @property
    def official(self) -> bool:
        """A Docker Official Image: in the library namespace and listed as one (see
        rules/official-images.yaml); `tritonserver` is a local build, not an official image."""
        return self.in_library and self.repository[len("library/"):] in official_names()

    def __str__(self) -> str:
        text = self.familiar
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _is_domain(first: str) -> bool:
    return "." in first or ":" in first or first == "localhost" or first.lower() != first


_SPACE = re.compile(r"\s")


@functools.lru_cache(maxsize=16384)
def _parse_valid(text: str) -> ImageName | None:
    return None if invalid_reason(text) else _parse(text.strip())


def parse_image(text: object) -> ImageName | None:
    """The reference `text` as Docker would pull it, or None when it is not a valid reference
    (empty, upper-case repository, bad tag or digest, not a string)."""
    # memoised (a repository names the same images in many files) for short strings only
    if isinstance(text, str) and len(text) <= 512:
        return _parse_valid(text)
    return None if invalid_reason(text) else _parse(str(text).strip())


def invalid_reason(text: object) -> str:
    """Why `text` is not a valid image reference ("" when it is)."""
    if not isinstance(text, str):
        return "not a string"
    ref = text.strip()
    if not ref:
        return "empty image reference"
    if _SPACE.search(ref):
        return "whitespace inside the image reference"
    name, tag, digest = _split(ref)
    if digest is not None:
        if not _DIGEST.fullmatch(digest):
            return f"invalid digest {digest!r}"
        algorithm, _, hexpart = digest.partition(":")
        expected = _DIGEST_LENGTHS.get(algorithm.lower())
        if expected and len(hexpart) != expected:
            return f"a {algorithm} digest has {expected} hex digits, not {len(hexpart)}"
    if tag is not None and not _TAG.fullmatch(tag):
        return f"invalid tag {tag!r}"
    if not name:
        return "no repository name"
    if len(name) > MAX_NAME_LENGTH:
        return f"repository name longer than {MAX_NAME_LENGTH} characters"
    parts = name.split("/")
    if len(parts) > 1 and _is_domain(parts[0]):
        if not _HOST.fullmatch(parts[0]):
            return f"invalid registry host {parts[0]!r}"
        parts = parts[1:]
    for part in parts:
        if not _PATH_COMPONENT.fullmatch(part):
            if _PATH_COMPONENT.fullmatch(part.lower()):
                return "repository name must be lowercase"
            return f"invalid repository path component {part!r}"
    return ""


def _split(ref: str) -> tuple[str, str | None, str | None]:
    """(name, tag or None, digest or None) of a reference, without validating them."""
    name, digest = ref, None
    if "@" in ref:
        name, _, digest = ref.partition("@")
    tag = None
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:  # a colon after the last "/" starts the tag; before it, a port
        name, tag = name[:colon], name[colon + 1:]
    return name, tag, digest


def _parse(ref: str) -> ImageName:
    name, tag, digest = _split(ref)
    first, sep, rest = name.partition("/")
    if sep and _is_domain(first):
        registry, repository = first.lower(), rest
    else:
        registry, repository = DOCKER_HUB, name
    if registry in _HUB_ALIASES:
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    return ImageName(registry, repository, tag or "", digest or "")
