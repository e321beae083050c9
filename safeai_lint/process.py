"""Settings for the processes safeai-lint owns (the CLI and its scan workers), never applied
when `lint()` runs inside someone else's program.

- Fewer garbage collections. A scan builds hundreds of thousands of small, acyclic,
  long-lived objects (facts, locations, AST nodes); with the default thresholds the collector
  runs every 700 allocations and keeps re-walking everything alive: measured on the benchmark
  corpus, 12-30 % of a scan served from the cache. Collecting rarely keeps the same safety
  net (cycles are still freed) at a fraction of the cost.
- A time cap per file. The parsers are bounded by size, depth and alias caps; this is the
  last line: a file whose analysis runs longer than `file_seconds()` is reported as not
  analysed (SAI002) and the scan goes on. It uses SIGALRM, so it applies on POSIX, in the
  main thread of a process that called `own_process()`.
"""
from __future__ import annotations

import contextlib
import gc
import os
import signal
import threading
from typing import Iterator

YOUNG_THRESHOLD = 50_000  # allocations between young collections (CPython's default: 700)
FILE_SECONDS = 20.0  # default per-file time cap; $SAFEAI_LINT_FILE_SECONDS changes it

_owned = False


class FileTimeout(BaseException):
    """The per-file time cap ran out (a BaseException: no `except Exception` may swallow it)."""


def own_process() -> None:
    """Called first thing by the CLI and by each worker it starts."""
    global _owned
    _owned = True
    gc.freeze()  # what is alive now (imported modules) is never collected: stop scanning it
    gc.set_threshold(YOUNG_THRESHOLD, 20, 100)


def file_seconds() -> float:
    try:
        value = float(os.environ.get("SAFEAI_LINT_FILE_SECONDS", FILE_SECONDS))
    except ValueError:
        return FILE_SECONDS
    return value if value > 0 else FILE_SECONDS


def _expired(signum: int, frame: object) -> None:
    raise FileTimeout()


@contextlib.contextmanager
def file_deadline() -> Iterator[None]:
    """Raise FileTimeout in the block once `file_seconds()` have passed (when it can)."""
    if not _owned or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, file_seconds())
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
