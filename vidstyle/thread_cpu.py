"""CPU time per thread of this process while something runs (Linux), grouped by role.

On a CPU the model workers and the decode/encode threads share the cores, so how
close file conversion gets to model-only FPS is a matter of CPU time, which wall
timings of each stage do not show (libx264 and FFmpeg also work in threads of
their own). `ThreadCpu` samples every thread's CPU time from
/proc/self/task/*/schedstat (nanoseconds) while it is entered, so threads that end
meanwhile are counted too (up to one sampling interval of their last work is lost,
and a thread that lives less than one interval may be missed),
and names each by the Python thread that owns it. Threads no Python thread owns
are FFmpeg's decoder threads (FFmpeg names them "av:...") or other native threads:
libx264's, and torch's OpenMP threads wherever a model worker runs on several
threads (not with two workers on two cores).
"""
from __future__ import annotations

import os
import threading
import time

_TASKS = "/proc/self/task"
# Python thread names (see pipeline, sources, sinks, parallel) -> the role reported.
_ROLES = {"vidstyle-decode": "decode thread", "vidstyle-encode": "encode thread", "MainThread": "main thread"}
MODEL = "model workers"
MODEL_IN_MAIN = "main thread (model, batching)"  # one worker: the main thread runs the model too
FFMPEG = "FFmpeg decoder threads"
NATIVE = "native threads"  # libx264's; torch's OpenMP threads where a worker has several


def available() -> bool:
    return os.path.isdir(_TASKS)


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _cpu_ns() -> dict[int, int]:
    out = {}
    for tid in os.listdir(_TASKS):
        try:
            with open(f"{_TASKS}/{tid}/schedstat") as f:
                out[int(tid)] = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):  # the thread ended meanwhile
            pass
    return out


def _native_name(tid: int) -> str:
    try:
        with open(f"{_TASKS}/{tid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


class ThreadCpu:
    """Use as a context manager around the work; then `by_role()` gives CPU seconds per role.

    `model_in_main`: the main thread runs the model (one worker), so its time is
    reported as MODEL_IN_MAIN. `wall` is the seconds it was entered. Without /proc
    (not Linux) it measures nothing and `by_role()` is empty.
    """

    def __init__(self, interval: float = 0.05, model_in_main: bool = False):
        self.interval = interval
        self.model_in_main = model_in_main
        self._start: dict[int, int] = {}
        self._last: dict[int, int] = {}
        self._names: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vidstyle-cpu-sampler", daemon=True)
        self.wall = 0.0

    def _sample(self) -> None:
        for t in threading.enumerate():
            if t.native_id is not None:
                self._names[t.native_id] = t.name
        now = _cpu_ns()
        for tid in now.keys() - self._last.keys() - self._names.keys():
            if _native_name(tid).startswith("av:"):  # read once, while the thread lives
                self._names[tid] = FFMPEG
        self._last.update(now)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> "ThreadCpu":
        if available():
            self._start = _cpu_ns()
            self._last = dict(self._start)
            self._thread.start()
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join()
            self._sample()
        self.wall = time.perf_counter() - self._t0

    def _role(self, tid: int) -> str | None:
        name = self._names.get(tid)
        if name is None:
            return NATIVE
        if name == FFMPEG:
            return FFMPEG
        if name == self._thread.name:
            return None  # the sampler's own time is not the work's
        if name.startswith("vidstyle-model"):
            return MODEL
        if name == "MainThread" and self.model_in_main:
            return MODEL_IN_MAIN
        return _ROLES.get(name, "other threads")

    def by_role(self) -> dict[str, float]:
        """CPU seconds per role over the time entered, largest first."""
        roles: dict[str, float] = {}
        for tid, ns in self._last.items():
            role = self._role(tid)
            if role is not None:
                roles[role] = roles.get(role, 0.0) + (ns - self._start.get(tid, 0)) / 1e9
        return dict(sorted(roles.items(), key=lambda kv: -kv[1]))

    def ms_per_frame(self, frames: int) -> dict[str, float]:
        return {role: s * 1000 / frames for role, s in self.by_role().items()} if frames else {}
