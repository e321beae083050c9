"""`lint()`: the library API. discover -> parse -> extract -> check -> suppress -> result.

No terminal I/O happens here; the CLI and the reporters do that.
"""
from __future__ import annotations

import dataclasses
import os
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from . import suppress
from .catalog import RuleDoc, RuleHead, rule_index
from .config import Config, ConfigError
from .configfiles import ConfigTree, find_config, load_config
from .discover import SourceFile, classify, discover, git_root, inside
from .facts import Diagnostic, FileFacts, Location, Suppression
from .findings import Finding
from .finish import cap_per_file, finish
from .judge import ENGINE_RULES, Scope, enabled_rules, judge  # noqa: F401 - re-exported
from .project import Project
from .reading import decode, read_bytes, read_text  # noqa: F401 - read_text re-exported
from .sources.base import SourceText
from .records import Frozen, Record, record

if TYPE_CHECKING:
    from .cache import Cache, Stamp
    from .render import Stage

PARALLEL_THRESHOLD = 64  # below this many files a process pool costs more than it saves
CACHE_THRESHOLD = 8  # below this many files, a scan does not start a cache of its own


@record(slots=False)
class Result(Frozen):
    findings: tuple[Finding, ...]
    rules: tuple[RuleDoc | RuleHead, ...]  # every rule that ran (id, name, level at least)
    files_scanned: int
    root: str
    config_source: str = ""
    fail_on: str = "warning"
    warnings: tuple[str, ...] = ()  # input not judged as asked (excluded named paths, no files)


@record(slots=False)
class ScanPlan(Frozen):
    root: Path
    targets: tuple[Path, ...]
    only: frozenset[str] | None  # report findings only in these files (explicit file mode)
    use_git: bool
    refused: tuple[str, ...] = ()  # named paths that lead out of the root: reported, not read


def plan(paths: Sequence[str], cwd: Path | None = None, root: Path | None = None) -> ScanPlan:
    """Where the scan root is and what to scan. Paths must exist (the CLI checks).

    A named path that resolves outside the root (a symlink leading elsewhere) is refused: it
    is reported as not analysed, never read. `root`: a given scan root outside git (a tree
    exported from git for `--diff-base`), so its paths match those of the work tree."""
    cwd = (cwd or Path.cwd()).resolve()
    named = [Path(os.path.abspath(cwd / p)) for p in paths if p != "-"]
    # resolve the folders, keep each last component: a symlink stays the link, not its target
    lexical = [p.parent.resolve() / p.name if p.name else p.resolve() for p in named] or [cwd]
    whole = root is not None  # a given root is a whole tree, like a git work tree
    repo = git_root(lexical[0]) if root is None else None
    if repo and all(repo == p or repo in p.parents for p in lexical):
        root = repo
    elif root is None:
        repo = None
        common = Path(os.path.commonpath([str(p if p.is_dir() and not p.is_symlink() else p.parent) for p in lexical]))
        # outside git, the folder holding the config file is the project root
        found = find_config(common)
        root = found.parent if found is not None and found.name != "pyproject.toml" else common
    root = root.resolve()
    accepted, refused = [], []
    for p in lexical if named else []:
        if (p == root or root in p.parents) and inside(root, p):
            accepted.append(p)
        else:
            refused.append(p.relative_to(root).as_posix() if root in p.parents else p.name)
    files = [p for p in accepted if not p.is_dir() or p.is_symlink()]
    only = frozenset(p.relative_to(root).as_posix() for p in files) if files else None
    if not named:
        targets: tuple[Path, ...] = (root,) if repo is not None else ()  # stdin alone: the repo is context
    elif files and (repo is not None or whole):
        targets = (root,)  # cross-file rules see the repo around the named files
    else:
        targets = tuple(accepted)
    if refused and only is None and not accepted:
        only = frozenset()
    return ScanPlan(root, targets, only, repo is not None, tuple(refused))


# Kinds whose findings depend on no file outside their deployable unit: version pins (SAI1xx,
# SAI104 compares within one unit), images and Dockerfile launches. A Python module or a
# manifest is judged against the whole repository (AI services, routes, scrape configs).
UNIT_LOCAL_KINDS = frozenset({"dockerfile", "requirements", "pyproject", "pipfile", "setup-cfg", "python-version", "runtime-txt"})
_UNIT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg")


