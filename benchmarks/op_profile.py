"""Where the frame model's CPU time goes, op by op.

Runs the network (encoder + AdaIN + decoder, one frame, the precision and layout
the Stylizer picks) under torch.profiler and sums each aten (and mkldnn: the fused
convolution + ReLU, vidstyle.conv_relu) op's self time over --calls calls per size,
after warm-up calls. Ops are grouped into convolution, ReLU, padding, pooling,
upsampling, layout copies and the rest, to check the claim that element-wise ops
take a large share at 720p and to see what fusing them could save at most.

    python benchmarks/op_profile.py --json benchmarks/results/op_profile.json
"""
from __future__ import annotations

import argparse
from collections import defaultdict

import torch
from torch.profiler import ProfilerActivity, profile

from results_file import write_results
from vidstyle.cpu_memory import keep_freed_memory
from vidstyle.bench import random_target, synthetic_frames
from vidstyle.stylizer import load_stylizer

# aten op name fragment -> group; the first fragment that matches wins.
GROUPS = [
    ("_convolution_pointwise", "convolution + ReLU"),  # fused (vidstyle.conv_relu)
    ("convolution", "convolution"), ("conv2d", "convolution"),
    ("relu", "relu"), ("clamp_min", "relu"),  # relu_ runs as clamp_min_
    ("pad", "padding"),
    ("max_pool", "pooling"),
    ("upsample", "upsampling"),
    ("copy_", "layout copies"), ("contiguous", "layout copies"), ("clone", "layout copies"),
    ("to_copy", "layout copies"),
]


def group_of(op: str) -> str:
    return next((group for fragment, group in GROUPS if fragment in op), "other")


def profile_size(stylizer, w: int, h: int, calls: int, warmup: int) -> dict:
    """Self CPU time per op (ms per frame) of `calls` frames of w x h."""
    net = stylizer.net
    mean, std = random_target(stylizer).stats.as_4d(stylizer.device)
    x = stylizer.to_device(synthetic_frames(1, w, h))  # model dtype, channels_last
    with torch.no_grad():
        for _ in range(warmup):
            net(x, mean, std)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(calls):
                net(x, mean, std)
    per_op = {e.key: e.self_cpu_time_total / 1000 / calls for e in prof.key_averages()
              if e.key.startswith(("aten::", "mkldnn::")) and e.self_cpu_time_total > 0}
    groups: dict = defaultdict(float)
    for op, ms in per_op.items():
        groups[group_of(op)] += ms
    total = sum(per_op.values())
    groups_ms = dict(sorted(groups.items(), key=lambda kv: -kv[1]))
    return {"size": f"{w}x{h}", "ms_per_frame": total, "groups_ms": groups_ms,
            "groups_share": {g: ms / total for g, ms in groups_ms.items()},
            "top_ops_ms": dict(sorted(per_op.items(), key=lambda kv: -kv[1])[:12])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="full")
    ap.add_argument("--sizes", nargs="+", default=["256x256", "640x360", "1280x720"])
    ap.add_argument("--calls", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--glibc-defaults", action="store_true",
                    help="leave glibc's malloc settings (the vidstyle command line keeps freed memory)")
    ap.add_argument("--json")
    args = ap.parse_args()
    kept = not args.glibc_defaults and keep_freed_memory()  # as the command line does, before threads

    stylizer = load_stylizer(args.model, device="cpu")
    rows = []
    for size in args.sizes:
        w, h = (int(v) for v in size.split("x"))
        row = profile_size(stylizer, w, h, args.calls, args.warmup)
        rows.append(row)
        shares = ", ".join(f"{g} {s:.0%}" for g, s in row["groups_share"].items())
        print(f"{args.model} {size:>9s} {row['ms_per_frame']:8.1f} ms/frame (op self time): {shares}",
              flush=True)
    write_results(args.json, freed_memory_kept=kept, model=args.model, precision=str(stylizer.dtype),
                  rows=rows,
                  method="torch.profiler self CPU time of aten and mkldnn ops, summed per op over "
                         "--calls calls")


if __name__ == "__main__":
    main()
