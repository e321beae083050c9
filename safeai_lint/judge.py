"""Judging a scan's facts with one config: the rules it enables, the checks, then suppression
comments, waivers, per-file ignores and levels, for the files that config governs.

With nested configs (`configfiles.ConfigTree`) the engine calls `judge()` once per config, each
time for the files it governs; every check still sees the whole project (cross-file rules need
it). Checks run once per distinct (rules, policy) pair: configs that only differ in excludes,
waivers or levels share the work.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Callable, Collection, Sequence

from . import suppress
from .catalog import rule_index
from .config import Config
from .facts import FileFacts, Location, Workload
from .findings import Finding
from .project import Project
from .records import Frozen, record

ENGINE_RULES = ("SAI001", "SAI002", "SAI003", "SAI004")


def enabled_rules(config: Config, select: Sequence[str] = (), ignore: Sequence[str] = ()) -> list[str]:
    from .catalog import resolve_rule

    rules = rule_index()
    chosen = set(config.select or rules) | set(config.extend_select)
    if select:
        chosen = {r for token in select for r in resolve_rule(token)}
    dropped = set(config.ignore) | {r for token in ignore for r in resolve_rule(token)}
    return [r for r in rules if r in chosen and r not in dropped]


@record(slots=False)
class Scope(Frozen):
    """The files one config judges: `folder` holds the config ("" for the scan root's)."""

    folder: str
    config: Config
    paths: frozenset[str]  # repo-relative paths whose findings are reported
    whole: bool  # the whole tree is reported (no files named): unused waivers count


def judge(
    project: Project, results: Sequence[FileFacts], scope: Scope, root: Path,
    select: Sequence[str], ignore: Sequence[str], memo: dict, stage: object = None,
) -> tuple[list[Finding], list[str]]:
    """The findings in `scope.paths`, levels set, and the rules that ran for them. `stage`: the
    render stage (`render.Stage`): its own findings, and the notes that say a finding is on a
    rendered object."""
    from .checks import all_checks

    config = scope.config
    rules = rule_index()
    enabled = enabled_rules(config, select, ignore)
    checks = [c for c in all_checks() if any(r in enabled for r in c.rules)]
    ran = [r for r in enabled if r in ENGINE_RULES or any(r in c.rules for c in checks)]
    ran_set = set(ran)
    key = (tuple(ran), json.dumps(dict(config.policy), sort_keys=True, default=str))
    if key not in memo:
        found = [f for check in checks for f in check.run(project, config.policy)]
        if project.all(Workload):
            from .link import deployed_view, once_per_shared_place

            # a KServe runtime's own text, judged through each service using it: once
            found = once_per_shared_place(found, deployed_view(project, config.policy).shared)
        memo[key] = found
    paths = scope.paths
    raw: list[Finding] = [f for f in getattr(stage, "findings", ()) if f.location.path in paths]
    for res in results:
        if res.path in paths:
            raw.extend(Finding(d.rule, d.message, d.location, d.level) for d in res.diagnostics)
            raw.extend(Finding("SAI003", b.message, b.location) for b in res.facts if isinstance(b, suppress.BadSuppression))
    raw.extend(f for f in memo[key] if f.location.path in paths)
    notes = getattr(stage, "notes", None)
    if notes:
        from .render import with_notes

        raw = with_notes(raw, notes)
    raw = [f for f in raw if f.rule in ran_set]

    # suppressions: comments and annotations, then waivers, then per-file ignores
    sups = [s for res in results if res.path in paths for s in res.suppressions]
    valid, invalid = suppress.validate(sups, set(rules))
    raw.extend(Finding("SAI003", b.message, b.location) for b in invalid)
    kept, unused = suppress.apply_suppressions(raw, valid)
    waivers, waiver_problems = suppress.check_waivers(config, root / scope.folder, set(rules))
    kept, unused_waivers = _below(scope.folder, kept, lambda found: suppress.apply_waivers(found, waivers))
    config_loc = config.path or ".safeai-lint.yaml"
    for problem in waiver_problems:
        kept.append(Finding("SAI003", problem.message, Location(config_loc, max(problem.waiver.line, 1), 1)))
    for sup in unused:
        if sup.origin == suppress.CARRIED:
            continue  # a template's suppression carried to a values line: the template's own counts
        if sup.rule in ran_set:
            kept.append(Finding("SAI004", f"suppression of {sup.rule} matched no finding; remove it", sup.location))
    for waiver in unused_waivers:
        if waiver.rule in ran_set and scope.whole:
            kept.append(Finding("SAI004", f"waiver of {waiver.rule} matched no finding; remove it", Location(config_loc, max(waiver.line, 1), 1)))
    kept = [f for f in kept if f.rule in ran_set]
    kept, _ = _below(scope.folder, kept, lambda found: (suppress.apply_per_file_ignores(found, config), None))
    levels = config.level_overrides()
    return [dataclasses.replace(f, level=levels[f.rule]) if f.rule in levels else f for f in kept], ran


def _below(folder: str, findings: Collection[Finding], apply: Callable[[list[Finding]], tuple[list[Finding], object]]):  # noqa: ANN202
    """`apply` (which keeps some of the findings it is given) with paths relative to `folder`,
    where a nested config's globs are rooted; the findings kept come back unchanged."""
    if not folder:
        kept, extra = apply(list(findings))
        return kept, extra
    prefix = folder + "/"
    original: dict[int, Finding] = {}
    moved = []
    for f in findings:
        rel = f.location.path[len(prefix):] if f.location.path.startswith(prefix) else f.location.path
        shifted = dataclasses.replace(f, location=dataclasses.replace(f.location, path=rel))
        original[id(shifted)] = f
        moved.append(shifted)
    kept, extra = apply(moved)
    return [original[id(f)] for f in kept], extra
