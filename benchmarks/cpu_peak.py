"""How close each model runs to what this CPU's convolutions can do at all.

In one run: (1) the throughput oneDNN reaches on single large 3x3 convolutions of the
encoder's shapes (bf16 + channels_last, all threads, one layer repeated), and a square
matrix product, as this machine's practical peak; (2) each model's work per frame,
counted with torch's FlopCounterMode on the unfused stylizer (multiply-adds x 2); (3)
each model's model-only FPS (vidstyle.bench.bench_model, default workers). Work x FPS
over the peak says how much a faster schedule could still give: near 1, only less work
(a smaller model, a smaller working size) makes that model faster.

    python benchmarks/cpu_peak.py --json benchmarks/results/cpu_peak.json
"""
from __future__ import annotations

import argparse
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from results_file import write_results
from vidstyle.bench import bench_model, random_target
from vidstyle.cpu_memory import keep_freed_memory
from vidstyle.stylizer import load_stylizer

# (channels, height, width) of relu1_1 .. relu4_1's convolutions on a 640x360 frame
CONV_SHAPES = [(64, 360, 640), (128, 180, 320), (256, 90, 160), (512, 45, 80)]


def timed(fn, seconds: float) -> float:
    """Seconds per call of fn, after a warm-up, over at least `seconds`."""
    for _ in range(2):
        fn()
    calls, start = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - start < seconds:
        fn()
        calls += 1
    return (time.perf_counter() - start) / calls


def conv_peak(seconds: float) -> list[dict]:
    rows = []
    for channels, h, w in CONV_SHAPES:
        conv = torch.nn.Conv2d(channels, channels, 3, padding=1).to(torch.bfloat16)
        conv = conv.to(memory_format=torch.channels_last)
        x = torch.rand(1, channels, h, w, dtype=torch.bfloat16).contiguous(memory_format=torch.channels_last)
        with torch.no_grad():
            s = timed(lambda: conv(x), seconds)
        flops = 2 * channels * channels * 9 * h * w
        rows.append({"shape": f"{channels}ch {w}x{h}", "gflops": flops / s / 1e9})
    return rows


def matmul_peak(seconds: float, n: int = 4096) -> float:
    a, b = (torch.rand(n, n, dtype=torch.bfloat16) for _ in range(2))
    return 2 * n**3 / timed(lambda: a @ b, seconds) / 1e9


def gflop_per_frame(stylizer, w: int, h: int) -> float:
    x = torch.rand(1, 3, h, w).to(stylizer.dtype).contiguous(memory_format=torch.channels_last)
    target = random_target(stylizer)  # outside the count: the style is encoded once per run
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        stylizer.stylize_tensor(x, target)
    return counter.get_total_flops() / 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["full", "lite", "tiny"])
    ap.add_argument("--sizes", nargs="+", default=["256x256", "640x360"])
    ap.add_argument("--seconds", type=float, default=4.0, help="about how long each measurement runs")
    ap.add_argument("--json")
    args = ap.parse_args()
    kept = keep_freed_memory()  # before any thread starts, as the command line does

    convs = conv_peak(args.seconds)
    matmul = matmul_peak(args.seconds)
    peak = max(row["gflops"] for row in convs)
    for row in convs:
        print(f"conv 3x3 {row['shape']:>16}  {row['gflops']:6.0f} GFLOP/s", flush=True)
    print(f"matmul 4096^2 bf16         {matmul:6.0f} GFLOP/s", flush=True)
    rows = []
    for model in args.models:
        stylizer = load_stylizer(model, device="cpu")
        # Counted as written: FlopCounterMode misses the fused op, and the folded upsamplings
        # (vidstyle.upsample_conv, session 28) do 4/9 of their convolutions' work.
        unfused = load_stylizer(model, device="cpu", fuse_relu=False, fold_upsampling=False)
        target = random_target(stylizer)
        for size in args.sizes:
            w, h = (int(v) for v in size.split("x"))
            work = gflop_per_frame(unfused, w, h)
            fps = bench_model(stylizer, w, h, 1, steps=4, target=target, min_seconds=args.seconds)["fps"]
            row = {"model": model, "size": size, "gflop per frame": work, "model-only fps": fps,
                   "gflops": work * fps, "share of the best conv": work * fps / peak}
            rows.append(row)
            print(f"{model:>4} {size:>9}  {work:6.1f} GFLOP/frame x {fps:6.2f} FPS = "
                  f"{work * fps:5.0f} GFLOP/s ({row['share of the best conv']:.0%} of the best conv)",
                  flush=True)
    write_results(args.json, freed_memory_kept=kept, conv_peak=convs, matmul_gflops=matmul, rows=rows,
                  method="bf16 + channels_last; conv and matmul with all threads, one op repeated; "
                         "model-only FPS from vidstyle.bench.bench_model (default workers)")


if __name__ == "__main__":
    main()
