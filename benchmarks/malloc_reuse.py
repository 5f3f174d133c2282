"""What glibc's handling of large freed blocks costs the frame model on CPU.

glibc hands blocks above its mmap threshold (dynamic, at most 32 MB on 64-bit) back
to the kernel when they are freed, so a feature map larger than that (64 x 720 x 1280
bf16 is 118 MB) is mapped and zero-filled again, page by page, on every frame.
This script times the network (one frame, main thread) with glibc's defaults and with
freed memory kept (mallopt: no mmap for large blocks, trim threshold 1 GiB),
alternating the two within each round, and counts minor page faults per frame.
glibc on Linux only. Not applied by vidstyle yet (see RESULTS.md, session 14).

    python benchmarks/malloc_reuse.py --json benchmarks/results/malloc_reuse.json
"""
from __future__ import annotations

import argparse
import ctypes
import resource
import statistics
import time

import torch

from results_file import write_results
from vidstyle.bench import random_target, synthetic_frames
from vidstyle.stylizer import load_stylizer

M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # glibc's mallopt parameter numbers
libc = ctypes.CDLL("libc.so.6")


def keep_freed_memory(keep: bool) -> None:
    if keep:
        libc.mallopt(M_MMAP_MAX, 0)
        libc.mallopt(M_TRIM_THRESHOLD, 2**30)
    else:  # glibc's defaults
        libc.mallopt(M_MMAP_MAX, 65536)
        libc.mallopt(M_TRIM_THRESHOLD, 128 * 1024)
        libc.malloc_trim(0)


def minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def time_setting(net, x, mean, std, keep: bool, seconds: float) -> tuple[float, float]:
    """(frames per second, minor page faults per frame) with the allocator set by keep."""
    keep_freed_memory(keep)
    net(x, mean, std)  # warm-up under this setting
    faults, n, start = minor_faults(), 0, time.perf_counter()
    while n < 2 or time.perf_counter() - start < seconds:
        net(x, mean, std)
        n += 1
    return n / (time.perf_counter() - start), (minor_faults() - faults) / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="full")
    ap.add_argument("--sizes", nargs="+", default=["640x360", "1280x720"])
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--json")
    args = ap.parse_args()

    stylizer = load_stylizer(args.model, device="cpu")
    mean, std = random_target(stylizer).stats.as_4d(stylizer.device)
    rows = []
    for size in args.sizes:
        w, h = (int(v) for v in size.split("x"))
        x = stylizer.to_device(synthetic_frames(1, w, h))  # model dtype, channels_last
        runs: dict = {"default": [], "kept": []}
        with torch.no_grad():
            for _ in range(args.rounds):
                for setting, rounds in runs.items():
                    rounds.append(time_setting(stylizer.net, x, mean, std, setting == "kept", args.seconds))
        keep_freed_memory(False)
        ratios = [kept[0] / default[0] for default, kept in zip(runs["default"], runs["kept"])]
        row = {"model": args.model, "size": size, "precision": str(stylizer.dtype),
               "fps_default": statistics.median(r[0] for r in runs["default"]),
               "fps_kept": statistics.median(r[0] for r in runs["kept"]),
               "faults_per_frame_default": statistics.median(r[1] for r in runs["default"]),
               "faults_per_frame_kept": statistics.median(r[1] for r in runs["kept"]),
               "ratio_kept_over_default": statistics.median(ratios), "rounds": runs}
        rows.append(row)
        print(f"{args.model} {size:>9s} default {row['fps_default']:.2f} FPS "
              f"({row['faults_per_frame_default']:.0f} faults/frame), kept {row['fps_kept']:.2f} FPS "
              f"({row['faults_per_frame_kept']:.0f}), ratio {row['ratio_kept_over_default']:.2f}", flush=True)
    write_results(args.json, rows=rows,
                  method="median of --rounds rounds; the two settings alternate in each round, main thread")


if __name__ == "__main__":
    main()
