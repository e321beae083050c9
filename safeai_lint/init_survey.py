"""`safeai-lint init` on a repository: the survey as a report for people, and as commented
alternatives in the starter config, next to the standard's values. The standard's values stay
in force; uncommenting an alternative is a person's decision."""
from __future__ import annotations

import json
import re
from typing import Any, Mapping

from .survey import Survey, Usage

_EXACT = re.compile(r"^===?\s*(\d[\w.!+-]*)$")


def _n(count: int) -> str:
    return f"{count} finding{'s' if count != 1 else ''}"


def _why(u: Usage) -> str:
    return f"{_n(u.findings)} ({', '.join(u.rules)}), first at {u.first}"


def report(survey: Survey) -> str:
    """What the repository uses against the standard, for the terminal."""
    levels = ", ".join(f"{n} {lv}{'s' if n != 1 else ''}" for lv, n in survey.levels)
    out = [f"Scanned {survey.files_scanned} file(s) with the standard's values: {survey.findings} finding(s)" + (f" ({levels})" if levels else "") + "."]
    titles = {
        "registry": "Image registries outside allowed-images",
        "instance-type": "Instance types outside instance-types",
        "accelerator": "GPU node selectors by accelerator, not instance type",
        "version": "Versions of locked components",
        "engine": "Serving engines and the findings on their launches",
    }
    for kind, title in titles.items():
        found = survey.of(kind)
        if not found:
            continue
        out += ["", f"{title}:"]
        for u in found:
            if kind == "registry":
                what = f"{u.key}: {u.value}"
            elif kind == "version":
                what = f"{u.key} declared {u.value}"
            elif kind == "engine":
                what = u.key
            elif u.value == "(not pinned)":
                what = "GPU workloads pinned to no instance type"
            else:
                what = f"{u.key}={u.value}"
            out.append(f"  {what:<60} {_why(u)}")
    return "\n".join(out) + "\n"


def _q(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def version_notes(survey: Survey, component: str) -> list[str]:
    """Comment lines under one component of the lock table."""
    lines = []
    for u in survey.of("version"):
        if u.key != component:
            continue
        exact = _EXACT.match(u.value.strip())
        lines.append(f"  # the repository declares {component} {u.value}: {_why(u)}")
        if exact:
            lines.append(f"  # {component}: {_q(exact.group(1))}  # what it pins; needs a performance regression report")
    return lines


def other_versions(survey: Survey, locked: Mapping[str, Any]) -> list[str]:
    return [line for comp in sorted({u.key for u in survey.of("version")} - set(locked)) for line in version_notes(survey, comp)]


def image_section(survey: Survey, allowed: list[str]) -> list[str]:
    lines = [
        "# Requirement 12 - trusted base images. Entries: an image (pytorch/pytorch), a glob",
        '# (nvcr.io/nvidia/*) or "docker-official". The commented entries are what this',
        "# repository pulls from elsewhere; allow one only after reviewing that image's libraries.",
        "allowed-images:",
    ]
    lines += [f"  - {_q(entry)}" for entry in allowed]
    for registry in sorted({u.key for u in survey.of("registry")}):
        found = [u for u in survey.of("registry") if u.key == registry]
        lines.append(f"  # registry {registry}: {_n(sum(u.findings for u in found))}")
        lines += [f"  # - {_q(u.value)}  # {_why(u)}" for u in found]
    return lines


def placement_notes(survey: Survey) -> list[str]:
    lines = []
    for u in survey.of("instance-type"):
        if u.value == "(not pinned)":
            lines.append(f"#   GPU workloads pinned to no instance type: {_why(u)}")
        else:
            lines.append(f"#   - {_q(u.value)}  # {u.key}: {_why(u)}")
    for u in survey.of("accelerator"):
        lines.append(f"#   selected by {u.key}={u.value} instead of an instance type: {_why(u)}")
    if lines:
        lines.insert(0, "# This repository's GPU placement (add an instance type to the list above to allow it):")
    return lines


def engine_notes(survey: Survey) -> list[str]:
    found = survey.of("engine")
    if not found:
        return []
    return ["# Serving engines in this repository and the findings on their launches:"] + [f"#   {u.key}: {_why(u)}" for u in found]


def baseline_hint(survey: Survey, config_path: str) -> str:
    if not survey.findings:
        return ""
    return (f"{survey.findings} finding(s) remain with the standard's values. Decide on the alternatives in {config_path}, then "
            "record what is left so that CI fails only on new findings:\n"
            "  safeai-lint check --write-baseline .safeai-lint-baseline.json\n"
            "  safeai-lint check --baseline .safeai-lint-baseline.json\n")
