"""Does the full encoder run faster on a frame cut into tiles (a cache effect)?

The team's first AMX measurement found the VGG-19 encoder on four 640x360 tiles
in 282 ms against 510 ms for the whole frame. This times the frame encoder
(bf16 + channels_last where the CPU has bf16 units, as Stylizer runs it) on the
whole frame and on its tiles (no halo: only the arithmetic is compared, the
stitched result would differ at the seams), the cuttings alternating within each
round; medians, with the spread, since this VM's timings move a lot.

    python benchmarks/encoder_tiles.py --json benchmarks/results/encoder_tiles.json
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from results_file import write_results
from vidstyle.bench import synthetic_frames
from vidstyle.stylizer import load_stylizer

CUTS = {"whole": (1, 1), "2 rows": (2, 1), "2 columns": (1, 2), "2x2": (2, 2), "4 rows": (4, 1)}


def tiles(x: torch.Tensor, rows: int, cols: int) -> list[torch.Tensor]:
    h, w = x.shape[-2] // rows, x.shape[-1] // cols
    return [x[..., i * h:(i + 1) * h, j * w:(j + 1) * w].contiguous(memory_format=torch.channels_last)
            for i in range(rows) for j in range(cols)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["640x360", "1280x720"])
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--json")
    args = ap.parse_args()

    stylizer = load_stylizer("full", device="cpu")
    encoder = stylizer.net.encoder
    rows = []
    with torch.no_grad():
        for size in args.sizes:
            w, h = (int(v) for v in size.split("x"))
            x = stylizer.to_device(synthetic_frames(1, w, h))
            cut = {name: tiles(x, *rc) for name, rc in CUTS.items()}
            for parts in cut.values():  # warm-up: oneDNN picks kernels per shape
                [encoder(p) for p in parts]
            ms: dict = {name: [] for name in cut}
            for _ in range(args.rounds):
                for name, parts in cut.items():
                    start = time.perf_counter()
                    [encoder(p) for p in parts]
                    ms[name].append((time.perf_counter() - start) * 1000)
            whole = statistics.median(ms["whole"])
            for name, times in ms.items():
                med = statistics.median(times)
                rows.append({"size": size, "cut": name, "ms_median": med, "ms_min": min(times),
                             "ms_max": max(times), "vs_whole": med / whole})
                print(f"{size:>9} {name:9s} median {med:7.1f} ms (min {min(times):6.1f}, max "
                      f"{max(times):6.1f}), {med / whole:.2f} x whole", flush=True)
    write_results(args.json, precision=stylizer.precision, rows=rows,
                  method="frame encoder on the whole frame and on its tiles; cuttings alternate "
                         "in each round; medians of --rounds rounds")


if __name__ == "__main__":
    main()
