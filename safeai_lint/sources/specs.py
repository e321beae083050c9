"""Version constraints as other tools write them, translated to PEP 440 specifier sets.

Poetry (`^2.1`, `~2.1.0`, bare `2.1.0` meaning exact), conda match specs (`pytorch=2.1.0`,
`pytorch 2.1.*`, `pytorch=2.1.0=py3.11_cuda12.1_0`), and version strings found in image tags
or `.python-version` files. `packaging` then gives the real semantics.
"""
from __future__ import annotations

import re


# PEP 503 name normalisation, as `packaging.utils.canonicalize_name` does it. Why not import
# that: packaging.utils loads packaging.tags, sysconfig and logging (~9 ms), a tenth of the
# budget of a pre-commit run that reads one Dockerfile.
_NAME_SEPARATORS = re.compile(r"[-_.]+")


def canonicalize_name(name: str) -> str:
    """`torch`, `Torch`, `Flash_Attn` -> `torch`, `torch`, `flash-attn` (PEP 503)."""
    return _NAME_SEPARATORS.sub("-", name).lower()


_RELEASE = re.compile(r"^v?(\d+(?:\.\d+)*)")


def release(text: str) -> tuple[int, ...] | None:
    match = _RELEASE.match(text.strip())
    if not match:
        return None
    return tuple(int(p) for p in match.group(1).split("."))


def exact_or_prefix(version: str) -> str:
    """A version as written in an image tag or a `.python-version` file: all three parts is an
    exact pin, fewer parts admits every release below it ("3.11" is `==3.11.*`)."""
    parts = release(version)
    if parts is None:
        return ""
    text = ".".join(map(str, parts))
    return f"=={text}" if len(parts) >= 3 else f"=={text}.*"


def _bump(parts: list[int], index: int) -> str:
    bumped = parts[: index + 1]
    bumped[index] += 1
    return ".".join(map(str, bumped + [0] * (len(parts) - index - 1)))


def poetry(constraint: str) -> str | None:
    """Poetry's constraint syntax to PEP 440; None when it cannot be read."""
    out = []
    for raw in re.split(r"\s*,\s*|\s+(?=[<>=!~^])", constraint.strip()):
        part = raw.strip()
        if not part:
            continue
        if part == "*":
            continue
        if "||" in part:
            return None
        if part.startswith("^"):
            parts = list(release(part[1:]) or ())
            if not parts:
                return None
            first = next((i for i, p in enumerate(parts) if p != 0), len(parts) - 1)
            out += [f">={'.'.join(map(str, parts))}", f"<{_bump(parts, first)}"]
        elif part.startswith("~") and not part.startswith("~="):
            parts = list(release(part[1:]) or ())
            if not parts:
                return None
            index = 0 if len(parts) == 1 else 1
            out += [f">={'.'.join(map(str, parts))}", f"<{_bump(parts, index)}"]
        elif part[0] in "<>=!~":
            out.append(part.replace(" ", ""))
        elif part.endswith(".*"):
            out.append(f"=={part}")
        else:
            out.append(f"=={part}")
    return ",".join(out)


# conda package names that mean a locked component
CONDA_NAMES = {
    "pytorch": "torch",
    "pytorch-gpu": "torch",
    "python": "python",
    "cudatoolkit": "cuda",
    "cuda-toolkit": "cuda",
    "cuda": "cuda",
    "nccl": "nccl",
}

_CONDA = re.compile(
    r"^(?:(?P<channel>[\w.-]+)::)?(?P<name>[A-Za-z0-9_.-]+)"
    r"(?:\s*(?P<op>==|>=|<=|!=|~=|=|<|>)\s*(?P<ver>[^\s=,|]+(?:,[<>=!~]+[^\s=,|]+)*)|\s+(?P<sver>[^\s=]+))?"
    r"(?:[=\s](?P<build>\S+))?\s*$"
)


def conda(spec: str) -> tuple[str, str, str] | None:
    """A conda match spec as (component or package name, PEP 440 specifier, build string).

    `pytorch=2.1.0` is torch `==2.1.0` (conda's `=` is a prefix match, so `=2.1` is `==2.1.*`),
    `pytorch==2.1.0` exact, `pytorch` alone admits anything.
    """
    match = _CONDA.match(spec.strip())
    if not match:
        return None
    name = match.group("name").lower()
    component = CONDA_NAMES.get(name, str(canonicalize_name(name)))
    op, version = match.group("op"), match.group("ver") or match.group("sver")
    build = match.group("build") or ""
    if not version:
        return component, "", build
    if op in (None, "=") and "," not in version:
        if version.endswith("*"):
            base = version.rstrip("*").rstrip(".")
            return component, (f"=={base}.*" if base else ""), build
        parts = release(version)
        if parts is None:
            return None
        exact = op is None and not match.group("sver") or len(parts) >= 3
        return component, (f"=={version}" if exact else f"=={version}.*"), build
    return component, f"{op}{version}", build


def cuda_of_build(text: str) -> str | None:
    """The CUDA release a build label names: `cu118` -> "11.8", `cuda12.1` -> "12.1"."""
    lower = text.lower()
    match = re.search(r"cuda[-_]?(\d+)\.(\d+)", lower)
    if match:
        return f"{match.group(1)}.{match.group(2)}"
    match = re.search(r"(?:^|[^a-z])cu(?:da)?[-_]?(\d{2,3})(?![\d.])", lower)
    if match:
        digits = match.group(1)
        return f"{digits[:-1]}.{digits[-1]}"
    return None
