"""The render stage, between discovery and parsing: charts and overlays become the objects
they deploy, judged as such and reported at the lines a person edits.

`render_stage()` takes the discovered files and returns the ones still to be analysed on their
own, plus the facts of the rendered objects (already moved to real lines), findings of the
stage itself (SAI001/SAI002) and, for the reporters, the text of the lines it points at.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..discover import SourceFile
from ..facts import FileFacts
from ..findings import Finding

Analyze = Callable[[SourceFile, int, bytes], FileFacts]


@dataclass(frozen=True)
class Stage:
    files: list[SourceFile]  # discovered files to analyse on their own
    results: list[FileFacts] = field(default_factory=list)  # rendered objects, at real lines
    findings: list[Finding] = field(default_factory=list)  # the stage's own SAI001/SAI002
    notes: dict[tuple[str, int], str] = field(default_factory=dict)  # (path, line) -> "in chart ..."
    lines: dict[str, dict[int, str]] = field(default_factory=dict)  # snippets of those lines


def render_stage(root: Path, files: list[SourceFile], helm_values: dict[str, tuple[str, ...]], cap: int, analyze: Analyze) -> Stage:
    from . import helm

    rels = [sf.rel for sf in files]
    charts = helm.chart_folders(rels)
    if not charts:
        return Stage(files)
    every_chart = sorted({rel.rsplit("/", 1)[0] if "/" in rel else "" for rel in rels if rel.rsplit("/", 1)[-1] == "Chart.yaml"})
    covered = {rel for rel in rels if _under_templates(rel, every_chart, charts)}
    which = helm.renderer()
    stage = Stage([sf for sf in files if sf.rel not in covered])
    for folder in charts:
        result = helm.render_chart(root, folder, helm_values.get(folder, ()), which)
        stage.findings.extend(Finding(p.rule, p.message, p.location, level=p.level) for p in result.problems)
        for rendered in result.rendered:
            _judge(stage, rendered, cap, analyze)
    return stage


def _under_templates(rel: str, every_chart: list[str], charts: list[str]) -> bool:
    """Is `rel` a chart's template, or inside a vendored subchart (judged only as rendered)?"""
    for folder in every_chart:
        prefix = f"{folder}/" if folder else ""
        if rel.startswith(f"{prefix}templates/"):
            return True
    return any(rel.startswith(f"{folder}/charts/" if folder else "charts/") for folder in charts)


def _judge(stage: Stage, rendered, cap: int, analyze: Analyze) -> None:
    from .place import Placer, move_suppressions, relocate

    facts = analyze(SourceFile(rendered.rel, "-", "yaml"), cap, rendered.text.encode())
    placer = Placer(rendered)
    moved = FileFacts(
        facts.path, facts.kind, relocate(facts.facts, placer), relocate(facts.diagnostics, placer),
        move_suppressions(facts.suppressions, placer), {},
    )
    stage.results.append(moved)
    stage.notes.update(placer.notes)
    for path, lines in placer.lines.items():
        stage.lines.setdefault(path, {}).update(lines)


def with_notes(findings: list[Finding], notes: dict[tuple[str, int], str]) -> list[Finding]:
    """Findings on rendered objects say so: "(rendered: in chart llm, template ...)"."""
    if not notes:
        return findings
    import dataclasses

    out = []
    for f in findings:
        note = notes.get((f.location.path, f.location.line))
        out.append(dataclasses.replace(f, message=f"{f.message} (rendered: {note})") if note and f.rule not in ("SAI001", "SAI002", "SAI003", "SAI004") else f)
    return out