def _unit_context(scan: ScanPlan) -> ScanPlan:
    """For named files whose findings depend only on their deployable unit (the pre-commit
    case: a Dockerfile, a requirements file), the scan reads those units instead of the whole
    repository: same findings in the named files, a fraction of the files to load.

    A unit is the closest folder at or above the file holding a `pyproject.toml`, `setup.py`,
    `setup.cfg` or a Dockerfile (`Project.unit_of`); a file in no unit keeps the whole scan."""
    if not scan.only or scan.targets != (scan.root,):
        return scan
    units: set[Path] = set()
    for rel in scan.only:
        if classify(rel) not in UNIT_LOCAL_KINDS:
            return scan
        folder = (scan.root / rel).parent
        while folder != scan.root and not _holds_unit_marker(folder):
            folder = folder.parent
        if folder == scan.root and not _holds_unit_marker(folder):
            return scan
        units.add(folder)
    return dataclasses.replace(scan, targets=tuple(sorted(units)))


def _holds_unit_marker(folder: Path) -> bool:
    try:
        names = os.listdir(folder)
    except OSError:
        return False
    return any(name in _UNIT_MARKERS or classify(name) == "dockerfile" for name in names)


def resolve_config(root: Path, config_path: str | None, cwd: Path | None = None) -> Config:
    if config_path:
        if not Path(config_path).is_file():
            raise ConfigError(f"{config_path}: config file not found")  # the path as the user wrote it
        given = Path(config_path).resolve()
        inside = given == root or root in given.parents
        return load_config(Path(config_path), _display(given, root) if inside else config_path)
    # the root's config, never the working directory's: a config below the root judges the
    # files below it (ConfigTree), whatever folder the scan is started from
    found = find_config(root)
    return load_config(found, _display(found, root) if found else None)


def _display(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


# --- reading one file ---------------------------------------------------------------------


# --- per file: parse and extract ----------------------------------------------------------


def analyze(sf: SourceFile, max_file_size: int, data: bytes | None = None) -> FileFacts:
    """Everything one file tells: facts, parse diagnostics, suppression comments."""
    from .process import FileTimeout

    try:
        return _analyze(sf, max_file_size, data)
    except FileTimeout:
        return _timed_out(sf)


def _timed_out(sf: SourceFile) -> FileFacts:
    from .process import file_seconds

    why = f"analysis ran over the per-file time cap of {file_seconds():g} s (SAFEAI_LINT_FILE_SECONDS); not analysed"
    return FileFacts(sf.rel, sf.kind, diagnostics=(Diagnostic("SAI002", why, Location(sf.rel, 1, 1)),))


def _analyze(sf: SourceFile, max_file_size: int, data: bytes | None) -> FileFacts:
    """`analyze()`, raising FileTimeout when the per-file time cap runs out."""
    if data is not None:
        text, why = decode(data) if len(data) <= max_file_size else (None, "input over the size cap")
    else:
        text, why = read_text(sf.path, max_file_size)
    if text is None:
        return FileFacts(sf.rel, sf.kind, diagnostics=(Diagnostic("SAI002", why, Location(sf.rel, 1, 1)),))
    from .extract import extractors_for
    from .process import file_deadline

    src = SourceText(sf.rel, sf.kind, text)
    facts: list[object] = []
    with file_deadline():
        for extractor in extractors_for(sf.kind):
            try:
                facts.extend(extractor(src))
            except RecursionError:
                src.problem("SAI002", "too deeply nested to analyse; not analysed")
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop the scan
                src.problem("SAI002", f"internal error while analysing this file ({type(exc).__name__}: {exc}); please report it")
        sups, bad = suppress.comment_suppressions(src)
    sups.extend(f for f in facts if isinstance(f, Suppression))  # e.g. Kubernetes annotations
    facts = [f for f in facts if not isinstance(f, Suppression)]
    facts.extend(bad)
    lines = _referenced_lines(src, [*facts, *sups])
    return FileFacts(sf.rel, sf.kind, tuple(facts), tuple(src.diagnostics), tuple(sups), lines)


_FIELDS: dict[type, tuple[str, ...]] = {}


def _locations(obj: object) -> Iterable[Location]:
    """Every Location inside a fact (or a list or tuple of them), depth first."""
    out: list[Location] = []
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, Location):
            out.append(item)
        elif isinstance(item, (tuple, list)):
            stack.extend(value for value in reversed(item) if isinstance(value, (Record, tuple, list)))
        elif isinstance(item, Record):
            names = _FIELDS.get(type(item))
            if names is None:
                names = tuple(f for f in item.__dataclass_fields__ if f not in ("specifier", "surface", "message"))  # type: ignore[attr-defined]
                _FIELDS[type(item)] = names
            for name in reversed(names):
                value = getattr(item, name)
                if isinstance(value, (Record, tuple, list)):
                    stack.append(value)
    return out


