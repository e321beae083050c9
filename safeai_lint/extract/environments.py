"""Version declarations that live in YAML: conda environment files (and their `pip:` list),
GitHub workflow `actions/setup-python` steps, and the NVIDIA GPU Operator's driver version
(ClusterPolicy `spec.driver.version`, gpu-operator Helm values `driver.version`)."""
from __future__ import annotations

import re
from typing import Any, Iterable, Iterator

from ..facts import CudaBuild, PackageSource, VersionDecl
from ..sources import specs
from ..sources.base import SourceText
from ..sources.yaml import YList, YMap
from .python_deps import _pep508


def yaml_surfaces(src: SourceText) -> Iterable[object]:
    docs = src.yaml_documents()
    facts: list[object] = []
    name = src.rel.rsplit("/", 1)[-1].lower()
    in_workflows = "/.github/workflows/" in f"/{src.rel}"
    for doc in docs:
        value = doc.value
        if not isinstance(value, YMap):
            continue
        if in_workflows:
            facts.extend(_workflow(src, value))
        elif _is_conda(name, value):
            facts.extend(_conda(src, value))
        elif value.get("kind") == "ClusterPolicy":
            facts.extend(_driver(src, value.get("spec")))
        elif _is_gpu_operator_values(value):
            facts.extend(_driver(src, value))
    return facts


def _is_conda(name: str, doc: YMap) -> bool:
    deps = doc.get("dependencies")
    if not isinstance(deps, YList) or "apiVersion" in doc:
        return False
    return name.startswith(("environment", "conda", "env")) or "channels" in doc


def _conda(src: SourceText, doc: YMap) -> Iterator[object]:
    deps = doc["dependencies"]
    for index, item in enumerate(deps):
        pos = deps.item_pos(index)
        if isinstance(item, str):
            parsed = specs.conda(item)
            if parsed is None:
                continue
            component, spec, build = parsed
            loc = src.loc(pos)
            if component == "pytorch-cuda":
                cuda = specs.release(spec.lstrip("=").rstrip(".*")) if spec else None
                if cuda and len(cuda) >= 2:
                    yield CudaBuild("torch", f"{cuda[0]}.{cuda[1]}", loc, "conda")
                continue
            yield VersionDecl(component, spec, loc, "conda")
            cuda = specs.cuda_of_build(build) if build else None
            if cuda and component == "torch":
                yield CudaBuild("torch", cuda, loc, "conda")
        elif isinstance(item, YMap) and isinstance(item.get("pip"), YList):
            pip = item["pip"]
            for i, entry in enumerate(pip):
                if not isinstance(entry, str):
                    continue
                line = pip.item_pos(i)[0]
                option = re.match(r"^\s*(--index-url|--extra-index-url|-i|--find-links|-f|--trusted-host)[\s=]+(\S+)", entry)
                if option:
                    flag = {"-i": "--index-url", "-f": "--find-links"}.get(option.group(1), option.group(1))
                    yield PackageSource(option.group(2), flag, src.find_loc(line, option.group(2)))
                    continue
                if entry.lstrip().startswith("-"):
                    continue
                yield from _pep508(src, entry.strip(), line, "conda")
    for channel_index, channel in enumerate(doc.get("channels") or []) if isinstance(doc.get("channels"), YList) else ():
        if isinstance(channel, str) and "://" in channel:
            yield PackageSource(channel, "conda-channel", src.loc(doc["channels"].item_pos(channel_index)))


def _workflow(src: SourceText, doc: YMap) -> Iterator[object]:
    jobs = doc.get("jobs")
    if not isinstance(jobs, YMap):
        return
    for job in jobs.values():
        if not isinstance(job, YMap) or not isinstance(job.get("steps"), YList):
            continue
        matrix = job.get("strategy", {}).get("matrix") if isinstance(job.get("strategy"), YMap) else None
        for step in job["steps"]:
            if not isinstance(step, YMap) or not str(step.get("uses", "")).startswith("actions/setup-python"):
                continue
            with_ = step.get("with")
            if not isinstance(with_, YMap) or "python-version" not in with_:
                continue
            yield from _python_versions(src, with_, "python-version", matrix)


def _python_versions(src: SourceText, holder: YMap, key: str, matrix: Any) -> Iterator[object]:
    value = holder[key]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)  # an unquoted 3.10 reads as 3.1: report what the workflow will get
    if isinstance(value, str):
        expr = re.fullmatch(r"\s*\$\{\{\s*matrix\.([\w-]+)\s*\}\}\s*", value)
        if expr:
            if isinstance(matrix, YMap) and isinstance(matrix.get(expr.group(1)), YList):
                listed = matrix[expr.group(1)]
                for index, item in enumerate(listed):
                    if isinstance(item, (str, int, float)) and not isinstance(item, bool):
                        spec = specs.exact_or_prefix(str(item))
                        if spec:
                            yield VersionDecl("python", spec, src.loc(listed.item_pos(index)), "github-workflow")
            return
        if "${{" in value:
            return
        for part in value.split():
            spec = specs.exact_or_prefix(part)
            if spec:
                yield VersionDecl("python", spec, src.loc(holder.value_pos(key)), "github-workflow")
    elif isinstance(value, YList):
        for index, item in enumerate(value):
            if isinstance(item, (str, int, float)) and not isinstance(item, bool):
                spec = specs.exact_or_prefix(str(item))
                if spec:
                    yield VersionDecl("python", spec, src.loc(value.item_pos(index)), "github-workflow")


def _is_gpu_operator_values(doc: YMap) -> bool:
    driver = doc.get("driver")
    return isinstance(driver, YMap) and "version" in driver and any(k in doc for k in ("toolkit", "devicePlugin", "dcgmExporter", "operator", "mig", "gfd"))


def _driver(src: SourceText, spec: Any) -> Iterator[object]:
    if not isinstance(spec, YMap) or not isinstance(spec.get("driver"), YMap):
        return
    driver = spec["driver"]
    version = driver.get("version")
    if isinstance(version, (str, int, float)) and not isinstance(version, bool):
        text = str(version)
        match = re.match(r"^(\d+(?:\.\d+)*)", text)
        if match:
            yield VersionDecl("cuda-driver", f"=={match.group(1)}", src.loc(driver.value_pos("version")), "gpu-operator")
