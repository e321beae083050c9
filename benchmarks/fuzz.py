"""A long fuzzing campaign: the generators of tests/test_properties.py, run for N minutes.

    python benchmarks/fuzz.py --minutes 10 [--seed 1] [--crashes DIR (default: $TMPDIR/safeai-lint-crashes)] [--scan-every 20]

Each input is either random bytes, a stream of format tokens, or a valid rule example mutated
(cut, duplicated, spliced, sprinkled with junk). It goes to every extractor registered for
its file kind (an exception is a crash; so is a location outside the file), and every
`--scan-every`-th input is also written to a temporary tree and scanned by `lint()` as a whole.
An input taking more than `--timeout` seconds counts as a hang. Crashing inputs are saved to
the crashes folder with the traceback next to them. Prints inputs tried and crashes found;
exit 1 when any crash was found.
"""
from __future__ import annotations

import argparse
import random
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import test_properties as props  # noqa: E402  (the same generators the test suite uses)


class Hang(Exception):
    pass


def _alarm(signum, frame):  # noqa: ANN001
    raise Hang("input took longer than the timeout")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--crashes", type=Path, default=Path(tempfile.gettempdir()) / "safeai-lint-crashes")
    parser.add_argument("--scan-every", type=int, default=20, help="scan every N-th input with lint() as a whole")
    parser.add_argument("--timeout", type=int, default=20, help="seconds before an input counts as a hang")
    args = parser.parse_args(argv)

    deadline = time.monotonic() + args.minutes * 60
    rng = random.Random(args.seed)
    kinds = props.KINDS
    tried = crashes = 0
    seen: set[str] = set()
    signal.signal(signal.SIGALRM, _alarm)

    # Hypothesis draws the inputs (same strategies as the tests, randomised here); each call
    # of `campaign` runs one batch, so the loop can stop on time.
    def record(kind: str, text: str, what: str) -> None:
        nonlocal crashes
        key = what.strip().splitlines()[-1][:200]
        if key in seen:  # one example per distinct failure
            return
        seen.add(key)
        crashes += 1
        args.crashes.mkdir(parents=True, exist_ok=True)
        stem = args.crashes / f"crash-{crashes:03d}-{kind}"
        stem.with_suffix(".input").write_bytes(text.encode("utf-8", "surrogatepass"))
        stem.with_suffix(".txt").write_text(f"kind: {kind}\n\n{what}", encoding="utf-8")
        print(f"CRASH {crashes}: {kind}: {key} -> {stem}.input", flush=True)

    def one(kind: str, text: str, scan: bool) -> None:
        nonlocal tried
        tried += 1
        signal.alarm(args.timeout)
        try:
            props.run_extractors(kind, text)
            if scan:
                props._check_scan({f"d/{props._NAMES[kind]}": text.encode("utf-8", "surrogatepass")})
        except Exception:  # noqa: BLE001 - every failure is a finding of the campaign
            record(kind, text, traceback.format_exc())
        finally:
            signal.alarm(0)

    strategy = st.sampled_from(kinds).flatmap(lambda k: st.tuples(st.just(k), props.any_text(k)))
    batch = 0
    while time.monotonic() < deadline:
        batch += 1

        @settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck),
                  derandomize=False)
        @given(strategy)
        def campaign(case: tuple[str, str]) -> None:
            if time.monotonic() >= deadline:
                return
            kind, text = case
            one(kind, text, rng.randrange(args.scan_every) == 0)

        campaign()
        if batch % 10 == 0:
            print(f"... {tried:,} inputs, {crashes} crashes", flush=True)

    print(f"inputs tried: {tried:,}")
    print(f"crashes found: {crashes}")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