def _referenced_lines(src: SourceText, facts: list[object]) -> dict[int, str]:
    lines: dict[int, str] = {}
    for loc in _locations(facts):
        if loc.path == src.rel and loc.line not in lines:
            lines[loc.line] = src.line_text(loc.line)
    for diag in src.diagnostics:
        lines[diag.location.line] = src.line_text(diag.location.line)
    return lines


def analyze_recorded(sf: SourceFile, cap: int) -> tuple[FileFacts, tuple[Stamp, bytes, int] | None]:
    """`analyze()`, plus what the cache keeps besides the facts: the stamp and digest of the
    bytes analysed and when they were read (None when the file could not be read: such
    results are not cached)."""
    from .cache import digest_of, stamp_of
    from .process import FileTimeout

    recorded = time.time_ns()
    try:
        info = os.stat(sf.path)
    except OSError:
        return analyze(sf, cap), None
    data, _ = read_bytes(sf.path, cap, info)
    if data is None:
        return analyze(sf, cap), None
    try:
        facts = _analyze(sf, cap, data)
    except FileTimeout:
        return _timed_out(sf), None  # a slow moment is not a property of the file: not cached
    return facts, (stamp_of(info), digest_of(data), recorded)


def _analyze_batch(args: tuple[list[SourceFile], int, bool]) -> list:
    files, cap, recorded = args
    return [analyze_recorded(sf, cap) if recorded else analyze(sf, cap) for sf in files]


def analyze_all(
    files: Sequence[SourceFile], cap: int, jobs: int, progress: Callable[[int, int], None] | None = None,
    *, recorded: bool = False,
) -> list:
    """`analyze()` of each file, in order, across `jobs` processes; with `recorded`, pairs of
    (facts, record) as `analyze_recorded()` gives them."""
    total = len(files)
    if jobs <= 1 or total < PARALLEL_THRESHOLD:
        out = []
        for sf in files:
            out.append(analyze_recorded(sf, cap) if recorded else analyze(sf, cap))
            if progress:
                progress(len(out), total)
        return out
    import concurrent.futures
    import multiprocessing

    size = max(8, len(files) // (jobs * 8))
    batches = [(list(files[i : i + size]), cap, recorded) for i in range(0, len(files), size)]
    # fork is cheapest, but forking a process that has started the Go runtime (the Dockerfile
    # parser) can deadlock the child; then start workers from a clean server process instead
    import sys

    method = "fork" if hasattr(os, "fork") and "dockerfile" not in sys.modules else "spawn"
    context = multiprocessing.get_context(method)
    from .process import own_process

    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=own_process) as pool:
        out: list = []
        for part in pool.map(_analyze_batch, batches):
            out.extend(part)
            if progress:
                progress(len(out), total)
    return out


