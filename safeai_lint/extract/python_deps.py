"""Python dependency declarations: requirements files, setup.cfg, `.python-version`,
`runtime.txt`, and the requirement strings every surface shares (pyproject, Pipfile and lock
files: `python_toml`).

Each declaration becomes a `VersionDecl` at the line (and column) of the package name;
index options and URL requirements become `PackageSource`; `+cuXYZ` builds and PyTorch
wheel-index URLs become `CudaBuild`.
"""
from __future__ import annotations

import functools
import re
from typing import Any, Iterable, Iterator

from packaging.requirements import InvalidRequirement, Requirement

from ..facts import CudaBuild, Location, PackageSource, VersionDecl
from ..sources import specs
from ..sources.base import SourceText

# --- requirement strings ------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _memo_requirement(text: str) -> Requirement:
    return Requirement(text)


def _requirement(text: str) -> Requirement:
    """`Requirement(text)`, memoised for short strings (read only: the same object comes back
    for the same text). Why: a monorepo pins the same packages in every service, and packaging
    parses each line through its own tokenizer (~30 us)."""
    return _memo_requirement(text) if len(text) <= 200 else Requirement(text)


def _name_loc(src: SourceText, line: int, name: str, end_line: int | None = None) -> Location:
    """Where a package name is written on a line, matching `-`/`_`/`.` and case loosely."""
    pattern = re.compile(r"(?<![\w.-])" + r"[-_.]".join(re.escape(p) for p in re.split(r"[-_.]+", name)) + r"(?![\w.-]*\s*=\s*\[)", re.I)
    last = end_line or line
    for number in range(line, last + 1):
        match = pattern.search(src.line_text(number))
        if match:
            return Location(src.rel, number, match.start() + 1, number, match.end() + 1)
    return src.line_loc(line)


def _requirement_facts(src: SourceText, req: Requirement, loc: Location, surface: str) -> Iterator[object]:
    name = str(specs.canonicalize_name(req.name))
    if req.url:
        yield PackageSource(req.url, "url-requirement", loc)
        build = specs.cuda_of_build(req.url) if "/whl/" in req.url else None
        if build:
            yield CudaBuild(name, build, loc, surface)
        return
    spec = str(req.specifier)
    local = ""
    for item in req.specifier:
        if "+" in item.version:
            local = item.version.split("+", 1)[1]
    yield VersionDecl(name, spec, loc, surface, local=local)
    if local:
        cuda = specs.cuda_of_build(local)
        if cuda:
            yield CudaBuild(name, cuda, loc, surface)


def _pep508(src: SourceText, text: str, line: int, surface: str, end_line: int | None = None) -> Iterator[object]:
    try:
        req = _requirement(text)
    except InvalidRequirement:
        return
    yield from _requirement_facts(src, req, _name_loc(src, line, req.name, end_line), surface)


# --- requirements.txt ---------------------------------------------------------------------

_INDEX_OPTIONS = {
    "index_url": "--index-url",
    "extra_index_urls": "--extra-index-url",
    "find_links": "--find-links",
    "trusted_hosts": "--trusted-host",
}


