"""The render stage, between discovery and parsing: charts and overlays become the objects
they deploy, judged as such and reported at the lines a person edits.

`render_stage()` takes the discovered files and returns the ones still to be analysed on their
own, plus the facts of the rendered objects (already moved to real lines), findings of the
stage itself (SAI001/SAI002) and, for the reporters, the text of the lines it points at.
"""
from __future__ import annotations

import re
from dataclasses import field
from pathlib import Path
from typing import Callable

from ..discover import SourceFile
from ..facts import FileFacts, Location
from ..findings import Finding
from ..records import Frozen, record

Analyze = Callable[[SourceFile, int, bytes], FileFacts]


@record(slots=False)
class Stage(Frozen):
    files: list[SourceFile]  # discovered files to analyse on their own
    results: list[FileFacts] = field(default_factory=list)  # rendered objects, at real lines
    findings: list[Finding] = field(default_factory=list)  # the stage's own SAI001/SAI002
    notes: dict[tuple[str, int], str] = field(default_factory=dict)  # (path, line) -> "in chart ..."
    lines: dict[str, dict[int, str]] = field(default_factory=dict)  # snippets of those lines
    piped_paths: set[str] = field(default_factory=set)  # templates piped `helm template` output maps to

    def from_stdin(self, facts: FileFacts, data: bytes, root: Path, rels: list[str]) -> FileFacts:
        """Facts of piped `helm template` output moved to the templates its `# Source:` names."""
        from .copy import reader
        from .piped import map_piped

        text = data.decode("utf-8", "replace")
        piped = map_piped(facts, text, rels, reader(root)) if "# Source: " in text else None
        if piped is None:
            return facts
        self.piped_paths.update(piped.paths)
        # the piped output is what is judged of those templates, not the stage's own rendering
        self.results[:] = [r for r in self.results if r.path not in piped.paths]
        self.findings[:] = [f for f in self.findings if f.location.path not in piped.paths]
        self.notes.update(piped.notes)
        for path, lines in piped.lines.items():
            self.lines.setdefault(path, {}).update(lines)
        return piped.facts


def render_stage(root: Path, files: list[SourceFile], helm_values: dict[str, tuple[str, ...]], cap: int, analyze: Analyze,
                 cache_dir: Path | None = None) -> Stage:
    """`cache_dir`: keep renderings there and reuse them while their inputs are unchanged."""
    rels = [sf.rel for sf in files]
    stage = Stage(list(files))
    covered = _charts(stage, root, rels, helm_values, cap, analyze, cache_dir) | _overlays(stage, root, files, cap, analyze, cache_dir)
    stage.files[:] = [sf for sf in files if sf.rel not in covered]
    return stage


def _charts(stage: Stage, root: Path, rels: list[str], helm_values: dict[str, tuple[str, ...]], cap: int, analyze: Analyze,
            cache_dir: Path | None) -> set[str]:
    if not any(rel == "Chart.yaml" or rel.endswith("/Chart.yaml") for rel in rels):
        return set()  # nothing to render: load no YAML machinery (a one-file pre-commit run)
    from . import helm
    from .memo import Memo
    from .place import Placer

    charts = helm.chart_folders(rels)
    if not charts:
        return set()
    every_chart = sorted({rel.rsplit("/", 1)[0] if "/" in rel else "" for rel in rels if rel.rsplit("/", 1)[-1] == "Chart.yaml"})
    which = helm.renderer()
    memo = Memo(cache_dir)
    results = _parallel(lambda folder: helm.render_chart(root, folder, helm_values.get(folder, ()), which, memo), charts)
    for result in results:
        stage.findings.extend(Finding(p.rule, p.message, p.location, level=p.level) for p in result.problems)
        for rendered in result.rendered:
            _judge(stage, rendered.rel, rendered.text, Placer(rendered), cap, analyze)
    return {rel for rel in rels if _under_templates(rel, every_chart, charts)}