def analyze_cached(
    files: Sequence[SourceFile], cap: int, jobs: int, cache: Cache, progress: Callable[[int, int], None] | None = None,
) -> list[FileFacts]:
    """`analyze_all()`, taking unchanged files from `cache` and recording the others in it."""
    from .cache import stamp_of

    done: dict[str, FileFacts] = {}
    misses: list[SourceFile] = []
    for sf in files:
        try:
            info = os.stat(sf.path)
        except OSError:
            misses.append(sf)
            continue
        hit = None
        if stat.S_ISREG(info.st_mode) and info.st_size <= cap:
            hit = cache.lookup(sf.rel, sf.kind, stamp_of(info), lambda: read_bytes(sf.path, cap, info)[0])
        if hit is None:
            misses.append(sf)
        else:
            done[sf.rel] = hit
    base = len(done)
    step = (lambda n, _: progress(base + n, len(files))) if progress else None
    for sf, (facts, read) in zip(misses, analyze_all(misses, cap, jobs, step, recorded=True)):
        if read is not None:
            cache.store(sf.rel, sf.kind, *read, facts)
        done[sf.rel] = facts
    return [done[sf.rel] for sf in files]


def read_facts(scan: ScanPlan, files: list[SourceFile], config: Config, jobs: int = 1, cache_dir: Path | None = None,
               progress: Callable[[int, int], None] | None = None) -> tuple[Stage, list[FileFacts]]:
    """What the discovered `files` tell: charts and overlays rendered (the stage, whose `files`
    are the ones left to analyse on their own), then the facts of those files, from the cache
    in `cache_dir` for the unchanged ones. A scan of fewer than CACHE_THRESHOLD files starts
    no cache, but uses the one a larger scan of the same root left (the pre-commit hook on a
    small unit: its files' facts come from there, and no parser is even loaded)."""
    from .render import render_stage

    stage = render_stage(scan.root, files, dict(config.helm_values), config.max_file_size, analyze, cache_dir)
    if cache_dir is None or not stage.files:
        return stage, analyze_all(stage.files, config.max_file_size, jobs, progress)
    from .cache import has_cache, open_cache

    if len(stage.files) < CACHE_THRESHOLD and not has_cache(scan.root, cache_dir):
        return stage, analyze_all(stage.files, config.max_file_size, jobs, progress)
    cache = open_cache(scan.root, config.max_file_size, cache_dir)
    results = analyze_cached(stage.files, config.max_file_size, jobs, cache, progress)
    whole = scan.targets == (scan.root,)
    if whole:
        cache.keep_only({sf.rel for sf in stage.files})
    cache.save(whole)  # a partial scan (named files and their units) writes the small journal
    return stage, results


# --- the whole scan -----------------------------------------------------------------------


