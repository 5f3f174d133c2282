"""`vidstyle bench`: measure the FPS this machine achieves."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from vidstyle.sinks import X264_PRESETS

from .common import (add_network_args, add_workers_arg, frame_dimensions, interrupted_exit_code, positive_int,
                     stylizer_from_args)

EXAMPLES = """examples:
  vidstyle bench                                  # 256x256, 512x512 and 640x360 on a CPU
  vidstyle bench --sizes 640x360 1280x720 --batches 1 4 --json bench.json
  vidstyle bench --input my_clip.mp4 --no-model
"""


def size(text: str) -> tuple[int, int]:
    return frame_dimensions(text, smallest=16)


def register(sub) -> None:
    p = sub.add_parser("bench", help="measure model and end-to-end FPS",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=size, nargs="+", default=None, metavar="WxH",
                   help="frame sizes (default: 256x256 512x512 640x360 on CPU; "
                        "also 1280x720 1920x1080 on CUDA)")
    p.add_argument("--batches", type=positive_int, nargs="+", default=None, metavar="B",
                   help="batch sizes (default: 1 on CPU, 1 and 8 on CUDA)")
    p.add_argument("--steps", type=positive_int, default=10, help="timed model steps, at least (default 10)")
    p.add_argument("--seconds", type=float, default=3.0,
                   help="time each model-only measurement for at least this long (default 3)")
    p.add_argument("--frames", type=positive_int,
                   help="frames in the generated clip (default: about --seconds of conversion at the "
                        "model-only FPS, 30 to 600; 30 with --no-model)")
    p.add_argument("--repeat", type=positive_int, default=1, metavar="N",
                   help="measure model-only and end-to-end N times in turn per size and batch; the "
                        "end-to-end share of model-only FPS is the median of the rounds' (default 1)")
    p.add_argument("--input", metavar="VIDEO", help="also time conversion of this real file")
    p.add_argument("--no-model", action="store_true", help="skip the model-only measurements")
    p.add_argument("--no-file", action="store_true", help="skip the file-conversion measurements")
    p.add_argument("--json", metavar="FILE", help="write the results as JSON ('-' for stdout); Ctrl-C "
                                                  "still writes the rows measured so far")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --json file")
    p.add_argument("--preset", default="veryfast", choices=X264_PRESETS,
                   help="libx264 preset of the file conversions (default veryfast, as convert)")
    add_network_args(p)
    add_workers_arg(p)
    p.set_defaults(run=run)


def run(args) -> int:
    import sys

    from vidstyle.bench import random_target
    from vidstyle.errors import VidstyleError
    from vidstyle.outputs import check_output

    # Everything that can be refused is refused before minutes of measuring.
    if args.no_file and args.no_model and not args.input:
        raise VidstyleError("--no-model and --no-file leave nothing to measure")
    if args.input and not Path(args.input).is_file():
        raise VidstyleError(f"input not found: {args.input}")
    if args.json and args.json != "-":
        check_output(None, Path(args.json), overwrite=args.overwrite)
    # With --json -, stdout carries only the JSON: the table goes to stderr.
    out = sys.stderr if args.json == "-" else sys.stdout
    stylizer = stylizer_from_args(args)
    cuda = stylizer.device.type == "cuda"
    batches = args.batches or ([1, 8] if cuda else [1])
    sizes = args.sizes or ([(256, 256), (512, 512), (640, 360)]
                           + ([(1280, 720), (1920, 1080)] if cuda else []))
    target = random_target(stylizer)
    results: list[dict] = []
    try:
        _measure(args, stylizer, sizes, batches, target, results, out)
    except KeyboardInterrupt as exc:
        if not (args.json and results):
            raise
        _write(args, stylizer, results, interrupted=True)
        print(f"vidstyle: interrupted; the {len(results)} rows measured so far are in "
              f"{'stdout' if args.json == '-' else args.json}", file=sys.stderr)
        return interrupted_exit_code(exc)
    _write(args, stylizer, results)
    return 0


def _measure(args, stylizer, sizes, batches, target, results: list, out) -> None:
    """Append each measured row to `results` as soon as it is measured (and print it)."""

    from vidstyle.bench import bench_file, bench_model, end_to_end_shares

    for w, h in sizes:
        for b in batches:
            first = len(results)
            for round_ in range(1, args.repeat + 1):
                tag = {"round": round_} if args.repeat > 1 else {}
                frames = args.frames or 30
                if not args.no_model:
                    results.append({**bench_model(stylizer, w, h, b, args.steps, target=target,
                                                  workers=args.workers, min_seconds=args.seconds), **tag})
                    _print_row(results[-1], out)
                    # A clip long enough that start-up and the encoder's flush do not count much.
                    frames = args.frames or min(600, max(30, round(results[-1]["fps"] * args.seconds)))
                if not args.no_file:
                    for row in bench_file(stylizer, w, h, b, frames, target=target, preset=args.preset,
                                          workers=args.workers):
                        results.append({**row, **tag})
                        _print_row(results[-1], out)
            for share in end_to_end_shares(results[first:]):
                _print_share(share, out)
    if args.input:
        for row in bench_file(stylizer, 0, 0, batches[0], input_path=Path(args.input), target=target,
                              preset=args.preset, workers=args.workers):
            results.append({**row, "input": args.input})
            _print_row(results[-1], out)


def _write(args, stylizer, results: list, interrupted: bool = False) -> None:
    import time

    import torch

    from vidstyle.bench import end_to_end_shares
    from vidstyle.cpu_memory import freed_memory_kept
    from vidstyle.devices import describe_cpu
    from vidstyle.outputs import atomic_output

    doc = {"machine": describe_cpu(), "threads": torch.get_num_threads(),
           "torch": torch.__version__, "date": time.strftime("%Y-%m-%d"),
           "gpu": torch.cuda.get_device_name() if stylizer.device.type == "cuda" else None,
           "freed_memory_kept": freed_memory_kept(),
           **({"interrupted": True} if interrupted else {}), "results": results,
           "end_to_end_shares": end_to_end_shares(results)}
    if args.json == "-":
        print(json.dumps(doc, indent=2))
    elif args.json:
        with atomic_output(Path(args.json), args.overwrite) as tmp:
            tmp.write_text(json.dumps(doc, indent=2))


def _print_share(share: dict, out) -> None:
    """End-to-end FPS over model-only FPS: what decoding, encoding and the pipeline cost."""
    each = share["rounds"]
    listed = ", ".join(f"{r:.2f}" for r in each)
    rounds = f" (median of {len(each)} rounds: {listed})" if len(each) > 1 else ""
    print(f"{'end-to-end share':>17}  {share['width']:>4}x{share['height']:<4} batch {share['batch']:<2} "
          f"{share['median']:.2f} of model-only FPS{rounds}", file=out, flush=True)


def _print_row(r: dict, out) -> None:
    lat = f"p50 {r['p50_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms" if "p50_ms" in r else ""
    work = f" at work size {r['work_size']}" if r.get("work_size") else ""
    mem = (f"  peak {r['peak_mem_mb']:.0f} MB" if "peak_mem_mb" in r
           else f"  peak RSS {r['peak_rss_mb']:.0f} MB" if "peak_rss_mb" in r else "")
    cpu_total = f"  CPU {r['cpu_ms_per_frame']:.1f} ms/frame" if "cpu_ms_per_frame" in r else ""
    print(f"{r['stage']:>17}  {r['width']:>4}x{r['height']:<4} batch {r['batch']:<2} "
          f"workers {r.get('workers', 1)} "
          f"{r['fps']:8.1f} FPS  {lat}{mem}{cpu_total}  [{r['model']}{work} {r['device']} {r['precision']}]",
          file=out, flush=True)
    if "cpu_ms_per_frame_by_role" in r:  # where the CPU went during the conversion, largest first
        parts = ", ".join(f"{role} {ms:.1f}" for role, ms in r["cpu_ms_per_frame_by_role"].items())
        print(f"{'':>19}CPU ms/frame: {parts}; {r['cores_busy']:.0%} of {r['cores']} cores busy",
              file=out, flush=True)
