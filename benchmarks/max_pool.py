"""2x2 max-pooling (ceil_mode) as PyTorch runs it against vidstyle.max_pool.MaxPool2x2, op only.

The shapes the lite (24/48/96), tiny (16) and full (64/128/256) encoders pool at a
640x360 frame, batch 1, bf16 + channels_last (fp32 where the CPU has no bf16), one
thread; medians of --calls calls, the two alternating. Model-level:
`python on_off.py pool_without_indices --models lite tiny full --sizes 640x360`.

    python benchmarks/max_pool.py --json benchmarks/results/max_pool.json
"""
from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F

from alternating import alternating_ms
from results_file import write_results
from vidstyle.devices import resolve_precision
from vidstyle.max_pool import MaxPool2x2

SHAPES = [(16, 360, 640), (24, 360, 640), (48, 180, 320), (96, 90, 160),
          (64, 360, 640), (128, 180, 320), (256, 90, 160)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=30)
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    dtype = resolve_precision("auto", torch.device("cpu"))
    pools = {"pytorch": lambda x: F.max_pool2d(x, 2, 2, ceil_mode=True), "without indices": MaxPool2x2()}
    rows = []
    with torch.no_grad():
        for c, h, w in SHAPES:
            x = torch.randn(1, c, h, w).to(dtype).contiguous(memory_format=torch.channels_last)
            medians = alternating_ms({name: (lambda pool=pool: pool(x)) for name, pool in pools.items()},
                                     args.calls)
            row = {"shape": [c, h, w], **{f"{name} ms": ms for name, ms in medians.items()}}
            row["speed-up"] = row["pytorch ms"] / row["without indices ms"]
            rows.append(row)
            print(f"{c:>4}x{h}x{w}: {row['pytorch ms']:6.2f} -> {row['without indices ms']:6.2f} ms "
                  f"({row['speed-up']:.2f}x)", flush=True)
    write_results(args.json, precision=str(dtype), rows=rows,
                  method="one thread, batch 1, medians of --calls calls alternating (after a warm-up)")


if __name__ == "__main__":
    main()
