"""Forward + backward through the style loss: two-pass statistics against one-pass ones.

The four taps a 128 px training batch of 8 gives (relu1_1..relu4_1, bf16,
channels_last, random post-ReLU values) against fixed style taps, with
`style_losses(..., one_pass=False)` and `True` alternating for --rounds rounds;
medians (the first round is a warm-up and is left out).

    python benchmarks/style_loss_stats.py --json benchmarks/results/style_loss_stats.json
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from results_file import write_results
from vidstyle.losses import style_losses

SHAPES = [(8, 64, 128, 128), (8, 128, 64, 64), (8, 256, 32, 32), (8, 512, 16, 16)]


def taps(seed: int, grad: bool) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.relu(torch.randn(s, generator=g)).to(torch.bfloat16)
            .contiguous(memory_format=torch.channels_last).requires_grad_(grad) for s in SHAPES]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--json")
    args = ap.parse_args()
    style, out = taps(1, False), taps(0, True)
    ms: dict[str, list[float]] = {"two-pass": [], "one-pass": []}
    for _ in range(args.rounds):
        for name in ms:
            t0 = time.perf_counter()
            style_losses(out, style, one_pass=name == "one-pass").sum().backward()
            ms[name].append(1000 * (time.perf_counter() - t0))
    medians = {name: statistics.median(v[1:]) for name, v in ms.items()}
    for name, median in medians.items():
        print(f"{name}: {median:.0f} ms forward + backward (median of {len(ms[name]) - 1})")
    print(f"one-pass / two-pass: {medians['one-pass'] / medians['two-pass']:.2f}")
    write_results(args.json, shapes=SHAPES, ms=ms, medians_ms=medians,
                  method="alternating rounds, the first left out")


if __name__ == "__main__":
    main()
