"""The command line: thin. Parse options, call `lint()`, pick a reporter, return the exit code.

stdout carries only the report; messages go to stderr. Exit 0: nothing at or above
--fail-on; 1: findings at or above it; 2: usage, config or internal error.
"""
# No `from __future__ import annotations` here: typer reads the options from these signatures,
# and string annotations would make it evaluate each one on every run (~2.5 ms of a start).
import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

from . import __version__
from .hints import did_you_mean
from .process import own_process

app = typer.Typer(
    name="safeai-lint",
    help="Check repositories that deploy AI inference services against a strict SRE standard.",
    add_completion=True,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

FAIL_ON = ("error", "warning", "note", "never")
INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C
COLOR = ("auto", "always", "never")


class UsageProblem(Exception):
    """A bad option value: printed as one line, exit 2."""


class StdoutClosed(Exception):
    """The reader of the report went away (a broken pipe): an I/O error, exit 2."""


def _check_stdin_name(name: Optional[str]) -> None:
    """stdin is judged as the kind of file its name says; a name no rule reads would make the
    run pass without judging anything, so it is a usage error."""
    from .discover import classify

    kinds = "deployment.yaml, Dockerfile, requirements.txt, pyproject.toml or app.py"
    if not name:
        raise UsageProblem(f"reading stdin ('-') needs --stdin-filename NAME to say what the text is, e.g. {kinds}")
    if classify(name.replace(os.sep, "/")) is None:
        raise UsageProblem(f"--stdin-filename {name}: no rule reads a file of that name, so stdin would not be judged; name its kind, e.g. {kinds}")
_FORMAT_OF_SUFFIX = {".json": "json", ".sarif": "sarif", ".xml": "junit"}


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"safeai-lint {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Show a traceback on internal errors."),
) -> None:
    """safeai-lint: every breach of the AI-serving standard, at its exact line."""


