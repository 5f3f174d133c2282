"""How fast the lite model's candidate widths run, next to the full model, in one run.

Random weights (speed does not depend on them), bf16 + channels_last on CPU, batch 1,
encoder + decoder only (no AdaIN, no IO); median of --steps timed calls per model and
size, models alternating within each round. Used to choose vidstyle.lite.WIDTHS.
`--pointwise` adds, per width, a variant whose two convolutions into and out of the
512 feature channels are 1x1 instead of 3x3 (LiteModel's feature_kernel=1, which
`vidstyle distill --feature-kernel 1` trains).

    python benchmarks/lite_widths.py --json benchmarks/results/lite_widths.json
    python benchmarks/lite_widths.py --widths 16,32,64 --pointwise --no-full --json ...
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from results_file import write_results
from vidstyle.decoder import Decoder
from vidstyle.encoder import Encoder
from vidstyle.lite import LiteModel
from vidstyle.devices import resolve_precision


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["256x256", "640x360"])
    ap.add_argument("--widths", nargs="+", default=["16,32,64", "24,48,96", "32,64,128"])
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--pointwise", action="store_true",
                    help="also time each width with 1x1 convolutions into and out of the features")
    ap.add_argument("--no-full", action="store_true", help="leave out the full model")
    ap.add_argument("--json")
    args = ap.parse_args()

    torch.set_grad_enabled(False)
    dtype = resolve_precision("auto", torch.device("cpu"))
    models = {} if args.no_full else {"full (VGG-19 + decoder)": nn.Sequential(Encoder(), Decoder())}
    for text in args.widths:
        lite = LiteModel(tuple(int(v) for v in text.split(",")))
        models[f"lite {text}"] = nn.Sequential(lite.encoder, lite.decoder)
        if args.pointwise:
            pointwise = LiteModel(lite.widths, feature_kernel=1)
            models[f"lite {text}, 1x1 at 512"] = nn.Sequential(pointwise.encoder, pointwise.decoder)
    models = {k: m.eval().to(dtype, memory_format=torch.channels_last) for k, m in models.items()}
    rows = []
    for size in args.sizes:
        w, h = (int(v) for v in size.split("x"))
        x = torch.rand(1, 3, h, w).to(dtype).contiguous(memory_format=torch.channels_last)
        times: dict = {}
        for _ in range(args.rounds):
            for name, model in models.items():
                model(x)  # warm-up
                for _ in range(args.steps):
                    t0 = time.perf_counter()
                    model(x)
                    times.setdefault(name, []).append(time.perf_counter() - t0)
        for name, ts in times.items():
            ms = statistics.median(ts) * 1000
            rows.append({"size": size, "model": name, "ms": ms, "fps": 1000 / ms})
            print(f"{size:>9}  {name:26} {ms:8.1f} ms  {1000 / ms:6.1f} FPS", flush=True)
    write_results(args.json, dtype=str(dtype), rows=rows)


if __name__ == "__main__":
    main()
