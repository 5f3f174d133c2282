"""Choosing the torch thread count of each thread that runs frames, by timing them.

One frame on all cores waits at the end of every operator for its slowest
thread. When another program holds a core (OBS beside a webcam stream, a
training run, a browser), that thread loses whole time slices and every
operator waits for it: on our 2-core CPU with one core kept busy, the tiny model
at 256x256 ran 6.6 FPS on two threads and 13.1 on one, while on an idle machine
two threads ran 27.0 and one 16.6 (benchmarks/busy_core.py). No fixed count is right
for both, so the tuner times calls at each candidate count and keeps the
fastest. It checks again when the current count slows down (load arrived) and
every few seconds (load may have gone), less often while the answer stays the same.
"""
from __future__ import annotations

import statistics
import threading
import time
from typing import Callable, TypeVar

import torch

R = TypeVar("R")
# The thread counts each thread has run at (the first call at a count starts its pool);
# thread-local, so a new thread that reuses an old one's id starts cold.
_WARM = threading.local()


def _warm_counts() -> set[int]:
    if not hasattr(_WARM, "counts"):
        _WARM.counts = set()
    return _WARM.counts


def candidate_counts(threads: int) -> list[int]:
    """All threads, one fewer (another program holds a core) and half (it holds several)."""
    return sorted({threads, max(1, threads - 1), max(1, threads // 2)}, reverse=True)


class ThreadTuner:
    """Runs calls in the calling thread at the thread count that has been fastest lately.

    A probe times `samples` calls at each candidate count, the current one last
    so that all are compared under the same load, and keeps the count with the
    lowest median. The first call a thread makes at a count is not timed (it
    starts that count's thread pool). Probes run at the start, after
    `recheck_s` seconds (that wait doubles, up to `max_recheck_s`, each time a
    probe keeps the same count: on an idle 2-core machine each probe costs about
    a frame's time) and, no sooner than `min_gap_s` after the last one, as soon
    as the current count's median rises `slowdown` times above its value then.
    Calls are assumed to be the same work (one frame size), as in one video or
    one camera stream; where the work shrinks (the webcam's --fps lowering the
    working size), a slowdown is noticed only at the next periodic probe.
    """

    def __init__(self, threads: int | None = None, recheck_s: float = 4.0, max_recheck_s: float = 32.0,
                 slowdown: float = 1.3, min_gap_s: float = 1.0, samples: int = 2,
                 clock: Callable[[], float] = time.perf_counter,
                 set_threads: Callable[[int], None] = torch.set_num_threads,
                 warm: set[int] | None = None):
        self.candidates = candidate_counts(threads or torch.get_num_threads())
        self.current = self.candidates[0]
        self.samples, self.slowdown, self.min_gap_s = samples, slowdown, min_gap_s
        self._warm = warm  # None: this thread's own record
        self.min_recheck_s, self.max_recheck_s = recheck_s, max_recheck_s
        self._recheck_s = recheck_s
        self._clock, self._set_threads = clock, set_threads
        self._applied: int | None = None
        self._times: dict[int, list[float]] = {}
        self._plan: list[int] = []  # the thread counts of the current probe's remaining calls
        self._baseline = float("inf")
        self._next_probe = self._last_probe = 0.0
        self.probes = 0

    @property
    def enabled(self) -> bool:
        return len(self.candidates) > 1

    @property
    def settled(self) -> bool:
        """Whether the first probe has chosen a count (benchmarks warm up until it has)."""
        return not self.enabled or (self.probes > 0 and not self._plan)

    def reapply(self) -> None:
        """Set the chosen count again at the next call (someone else changed it meanwhile)."""
        self._applied = None

    def call(self, fn: Callable[..., R], *args) -> R:
        """fn(*args) at the chosen thread count, timed."""
        if not self.enabled:
            return fn(*args)
        if not self._plan and self._probe_due():
            order = [c for c in self.candidates if c != self.current] + [self.current]
            self._plan = [c for c in order for _ in range(self.samples)]
            self._times = {}
            self.probes += 1
        probing = bool(self._plan)  # a probe is under way while its plan has calls left
        threads = self._plan.pop(0) if probing else self.current
        if threads != self._applied:
            self._set_threads(threads)
            self._applied = threads
        start = self._clock()
        result = fn(*args)
        warm = _warm_counts() if self._warm is None else self._warm
        if threads in warm:
            recent = self._times.setdefault(threads, [])
            recent.append(self._clock() - start)
            del recent[:-self.samples]
        else:  # this call paid for the thread pool: measure another one instead
            warm.add(threads)
            if probing:
                self._plan.insert(0, threads)
        if probing and not self._plan:
            self._choose()
        return result

    def _probe_due(self) -> bool:
        now = self._clock()
        if now >= self._next_probe:
            return True
        if now < self._last_probe + self.min_gap_s:
            return False
        recent = self._times.get(self.current, [])
        return len(recent) == self.samples and statistics.median(recent) > self.slowdown * self._baseline

    def _choose(self) -> None:
        medians = {c: statistics.median(t) for c, t in self._times.items()}
        best = min(medians, key=medians.get)
        same = best == self.current
        self._recheck_s = min(2 * self._recheck_s, self.max_recheck_s) if same else self.min_recheck_s
        self.current, self._baseline = best, medians[best]
        self._last_probe = self._clock()
        self._next_probe = self._last_probe + self._recheck_s
