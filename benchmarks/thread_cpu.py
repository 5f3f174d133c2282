"""Where the CPU goes during a file conversion: CPU-ms per frame for every kind of thread.

End-to-end conversion on a CPU shares the cores between the model workers and
the IO threads, so the end-to-end / model-only ratio is set by CPU time, not
wall time. Each round runs model-only (vidstyle.bench.bench_model) and a
conversion of `vidstyle bench`'s generated clip (bench_file) with the default
settings; both sample every thread's CPU time while they run
(vidstyle.thread_cpu, Linux). Medians over the rounds.

    python benchmarks/thread_cpu.py --model lite --sizes 256x256 640x360 \
        --json benchmarks/results/thread_cpu.json
"""
from __future__ import annotations

import argparse
import statistics

from results_file import write_results
from vidstyle.bench import bench_file, bench_model, random_target
from vidstyle.stylizer import load_stylizer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="lite")
    ap.add_argument("--sizes", nargs="+", default=["256x256", "640x360"])
    ap.add_argument("--seconds", type=float, default=4.0, help="about how long each measurement runs")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=None, help="default: what convert uses")
    ap.add_argument("--json")
    args = ap.parse_args()

    stylizer = load_stylizer(args.model, device="cpu")
    target = random_target(stylizer)
    rows = []
    for size in args.sizes:
        w, h = (int(v) for v in size.split("x"))
        runs = []
        for _ in range(args.rounds):
            model = bench_model(stylizer, w, h, 1, steps=8, target=target, workers=args.workers,
                                min_seconds=args.seconds)
            frames = max(30, round(model["fps"] * args.seconds))
            e2e = bench_file(stylizer, w, h, 1, frames, target=target, workers=args.workers)[-1]
            runs.append({"model": model, "end_to_end": e2e})
        e2e_cpu = [r["end_to_end"]["cpu_ms_per_frame_by_role"] for r in runs]
        roles = sorted({role for c in e2e_cpu for role in c})
        row = {"size": size, "model": args.model, "workers": runs[0]["end_to_end"]["workers"],
               "rounds": runs,
               "model_fps": statistics.median(r["model"]["fps"] for r in runs),
               "e2e_fps": statistics.median(r["end_to_end"]["fps"] for r in runs),
               "ratio": statistics.median(r["end_to_end"]["fps"] / r["model"]["fps"] for r in runs),
               "model_cpu_ms_per_frame": statistics.median(r["model"]["cpu_ms_per_frame"] for r in runs),
               "e2e_cpu_ms_per_frame": {role: statistics.median(c.get(role, 0.0) for c in e2e_cpu)
                                        for role in roles},
               "e2e_cores_busy": statistics.median(r["end_to_end"]["cores_busy"] for r in runs)}
        rows.append(row)
        print(f"{size} {args.model}, {row['workers']} workers, medians of {args.rounds}: "
              f"model-only {row['model_fps']:.1f} FPS ({row['model_cpu_ms_per_frame']:.1f} CPU-ms/frame), "
              f"end-to-end {row['e2e_fps']:.1f} FPS (ratio {row['ratio']:.2f}, "
              f"{row['e2e_cores_busy']:.0%} of the cores busy)")
        for role, ms in sorted(row["e2e_cpu_ms_per_frame"].items(), key=lambda kv: -kv[1]):
            print(f"    {role:24s} {ms:6.2f} CPU-ms/frame")
    write_results(args.json, model=args.model, rows=rows)


if __name__ == "__main__":
    main()