def _parse_requirements(text: str):  # noqa: ANN202 - pip_requirements_parser.RequirementsFile
    """pip's own requirements grammar (continuations, options, markers, hashes), via
    pip-requirements-parser. It reads files only, so the text goes through a private temp file;
    nested `-r`/`-c` files are never followed."""
    import os
    import tempfile

    from pip_requirements_parser import RequirementsFile

    fd, name = tempfile.mkstemp(prefix="safeai-lint-", suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        return RequirementsFile.from_file(name, include_nested=False)
    finally:
        os.unlink(name)


# Why: the parser builds an optparse parser per line (~0.2 ms each), so a 5 MB file of
# 500,000 lines would take minutes; real files, hashes included, stay far below this.
MAX_REQUIREMENT_LINES = 10_000


def _bounded(src: SourceText) -> str:
    """The text up to the MAX_REQUIREMENT_LINES-th logical line; SAI002 says where it stops."""
    lines = src.text.splitlines(keepends=True)  # same line breaks (\r too) as the parser
    if len(lines) <= MAX_REQUIREMENT_LINES:
        return src.text
    count = 0
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and not stripped.endswith("\\"):
            count += 1
            if count == MAX_REQUIREMENT_LINES and index + 1 < len(lines):
                src.problem("SAI002", f"requirements file not analysed past line {index + 1}: more than "
                            f"{MAX_REQUIREMENT_LINES:,} requirement lines", index + 2)
                return "".join(lines[: index + 1])
    return src.text


# --- the fast path: files of plain PEP 508 lines -------------------------------------------
# Why: most requirements files are pinned names and comments, and pip-requirements-parser
# costs ~4 ms per 15-line file (an optparse parser per line, a temp file) plus ~200 ms to
# import. A file qualifies only when the parser would read every line exactly as
# `packaging` does; anything else (options, continuations, URLs, paths, archives, `@`,
# non-ASCII text, an encoding comment, a line packaging rejects) takes pip's grammar.
_COMMENT = re.compile(r"(^|\s+)(#.*)$")  # pip's comment syntax: `#` at the start or after blanks
# Characters that make pip read a line other than as a bare PEP 508 requirement: `:` `/` `@`
# start URLs and paths, `$` an environment variable, a word starting with `-` an option.
_NOT_PLAIN = re.compile(r"[:/@$]|(^| )-")
# pip takes a name ending like an archive for a local file (its ARCHIVE_EXTENSIONS)
_ARCHIVE = re.compile(r"\.(whl|zip|tar|tgz|tbz|txz|tlz|lz|lzma|xz|bz2|gz)", re.I)
_ENCODING_COMMENT = re.compile(r"coding[:=]")


# An index option alone on its line, one plain value: `--extra-index-url https://...` (the
# PyTorch wheel index or a private one), which would otherwise send the whole file to pip's
# parser.
_INDEX_LINE = re.compile(r"(--index-url|--extra-index-url|--find-links|--trusted-host)(?:=|[ \t]+)([^\s\"'$=]+)"
                         r"|(-i|-f)[ \t]+([^\s\"'$=-][^\s\"'$]*)")
_SHORT = {"-i": "--index-url", "-f": "--find-links"}


def _plain_requirements(text: str) -> tuple[list[tuple[int, str, str]], list[tuple[int, Requirement]]] | None:
    """(index options as (line, long flag, value), (line, requirement) of every requirement)
    when the file is only PEP 508 requirements, index options, comments and blank lines as
    pip reads them; None when pip's own grammar is needed."""
    if not text.isascii():  # the parser re-decodes bytes by BOM, coding comment or locale
        return None
    if "\\" in text:  # a backslash at the end of a line joins the next one to it
        return None
    if any(line.startswith("#") and _ENCODING_COMMENT.search(line) for line in text.split("\n")[:2]):
        return None
    out: list[tuple[int, Requirement]] = []
    options: list[tuple[int, str, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):  # the parser splits the same way
        line = _COMMENT.sub("", raw).strip()
        if not line:
            continue
        if line.startswith("-"):
            option = _INDEX_LINE.fullmatch(line)
            if option is None:
                return None
            flag, value = (option.group(1), option.group(2)) if option.group(1) else (_SHORT[option.group(3)], option.group(4))
            options.append((number, flag, value))
            continue
        if _NOT_PLAIN.search(line) or _ARCHIVE.search(line):
            return None
        try:
            req = _requirement(line)
        except Exception:  # noqa: BLE001 - pip's own error message is the one to show
            return None
        if req.url or any(str(spec).endswith("]") for spec in req.specifier):
            return None
        out.append((number, req))
    return options, out


def _index_option(src: SourceText, line: int, flag: str, value: str) -> Iterator[object]:
    loc = src.find_loc(line, value)
    yield PackageSource(value, flag, loc)
    cuda = specs.cuda_of_build(value) if "/whl/" in value else None
    if cuda:
        yield CudaBuild("torch", cuda, loc, "requirements")


def requirements(src: SourceText) -> Iterable[object]:
    from .resolved import mark_resolved

    return mark_resolved(src, list(_requirements(src)))


def _requirements(src: SourceText) -> Iterable[object]:
    text = _bounded(src)
    plain = _plain_requirements(text)
    if plain is not None:
        options, reqs = plain
        facts: list[object] = []
        for line, flag, value in options:  # pip's parser lists options before requirements
            facts.extend(_index_option(src, line, flag, value))
        for line, req in reqs:
            facts.extend(_requirement_facts(src, req, _name_loc(src, line, req.name, line), "requirements"))
        return facts
    try:
        parsed = _parse_requirements(text)
    except Exception as exc:  # noqa: BLE001 - the parser raises many kinds
        src.problem("SAI001", f"invalid requirements file: {exc}")
        return []
    facts = []
    for bad in parsed.invalid_lines:
        first = str(bad.error_message).strip().splitlines()[0] if bad.error_message else "cannot be parsed"
        recovered = _with_global_options(src, bad, first)
        if recovered is not None:
            facts.extend(recovered)
            continue
        src.problem("SAI001", f"invalid requirement line: {first}", bad.line_number or 1)
    for option in parsed.options:
        for key, flag in _INDEX_OPTIONS.items():
            values = option.options.get(key)
            if not values:
                continue
            for value in [values] if isinstance(values, str) else values:
                facts.extend(_index_option(src, option.line_number or 1, flag, value))
    for req in parsed.requirements:
        line = req.line_number or 1
        end = line + req.line.count("\n") if req.line else line
        url = req.link.url if req.link and req.link.url else ""
        if "://" in url or url.startswith(("git+", "hg+", "svn+", "bzr+")):
            loc = src.find_loc(line, url, end) if url in src.text else src.line_loc(line)
            facts.append(PackageSource(url, "url-requirement", loc))
            cuda = specs.cuda_of_build(url) if "/whl/" in url else None
            if cuda:
                facts.append(CudaBuild(str(specs.canonicalize_name(req.name or "torch")), cuda, loc, "requirements"))
            continue
        if req.req is None or url:
            continue  # `-e .`, local folders and wheel files are the project's own code
        facts.extend(_requirement_facts(src, req.req, _name_loc(src, line, req.req.name, end), "requirements"))
    return facts


def _with_global_options(src: SourceText, bad: Any, error: str) -> list[object] | None:
    """A requirement followed by global options (`jax[tpu]==0.4.36 --pre`): pip installs the
    requirement and ignores the options there (it keeps only per-requirement ones such as
    `--hash`), so the line is valid; pip-requirements-parser rejects it. None for other errors."""
    line = getattr(getattr(bad, "requirement_line", None), "line", None)
    if not error.startswith("Invalid global options") or not isinstance(line, str):
        return None
    text = re.split(r"\s+-", line.strip(), maxsplit=1)[0]
    try:
        req = _requirement(text)
    except InvalidRequirement:
        return None
    number = bad.line_number or 1
    return list(_requirement_facts(src, req, _name_loc(src, number, req.name, number + line.count("\n")), "requirements"))


# --- setup.cfg, .python-version, runtime.txt ----------------------------------------------


def setup_cfg(src: SourceText) -> Iterable[object]:
    facts: list[object] = []
    section = ""
    key = ""
    for number, raw in enumerate(src.lines, 1):
        line = raw.split("#", 1)[0].rstrip() if not raw.lstrip().startswith(("#", ";")) else ""
        if not line.strip():
            continue
        header = re.match(r"^\[([^\]]+)\]", line)
        if header:
            section, key = header.group(1).strip(), ""
            continue
        assignment = re.match(r"^([A-Za-z0-9_.-]+)\s*[=:]\s*(.*)$", line)
        if assignment and not raw[0].isspace():
            key, value = assignment.group(1), assignment.group(2).strip()
        elif raw[0].isspace() and key:
            value = line.strip()
        else:
            continue
        if not value:
            continue
        if section == "options" and key == "python_requires":
            facts.append(VersionDecl("python", value.replace(" ", ""), src.find_loc(number, "python_requires"), "setup.cfg"))
        elif (section == "options" and key in ("install_requires", "setup_requires")) or section == "options.extras_require":
            facts.extend(_pep508(src, value, number, "setup.cfg"))
    return facts


def python_version_file(src: SourceText) -> Iterable[object]:
    facts = []
    for number, line in enumerate(src.lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if specs.release(text) is None:
            continue  # pypy3.10, system, a virtualenv name: not a CPython version
        facts.append(VersionDecl("python", specs.exact_or_prefix(text), src.line_loc(number, 1, len(line.rstrip()) + 1), ".python-version"))
    return facts


def runtime_txt(src: SourceText) -> Iterable[object]:
    for number, line in enumerate(src.lines, 1):
        match = re.match(r"^\s*python-(\d+(?:\.\d+)*)\s*$", line)
        if match:
            return [VersionDecl("python", specs.exact_or_prefix(match.group(1)), src.line_loc(number, 1, len(line.rstrip()) + 1), "runtime.txt")]
    return []
