"""Where the CPU goes during a file conversion: CPU-ms per frame for every thread.

End-to-end conversion on a CPU shares the cores between the model workers and
the IO threads, so the end-to-end / model-only ratio is set by CPU time, not
wall time. This script converts `vidstyle bench`'s generated clip and samples
every thread's CPU time (Linux /proc/self/task/*/schedstat, nanoseconds) while
it runs, grouped by the Python thread that owns it: the model workers, the
decode and encode threads, the main thread (batching, writing to the encoder's
queue), and native threads no Python thread owns (libx264's and FFmpeg's own
worker threads). Model-only runs the same frames in memory (vidstyle.bench),
measured the same way, in the same run, alternating with the conversions.

    python benchmarks/thread_cpu.py --model lite --sizes 256x256 640x360 \
        --json benchmarks/results/thread_cpu.json
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
from pathlib import Path

from results_file import write_results
from vidstyle.bench import bench_model, make_clip, random_target
from vidstyle.pipeline import convert_video
from vidstyle.stylizer import load_stylizer, resolve_workers


def _thread_cpu_ns() -> dict[int, int]:
    """CPU nanoseconds each live thread of this process has used so far."""
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                out[int(tid)] = int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):  # the thread ended meanwhile
            pass
    return out


def _group(name: str) -> str:
    if name.startswith("vidstyle-model") or name == "MainThread+model":
        return "model workers"
    return {"vidstyle-decode": "decode thread", "vidstyle-encode": "encode thread",
            "MainThread": "main thread"}.get(name, "other Python threads")


class ThreadCpu:
    """Samples every thread's CPU time until stopped, so threads that end are counted too."""

    def __init__(self, interval: float = 0.02, main_runs_model: bool = False):
        self.interval = interval
        self.main_runs_model = main_runs_model
        self._start = _thread_cpu_ns()
        self._last: dict[int, int] = dict(self._start)
        self._names: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def _sample(self) -> None:
        for t in threading.enumerate():
            if t.native_id is not None:
                self._names[t.native_id] = t.name
        self._last.update(_thread_cpu_ns())

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> "ThreadCpu":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def by_group(self) -> dict[str, float]:
        """CPU seconds per thread group over the sampled span (the sampler itself left out)."""
        groups: dict[str, float] = {}
        for tid, ns in self._last.items():
            name = self._names.get(tid, "native")
            if name == "sampler":
                continue
            if name == "MainThread" and self.main_runs_model:
                name = "MainThread+model"
            group = "native threads (libx264, FFmpeg)" if name == "native" else _group(name)
            groups[group] = groups.get(group, 0.0) + (ns - self._start.get(tid, 0)) / 1e9
        return groups


def measure(stylizer, target, clip: Path, out: Path, width: int, height: int, frames: int,
            workers: int) -> dict:
    """One model-only and one conversion run: wall FPS and CPU-ms per frame by thread group."""
    with ThreadCpu(main_runs_model=workers == 1) as model_cpu:
        model = bench_model(stylizer, width, height, 1, steps=frames, warmup=1, target=target,
                            workers=workers)
    model_calls = model["steps"] + workers  # the timed steps and one warm-up per worker
    with ThreadCpu(main_runs_model=workers == 1) as e2e_cpu:
        report = convert_video(clip, out, stylizer, target, overwrite=True, workers=workers)
    per_frame = {g: s * 1000 / report.frames for g, s in e2e_cpu.by_group().items()}
    return {"model_fps": model["fps"], "e2e_fps": report.fps,
            "model_cpu_ms_per_frame": sum(model_cpu.by_group().values()) * 1000 / model_calls,
            "e2e_cpu_ms_per_frame": per_frame,
            "e2e_cpu_total_ms_per_frame": sum(per_frame.values()), "e2e_wall_s": report.wall_seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="lite")
    ap.add_argument("--sizes", nargs="+", default=["256x256", "640x360"])
    ap.add_argument("--seconds", type=float, default=4.0, help="about how long each conversion runs")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=None, help="default: what convert uses")
    ap.add_argument("--json")
    args = ap.parse_args()

    stylizer = load_stylizer(args.model, device="cpu")
    target = random_target(stylizer)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            w, h = (int(v) for v in size.split("x"))
            workers = resolve_workers(args.workers, stylizer)
            fps = bench_model(stylizer, w, h, 1, steps=4, target=target, workers=workers)["fps"]  # warm
            frames = max(30, round(fps * args.seconds))
            clip = make_clip(Path(tmp) / f"{size}.mp4", frames, w, h)
            runs = [measure(stylizer, target, clip, Path(tmp) / "out.mp4", w, h, frames, workers)
                    for _ in range(args.rounds)]
            groups = sorted({g for r in runs for g in r["e2e_cpu_ms_per_frame"]})
            row = {"size": size, "model": args.model, "workers": workers, "frames": frames,
                   "rounds": runs,
                   "model_fps": statistics.median(r["model_fps"] for r in runs),
                   "e2e_fps": statistics.median(r["e2e_fps"] for r in runs),
                   "ratio": statistics.median(r["e2e_fps"] / r["model_fps"] for r in runs),
                   "model_cpu_ms_per_frame": statistics.median(r["model_cpu_ms_per_frame"] for r in runs),
                   "e2e_cpu_ms_per_frame": {g: statistics.median(r["e2e_cpu_ms_per_frame"].get(g, 0.0)
                                                                 for r in runs) for g in groups}}
            rows.append(row)
            print(f"{size} {args.model}, {workers} workers, {frames} frames, medians of {args.rounds}: "
                  f"model-only {row['model_fps']:.1f} FPS "
                  f"({row['model_cpu_ms_per_frame']:.1f} CPU-ms/frame), "
                  f"end-to-end {row['e2e_fps']:.1f} FPS (ratio {row['ratio']:.2f})")
            for g, ms in row["e2e_cpu_ms_per_frame"].items():
                print(f"    {g:34s} {ms:6.2f} CPU-ms/frame")
    write_results(args.json, model=args.model, rows=rows, cores=os.cpu_count())


if __name__ == "__main__":
    main()
