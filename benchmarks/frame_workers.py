"""One frame at a time on all cores against two at a time on half the cores each.

For each size and model: model-only FPS (vidstyle.bench.bench_model) and
end-to-end file conversion FPS (vidstyle.bench.bench_file: decode, model and
encode threads on the same cores) with --workers 1 and 2, alternating within
each round so that both see the same machine; medians over the rounds. The
end-to-end / model-only ratio is taken within each setting.

    python benchmarks/frame_workers.py --json benchmarks/results/frame_workers.json
"""
from __future__ import annotations

import argparse
import statistics

from results_file import write_results
from vidstyle.cpu_memory import keep_freed_memory
from vidstyle.bench import bench_file, bench_model, random_target
from vidstyle.stylizer import load_stylizer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["256x256", "640x360"])
    ap.add_argument("--models", nargs="+", default=["lite"])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=4.0, help="about how long each measurement runs")
    ap.add_argument("--glibc-defaults", action="store_true",
                    help="leave glibc's malloc settings (the vidstyle command line keeps freed memory)")
    ap.add_argument("--json")
    args = ap.parse_args()
    kept = not args.glibc_defaults and keep_freed_memory()  # as the command line does, before threads

    rows = []
    for model in args.models:
        stylizer = load_stylizer(model, device="cpu")
        target = random_target(stylizer)
        for size in args.sizes:
            w, h = (int(v) for v in size.split("x"))
            # Size the runs from a quick first measurement, so every one lasts about --seconds.
            fps = bench_model(stylizer, w, h, 1, steps=4, target=target, workers=1)["fps"]
            steps = max(8, round(fps * args.seconds))
            runs: dict = {}
            for _ in range(args.rounds):
                for workers in (1, 2):
                    m = bench_model(stylizer, w, h, 1, steps=steps, target=target, workers=workers)
                    e = bench_file(stylizer, w, h, 1, frames=steps, target=target, workers=workers)[-1]
                    runs.setdefault(workers, []).append((m["fps"], e["fps"]))
            for workers, pairs in runs.items():
                model_fps = statistics.median(p[0] for p in pairs)
                e2e_fps = statistics.median(p[1] for p in pairs)
                row = {"model": model, "size": size, "workers": workers, "frames": steps,
                       "model_fps": model_fps, "e2e_fps": e2e_fps, "e2e_over_model": e2e_fps / model_fps,
                       "rounds": [{"model_fps": a, "e2e_fps": b} for a, b in pairs]}
                rows.append(row)
                print(f"{model:5s} {size:>8s} workers {workers}: model-only {model_fps:6.2f} FPS, "
                      f"end-to-end {e2e_fps:6.2f} FPS ({e2e_fps / model_fps:.0%} of model-only)", flush=True)
            one, two = (r for r in rows[-2:])
            print(f"      two workers / one: model-only {two['model_fps'] / one['model_fps']:.2f}x, "
                  f"end-to-end {two['e2e_fps'] / one['e2e_fps']:.2f}x", flush=True)
    write_results(args.json, freed_memory_kept=kept, rows=rows,
                  method="medians of --rounds rounds; workers 1 and 2 alternate within each round")


if __name__ == "__main__":
    main()
