"""Facts: what the extractors learn from a repository, one small frozen record each.

Every fact carries the `Location` of the exact key, flag, instruction or call it came from,
so a rule can point at it without knowing which file format produced it.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, order=True)
class Location:
    """A span in a scanned file.

    `path` is relative to the scan root, POSIX separators. Lines and columns are 1-based;
    columns count Unicode code points; `end_column` is exclusive.
    """

    path: str
    line: int
    column: int = 1
    end_line: int = 0
    end_column: int = 0

    def __post_init__(self) -> None:
        if self.end_line < self.line:
            object.__setattr__(self, "end_line", self.line)
        if self.end_line == self.line and self.end_column < self.column:
            object.__setattr__(self, "end_column", self.column)


# --- versions (SAI1xx) -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VersionDecl:
    """One declaration of a package or platform component version.

    `component` is a normalised name: a PEP 503 package name (`torch`, `transformers`,
    `nvidia-nccl-cu12`) or a platform component (`python`, `cuda`, `nccl`, `cuda-driver`).
    `specifier` is a PEP 440 specifier set string ("" admits any version); surface syntaxes
    (Poetry caret, conda match specs, image tags) are translated by the extractor.
    `local` is a local version label (`cu118`) when one was written.
    """

    component: str
    specifier: str
    location: Location
    surface: str
    resolved: bool = False
    local: str = ""


@dataclass(frozen=True, slots=True)
class CudaBuild:
    """A package build tied to one CUDA release (`torch==2.1.0+cu118`, `/whl/cu121`)."""

    package: str
    cuda: str  # "11.8", "12.1"
    location: Location
    surface: str


@dataclass(frozen=True, slots=True)
class PackageSource:
    """Where packages come from: an index/find-links URL, a trusted host, a VCS/URL requirement."""

    url: str
    option: str  # "--index-url", "--extra-index-url", "--find-links", "--trusted-host", "url-requirement"
    location: Location


# --- images (SAI2xx) ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A place that names a container image: a Dockerfile FROM, a container or initContainer
    `image:`, a Compose `image:`, a KServe runtime image.

    `reference` is the image after build-arg substitution ("" when it cannot be resolved, and
    then `unresolved` says why: an ARG without default, a template placeholder).
    `surface`: "dockerfile", "kubernetes", "compose", "kserve". `stage` is the Dockerfile
    stage index (or -1); `final` is True for the final stage or any non-Dockerfile image.
    """

    reference: str
    written: str
    location: Location
    surface: str
    unresolved: str = ""
    stage: int = -1
    final: bool = True

# --- workloads and serving launches (SAI3xx, SAI5xx, SAI6xx) -----------------------------

# --- resilience (SAI4xx) -----------------------------------------------------------------

# --- service code and observability (SAI5xx/SAI6xx/SAI7xx/SAI8xx) ------------------------


@dataclass(frozen=True, slots=True)
class Suppression:
    """One rule silenced by a comment (`# safeai-lint: ignore[SAI101] -- reason`,
    `file-ignore[...]`) or a Kubernetes annotation (`safeai-lint.io/ignore`).

    It covers findings on lines `first_line`..`last_line` of its file (the whole file when
    `whole_file`). A comment naming two rules gives two suppressions.
    """

    rule: str
    reason: str
    location: Location
    first_line: int
    last_line: int
    whole_file: bool = False
    origin: str = "comment"  # "comment" or "annotation"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A problem with the input itself (SAI001/SAI002), found while reading or parsing."""

    rule: str
    message: str
    location: Location


@dataclass(frozen=True, slots=True)
class FileFacts:
    """Everything learnt from one file, as handed from the worker to the checks."""

    path: str
    kind: str
    facts: tuple[object, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    suppressions: tuple[Suppression, ...] = ()
    lines: dict[int, str] = field(default_factory=dict)  # text of the lines facts point at