def lint(
    paths: Sequence[str] = (".",),
    config: Config | None = None,
    *,
    config_path: str | None = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    stdin: bytes | None = None,
    stdin_filename: str = "stdin",
    jobs: int = 1,
    cwd: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    cache_dir: Path | None = None,
    force_exclude: bool = False,
    root: Path | None = None,
    nested: bool = True,
    planned: ScanPlan | None = None,
) -> Result:
    """Scan `paths` and return every finding, sorted, with levels and fingerprints set.

    `cache_dir`: keep what each file told this scan there, and reuse it for files that have
    not changed since (see `cache.py`); None: analyse every file. A path named in `paths` that
    the config excludes is judged anyway, with a warning; `force_exclude` skips it instead.
    `config` (else the one found for the root) judges the files no nested config is closer
    to; `nested` False: it judges every file (`--config FILE`). `planned`: `plan(paths, cwd,
    root)` when the caller has made it already (it asks git where the work tree is)."""

    scan = planned or plan(paths, cwd, root)
    if stdin is None:
        scan = _unit_context(scan)
    config = config or resolve_config(scan.root, config_path, cwd)
    nested = nested and not config_path
    tree = ConfigTree(scan.root, config, nested)
    files = discover(scan.root, list(scan.targets), tree.excluded, scan.use_git)
    files, only, warnings = _named_excluded(scan, files, tree.excluded, force_exclude)
    if only is not None and not only:
        files = []  # every named file skipped: the repository around them has nothing to tell
    stage, results = read_facts(scan, files, config, jobs, cache_dir, progress)
    files = stage.files
    if stdin is not None:
        name = stdin_filename.replace(os.sep, "/")
        if os.path.isabs(name):
            try:
                name = Path(name).resolve().relative_to(scan.root).as_posix()
            except ValueError:
                name = Path(name).name
        named_paths = [p for p in paths if p != "-"]
        skipped = force_exclude and tree.excluded(name, 0)
        if tree.excluded(name, 0):
            how = "skipped (--force-exclude)" if skipped else "judged because it was named (--force-exclude skips it)"
            warnings.append(f"{name} (stdin): excluded by the config; {how}")
        stdin_only: frozenset[str] = frozenset()
        if not skipped:
            results = [r for r in results if r.path != name]
            piped = analyze(SourceFile(name, "-", classify(name) or "unknown"), config.max_file_size, stdin)
            results.append(stage.from_stdin(piped, stdin, scan.root, [sf.rel for sf in files]))  # `helm template` output
            stdin_only = frozenset({name}) | stage.piped_paths
        only = (only or frozenset()) | stdin_only if named_paths else stdin_only
    for rel in scan.refused:
        message = "resolves outside the scan root (a symlink?); not read"
        results.append(FileFacts(rel, "unknown", diagnostics=(Diagnostic("SAI002", message, Location(rel, 1, 1)),)))
        if only is not None:
            only = only | {rel}
    results.extend(stage.results)
    results.sort(key=lambda r: r.path)
    scanned = len(results) if only is None else len({r.path for r in results} & only)
    if not scanned:
        warnings.append("nothing was checked: no file that safeai-lint reads (Dockerfiles, YAML, requirements, pyproject.toml, Python) was found, or all were excluded")

    project = Project(results)
    scopes: dict[str, set[str]] = {"": set()}  # the root's config: its waiver problems count
    for path in [*(res.path for res in results), *(f.location.path for f in stage.findings), *sorted(stage.piped_paths)]:
        if only is None or path in only:  # the render stage reports on files it did not pass on (templates)
            scopes.setdefault(tree.scope_of(path), set()).add(path)
    rules = rule_index()
    kept: list[Finding] = []
    ran_any: set[str] = set()
    memo: dict = {}
    for folder in sorted(scopes):
        scope = Scope(folder, tree.config(folder), frozenset(scopes[folder]), only is None)
        found, ran = judge(project, results, scope, scan.root, select, ignore, memo, stage)
        kept.extend(found)
        ran_any.update(ran)
    kept = cap_per_file(kept)
    lines = {res.path: res.lines for res in results}
    for path, known in stage.lines.items():
        lines[path] = {**lines.get(path, {}), **known}
    finished = finish(kept, rules, {}, lines)
    return Result(
        findings=tuple(finished),
        rules=tuple(rules[r] for r in rules if r in ran_any),
        files_scanned=scanned,
        root=str(scan.root),
        config_source=config.source,
        fail_on=config.fail_on,
        warnings=tuple(warnings),
    )


def _named_excluded(
    scan: ScanPlan, files: list[SourceFile], is_excluded: Callable[[str, int], bool], force: bool,
) -> tuple[list[SourceFile], frozenset[str] | None, list[str]]:
    """Files and folders named on the command line that the config excludes: judged with a
    warning, or with `force` skipped with one (ruff's --force-exclude). Never silent: a gate
    that passes a file it did not judge is worse than none."""
    folders = [p.relative_to(scan.root).as_posix() for p in scan.targets if p != scan.root and p.is_dir() and not p.is_symlink()]
    hits = [rel for rel in [*folders, *sorted(scan.only or ())] if is_excluded(rel, 0)]
    only, warnings = scan.only, []
    if not hits:
        return files, only, warnings
    if force:
        warnings.extend(f"{rel}: excluded by the config; skipped (--force-exclude)" for rel in hits)
        files = [sf for sf in files if not any(sf.rel == rel or sf.rel.startswith(rel + "/") for rel in hits)]
        return files, (only - set(hits) if only is not None else None), warnings
    warnings.extend(f"{rel}: excluded by the config, judged because it was named (--force-exclude skips it)" for rel in hits)
    have = {sf.rel for sf in files}
    added = [SourceFile(rel, str(scan.root / rel), classify(rel) or "unknown") for rel in hits if rel in (only or ()) and rel not in have]
    return sorted([*files, *added]), only, warnings
