"""Which precision and memory layout the CPU should run the frame model in.

Model-only FPS of the network (encoder + AdaIN + decoder, one frame, all
threads) per model, size, precision and layout (channels_last or the default
contiguous NCHW), the settings alternating within each round so that all see
the same machine; medians over the rounds. Stylizer picks bf16 + channels_last
where the CPU has bf16 units, else fp32 (devices.resolve_precision).

    python benchmarks/cpu_layouts.py --json benchmarks/results/cpu_layouts.json
"""
from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch

from results_file import write_results
from vidstyle.bench import random_target, synthetic_frames
from vidstyle.devices import PRECISIONS
from vidstyle.stylizer import load_stylizer

LAYOUTS = {"channels_last": torch.channels_last, "contiguous": torch.contiguous_format}


def time_net(net, x, mean, std, seconds: float) -> float:
    """Frames per second of net on x over at least `seconds` (after one warm-up call)."""
    with torch.no_grad():
        net(x, mean, std)
        n, start = 0, time.perf_counter()
        while n < 3 or time.perf_counter() - start < seconds:
            net(x, mean, std)
            n += 1
    return n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["lite", "full"])
    ap.add_argument("--sizes", nargs="+", default=["256x256", "640x360"])
    ap.add_argument("--precisions", nargs="+", default=["fp32", "bf16"])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--json")
    args = ap.parse_args()

    rows = []
    for model in args.models:
        base = load_stylizer(model, device="cpu", precision="fp32")
        mean, std = random_target(base).stats.as_4d(base.device)
        nets = {(p, layout): copy.deepcopy(base.net).to(PRECISIONS[p], memory_format=fmt)
                for p in args.precisions for layout, fmt in LAYOUTS.items()}
        for size in args.sizes:
            w, h = (int(v) for v in size.split("x"))
            frame = torch.from_numpy(synthetic_frames(1, w, h)).permute(0, 3, 1, 2).float() / 255
            runs: dict = {key: [] for key in nets}
            for _ in range(args.rounds):
                for (precision, layout), net in nets.items():
                    x = frame.to(PRECISIONS[precision]).contiguous(memory_format=LAYOUTS[layout])
                    runs[(precision, layout)].append(time_net(net, x, mean, std, args.seconds))
            for (precision, layout), fps in runs.items():
                rows.append({"model": model, "size": size, "precision": precision, "layout": layout,
                             "fps": statistics.median(fps), "rounds": fps})
                print(f"{model:5s} {size:>8s} {precision} {layout:13s} {statistics.median(fps):7.2f} FPS",
                      flush=True)
    write_results(args.json, rows=rows, method="medians of --rounds rounds; settings alternate in each round")


if __name__ == "__main__":
    main()
