"""AdaIN on relu4_1 features: the Tensor.var version against vidstyle.adain, side by side.

The features of a 256x256, 640x360 and 1920x1080 frame (512 channels at 1/8
size), bf16 + channels_last as the CPU frame path makes them. The old version is
kept here verbatim as the reference; median of --steps calls each, alternating.
Then whole lite-model frames (uint8 in, uint8 out) with each version in the
Stylizer, alternating frame by frame.

    python benchmarks/adain_stats.py --json benchmarks/results/adain_stats.json
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from results_file import write_results
from vidstyle import stylizer as stylizer_module
from vidstyle.adain import EPS, adain
from vidstyle.bench import random_target, synthetic_frames
from vidstyle.devices import resolve_precision
from vidstyle.stylizer import load_stylizer


def adain_with_tensor_var(content, style_mean, style_std, alpha=1.0, eps=EPS):
    """vidstyle.adain before this change: Tensor.var over flattened features."""
    f = content.float().flatten(2)
    c_mean = f.mean(dim=2)[..., None, None]
    c_std = (f.var(dim=2, unbiased=False) + eps).sqrt()[..., None, None]
    scale = style_std / c_std
    shift = style_mean - c_mean * scale
    if alpha != 1.0:
        scale = alpha * scale + (1.0 - alpha)
        shift = alpha * shift
    return (content.float() * scale + shift).to(content.dtype)


def whole_frames(sizes: list[str], steps: int) -> list[dict]:
    """Lite-model frames with the old and the new AdaIN in the Stylizer, alternating."""
    st = load_stylizer("lite", device="cpu")
    target = random_target(st)
    rows = []
    for size in sizes:
        w, h = (int(v) for v in size.split("x"))
        frames = synthetic_frames(1, w, h)
        times: dict = {name: [] for name in ("Tensor.var (before)", "vidstyle.adain")}
        for i in range(steps + 2):
            for name, fn in (("Tensor.var (before)", adain_with_tensor_var), ("vidstyle.adain", adain)):
                stylizer_module.adain = fn  # StyleNet.forward looks it up at call time
                t0 = time.perf_counter()
                st.stylize_frames(frames, target)
                if i >= 2:  # two warm-up rounds
                    times[name].append(time.perf_counter() - t0)
        stylizer_module.adain = adain
        base = statistics.median(times["Tensor.var (before)"])
        for name, ts in times.items():
            ms = statistics.median(ts) * 1000
            rows.append({"size": size, "version": name, "stage": "lite frame", "ms": ms, "fps": 1000 / ms,
                         "speedup": base * 1000 / ms})
            print(f"{size:>9}  lite frame, {name:20} {ms:8.2f} ms  {1000 / ms:6.1f} FPS  "
                  f"x{base * 1000 / ms:4.2f}", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["256x256", "640x360", "1920x1080"])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--json")
    args = ap.parse_args()

    torch.set_grad_enabled(False)
    dtype = resolve_precision("auto", torch.device("cpu"))
    versions = {"Tensor.var (before)": adain_with_tensor_var, "vidstyle.adain": adain}
    gen = torch.Generator().manual_seed(0)
    style_mean = torch.rand(1, 512, 1, 1, generator=gen)
    style_std = torch.rand(1, 512, 1, 1, generator=gen) + 0.1
    rows = []
    for size in args.sizes:
        w, h = (int(v) for v in size.split("x"))
        shape = (1, 512, (h + 7) // 8, (w + 7) // 8)
        feat = torch.randn(shape, generator=gen).mul(2).relu().to(dtype).contiguous(
            memory_format=torch.channels_last)
        outputs = {name: fn(feat, style_mean, style_std) for name, fn in versions.items()}
        diff = (outputs["vidstyle.adain"].float() - outputs["Tensor.var (before)"].float()).abs().max().item()
        times: dict = {name: [] for name in versions}
        for _ in range(args.steps):
            for name, fn in versions.items():
                t0 = time.perf_counter()
                fn(feat, style_mean, style_std)
                times[name].append(time.perf_counter() - t0)
        base = statistics.median(times["Tensor.var (before)"])
        for name, ts in times.items():
            ms = statistics.median(ts) * 1000
            rows.append({"size": size, "features": list(shape), "version": name, "ms": ms,
                         "speedup": base * 1000 / ms, "max_abs_diff": diff})
            print(f"{size:>9}  {name:20} {ms:8.2f} ms  x{base * 1000 / ms:4.1f}  (max |diff| {diff:.3g})",
                  flush=True)
    rows += whole_frames(args.sizes[:2], args.steps)
    write_results(args.json, dtype=str(dtype), rows=rows)


if __name__ == "__main__":
    main()