def _overlays(stage: Stage, root: Path, files: list[SourceFile], cap: int, analyze: Analyze, cache_dir: Path | None) -> set[str]:
    """Build every top overlay; the resource and patch files of a successful build are judged
    through it (their comment suppressions still count), not on their own."""
    rels = [sf.rel for sf in files]
    if not any(rel.rsplit("/", 1)[-1] in ("kustomization.yaml", "kustomization.yml", "Kustomization") for rel in rels):
        return set()
    from . import kustomize
    from .copy import reader
    from .kplace import BuildPlacer
    from .memo import Memo

    found = kustomize.files_of(rels)
    if not found:
        return set()
    read = reader(root, cap)
    kusts = kustomize.read_kustomizations(root, found, read)
    argv = kustomize.renderer()
    covered: set[str] = set()
    tops = kustomize.top_overlays(kusts)
    if not argv:
        for top in tops:
            message = (f"overlay {top or '.'} not built: no kustomize renderer: install `kustomize` or `kubectl` on PATH "
                       "or `pip install 'safeai-lint[kustomize]'`; its files are judged one by one")
            stage.findings.append(Finding("SAI002", message, Location(kusts[top].rel, 1, 1), level="note"))
        return set()
    memo = Memo(cache_dir)
    builds = _parallel(lambda top: kustomize.build(root, kusts, top, argv, read, memo), tops)
    for top, (build, problems) in zip(tops, builds):
        stage.findings.extend(Finding(p.rule, p.message, p.location, level=p.level) for p in problems)
        if build is None:
            continue
        virtual = f"{kusts[top].rel}#build"
        _judge(stage, virtual, build.text, BuildPlacer(build, virtual, kusts[top].rel, read), cap, analyze)
        covered |= kustomize.reached_files(kusts, top)
    kinds = {sf.rel: sf for sf in files}
    for rel in sorted(covered & set(kinds)):
        own = analyze(kinds[rel], cap, None)  # only its comment suppressions: its objects come from builds
        bad = tuple(f for f in own.facts if type(f).__name__ == "BadSuppression")
        stage.results.append(FileFacts(own.path, own.kind, bad, (), tuple(s for s in own.suppressions if s.origin == "comment")))
    return covered


def _parallel(work: Callable, items: list) -> list:
    """`work(item)` for each item, in order; renderers are child processes, so threads overlap
    them (at most one per core, and four)."""
    if len(items) < 2:
        return [work(item) for item in items]
    import os
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(1, min(len(items), os.cpu_count() or 1, 4))) as pool:
        return list(pool.map(work, items))


def _under_templates(rel: str, every_chart: list[str], charts: list[str]) -> bool:
    """Is `rel` judged only as rendered: a chart's template, a vendored subchart, or a file of
    a rendered chart's `files/` (fragments its templates read with `.Files.Get` and `tpl`)?"""
    for folder in every_chart:
        prefix = f"{folder}/" if folder else ""
        if rel.startswith(f"{prefix}templates/"):
            return True
    return any(rel.startswith((f"{folder}/charts/", f"{folder}/files/") if folder else ("charts/", "files/")) for folder in charts)


def _judge(stage: Stage, rel: str, text: str, placer, cap: int, analyze: Analyze) -> None:
    """Analyse a rendered text (virtual path `rel`) and move what it tells to real lines."""
    from .place import move_suppressions, relocate

    facts = analyze(SourceFile(rel, "-", "yaml"), cap, text.encode())
    moved = FileFacts(
        facts.path, facts.kind, relocate(facts.facts, placer), relocate(facts.diagnostics, placer),
        move_suppressions(facts.suppressions, placer, text.count("\n") + 1), {},
    )
    stage.results.append(moved)
    for where, note in placer.notes.items():
        old = stage.notes.get(where)
        stage.notes[where] = note if not old or note in old else f"{old}; {note}"
    for path, lines in placer.lines.items():
        stage.lines.setdefault(path, {}).update(lines)


def with_notes(findings: list[Finding], notes: dict[tuple[str, int], str]) -> list[Finding]:
    """Findings on rendered objects say so: "(rendered: in chart llm, template ...)"."""
    if not notes:
        return findings
    import dataclasses

    out = []
    seen: set[tuple] = set()
    for f in findings:
        note = notes.get((f.location.path, f.location.line))
        if note and f.rule not in ("SAI001", "SAI002", "SAI003", "SAI004"):
            if "kustomize build of" in note:
                # one finding per place: overlays that prefix names ('dev-vllm', 'prod-vllm')
                # report the same base line once, the note naming every overlay
                same = (f.rule, f.location, _QUOTED.sub("'…'", f.message))
                if same in seen:
                    continue
                seen.add(same)
            f = dataclasses.replace(f, message=f"{f.message} (rendered: {note})")
        out.append(f)
    return out


_QUOTED = re.compile(r"'[^']*'")
