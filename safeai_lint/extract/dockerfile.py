"""Dockerfile -> facts: the images every stage is built FROM, the packages RUN installs, and
the versions a build pins (pip/conda/apt installs, PYTHON/CUDA/NCCL version variables)."""
from __future__ import annotations

import re
from typing import Iterator, Mapping

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from ..facts import CudaBuild, ImageRef, Location, PackageInstall, PackageSource, VersionDecl
from ..sources import specs
from ..sources.base import SourceText
from ..sources.dockerfile import DockerfileModel, Instruction, Stage, dockerfile, run_commands
from ..sources.image_ref import invalid_reason
from ..sources.shell import INDEX_VARIABLES, Install, package_installs, split_commands
from .images import placeholder_reason

SURFACE = "dockerfile"
# Build variables that name a locked component's version, by component.
VERSION_VARIABLES = {
    "PYTHON_VERSION": "python",
    "CUDA_VERSION": "cuda",
    "NCCL_VERSION": "nccl",
    "NV_LIBNCCL_PACKAGE_VERSION": "nccl",
}
ENV_ONLY = {"CUDA_VERSION", "NCCL_VERSION", "NV_LIBNCCL_PACKAGE_VERSION"}  # ARGs of these are inputs, ENV is what the image has
APT_NCCL = re.compile(r"^libnccl(?:2|-dev)$")
TORCH_FAMILY = ("torch", "torchvision", "torchaudio")


def extract(src: SourceText) -> Iterator[object]:
    model = dockerfile(src)
    if model is None:
        return
    yield from _images(src, model)
    for name, value, line in model.global_args:
        if VERSION_VARIABLES.get(name) == "python" and value:
            yield from _version_variable(src, name, value, line)
    for stage in model.stages:
        final = stage is model.final_stage
        known = _variables(model, stage)
        for instr in stage.instructions:
            if instr.cmd == "RUN":
                yield from _run(src, stage, instr, final, known)
            elif instr.cmd in ("ENV", "ARG"):
                yield from _variable_versions(src, instr)
                yield from _index_variables(src, instr)


# --- FROM ---------------------------------------------------------------------------------


def _images(src: SourceText, model: DockerfileModel) -> Iterator[ImageRef]:
    raw_args = _raw_global_args(model)
    for stage in model.stages:
        if stage.parent >= 0 or stage.scratch or not stage.base:
            continue
        end = stage.from_instruction.end_line if stage.from_instruction else stage.from_line
        loc = src.find_loc(stage.from_line, stage.base, end)
        final = stage is model.final_stage
        why = stage.unresolved or placeholder_reason(stage.base_resolved)
        if why:
            yield ImageRef("", stage.base, loc, SURFACE, unresolved=why, stage=stage.index, final=final)
            continue
        invalid = invalid_reason(stage.base_resolved)
        empty = [v for v in _variables_used(stage.base, raw_args) if raw_args.get(v, "x").strip("\"'") == ""]
        if invalid and empty:  # `ARG V=` then `FROM img:${V}`: given at build time
            yield ImageRef("", stage.base, loc, SURFACE, unresolved="a build arg it uses is empty by default, so the "
                           "image is only known at build time", stage=stage.index, final=final)
            continue
        if invalid:
            shown = stage.base if stage.base == stage.base_resolved else f"{stage.base} (= {stage.base_resolved})"
            src.problem("SAI001", f"invalid image reference in FROM {shown}: {invalid}", loc.line, loc.column)
            continue
        used = _variables_used(stage.base, raw_args)
        yield ImageRef(stage.base_resolved, stage.base, loc, SURFACE, stage=stage.index, final=final, variables=used)


_VAR_NAME = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def _raw_global_args(model: DockerfileModel) -> dict[str, str]:
    """Global ARG defaults as written, before substitution."""
    out: dict[str, str] = {}
    for instr in model.instructions:
        if instr.cmd == "FROM":
            break
        if instr.cmd == "ARG":
            for word in instr.args:
                name, eq, default = word.partition("=")
                if eq:
                    out[name] = default
    return out


