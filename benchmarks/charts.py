"""What rendering costs: the synthetic corpus plus Helm charts and Kustomize overlays.

    python benchmarks/charts.py [--services 200] [--charts 20] [--overlays 10] [--runs 3]

Writes the corpus of `make_corpus.py`, then `--charts` copies of the example chart
(examples/genai-assistant-v2-chart) and `--overlays` copies of the test overlays (one base, two
overlays each), and times `safeai-lint check .` cold (`--no-cache`), with the cache filled by an
untimed run (nothing changed), and with one chart's values.yaml edited before each run (one
chart rendered again). Prints the medians of wall time and the number of findings.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from make_corpus import write_corpus  # noqa: E402  (a sibling script, not a package)

CHART = ROOT / "examples" / "genai-assistant-v2-chart"
OVERLAYS = ROOT / "tests" / "fixtures" / "render" / "overlays"


def build(folder: Path, services: int, charts: int, overlays: int) -> None:
    write_corpus(services, folder)
    for i in range(charts):
        shutil.copytree(CHART, folder / "charts" / f"chart-{i}")
    for i in range(overlays):
        shutil.copytree(OVERLAYS, folder / "deploy" / f"app-{i}")


def timed(folder: Path, cache: Path, *extra: str) -> float:
    env = {"SAFEAI_LINT_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin"}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "safeai_lint", "check", ".", "--no-progress", "--fail-on", "never", "-q", *extra],
                   cwd=folder, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--charts", type=int, default=20)
    parser.add_argument("--overlays", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="safeai-lint-charts-") as work:
        folder, cache = Path(work, "corpus"), Path(work, "cache")
        build(folder, args.services, 0, 0)
        plain = [timed(folder, cache, "--no-cache") for _ in range(args.runs)]
        shutil.rmtree(folder)
        build(folder, args.services, args.charts, args.overlays)
        cold = [timed(folder, cache, "--no-cache") for _ in range(args.runs)]
        timed(folder, cache)  # fills the cache
        warm = [timed(folder, cache) for _ in range(args.runs)]
        values = folder / "charts" / "chart-0" / "values.yaml"
        edited = []
        for run in range(args.runs):
            values.write_text(values.read_text(encoding="utf-8") + f"# edit {run}\n", encoding="utf-8")
            edited.append(timed(folder, cache))
    print(f"{args.services} services, {args.charts} charts, {args.overlays} x 2 overlays; median wall of {args.runs} runs")
    for name, runs in (("cold, no charts, no overlays", plain), ("cold, all", cold), ("cache warm", warm), ("one values.yaml edited", edited)):
        print(f"  {name:30} {statistics.median(runs):6.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
