"""Would folding each reflection pad into its convolution pay? (Measured: no; not shipped.)

After convolution + ReLU fusion, reflection padding is 14-16% of the full model's CPU
time. This prototype runs each 3x3 convolution with oneDNN's own zero padding (no
separate pad pass) and then recomputes the one-pixel border from 3-row and 3-column
strips padded by reflection, which gives the reflection-padded result. It times the
full frame network fused (as shipped) against the folded copy, alternating, and
reports the largest difference. Freed memory is kept, as the command line keeps it.

    python benchmarks/pad_fold.py --json benchmarks/results/pad_fold.json
"""
from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from results_file import write_results
from vidstyle.bench import random_target, synthetic_frames
from vidstyle.conv_relu import ConvReLU
from vidstyle.cpu_memory import keep_freed_memory
from vidstyle.layers import ReflectionPad
from vidstyle.stylizer import load_stylizer


class PadFoldedConv(nn.Module):
    """ReflectionPad + 3x3 conv (+ ReLU when fused) as zero-padded conv + recomputed border."""

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        self.conv, self.post = conv, "relu" if isinstance(conv, ConvReLU) else "none"

    def _conv(self, x: torch.Tensor, pad: int) -> torch.Tensor:
        return torch.ops.mkldnn._convolution_pointwise(
            x.contiguous(memory_format=torch.channels_last), self.conv.weight, self.conv.bias,
            [pad, pad], [1, 1], [1, 1], 1, self.post, [], "")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        out = self._conv(x, 1)

        def strip(dim: int, a: int, b: int) -> torch.Tensor:  # 3 lines -> 1 output line
            lines = x.index_select(dim, torch.tensor([a, b, a]))
            return self._conv(F.pad(lines, (1, 1, 0, 0) if dim == 2 else (0, 0, 1, 1), mode="reflect"), 0)
        out[:, :, :1], out[:, :, -1:] = strip(2, 1, 0), strip(2, h - 2, h - 1)
        out[:, :, :, :1], out[:, :, :, -1:] = strip(3, 1, 0), strip(3, w - 2, w - 1)
        return out


def fold_pads(net: nn.Module) -> int:
    folded = 0
    for seq in [m for m in net.modules() if isinstance(m, nn.Sequential)]:
        for i in range(len(seq) - 1):
            pad, conv = seq[i], seq[i + 1]
            if isinstance(pad, ReflectionPad) and isinstance(conv, nn.Conv2d) and conv.kernel_size == (3, 3):
                seq[i], seq[i + 1] = nn.Identity(), PadFoldedConv(conv)
                folded += 1
    return folded


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["256x256", "640x360", "1280x720"])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--calls", type=int, default=3)
    ap.add_argument("--json")
    args = ap.parse_args()
    kept = keep_freed_memory()
    stylizer = load_stylizer("full", device="cpu")
    nets = {"shipped": stylizer.net, "pads folded": copy.deepcopy(stylizer.net)}
    folded = fold_pads(nets["pads folded"])
    mean, std = random_target(stylizer).stats.as_4d(stylizer.device)
    rows = []
    for size in args.sizes:
        w, h = (int(v) for v in size.split("x"))
        x = stylizer.to_device(synthetic_frames(1, w, h))
        times: dict = {name: [] for name in nets}
        with torch.no_grad():
            diff = (nets["shipped"](x, mean, std).float() - nets["pads folded"](x, mean, std).float()).abs()
            for _ in range(args.rounds):
                for name, net in nets.items():
                    net(x, mean, std)
                    t0 = time.perf_counter()
                    for _ in range(args.calls):
                        net(x, mean, std)
                    times[name].append((time.perf_counter() - t0) / args.calls * 1000)
        row = {"size": size, **{f"ms {name}": statistics.median(t) for name, t in times.items()},
               "max_abs_diff": diff.max().item(), "mean_abs_diff": diff.mean().item(), "runs_ms": times}
        row["folded / shipped speed"] = row["ms shipped"] / row["ms pads folded"]
        rows.append(row)
        print(f"{size:>9}  shipped {row['ms shipped']:7.1f} ms  pads folded {row['ms pads folded']:7.1f} ms  "
              f"({row['folded / shipped speed']:.2f}x)  max diff {row['max_abs_diff']:.4f}", flush=True)
    write_results(args.json, freed_memory_kept=kept, convolutions_folded=folded, rows=rows,
                  method="one frame, main thread; medians of --rounds rounds of --calls calls, alternating")


if __name__ == "__main__":
    main()