def _variables_used(text: str, raw_args: Mapping[str, str]) -> tuple[str, ...]:
    """The build args `text` refers to, directly or through the defaults of other args."""
    found: list[str] = []
    pending = [text]
    while pending and len(found) < 64:
        for match in _VAR_NAME.finditer(pending.pop()):
            name = match.group(1)
            if name not in found:
                found.append(name)
                pending.append(raw_args.get(name, ""))
    return tuple(found)


# --- RUN installs ---------------------------------------------------------------------------

_INSTALL_WORD = re.compile(r"\b(?:install|add|create|config)\b")
_KNOWN_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def _variables(model: DockerfileModel, stage: Stage) -> dict[str, str]:
    """Values a RUN of this stage sees for build args and ENV (those we can know)."""
    known: dict[str, str] = {}
    globals_ = {name: value for name, value, _ in model.global_args}
    for instr in stage.instructions:
        if instr.cmd == "ARG":
            for word in instr.args:
                name, eq, default = word.partition("=")
                value = default.strip("\"'") if eq else globals_.get(name)
                if value is not None and "$" not in value:
                    known[name] = value
    for name, (value, _) in stage.env().items():
        if "$" not in value:
            known[name] = value
    return known


def _substitute(text: str, known: Mapping[str, str]) -> str:
    return _KNOWN_VAR.sub(lambda m: known.get(m.group(1) or m.group(2), m.group(0)), text)


class _Tokens:
    """Finds successive words of one instruction in the file, so each fact points at the
    column of its own word (and the line of it, for RUNs continued over several lines)."""

    def __init__(self, src: SourceText, instr: Instruction) -> None:
        self.src, self.instr = src, instr
        self.line, self.col = instr.start_line, 0
        # the instruction's text as written: a word changed by variable substitution is
        # looked up by its package name instead
        self.block = "\n".join(src.line_text(n) for n in range(instr.start_line, instr.end_line + 1))

    def find(self, word: str, name_only: bool = False) -> Location:
        """The next place `word` is written; with `name_only`, a package name that may be
        followed by its version (`torch` in `torch==${TORCH_VERSION}`)."""
        end = r"(?![\w.-])" if name_only else r"(?![\w.=<>~!-])"
        pattern = re.compile(r"(?<![\w.=/-])" + re.escape(word) + end)
        for number in range(self.line, self.instr.end_line + 1):
            text = self.src.line_text(number)
            match = pattern.search(text, self.col if number == self.line else 0)
            if match:
                self.line, self.col = number, match.end()
                return Location(self.src.rel, number, match.start() + 1, number, match.end() + 1)
        return self.src.line_loc(self.instr.start_line)


def _run(src: SourceText, stage: Stage, instr: Instruction, final: bool, known: Mapping[str, str]) -> Iterator[object]:
    text = run_commands(instr)
    if not _INSTALL_WORD.search(text):
        return  # most RUNs install nothing: skip the shell splitting
    text = _substitute(text, known)
    tokens = _Tokens(src, instr)
    seen: set[tuple[str, str, str, str]] = set()
    for argv in split_commands(text):
        installs = package_installs(argv)
        if not installs:
            continue
        packages = [i.package for i in installs if not i.option]
        for inst in installs:
            key = (inst.manager, inst.package, inst.spec, inst.option)
            if key in seen:
                continue  # the same install in both branches of an if/else: one install
            seen.add(key)
            first_word = inst.raw.split(" ")[-1] if inst.option and " " in inst.raw else inst.raw
            # a word changed by variable substitution is not written as such in the file
            built = first_word not in tokens.block or "$" in first_word
            loc = tokens.find(first_word) if not built else tokens.find(_bare_name(first_word), name_only=True)
            if inst.option:
                yield from _option(inst, packages, loc)
                continue
            if not built or (_bare_name(first_word) in tokens.block and "$" not in inst.package):
                # a package whose name is built from variables (`python${PY}-dev`) is not judged
                yield PackageInstall(inst.manager, inst.package, inst.spec, loc, SURFACE, stage.index, final)
            yield from _versions(inst, loc)


def _bare_name(word: str) -> str:
    return re.split(r"[=<>~!\[;@ ]", word, maxsplit=1)[0]


