"""Python project files in TOML and lock files: pyproject (PEP 621, Poetry, PDM, uv, dependency
groups, and the package indexes they name), Pipfile, and resolved lock files (`poetry.lock`,
`uv.lock`, `pdm.lock`, `Pipfile.lock`) for SAI101. Requirement strings are read as in
`python_deps`.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterable, Iterator

from packaging.requirements import InvalidRequirement

from ..facts import CudaBuild, Location, PackageSource, VersionDecl
from ..sources import specs
from ..sources.base import SourceText
from .python_deps import _name_loc, _pep508, _requirement, _requirement_facts


# --- TOML surfaces ------------------------------------------------------------------------


def _toml(src: SourceText) -> dict[str, Any] | None:
    def build(s: SourceText) -> dict[str, Any] | None:
        try:
            import tomllib
        except ImportError:  # pragma: no cover - Python 3.10
            import tomli as tomllib  # type: ignore[no-redef]
        try:
            return tomllib.loads(s.text)
        except tomllib.TOMLDecodeError as exc:
            match = re.search(r"line (\d+), column (\d+)", str(exc))
            line, col = (int(match.group(1)), int(match.group(2))) if match else (1, 1)
            if not match and "end of document" in str(exc):
                line = max(len(s.lines), 1)
            s.problem("SAI001", f"invalid TOML: {str(exc).split(' (at')[0]}", line, col)
            return None

    return src.cached("toml", build)


class _Sections:
    """Line ranges of TOML tables, to place a value read by tomllib back on its line."""

    def __init__(self, src: SourceText) -> None:
        self.src = src
        self.headers: list[tuple[int, str]] = []
        for number, line in enumerate(src.lines, 1):
            match = re.match(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?", line)
            if match:
                self.headers.append((number, match.group(1).replace('"', "").replace("'", "")))

    def span(self, table: str) -> tuple[int, int]:
        """First and last line of `table` (dotted name); the whole file when not a header."""
        for i, (number, name) in enumerate(self.headers):
            if name == table:
                end = self.headers[i + 1][0] - 1 if i + 1 < len(self.headers) else len(self.src.lines)
                return number, end
        return 1, len(self.src.lines)

    def string_line(self, table: str, value: str) -> int:
        """The line of a string value in `table`, in any of its entries (`[[array]]` tables
        repeat one header)."""
        spans = [self._span_at(i) for i, (_, name) in enumerate(self.headers) if name == table] or [self.span(table)]
        for first, last in spans:
            for number in range(first, last + 1):
                text = self.src.line_text(number)
                if f'"{value}"' in text or f"'{value}'" in text:
                    return number
        return spans[0][0]

    def _span_at(self, i: int) -> tuple[int, int]:
        end = self.headers[i + 1][0] - 1 if i + 1 < len(self.headers) else len(self.src.lines)
        return self.headers[i][0], end

    def key_line(self, table: str, key: str) -> int:
        first, last = self.span(table)
        pattern = re.compile(rf'^\s*["\']?{re.escape(key)}["\']?\s*=', re.I)
        for number in range(first, last + 1):
            if pattern.match(self.src.line_text(number)):
                return number
        dotted = re.compile(rf'^\s*{re.escape(table.split(".")[-1])}\.["\']?{re.escape(key)}["\']?\s*=')
        for number in range(1, len(self.src.lines) + 1):
            if dotted.match(self.src.line_text(number)):
                return number
        return first


def _dep_strings(src: SourceText, sections: _Sections, table: str, values: Any, surface: str) -> Iterator[object]:
    if not isinstance(values, list):
        return
    for value in values:
        if isinstance(value, str):
            line = sections.string_line(table, value)
            yield from _pep508(src, value, line, surface)


def _poetry_deps(src: SourceText, sections: _Sections, table: str, deps: Any) -> Iterator[object]:
    if not isinstance(deps, dict):
        return
    for name, value in deps.items():
        line = sections.key_line(table, name)
        constraints = value if isinstance(value, list) else [value]
        for item in constraints:
            if isinstance(item, dict):
                for key in ("git", "url", "path"):
                    if isinstance(item.get(key), str) and key != "path":
                        yield PackageSource(item[key], "url-requirement", src.find_loc(line, item[key]))
                if "git" in item or "url" in item or "path" in item:
                    break
                item = item.get("version", "*")
            if not isinstance(item, str):
                continue
            spec = specs.poetry(item)
            if spec is None:
                continue
            component = "python" if name.lower() == "python" else str(specs.canonicalize_name(name))
            loc = _name_loc(src, line, name)
            local = item.split("+", 1)[1] if "+" in item else ""
            yield VersionDecl(component, spec, loc, "poetry", local=local)
            cuda = specs.cuda_of_build(local) if local else None
            if cuda:
                yield CudaBuild(component, cuda, loc, "poetry")


def pyproject(src: SourceText) -> Iterable[object]:
    data = _toml(src)
    if not isinstance(data, dict):
        return []
    sections = _Sections(src)
    facts: list[object] = []
    project = data.get("project")
    if isinstance(project, dict):
        requires = project.get("requires-python")
        if isinstance(requires, str):
            line = sections.key_line("project", "requires-python")
            facts.append(VersionDecl("python", requires.replace(" ", ""), src.find_loc(line, "requires-python"), "pyproject"))
        facts += _dep_strings(src, sections, "project", project.get("dependencies"), "pyproject")
        optional = project.get("optional-dependencies")
        if isinstance(optional, dict):
            for values in optional.values():
                facts += _dep_strings(src, sections, "project.optional-dependencies", values, "pyproject")
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        for values in groups.values():
            facts += _dep_strings(src, sections, "dependency-groups", values, "pyproject")
    tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
    poetry = tool.get("poetry") if isinstance(tool.get("poetry"), dict) else {}
    if poetry:
        facts += _poetry_deps(src, sections, "tool.poetry.dependencies", poetry.get("dependencies"))
        facts += _poetry_deps(src, sections, "tool.poetry.dev-dependencies", poetry.get("dev-dependencies"))
        group = poetry.get("group")
        if isinstance(group, dict):
            for name, body in group.items():
                if isinstance(body, dict):
                    facts += _poetry_deps(src, sections, f"tool.poetry.group.{name}.dependencies", body.get("dependencies"))
        for source in poetry.get("source") or [] if isinstance(poetry.get("source"), list) else []:
            if isinstance(source, dict) and isinstance(source.get("url"), str):
                facts += _index_url(src, source["url"], sections.string_line("tool.poetry.source", source["url"]), "--extra-index-url")
    pdm = tool.get("pdm") if isinstance(tool.get("pdm"), dict) else {}
    for values in (pdm.get("dev-dependencies") or {}).values() if isinstance(pdm.get("dev-dependencies"), dict) else ():
        facts += _dep_strings(src, sections, "tool.pdm.dev-dependencies", values, "pyproject")
    for source in pdm.get("source") or [] if isinstance(pdm.get("source"), list) else []:
        if isinstance(source, dict) and isinstance(source.get("url"), str):
            facts += _index_url(src, source["url"], sections.string_line("tool.pdm.source", source["url"]), "--extra-index-url")
    uv = tool.get("uv") if isinstance(tool.get("uv"), dict) else {}
    for key in ("constraint-dependencies", "override-dependencies", "dev-dependencies"):
        facts += _dep_strings(src, sections, "tool.uv", uv.get(key), "pyproject")
    for index in uv.get("index") or [] if isinstance(uv.get("index"), list) else []:
        if isinstance(index, dict) and isinstance(index.get("url"), str):
            facts += _index_url(src, index["url"], sections.string_line("tool.uv.index", index["url"]), "--extra-index-url")
    for key, option in (("index-url", "--index-url"), ("extra-index-url", "--extra-index-url"), ("find-links", "--find-links")):
        values = uv.get(key)
        for url in [values] if isinstance(values, str) else values if isinstance(values, list) else []:
            if isinstance(url, str):
                facts += _index_url(src, url, sections.string_line("tool.uv", url), option)
    return facts


def _index_url(src: SourceText, url: str, line: int, option: str) -> list[object]:
    """An index a project file names, and the CUDA build a PyTorch wheel index carries."""
    loc = src.find_loc(line, url)
    cuda = specs.cuda_of_build(url) if "/whl/" in url else None
    return [PackageSource(url, option, loc), *([CudaBuild("torch", cuda, loc, "pyproject")] if cuda else [])]


def pipfile(src: SourceText) -> Iterable[object]:
    data = _toml(src)
    if not isinstance(data, dict):
        return []
    sections = _Sections(src)
    facts: list[object] = []
    for table in ("packages", "dev-packages"):
        deps = data.get(table)
        if not isinstance(deps, dict):
            continue
        for name, value in deps.items():
            line = sections.key_line(table, name)
            loc = _name_loc(src, line, name)
            if isinstance(value, dict):
                for key in ("git", "file", "url"):
                    if isinstance(value.get(key), str) and "://" in value[key]:
                        facts.append(PackageSource(value[key], "url-requirement", loc))
                if any(k in value for k in ("git", "file", "path", "url")):
                    continue
                value = value.get("version", "*")
            if not isinstance(value, str):
                continue
            spec = "" if value.strip() == "*" else value.replace(" ", "")
            if spec and spec[0].isdigit():
                spec = f"=={spec}"
            facts.extend(_requirement_from_spec(src, name, spec, loc, "pipfile"))
    requires = data.get("requires")
    if isinstance(requires, dict):
        for key in ("python_full_version", "python_version"):
            if isinstance(requires.get(key), str):
                line = sections.key_line("requires", key)
                facts.append(VersionDecl("python", specs.exact_or_prefix(requires[key]), src.find_loc(line, key), "pipfile"))
                break
    for source in data.get("source") or [] if isinstance(data.get("source"), list) else []:
        if isinstance(source, dict) and isinstance(source.get("url"), str):
            facts.append(PackageSource(source["url"], "--extra-index-url", src.find_loc(sections.string_line("source", source["url"]), source["url"])))
    return facts


def _requirement_from_spec(src: SourceText, name: str, spec: str, loc: Location, surface: str) -> Iterator[object]:
    try:
        req = _requirement(f"{name}{spec}")
    except InvalidRequirement:
        return
    yield from _requirement_facts(src, req, loc, surface)


# --- lock files (SAI101 only, resolved versions) ------------------------------------------


def lockfile(src: SourceText) -> Iterable[object]:
    name = src.rel.rsplit("/", 1)[-1]
    facts: list[object] = []
    if name == "Pipfile.lock":
        try:
            data = json.loads(src.text)
        except (ValueError, RecursionError) as exc:
            line = getattr(exc, "lineno", 1)
            src.problem("SAI001", f"invalid JSON: {str(exc).split(':')[0]}", line if isinstance(line, int) else 1)
            return []
        for group in ("default", "develop"):
            packages = data.get(group) if isinstance(data, dict) else None
            if not isinstance(packages, dict):
                continue
            for pkg, body in packages.items():
                version = body.get("version") if isinstance(body, dict) else None
                if isinstance(version, str) and version.startswith("=="):
                    line = next((n for n, l in enumerate(src.lines, 1) if f'"{pkg}"' in l), 1)
                    facts.append(VersionDecl(str(specs.canonicalize_name(pkg)), version, src.find_loc(line, f'"{pkg}"'), "Pipfile.lock", resolved=True))
        return facts
    data = _toml(src)
    if not isinstance(data, dict):
        return []
    packages = data.get("package")
    if not isinstance(packages, list):
        return []
    # each `[[package]]` entry at its own `name =` line: a lock may list one package twice
    # (two builds of torch for two platforms), and each entry is judged once, at its line
    name_lines: dict[str, list[int]] = {}
    for number, line in enumerate(src.lines, 1):
        match = re.match(r'^\s*name\s*=\s*"([^"]+)"', line)
        if match:
            name_lines.setdefault(str(specs.canonicalize_name(match.group(1))), []).append(number)
    seen: set[tuple[str, str]] = set()
    for package in packages:
        if not isinstance(package, dict):
            continue
        pkg, version = package.get("name"), package.get("version")
        if not isinstance(pkg, str) or not isinstance(version, str):
            continue
        canonical = str(specs.canonicalize_name(pkg))
        lines = name_lines.get(canonical) or [1]
        line = lines.pop(0) if len(lines) > 1 else lines[0]
        if (canonical, version.split("+")[0]) in seen:
            continue  # another build of a version already judged
        seen.add((canonical, version.split("+")[0]))
        facts.append(VersionDecl(canonical, f"=={version}", src.find_loc(line, pkg), name, resolved=True))
    return facts
