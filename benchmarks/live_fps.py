"""The live loop with and without --fps: FPS shown, the model's working size, latency.

A synthetic 30 FPS camera at 640x360 (live_workers.SyntheticCamera) feeds
`vidstyle.live.run_live` with one worker, as `vidstyle webcam` runs by default;
the display does nothing. Each setting runs `--frames` frames (the first few,
while the working size settles, are included).

    python benchmarks/live_fps.py --json benchmarks/results/live_fps.json
"""
from __future__ import annotations

import argparse

from live_workers import NoDisplay, SyntheticCamera
from results_file import write_results
from vidstyle.bench import random_target
from vidstyle.live import run_live
from vidstyle.sources import CameraSource
from vidstyle.stylizer import load_stylizer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--models", nargs="+", default=["lite", "tiny"])
    ap.add_argument("--fps", nargs="+", type=float, default=[0, 12, 20], help="0: off")
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--json")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    rows = []
    for model in args.models:
        stylizer = load_stylizer(model, device="cpu")
        target = random_target(stylizer)
        for fps in args.fps:
            with CameraSource(SyntheticCamera(w, h)) as camera:
                stats = run_live(camera, stylizer, lambda frames: target, NoDisplay(),
                                 max_frames=args.frames, fps=fps or None)
            sizes = stats.work_sizes or [min(w, h)]
            row = {"model": model, "size": args.size, "fps_asked": fps or None, "fps": stats.fps,
                   "fps_last_60": stats.recent_fps(60),
                   "work_size_last": sizes[-1], "work_size_min": min(sizes),
                   "latency_p50_ms": stats.latency_ms(50), "latency_p95_ms": stats.latency_ms(95)}
            rows.append(row)
            asked = f"--fps {fps:g}" if fps else "no --fps"
            print(f"{model:5s} {args.size} {asked:9s}: {stats.fps:5.1f} FPS ({row['fps_last_60']:5.1f} over "
                  f"the last 60 frames), working size {sizes[-1]} px "
                  f"(lowest {min(sizes)}), latency p50 {row['latency_p50_ms']:4.0f} ms "
                  f"p95 {row['latency_p95_ms']:4.0f} ms", flush=True)
    write_results(args.json, camera="synthetic, 30 FPS", frames=args.frames, workers=1, rows=rows,
                  method="one run per setting; FPS over all frames after 3 warm-up frames")


if __name__ == "__main__":
    main()