def _option(inst: Install, packages: list[str], loc: Location) -> Iterator[object]:
    if inst.manager not in ("pip", "uv") or "$" in inst.spec:
        return
    option = inst.option
    yield PackageSource(inst.spec, option, loc)
    if option in ("--index-url", "--extra-index-url", "--find-links") and "download.pytorch.org" in inst.spec:
        cuda = specs.cuda_of_build(inst.spec.rstrip("/").rsplit("/", 1)[-1])
        if cuda:
            torch = next((p for p in packages if specs.canonicalize_name(p) in TORCH_FAMILY), packages[0] if packages else "torch")
            yield CudaBuild(str(specs.canonicalize_name(torch)), cuda, loc, SURFACE)


def _versions(inst: Install, loc: Location) -> Iterator[object]:
    if "$" in inst.package or "$" in inst.spec:
        return
    if inst.manager in ("pip", "uv"):
        name = str(specs.canonicalize_name(inst.package))
        spec, local = inst.spec, ""
        if spec.startswith("@"):
            return
        match = re.fullmatch(r"(===?)\s*([^,;\s+]+)\+([A-Za-z0-9.]+)", spec)
        if match:
            spec, local = f"{match.group(1)}{match.group(2)}", match.group(3)
        try:
            SpecifierSet(spec)
        except InvalidSpecifier:
            return
        yield VersionDecl(name, spec, loc, SURFACE, local=local)
        cuda = specs.cuda_of_build(local) if local else None
        if cuda:
            yield CudaBuild(name, cuda, loc, SURFACE)
    elif inst.manager == "conda":
        parsed = specs.conda(inst.package + inst.spec)
        if parsed is None:
            return
        component, spec, _ = parsed
        if component == "pytorch-cuda":
            cuda = re.fullmatch(r"==?(\d+\.\d+)(?:\.\*)?", spec)
            if cuda:
                yield CudaBuild("torch", cuda.group(1), loc, SURFACE)
            return
        yield VersionDecl(component, spec, loc, SURFACE)
    elif inst.manager == "apt" and APT_NCCL.match(inst.package):
        version = inst.spec.lstrip("=")
        yield VersionDecl("nccl", specs.exact_or_prefix(version.split("-")[0].split("+")[0]) if version else "", loc, SURFACE)


# --- version variables ----------------------------------------------------------------------


def _pairs(instr: Instruction) -> list[tuple[str, str]]:
    if instr.cmd == "ENV":
        return list(zip(instr.args[0::2], instr.args[1::2]))
    return [(n, v) for n, eq, v in (w.partition("=") for w in instr.args) if eq]


def _index_variables(src: SourceText, instr: Instruction) -> Iterator[object]:
    """`ENV PIP_INDEX_URL=…` / `ARG PIP_EXTRA_INDEX_URL=…`: pip and uv read them in every
    later RUN (a build arg is in the environment of RUN too)."""
    for name, value in _pairs(instr):
        option = INDEX_VARIABLES.get(name)
        if option is None or "$" in value:
            continue
        for url in value.strip("\"'").split():
            loc = src.find_loc(instr.start_line, url, instr.end_line)
            yield PackageSource(url, option, loc)
            cuda = specs.cuda_of_build(url) if "/whl/" in url else None
            if cuda:
                yield CudaBuild("torch", cuda, loc, SURFACE)


def _variable_versions(src: SourceText, instr: Instruction) -> Iterator[VersionDecl]:
    for name, value in _pairs(instr):
        if name not in VERSION_VARIABLES or (instr.cmd == "ARG" and name in ENV_ONLY):
            continue
        yield from _version_variable(src, name, value.strip("\"'"), instr.start_line)


def _version_variable(src: SourceText, name: str, value: str, line: int) -> Iterator[VersionDecl]:
    if not value or "$" in value:
        return  # a reference to another variable: that one is reported where it is set
    component = VERSION_VARIABLES[name]
    version = value.split("-")[0].split("+")[0] if component == "nccl" else value
    spec = specs.exact_or_prefix(version)
    if spec:
        loc = src.find_loc(line, value)
        yield VersionDecl(component, spec, loc, SURFACE)
