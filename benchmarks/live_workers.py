"""The live loop with one and two workers: FPS and grab-to-display latency.

A synthetic 30 FPS camera (a thread like OpenCV's, newest frame only) feeds
`vidstyle.live.run_live` with the lite model on this machine's CPU; the display
does nothing. Workers 1 and 2 alternate within each round; medians over rounds.

    python benchmarks/live_workers.py --json benchmarks/results/live_workers.json
"""
from __future__ import annotations

import argparse
import statistics
import time

from results_file import write_results
from vidstyle.bench import random_target, synthetic_frames
from vidstyle.live import run_live
from vidstyle.sources import CameraSource
from vidstyle.stylizer import load_stylizer


class SyntheticCamera:
    """OpenCV-like capture: `rate` frames per second of generated BGR images."""

    def __init__(self, width: int, height: int, rate: float = 30.0):
        self.frames = synthetic_frames(8, width, height)
        self.period, self.count, self.next_at = 1.0 / rate, 0, time.perf_counter()

    def read(self):
        self.next_at += self.period
        time.sleep(max(0.0, self.next_at - time.perf_counter()))
        self.count += 1
        return True, self.frames[self.count % 8]

    def release(self):
        pass


class NoDisplay:
    def show(self, rgb, overlay) -> int:
        return -1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["640x360", "256x256"])
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json")
    args = ap.parse_args()

    stylizer = load_stylizer("lite", device="cpu")
    target = random_target(stylizer)
    rows = []
    for size in args.sizes:
        w, h = (int(v) for v in size.split("x"))
        runs: dict = {}
        for _ in range(args.rounds):
            for workers in (1, 2):
                with CameraSource(SyntheticCamera(w, h)) as camera:
                    stats = run_live(camera, stylizer, lambda frames: target, NoDisplay(),
                                     max_frames=args.frames, workers=workers)
                runs.setdefault(workers, []).append((stats.fps, stats.latency_ms(50), stats.latency_ms(95)))
        for workers, values in runs.items():
            fps, p50, p95 = (statistics.median(v[i] for v in values) for i in range(3))
            rows.append({"size": size, "workers": workers, "fps": fps, "latency_p50_ms": p50,
                         "latency_p95_ms": p95, "rounds": values})
            print(f"{size:>8}  workers {workers}: {fps:5.1f} FPS, latency p50 {p50:5.0f} ms, "
                  f"p95 {p95:5.0f} ms", flush=True)
    write_results(args.json, camera="synthetic, 30 FPS", model="lite", frames=args.frames, rows=rows,
                  method="medians of --rounds rounds; workers 1 and 2 alternate within each round")


if __name__ == "__main__":
    main()
