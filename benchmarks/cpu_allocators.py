"""How the C allocator's handling of large blocks changes the frame model's speed and memory on CPU.

Each setting runs in a fresh process (glibc's arena settings hold for a process's life),
the settings alternating within each round, with the model's frames on the worker
threads file conversion uses (vidstyle.parallel.FrameWorkers, stylize_frames: uint8 in
and out). Settings:

  default  glibc's own: blocks over its mmap threshold (at most 32 MB) are mapped
           for each allocation and unmapped when freed, so every frame faults them in
  thp      THP_MEM_ALLOC_ENABLE=1: torch aligns blocks of 2 MB and more to 2 MB and asks
           for transparent huge pages (one fault per 2 MB rather than per 4 KB)
  kept     mallopt: one arena, no mmap, trim threshold 1 GiB (freed memory stays in the heap)
  kept+thp both

Reported per setting: FPS, minor page faults per frame, peak RSS and how much the
resident memory grew between the end of warm-up and the end (a heap that keeps
growing would be a leak in all but name). glibc on Linux only.

With --end-to-end, `vidstyle bench --no-model` converts a generated clip instead, with
the command line's own setting (kept, vidstyle.cpu_memory) against
VIDSTYLE_KEEP_FREED_MEMORY=0 (glibc's defaults), alternating in each round.

    python benchmarks/cpu_allocators.py --json benchmarks/results/cpu_allocators.json
    python benchmarks/cpu_allocators.py --end-to-end --frames 120 --json e2e.json
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

SETTINGS = ("default", "thp", "kept", "kept+thp")


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child(setting: str, model: str, size: str, seconds: float) -> dict:
    if "kept" in setting:
        import ctypes

        libc = ctypes.CDLL(None)
        for param, value in ((-8, 1), (-4, 0), (-1, 1 << 30)):  # M_ARENA_MAX, M_MMAP_MAX, M_TRIM_THRESHOLD
            assert libc.mallopt(param, value) == 1
    import torch

    from vidstyle.bench import random_target, synthetic_frames
    from vidstyle.parallel import FrameWorkers
    from vidstyle.stylizer import default_workers, load_stylizer

    stylizer = load_stylizer(model, device="cpu")
    target = random_target(stylizer)
    w, h = (int(v) for v in size.split("x"))
    frames = synthetic_frames(1, w, h)
    workers = default_workers(stylizer.device)
    with torch.no_grad(), FrameWorkers(workers) as pool:
        list(pool.map(lambda _: stylizer.stylize_frames(frames, target), range(2 * workers)))
        rss_warm, faults = _rss_mb(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        n, start, rss_trace = 0, time.perf_counter(), []
        while n < 4 * workers or time.perf_counter() - start < seconds:
            list(pool.map(lambda _: stylizer.stylize_frames(frames, target), range(workers)))
            n += workers
            if n % (8 * workers) == 0:
                rss_trace.append(round(_rss_mb()))
        wall = time.perf_counter() - start
    return {"setting": setting, "model": model, "size": size, "workers": workers, "frames": n,
            "fps": n / wall,
            "faults_per_frame": (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / n,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "rss_growth_mb": _rss_mb() - rss_warm, "rss_mb_every_8_steps": rss_trace}


def run_child(setting: str, model: str, size: str, seconds: float) -> dict:
    env = dict(os.environ)
    env.pop("THP_MEM_ALLOC_ENABLE", None)
    if "thp" in setting:
        env["THP_MEM_ALLOC_ENABLE"] = "1"
    out = subprocess.run([sys.executable, __file__, "--child", setting, "--model", model, "--sizes", size,
                          "--seconds", str(seconds)], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_conversion(setting: str, model: str, size: str, frames: int) -> dict:
    """End-to-end row of `vidstyle bench --no-model`, as kept (the command line's default) or default."""
    env = dict(os.environ, VIDSTYLE_KEEP_FREED_MEMORY="1" if setting == "kept" else "0")
    out = subprocess.run([sys.executable, "-m", "vidstyle.cli.main", "bench", "--no-model", "--model", model,
                          "--sizes", size, "--frames", str(frames), "--json", "-"],
                         env=env, check=True, capture_output=True, text=True)
    doc = json.loads(out.stdout)
    assert doc["freed_memory_kept"] == (setting == "kept"), doc["freed_memory_kept"]
    row = next(r for r in doc["results"] if r["stage"] == "end-to-end")
    return {"setting": setting, "model": model, "size": size, "frames": row["frames"], "fps": row["fps"],
            "peak_rss_mb": row["peak_rss_mb"], "cpu_ms_per_frame": row.get("cpu_ms_per_frame")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="full")
    ap.add_argument("--sizes", nargs="+", default=["640x360", "1280x720"])
    ap.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=SETTINGS)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--end-to-end", action="store_true", help="time file conversion by the command line")
    ap.add_argument("--frames", type=int, default=120, help="frames of the clip, with --end-to-end")
    ap.add_argument("--json")
    ap.add_argument("--child", choices=SETTINGS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.model, args.sizes[0], args.seconds)))
        return

    from results_file import write_results

    rows = []
    # the command line's setting is kept or, told so, glibc's default
    settings = [s for s in args.settings if s in ("default", "kept")] if args.end_to_end else args.settings
    keys = ("fps", "peak_rss_mb") + (() if args.end_to_end else ("faults_per_frame", "rss_growth_mb"))
    for size in args.sizes:
        runs: dict = {s: [] for s in settings}
        for _ in range(args.rounds):
            for setting in settings:
                runs[setting].append(run_conversion(setting, args.model, size, args.frames) if args.end_to_end
                                     else run_child(setting, args.model, size, args.seconds))
        base = statistics.median(r["fps"] for r in runs["default"]) if "default" in runs else None
        for setting, results in runs.items():
            row = {"setting": setting, "model": args.model, "size": size,
                   **{k: statistics.median(r[k] for r in results) for k in keys}, "runs": results}
            row["ratio_over_default"] = row["fps"] / base if base else None
            rows.append(row)
            print(f"{args.model} {size:>9s} {setting:>9s} {row['fps']:6.2f} FPS"
                  + (f" ({row['ratio_over_default']:.2f}x)" if base else "")
                  + (f"  {row['faults_per_frame']:8.0f} faults/frame" if "faults_per_frame" in row else "")
                  + f"  peak RSS {row['peak_rss_mb']:6.0f} MB"
                  + (f"  grew {row['rss_growth_mb']:+6.0f} MB" if "rss_growth_mb" in row else ""), flush=True)
    method = "median of --rounds fresh processes per setting, settings alternating in each round"
    write_results(args.json, rows=rows, end_to_end=args.end_to_end,
                  method=method + ("; vidstyle bench --no-model" if args.end_to_end else "; default workers"))


if __name__ == "__main__":
    main()
