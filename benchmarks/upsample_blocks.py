"""One decoder block, "2x nearest upsampling, reflection pad, 3x3 convolution + ReLU", as
written against folded into one low-resolution convolution (vidstyle.upsample_conv).

Each block of the lite and full decoders at the sizes a --size frame gives it, random
weights, bf16 + channels_last (fp32 where the CPU has no bf16), one thread, the fused
oneDNN call in both; medians of --calls calls, the two alternating.

    python benchmarks/upsample_blocks.py --json benchmarks/results/upsample_blocks.json
"""
from __future__ import annotations

import argparse

import torch
from torch import nn

from alternating import alternating_ms
from results_file import write_results
from vidstyle.conv_relu import ConvReLU
from vidstyle.devices import resolve_precision
from vidstyle.layers import ReflectionPad
from vidstyle.upsample_conv import UpsampledConv

# (model, input channels, output channels, the input's fraction of the frame's side)
BLOCKS = [("lite", 96, 96, 8), ("lite", 48, 48, 4), ("lite", 24, 3, 2),
          ("full", 256, 256, 8), ("full", 128, 128, 4), ("full", 64, 64, 2)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    dtype = resolve_precision("auto", torch.device("cpu"))
    w, h = (int(v) for v in args.size.split("x"))
    torch.manual_seed(0)
    rows = []
    with torch.no_grad():
        for model, c_in, c_out, part in BLOCKS:
            conv = nn.Conv2d(c_in, c_out, 3).to(dtype, memory_format=torch.channels_last)
            relu = c_out != 3  # the decoders' last convolution has none
            written = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), ReflectionPad(),
                                    ConvReLU.from_conv(conv) if relu else conv)
            folded = UpsampledConv(conv, relu)
            x = torch.rand(1, c_in, -(-h // part), -(-w // part)).to(dtype).contiguous(
                memory_format=torch.channels_last)
            gap = (folded(x).float() - written(x).float()).abs().max().item()
            medians = alternating_ms({"as written": lambda: written(x), "folded": lambda: folded(x)},
                                     args.calls)
            row = {"model": model, "block": f"{c_in}->{c_out}", "input": list(x.shape[-2:]),
                   **{f"{name} ms": ms for name, ms in medians.items()}, "max abs difference": gap}
            row["speed-up"] = row["as written ms"] / row["folded ms"]
            rows.append(row)
            print(f"{model:>4} {c_in:>3}->{c_out:<3} from {x.shape[-1]}x{x.shape[-2]}: "
                  f"{row['as written ms']:7.2f} -> {row['folded ms']:7.2f} ms ({row['speed-up']:.2f}x)",
                  flush=True)
    write_results(args.json, size=args.size, precision=str(dtype), rows=rows,
                  method="one thread, random weights, medians of --calls calls alternating")


if __name__ == "__main__":
    main()