def _color(stream, choice: str = "auto") -> bool:  # noqa: ANN001
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def _cache_dir() -> Path:
    """Where the cache of parsed files lives: outside any repository (see cache.py)."""
    explicit = os.environ.get("SAFEAI_LINT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "safeai-lint"


def _split(values: Optional[List[str]]) -> list[str]:
    return [t.strip() for v in values or () for t in v.split(",") if t.strip()]


@app.command()
def check(
    paths: List[str] = typer.Argument(None, help="Files or folders to scan (default: .). '-' reads stdin."),
    format: str = typer.Option("text", "--format", "-f", help="text (path:line:col, one line per finding), grouped (by file), json, sarif, github, junit or gitlab."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write the report to FILE instead of stdout (whole or not at all)."),
    config: Optional[str] = typer.Option(None, "--config", help="One config file for every scanned file (default: the closest .safeai-lint.yaml or [tool.safeai-lint] above each file)."),
    select: Optional[List[str]] = typer.Option(None, "--select", help="Only these rules (ids, prefixes like SAI1, names; comma-separated)."),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore", help="Skip these rules (comma-separated)."),
    fail_on: Optional[str] = typer.Option(None, "--fail-on", help="Lowest level that fails the run: error, warning, note or never (default: warning)."),
    jobs: int = typer.Option(0, "--jobs", "-j", help="Worker processes (default: the number of cores)."),
    stdin_filename: Optional[str] = typer.Option(None, "--stdin-filename", help="The name of the file read from stdin with '-' (decides how it is parsed; required with '-')."),
    force_exclude: bool = typer.Option(False, "--force-exclude", help="Skip named files and folders that the config excludes (the pre-commit hook uses it); without it they are judged, with a warning."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print the findings only, no summary."),
    statistics: bool = typer.Option(False, "--statistics", help="Print a count per rule instead of each finding."),
    no_progress: bool = typer.Option(False, "--no-progress", help="Never show a progress indicator."),
    baseline: Optional[str] = typer.Option(None, "--baseline", help="Report only findings not recorded in this baseline file."),
    write_baseline: Optional[str] = typer.Option(None, "--write-baseline", help="Record every current finding in FILE (then exit 0)."),
    diff_base: Optional[str] = typer.Option(None, "--diff-base", help="Report only what the change since git REF introduces: findings on changed lines, and other findings that REF's tree does not have."),
    fix: bool = typer.Option(False, "--fix", help="Apply safe fixes (pins to the lock table, VRAM and token caps), then report what remains."),
    diff: bool = typer.Option(False, "--diff", help="With --fix: print the fixes as a unified diff, write nothing."),
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when findings are reported (2 still means an error)."),
    mark_fixable: bool = typer.Option(False, "--mark-fixable", help="In SARIF, mark the results --fix would fix (properties.fixable); reads the files concerned. Text always marks them [*]."),
    color: str = typer.Option("auto", "--color", help="Colour the text formats: auto (a terminal without NO_COLOR), always or never."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Parse every file again; do not read or write the cache of unchanged files ($SAFEAI_LINT_CACHE_DIR, default ~/.cache/safeai-lint)."),
) -> None:
    """Scan PATHS and report every breach of the standard."""
    from .report import FORMATS

    format, color = format.strip().lower(), color.strip().lower()
    if format not in FORMATS:
        hint = did_you_mean(format, list(FORMATS))
        raise UsageProblem(f"unknown format {format!r}{hint}; valid formats: {', '.join(FORMATS)}")
    if color not in COLOR:
        raise UsageProblem(f"unknown --color {color!r}; valid: {', '.join(COLOR)}")
    if jobs < 0:
        raise UsageProblem(f"--jobs must be 0 (one per core) or more, not {jobs}")
    if output is not None and format in ("text", "grouped") and Path(output).suffix.lower() in _FORMAT_OF_SUFFIX:
        sys.stderr.write(f"safeai-lint: warning: {format} format to {output}; did you mean --format {_FORMAT_OF_SUFFIX[Path(output).suffix.lower()]}?\n")
    if fail_on is not None and fail_on not in FAIL_ON:
        raise UsageProblem(f"unknown --fail-on level {fail_on!r}; valid: {', '.join(FAIL_ON)}")
    selected, ignored = _split(select), _split(ignore)
    from .catalog import unknown_selector

    if unknown_selector(selected + ignored):
        raise UsageProblem(unknown_selector(selected + ignored))
    targets = list(paths or ["."])
    for target in targets:
        if target != "-" and not os.path.lexists(target):
            raise UsageProblem(f"path does not exist: {target}")
    if "-" in targets:
        _check_stdin_name(stdin_filename)
        if diff_base:
            raise UsageProblem("--diff-base compares with a git ref; stdin ('-') has no history to compare")
    elif stdin_filename:
        raise UsageProblem("--stdin-filename names the text read from stdin: add '-' to the paths (cat deploy.yaml | safeai-lint check - --stdin-filename deploy.yaml)")
    from .atomic import check_writable

    for option, where in (("--output", output), ("--write-baseline", write_baseline)):
        problem = check_writable(where) if where is not None else None
        if problem:
            raise UsageProblem(f"{option} {where}: {problem}")
    stdin_data = sys.stdin.buffer.read() if "-" in targets else None

    if diff and not fix:
        raise UsageProblem("--diff goes with --fix (preview the fixes without writing them)")
    from .engine import lint, plan, resolve_config

    planned = plan(targets)
    cfg = resolve_config(planned.root, config)

    def scan():  # noqa: ANN202 - engine.Result
        from .progress import Progress

        reporter = Progress() if not no_progress and not quiet and _color(sys.stderr) else None
        try:
            return lint(
                targets,
                cfg,
                select=selected,
                ignore=ignored,
                stdin=stdin_data,
                stdin_filename=stdin_filename or "stdin",
                jobs=jobs if jobs > 0 else (os.cpu_count() or 1),
                progress=reporter,
                cache_dir=None if no_cache else _cache_dir(),
                force_exclude=force_exclude,
                nested=config is None,
                planned=planned,
            )
        finally:
            if reporter:
                reporter.close()  # also on Ctrl-C: the bar cleared, the cursor shown again

    result = scan()
    for warning in result.warnings:
        sys.stderr.write(f"safeai-lint: warning: {warning}\n")
    if fix:
        from .fixable import apply_fixes, fixed_count

        before = result
        changed = apply_fixes(result.findings, result.root, cfg.policy, preview=diff)
        if diff:
            raise typer.Exit(1 if changed else 0)
        if changed:
            result = scan()
            sys.stderr.write(f"safeai-lint: fixed {fixed_count(before.findings, result.findings, changed)} finding(s) in {len(changed)} file(s)\n")
    if write_baseline is not None:
        from .baseline import write_baseline as write

        try:
            count = write(result.findings, write_baseline)
        except OSError as exc:
            raise UsageProblem(f"--write-baseline {write_baseline}: cannot be written ({exc.strerror or exc})")
        sys.stderr.write(f"safeai-lint: recorded {count} finding(s) in {write_baseline}\n")
        raise typer.Exit(0)

    def scan_ref(ref_paths: list[str], tree: Path):  # noqa: ANN202 - REF's findings for --diff-base
        return lint(
            ref_paths, cfg if config else None, select=selected, ignore=ignored, cwd=tree, root=tree,
            jobs=jobs if jobs > 0 else (os.cpu_count() or 1), force_exclude=force_exclude, nested=config is None,
        ).findings

    result = _narrow(result, baseline, diff_base, lambda: ([t for t in targets if t != "-"], scan_ref))
    stream = sys.stdout
    human = format in ("text", "grouped")
    painted = output is None and human and _color(stream, color)
    from .fixable import fixable_findings, reader
    from .report import render

    wanted = human or (format == "sarif" and mark_fixable)
    fixable = fixable_findings(result.findings, reader(result.root), cfg.policy) if wanted else frozenset()

    text = render(format, result, color=painted, quiet=quiet, statistics=statistics, fixable=fixable)
    if output is not None:
        from .atomic import write_text_atomic

        try:
            write_text_atomic(output, text)
        except OSError as exc:
            raise UsageProblem(f"--output {output}: cannot be written ({exc.strerror or exc})")
    else:
        try:
            stream.write(text)
            stream.flush()
        except BrokenPipeError:
            raise StdoutClosed() from None  # typer would turn EPIPE into exit 1
    gate = fail_on or _config_fail_on(result)
    raise typer.Exit(0 if exit_zero else _exit_code(result, gate))


def _narrow(result, baseline: Optional[str], diff_base: Optional[str], ref_scan) -> object:  # noqa: ANN001
    """Drop findings recorded in the baseline, then those the change since REF did not
    introduce (`ref_scan()`: the paths and how to scan them in REF's tree)."""
    import dataclasses

    findings = list(result.findings)
    if baseline is not None:
        from .baseline import BaselineError, apply_baseline, load_baseline

        try:
            findings, fixed = apply_baseline(findings, load_baseline(baseline))
        except BaselineError as exc:
            raise UsageProblem(str(exc))
        if fixed:
            sys.stderr.write(f"safeai-lint: {fixed} baselined finding(s) are fixed; rewrite the baseline to drop them\n")
    if diff_base:
        from .diffbase import changed_lines, introduced, ref_identities

        changed = changed_lines(result.root, diff_base)
        before = ref_identities(result.root, diff_base, *ref_scan()) if changed is not None else None
        if changed is None or before is None:
            raise UsageProblem(
                f"cannot diff against {diff_base!r}: not a git repository or unknown ref "
                "(in a shallow CI clone, fetch the base: actions/checkout with fetch-depth: 0)"
            )
        findings = introduced(findings, changed, before)
    return dataclasses.replace(result, findings=tuple(findings))


def _config_fail_on(result) -> str:  # noqa: ANN001
    return result.fail_on


def _exit_code(result, gate: str) -> int:  # noqa: ANN001
    from .findings import LEVEL_RANK

    if gate == "never":
        return 0
    threshold = LEVEL_RANK[gate]
    return 1 if any(LEVEL_RANK.get(f.level, 0) >= threshold for f in result.findings) else 0


@app.command("rules")
def rules_command(
    format: str = typer.Option("text", "--format", "-f", help="text or json."),
) -> None:
    """List every rule: id, name, level, summary."""
    from .catalog import all_rules

    rules = all_rules()
    if format == "json":
        import json

        payload = [
            {"id": r.id, "name": r.name, "level": r.level, "summary": r.summary, "fix": bool(r.fix), "tags": list(r.tags)}
            for r in rules.values()
        ]
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    if format != "text":
        raise UsageProblem(f"unknown format {format!r}; valid formats: text, json")
    width = max(len(r.name) for r in rules.values())
    for r in rules.values():
        sys.stdout.write(f"{r.id}  {r.name:<{width}}  {r.level:<7}  {r.summary}\n")


@app.command("rule")
def rule_command(rule_id: str = typer.Argument(..., help="A rule id (SAI307) or name (gpu-memory-fraction-too-high).")) -> None:
    """Show a rule's documentation: what it does, why, examples, how to fix."""
    from .catalog import all_rules
    from .ruledoc import render_rule

    rules = all_rules()
    wanted = rule_id.strip()
    doc = rules.get(wanted.upper()) or next((r for r in rules.values() if r.name == wanted), None)
    if doc is None:
        from .catalog import rule_names

        hint = did_you_mean(wanted, rule_names())
        raise UsageProblem(f"unknown rule {rule_id!r}{hint}; valid rule ids: {', '.join(rules)}")
    text = render_rule(doc)
    if _color(sys.stdout):
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        sys.stdout.write(text + "\n")


@app.command("policy")
def policy_command(
    config: Optional[str] = typer.Option(None, "--config", help="Config file to apply over the default policy."),
    path: str = typer.Argument(".", help="A file or folder: the policy of the config that judges it (the closest one above it)."),
) -> None:
    """Print the effective policy (the defaults with your config applied), as YAML."""
    from .engine import plan, resolve_config

    scan = plan([path])
    cfg = resolve_config(scan.root, config)
    if not config:  # the config that judges PATH: the closest one above it
        from .configfiles import ConfigTree

        target = Path(os.path.abspath(path)).resolve()
        folder = target if target.is_dir() else target.parent
        rel = folder.relative_to(scan.root).as_posix() if scan.root in folder.parents else ""
        tree = ConfigTree(scan.root, cfg)
        cfg = tree.config(tree.folder_scope(rel))
    import yaml

    header = f"# effective policy ({'defaults + ' + cfg.source if cfg.source else 'defaults'})\n"
    from .sources.yaml import plain

    sys.stdout.write(header + yaml.safe_dump(plain(dict(cfg.policy)), sort_keys=False, default_flow_style=None, width=100))


@app.command("inventory")
def inventory_command(
    paths: Optional[List[str]] = typer.Argument(None, help="Files or folders (default: the current folder)."),
    format: str = typer.Option("text", "--format", "-f", help="text or json."),
    config: Optional[str] = typer.Option(None, "--config", help="Config file (default: found as `check` finds it)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Parse every file again; do not read or write the cache of unchanged files."),
) -> None:
    """The deployment as safeai-lint understands it: workloads, roles with evidence,
    accelerators, runtimes, serving launches and their flags, Services, routes, scrape configs."""
    import json

    from .inventory import build, collect, render_text

    fmt = format.lower()
    if fmt not in ("text", "json"):
        raise UsageProblem(f"unknown format {format!r}; choose text or json")
    for p in paths or ():
        if not os.path.exists(p):
            raise UsageProblem(f"no such file or folder: {p}")
    project, cfg, _ = collect(paths or ["."], config, cache_dir=None if no_cache else _cache_dir())
    inv = build(project, cfg.policy)
    if fmt == "json":
        from . import __version__ as version

        inv = {"schema_version": inv.pop("schema_version"), "tool": {"name": "safeai-lint", "version": version}, **inv}
        sys.stdout.write(json.dumps(inv, indent=2) + "\n")
    else:
        sys.stdout.write(render_text(inv))


@app.command("init")
def init_command(
    path: Path = typer.Argument(Path(".safeai-lint.yaml"), help="Where to write the starter config."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
    scan: bool = typer.Option(True, "--scan/--no-scan", help="Read the repository first: report what it uses against the standard and write it into the config as commented alternatives."),
    jobs: int = typer.Option(0, "--jobs", "-j", help="Worker processes for the scan (default: the number of cores)."),
) -> None:
    """Write a starter .safeai-lint.yaml: the lock table and the main thresholds, and (unless
    --no-scan) what the repository around it uses against them, commented out for you to decide."""
    from .init import starter_config
    from .policy import default_policy

    if path.exists() and not force:
        raise UsageProblem(f"{path} already exists (use --force to overwrite)")
    if not path.parent.is_dir():
        raise UsageProblem(f"folder does not exist: {path.parent}")
    if jobs < 0:
        raise UsageProblem(f"--jobs must be 0 (one per core) or more, not {jobs}")
    from .survey import survey

    found = survey(path.parent, jobs=jobs or (os.cpu_count() or 1), cache_dir=_cache_dir()) if scan else None
    path.write_text(starter_config(default_policy(), found), encoding="utf-8")
    if found is not None:
        from .init_survey import baseline_hint, report

        sys.stderr.write(report(found) + f"safeai-lint: wrote {path}\n" + baseline_hint(found, str(path)))
    else:
        sys.stderr.write(f"safeai-lint: wrote {path}\n")


@app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of the config file (for editors and validators)."""
    import json

    from .init import config_schema

    sys.stdout.write(json.dumps(config_schema(), indent=2) + "\n")


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point: run the app, turning every error into a message and exit code 2."""
    from .errors import ConfigError

    own_process()
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]  # accepted anywhere on the line
    try:
        code = app(args=args, prog_name="safeai-lint", standalone_mode=False)
        if code == INTERRUPTED:  # typer turns Ctrl-C into Exit(130), click returns its code
            return _interrupted()
        return code if isinstance(code, int) else 0
    except (typer.Exit, typer.Abort) as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):  # typer and click wrap Ctrl-C
            return _interrupted()
        if isinstance(exc, typer.Exit):
            return exc.exit_code
        sys.stderr.write("safeai-lint: aborted\n")
        return 2
    except (UsageProblem, ConfigError) as exc:
        sys.stderr.write("".join(f"safeai-lint: error: {line}\n" for line in str(exc).splitlines() or [""]))
        return 2
    except KeyboardInterrupt:
        return _interrupted()
    except (BrokenPipeError, StdoutClosed):  # the reader of stdout went away: an I/O error
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - nothing more may reach the closed pipe at exit
        except OSError:
            pass
        return 2
    except Exception as exc:  # noqa: BLE001 - our own bug: one line, not a traceback
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # a click usage error
            exc.show()
            return 2
        if debug:
            import traceback

            traceback.print_exc()
            return 2
        sys.stderr.write(f"safeai-lint: internal error: {type(exc).__name__}: {exc} (run with --debug for a traceback)\n")
        return 2
    return 0


def _interrupted() -> int:
    sys.stderr.write("safeai-lint: interrupted\n")
    return INTERRUPTED
