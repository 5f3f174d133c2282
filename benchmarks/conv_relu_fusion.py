"""Convolution + ReLU fused into one oneDNN call (vidstyle.conv_relu) against the two ops.

For each model and size: model-only FPS (vidstyle.bench.bench_model, default workers)
and end-to-end file conversion FPS (vidstyle.bench.bench_file on a generated clip)
with the fused stylizer and with `fuse_relu=False`, alternating within each round;
medians. Both settings convert the same clip (its length from the first round's
slower model-only FPS). Freed memory is kept, as the command line keeps it.

    python benchmarks/conv_relu_fusion.py --json benchmarks/results/conv_relu_fusion.json
"""
from __future__ import annotations

import argparse
import statistics

from results_file import write_results
from vidstyle.bench import bench_file, bench_model, random_target
from vidstyle.cpu_memory import keep_freed_memory
from vidstyle.stylizer import load_stylizer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["full", "lite", "tiny"])
    ap.add_argument("--sizes", nargs="+", default=["640x360", "1280x720"])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=4.0, help="about how long each measurement runs")
    ap.add_argument("--json")
    args = ap.parse_args()
    kept = keep_freed_memory()  # before any thread starts

    rows = []
    for model in args.models:
        stylizers = {"fused": load_stylizer(model, device="cpu"),
                     "two ops": load_stylizer(model, device="cpu", fuse_relu=False)}
        target = random_target(stylizers["fused"])
        for size in args.sizes:
            w, h = (int(v) for v in size.split("x"))
            runs: dict = {name: {"model": [], "end-to-end": []} for name in stylizers}
            frames = None
            for _ in range(args.rounds):
                for name, st in stylizers.items():
                    m = bench_model(st, w, h, 1, steps=4, target=target, min_seconds=args.seconds)
                    runs[name]["model"].append(m["fps"])
                if frames is None:  # one clip for both settings: about --seconds for the slower one
                    frames = max(16, round(min(r["model"][0] for r in runs.values()) * args.seconds))
                for name, st in stylizers.items():
                    e2e = bench_file(st, w, h, 1, frames, target=target)[-1]
                    runs[name]["end-to-end"].append(e2e["fps"])
            row = {"model": model, "size": size, "clip frames": frames, "runs": runs,
                   **{f"{stage} fps {name}": statistics.median(runs[name][stage])
                      for name in stylizers for stage in ("model", "end-to-end")}}
            for stage in ("model", "end-to-end"):
                row[f"{stage} fused / two ops"] = row[f"{stage} fps fused"] / row[f"{stage} fps two ops"]
            rows.append(row)
            print(f"{model:>4} {size:>9}  model-only {row['model fps two ops']:6.2f} -> "
                  f"{row['model fps fused']:6.2f} FPS ({row['model fused / two ops']:.2f}x)  end-to-end "
                  f"{row['end-to-end fps two ops']:6.2f} -> {row['end-to-end fps fused']:6.2f} FPS "
                  f"({row['end-to-end fused / two ops']:.2f}x)", flush=True)
    write_results(args.json, freed_memory_kept=kept, rows=rows,
                  method="medians of --rounds rounds, the two settings alternating in each; "
                         "default workers, batch 1")


if __name__ == "__main__":
    main()
