"""Garbage-collector settings for a scan process (the CLI and its workers).

A scan builds hundreds of thousands of small, acyclic, long-lived objects (facts, locations,
AST nodes). With the default thresholds the collector runs every 700 allocations and keeps
re-walking everything alive: measured on the benchmark corpus, 20-30 % of a scan served
from the cache. Collecting rarely instead keeps the same safety net (cycles are still freed)
at a fraction of the cost. Only the processes we own call this; `lint()` as a library leaves
its host's settings alone.
"""
from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000  # allocations between young collections (CPython's default: 700)


def few_collections() -> None:
    gc.freeze()  # what is alive now (imported modules) is never collected: stop scanning it
    gc.set_threshold(YOUNG_THRESHOLD, 20, 100)
