"""Median milliseconds of a few ways to do one thing, called in turn so that a machine's
drift hits them all alike (the op-level scripts: upsample_blocks.py, max_pool.py)."""
from __future__ import annotations

import statistics
import time
from typing import Callable


def alternating_ms(ways: dict[str, Callable[[], object]], calls: int) -> dict[str, float]:
    """Each way's median time over `calls` calls, after one warm-up call each."""
    for fn in ways.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(calls):
        for name, fn in ways.items():
            t0 = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t0) * 1e3)
    return {name: statistics.median(t) for name, t in times.items()}
