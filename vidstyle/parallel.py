"""Several frames through the model at once, each on its share of the CPU cores.

On a CPU, one frame on all cores loses time at every operator's barrier (the
threads wait for the slowest), and a decode or encode thread taking a core
stalls all of them. Two frames at a time, one per half of the cores, avoids
both (the idea of OpenVINO's "throughput streams"); benchmarks/frame_workers.py
measures it. With `tune_threads`, each frame's thread count is also chosen by
timing (vidstyle.thread_tuner): a core taken by another program otherwise stalls
every operator of a frame that counts on it.
"""
from __future__ import annotations

import collections
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, TypeVar

import torch

from .thread_tuner import ThreadTuner

T = TypeVar("T")
R = TypeVar("R")


class FrameWorkers:
    """`workers` threads, each running torch on its share of the caller's threads.

    Each worker sets its own torch thread count (OpenMP's is per thread), so the
    caller's is left as it was. With one worker, work runs in the calling thread.
    Use as a context manager; the threads stay warm across `map` calls.
    With `tune_threads`, every thread that runs work times it at a few thread
    counts up to its share and keeps the fastest (ThreadTuner, one per thread for
    the pool's life); the caller's count is restored when `map` ends.
    """

    def __init__(self, workers: int = 1, tune_threads: bool = False):
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self.tune_threads = tune_threads
        self.threads_each = max(1, torch.get_num_threads() // workers)
        self._tuners: list[ThreadTuner] = []  # one per thread that ran work, kept across `map` calls
        self._local = threading.local()
        self._pool = None
        if workers > 1:
            self._pool = ThreadPoolExecutor(workers, thread_name_prefix="vidstyle-model",
                                            initializer=torch.set_num_threads,
                                            initargs=(self.threads_each,))

    def map(self, fn: Callable[[T], R], items: Iterable[T], ahead: int = 1) -> Iterator[R]:
        """fn(item) for every item, yielded in input order.

        `items` is consumed in the calling thread, in order, so it may keep state.
        At most workers + `ahead` items are in flight, which bounds memory: one
        ahead keeps every worker busy; none takes the next item only once a
        worker is free (a live camera's frame is then as fresh as it can be).
        """
        if self._pool is None:
            callers_threads = torch.get_num_threads()
            run = self._tuned(fn, callers_threads)
            for tuner in self._tuners:  # the caller's count was restored after the last map
                tuner.reapply()
            try:
                for item in items:
                    yield run(item)
            finally:
                torch.set_num_threads(callers_threads)
            return
        fn = self._tuned(fn, self.threads_each)
        pending: collections.deque = collections.deque()
        try:
            for item in items:
                pending.append(self._pool.submit(fn, item))
                if len(pending) >= self.workers + ahead:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:  # an error or an early stop: drop what has not started
                future.cancel()

    def _tuned(self, fn: Callable[[T], R], threads: int) -> Callable[[T], R]:
        """fn run through its thread's ThreadTuner, or fn itself."""
        if not self.tune_threads or threads < 2:
            return fn

        def run(item: T) -> R:
            tuner = getattr(self._local, "tuner", None)
            if tuner is None:
                tuner = self._local.tuner = ThreadTuner(threads)
                self._tuners.append(tuner)
            return tuner.call(fn, item)
        return run

    @property
    def threads_settled(self) -> bool:
        """Whether every thread that has run work has chosen its thread count."""
        return all(t.settled for t in self._tuners)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "FrameWorkers":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
