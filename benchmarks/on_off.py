"""One Stylizer switch (e.g. fuse_relu) on against off, model-only and end to end.

For each model and size: model-only FPS (vidstyle.bench.bench_model, default workers)
and end-to-end file conversion FPS (vidstyle.bench.bench_file on a generated clip)
with the switch on (the default) and off, alternating within each round; medians.
Both settings convert the same clip (its length from the first round's slower
model-only FPS). Freed memory is kept, as the command line keeps it.
Shared by conv_relu_fusion.py and upsample_conv.py; `python on_off.py SWITCH ...` for any other.
"""
from __future__ import annotations

import argparse
import statistics

from results_file import write_results
from vidstyle.bench import bench_file, bench_model, random_target
from vidstyle.cpu_memory import keep_freed_memory
from vidstyle.stylizer import load_stylizer


def main(switch: str, on: str, off: str, description: str) -> None:
    """Parse the command line and compare load_stylizer(..., switch=False) (named `off`)
    against the default (named `on`)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--models", nargs="+", default=["full", "lite", "tiny"])
    ap.add_argument("--sizes", nargs="+", default=["640x360", "1280x720"])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=4.0, help="about how long each measurement runs")
    ap.add_argument("--no-end-to-end", action="store_true", help="model-only FPS only")
    ap.add_argument("--compile", action="store_true", help="both settings compiled (one worker)")
    ap.add_argument("--json")
    args = ap.parse_args()
    kept = keep_freed_memory()  # before any thread starts
    stages = ("model",) if args.no_end_to_end else ("model", "end-to-end")

    rows = []
    for model in args.models:
        stylizers = {on: load_stylizer(model, device="cpu", compile=args.compile),
                     off: load_stylizer(model, device="cpu", compile=args.compile, **{switch: False})}
        target = random_target(stylizers[on])
        for size in args.sizes:
            w, h = (int(v) for v in size.split("x"))
            runs: dict = {name: {stage: [] for stage in stages} for name in stylizers}
            frames = None
            for _ in range(args.rounds):
                for name, st in stylizers.items():
                    m = bench_model(st, w, h, 1, steps=4, target=target, min_seconds=args.seconds)
                    runs[name]["model"].append(m["fps"])
                if args.no_end_to_end:
                    continue
                if frames is None:  # one clip for both settings: about --seconds for the slower one
                    frames = max(16, round(min(r["model"][0] for r in runs.values()) * args.seconds))
                for name, st in stylizers.items():
                    e2e = bench_file(st, w, h, 1, frames, target=target)[-1]
                    runs[name]["end-to-end"].append(e2e["fps"])
            row = {"model": model, "size": size, "clip frames": frames, "runs": runs,
                   **{f"{stage} fps {name}": statistics.median(runs[name][stage])
                      for name in stylizers for stage in stages}}
            line = f"{model:>4} {size:>9}"
            for stage in stages:
                ratio = row[f"{stage} fps {on}"] / row[f"{stage} fps {off}"]
                row[f"{stage} {on} / {off}"] = ratio
                line += (f"  {stage} {row[f'{stage} fps {off}']:6.2f} -> {row[f'{stage} fps {on}']:6.2f}"
                         f" FPS ({ratio:.2f}x)")
            rows.append(row)
            print(line, flush=True)
    write_results(args.json, freed_memory_kept=kept, switch=switch, compiled=args.compile, rows=rows,
                  method="medians of --rounds rounds, the two settings alternating in each; "
                         "default workers, batch 1")


if __name__ == "__main__":  # any switch: python on_off.py pool_without_indices [options]
    import sys

    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        sys.exit("usage: python on_off.py SWITCH [options] (a load_stylizer option that is on by default)")
    name = sys.argv.pop(1)
    main(name, "on", "off", f"load_stylizer's {name} on against off")
