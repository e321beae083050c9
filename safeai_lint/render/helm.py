"""Helm charts: find them, render them with Helm itself, and say where each rendered line came from.

Renderers, in order: a `helm` executable on PATH (v3 or v4), else the `helm-python-sdk`
package (Helm's Go SDK, `pip install 'safeai-lint[helm]'`) in a child process. Each chart is
rendered three times from a sanitised copy (see `copy.py`): plainly, with line-marked
templates (`lines.py`) and with marked values (`values.py`). Only the plain rendering is judged.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..facts import Location
from ..sources.yaml import YList, YMap, parse_documents, plain
from . import sandbox
from .copy import copy_folder, inside_root
from .lines import blank_definitions, line_map, mark_template
from .memo import Memo, key, program_stamp, tree_digest
from .values import Leaf, Site, load_values, marked_values, value_sites

RELEASE = "release"
NO_RENDERER = (
    "no Helm renderer: install `helm` (v3 or v4) on PATH or `pip install 'safeai-lint[helm]'` "
    "(Helm's Go SDK, no binary); its templates are not judged"
)


@dataclass(frozen=True)
class Problem:
    rule: str
    level: str  # "" = the rule's own level
    message: str
    location: Location


@dataclass(frozen=True)
class RenderedFile:
    """What one template rendered to, and where each of its lines and values came from."""

    rel: str  # the template in the repository
    text: str
    owners: tuple[int, ...] | None  # template line of each rendered line; None: unknown
    sites: dict[tuple[int, int], Site] = field(default_factory=dict)
    note: str = ""  # "in chart llm, template deployment.yaml"
    sources: dict[str, str] = field(default_factory=dict)  # text of the files findings may land in


@dataclass(frozen=True)
class ChartResult:
    folder: str
    rendered: tuple[RenderedFile, ...] = ()
    problems: tuple[Problem, ...] = ()


def chart_folders(rels: list[str]) -> list[str]:
    """Folders of charts to render: every `Chart.yaml`, except vendored subcharts (under
    another chart's `charts/`, rendered with their parent)."""
    folders = sorted({rel.rsplit("/", 1)[0] if "/" in rel else "" for rel in rels if rel.rsplit("/", 1)[-1] == "Chart.yaml"})
    found = set(folders)
    out = []
    for folder in folders:
        parts = folder.split("/") if folder else []
        vendored = any(parts[i] == "charts" and "/".join(parts[:i]) in found for i in range(len(parts)))
        if not vendored:
            out.append(folder)
    return out


def renderer() -> str:
    """"helm" (an executable on PATH), "sdk" (helm-python-sdk installed) or ""."""
    if sandbox.find_program("helm"):
        return "helm"
    if importlib.util.find_spec("helm_python") is not None:
        return "sdk"
    return ""


def render_chart(root: Path, folder: str, extra_values: tuple[str, ...], which: str, memo: Memo | None = None) -> ChartResult:
    memo = memo or Memo(None)
    base = root / folder if folder else root
    prefix = f"{folder}/" if folder else ""
    chart_rel = f"{prefix}Chart.yaml"
    with tempfile.TemporaryDirectory(prefix="safeai-chart-") as work:
        plain_copy = Path(work, "plain", base.name or "chart")
        refused = copy_folder(root, base, plain_copy)  # from here on, only the copy is read
        if refused:
            shown = refused.path if _is_text(root, refused.path) else chart_rel
            message = f"chart {folder or base.name}: {refused.path} {refused.why}"
            return ChartResult(folder, (), (Problem("SAI002", "", message, Location(shown, 1, 1)),))
        docs, _ = parse_documents(_read(plain_copy / "Chart.yaml"))
        meta = docs[0].value if docs and isinstance(docs[0].value, YMap) else YMap()
        name = str(meta.get("name") or base.name)
        if meta.get("type") == "library":
            return ChartResult(folder)
        problems: list[Problem] = []
        missing = _missing_dependencies(plain_copy, meta, chart_rel, problems)
        texts = _values_texts(root, folder, plain_copy, name, extra_values, problems)
        if not which:
            problems.append(Problem("SAI002", "note", f"chart {name} not rendered: {NO_RENDERER}", Location(chart_rel, 1, 1)))
            return ChartResult(folder, (), tuple(problems))
        values, bad = load_values(texts)
        for path, message, line in bad:
            problems.append(Problem("SAI001", "", f"values file of chart {name}: {message}", Location(path, max(line, 1), 1)))
        if missing:
            _drop_dependencies(plain_copy / "Chart.yaml", missing)
        lined_copy = Path(work, "lined", plain_copy.name)
        copy_folder(plain_copy, plain_copy, lined_copy)
        templates = _mark_templates(lined_copy)
        marked, legend = marked_values(values)
        jobs = [(plain_copy, values.merged), (lined_copy, values.merged), (plain_copy, marked)]
        outcomes = _render(which, jobs, Path(work), memo)
        if not outcomes[0][0]:
            problems.append(_render_failure(name, prefix, outcomes[0][1], chart_rel))
            return ChartResult(folder, (), tuple(problems))
        if not outcomes[2][0]:  # a template did arithmetic on a value: trace strings only
            marked, legend = marked_values(values, numbers=False)
            outcomes[2] = _render(which, [(plain_copy, marked)], Path(work), memo)[0]
        subcharts = _subchart_folders(plain_copy, prefix)
        rendered = _assemble(name, prefix, subcharts, outcomes, templates, legend, texts, plain_copy)
    return ChartResult(folder, tuple(rendered), tuple(problems))


def _values_texts(root: Path, folder: str, copy: Path, name: str, extra: tuple[str, ...], problems: list[Problem]) -> list[tuple[str, str]]:
    """(path, text) of the chart's values.yaml (from the copy) and of each configured values
    file that is inside the repository."""
    prefix = f"{folder}/" if folder else ""
    texts = [(f"{prefix}values.yaml", _read(copy / "values.yaml"))] if (copy / "values.yaml").is_file() else []
    for given in extra:
        rel = os.path.normpath(os.path.join(folder, given)).replace(os.sep, "/")
        target = root / rel
        where = Location(f"{prefix}Chart.yaml", 1, 1)
        if os.path.isabs(given) or rel == ".." or rel.startswith("../") or not inside_root(root, target):
            problems.append(Problem("SAI002", "", f"values file {given!r} of chart {name} is outside the repository; not read", where))
        elif not target.is_file():
            problems.append(Problem("SAI002", "", f"values file {given!r} named in the config for chart {name} does not exist", where))
        else:
            texts.append((rel, _read(target)))
    return texts


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return ""


def _is_text(root: Path, rel: str) -> bool:
    return (root / rel).is_file() and not (root / rel).is_symlink()


def _missing_dependencies(base: Path, meta: YMap, chart_rel: str, problems: list[Problem]) -> list[str]:
    """Dependencies in Chart.yaml that `charts/` does not hold: SAI002 at their entry."""
    deps = meta.get("dependencies")
    if not isinstance(deps, YList):
        return []
    vendored = set()
    charts = base / "charts"
    if charts.is_dir():
        for entry in charts.iterdir():
            if entry.is_dir() and (entry / "Chart.yaml").is_file():
                sub = parse_documents(_read(entry / "Chart.yaml"))[0]
                vendored.add(str(sub[0].value.get("name")) if sub and isinstance(sub[0].value, YMap) else entry.name)
            elif entry.name.endswith(".tgz"):
                vendored.add(entry.name[: -len(".tgz")].rsplit("-", 1)[0])
    missing = []
    for index, dep in enumerate(deps):
        if not isinstance(dep, YMap) or not dep.get("name"):
            continue
        name = str(dep["name"])
        if name in vendored:
            continue
        missing.append(name)
        repo = str(dep.get("repository") or "")
        line = deps.item_pos(index)[0]
        message = (
            f"dependency {name!r}{f' from {repo}' if repo else ''} is not vendored under charts/ "
            "(run `helm dependency build` and commit charts/); the chart is judged without it"
        )
        problems.append(Problem("SAI002", "", message, Location(chart_rel, line, 1)))
    return missing


def _drop_dependencies(chart_yaml: Path, names: list[str]) -> None:
    import yaml

    docs, _ = parse_documents(_read(chart_yaml))
    data = plain(docs[0].value) if docs else {}
    data["dependencies"] = [d for d in data.get("dependencies") or [] if not (isinstance(d, dict) and str(d.get("name")) in names)]
    chart_yaml.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _mark_templates(chart: Path) -> dict[str, str]:
    """Line-mark every manifest template of the copy (helpers `_*.tpl` stay as they are);
    returns the original text of each template by its name below the chart folder."""
    originals = {}
    for path in sorted(chart.rglob("*")):
        rel = path.relative_to(chart).as_posix()
        parts = rel.split("/")
        if not path.is_file() or "templates" not in parts or path.name.startswith("_"):
            continue
        text = _read(path)
        originals[rel] = text
        path.write_text(mark_template(text), encoding="utf-8")
    return originals


def _render(which: str, jobs: list[tuple[Path, dict]], work: Path, memo: Memo) -> list[tuple[bool, object]]:
    """Each job rendered: (True, {template name: text}) or (False, error); from `memo` when
    the same charts were rendered with the same values by the same renderer before."""
    program = (sandbox.find_program("helm") or "helm") if which == "helm" else _sdk_stamp()
    name = key(which, program_stamp(program), *(f"{tree_digest(chart)}:{json.dumps(values, sort_keys=True)}" for chart, values in jobs))
    kept = memo.get(name)
    if isinstance(kept, list) and len(kept) == len(jobs):
        return [(bool(ok), payload) for ok, payload in kept]
    out = _render_now(which, jobs, work)
    if not any(not ok and str(payload).startswith(sandbox.CAP_PREFIXES) for ok, payload in out):
        memo.put(name, [[ok, payload] for ok, payload in out])
    return out


def _sdk_stamp() -> str:
    spec = importlib.util.find_spec("helm_python")
    return spec.origin if spec and spec.origin else "helm_python"


def _render_now(which: str, jobs: list[tuple[Path, dict]], work: Path) -> list[tuple[bool, object]]:
    if which == "sdk":
        request = json.dumps({"jobs": [{"chart": str(chart), "values": values} for chart, values in jobs]})
        outcome = sandbox.run_renderer([sys.executable, "-I", "-m", "safeai_lint.render.sdk_worker"], request)
        if not outcome.ok:
            return [(False, outcome.error)] * len(jobs)
        try:
            results = json.loads(outcome.stdout)["results"]
        except (ValueError, KeyError, TypeError):
            return [(False, "the Helm SDK worker gave no readable answer")] * len(jobs)
        return [(r["ok"], r["manifests"] if r["ok"] else r["error"]) for r in results]
    out: list[tuple[bool, object]] = []
    for index, (chart, values) in enumerate(jobs):
        values_file = work / f"values-{index}.json"
        values_file.write_text(json.dumps(values), encoding="utf-8")
        helm = sandbox.find_program("helm") or "helm"
        outcome = sandbox.run_renderer([helm, "template", RELEASE, str(chart), "--namespace", "default", "--values", str(values_file)])
        out.append((True, split_stream(outcome.stdout)) if outcome.ok else (False, outcome.error))
    return out


_SOURCE = re.compile(r"^# Source: (\S.*?)\s*$", re.M)


def split_stream(text: str) -> dict[str, str]:
    """`helm template` output split by its `# Source:` comments: template name -> documents."""
    parts: dict[str, list[str]] = {}
    for doc in re.split(r"(?m)^---[ \t]*$\n?", text):
        match = _SOURCE.search(doc)
        if not match or doc[: match.start()].strip():
            continue
        parts.setdefault(match.group(1), []).append(doc[match.end() + 1 :])
    return {name: "---\n".join(docs) for name, docs in parts.items()}


_WHERE = re.compile(r"([\w.-]+(?:/[\w.-]+)*\.(?:ya?ml|tpl|txt|json)):(\d+)")


def _render_failure(name: str, prefix: str, error: object, chart_rel: str) -> Problem:
    text = re.sub(r"/\S*safeai-(?:chart|render)-[^/\s]*/(?:plain|lined)/", "", str(error))
    text = " ".join(text.split())
    if text.startswith(sandbox.CAP_PREFIXES):  # our own limit, not a fault of the chart
        return Problem("SAI002", "", f"chart {name} not rendered: {text}", Location(chart_rel, 1, 1))
    match = _WHERE.search(text)
    if match and match.group(1).startswith(f"{name}/"):
        rel = prefix + match.group(1).split("/", 1)[1]
        return Problem("SAI001", "", f"chart {name} does not render: {text[:500]}", Location(rel, int(match.group(2)), 1))
    return Problem("SAI001", "", f"chart {name} does not render: {text[:500]}", Location(chart_rel, 1, 1))


def _subchart_folders(base: Path, prefix: str) -> dict[str, str]:
    """Vendored subchart name -> its folder in the repository (unpacked subcharts only)."""
    out: dict[str, str] = {}
    charts = base / "charts"
    if charts.is_dir():
        for entry in sorted(charts.iterdir()):
            if entry.is_dir() and (entry / "Chart.yaml").is_file():
                docs, _ = parse_documents(_read(entry / "Chart.yaml"))
                sub = str(docs[0].value.get("name")) if docs and isinstance(docs[0].value, YMap) else entry.name
                out[sub] = f"{prefix}charts/{entry.name}"
    return out


def _real_path(name: str, chart: str, prefix: str, subcharts: dict[str, str]) -> str | None:
    """Where the rendered template `llm/charts/sub/templates/x.yaml` is in the repository."""
    parts = name.split("/")
    if not parts or parts[0] != chart:
        return None
    folder, rest = prefix.rstrip("/"), parts[1:]
    while len(rest) >= 2 and rest[0] == "charts":
        sub = subcharts.get(rest[1]) if folder == prefix.rstrip("/") else None
        if sub is None:
            return None  # a packaged (.tgz) subchart: no file to point at
        folder, rest = sub, rest[2:]
    return "/".join(p for p in (folder, *rest) if p)


def _assemble(name: str, prefix: str, subcharts: dict[str, str], outcomes: list, templates: dict[str, str],
              legend: dict[int, Leaf], texts: list[tuple[str, str]], copy: Path) -> list[RenderedFile]:
    manifests: dict[str, str] = outcomes[0][1]
    lined: dict[str, str] = outcomes[1][1] if outcomes[1][0] else {}
    marked: dict[str, str] = outcomes[2][1] if outcomes[2][0] else {}
    sources = dict(texts)
    out = []
    for template, text in sorted(manifests.items()):
        if not text.strip() or template.endswith("NOTES.txt"):
            continue
        rel = _real_path(template, name, prefix, subcharts)
        if rel is None:
            continue
        owners = line_map(text, lined[template]) if template in lined else None
        text = blank_definitions(text)
        sites = value_sites(text, blank_definitions(marked[template]), legend) if template in marked else {}
        below = template.split("/", 1)[1] if "/" in template else template
        shown = below.removeprefix("templates/")
        original = templates.get(below)
        if original is None:
            original = _read(copy / rel[len(prefix):])
        files = {**sources, rel: original}
        out.append(RenderedFile(rel, text, tuple(owners) if owners else None, sites, f"in chart {name}, template {shown}", files))
    return out
