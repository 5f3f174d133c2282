"""CPU time that decoding and encoding cost per frame, without the model running.

On two cores the decode and encode threads take CPU from the model, so their CPU
time per frame (not their wall time) bounds how close end-to-end conversion can
get to model-only FPS: with the model using both cores for M ms per frame and IO
costing D + E CPU-ms per frame, end-to-end is at most 2M / (2M + D + E) of
model-only. Measured on `vidstyle bench`'s generated clip (smooth colour fields
plus noise) and on a blurred copy of it (a stylized frame's detail lies between the
two), for libx264 presets at crf 18 (with --codecs, libx265 at the same presets and
ProRes 422 HQ too), for the decoder's threading, and for converting
each decoded frame to RGB with a new swscale context (frame.to_ndarray) or one reused.

    python benchmarks/io_cpu.py --json benchmarks/results/io_cpu.json
"""
from __future__ import annotations

import argparse
import resource
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from results_file import write_results
from vidstyle.bench import make_clip, synthetic_frames
from vidstyle.sinks import CODECS, VideoFileSink


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def decode_cost(clip: Path, thread_type: str, one_converter: bool = True) -> float:
    """CPU ms per frame to decode and convert to RGB: with one swscale converter for the
    stream, as VideoFileSource does, or with frame.to_ndarray's new one per frame."""
    start, frames = cpu_seconds(), 0
    to_rgb = av.video.reformatter.VideoReformatter()
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        stream.thread_type = thread_type
        for frame in container.decode(stream):
            if one_converter:
                to_rgb.reformat(frame, format="rgb24").to_ndarray()
            else:
                frame.to_ndarray(format="rgb24")
            frames += 1
    return (cpu_seconds() - start) / frames * 1000


def encode_cost(frames: np.ndarray, path: Path, preset: str | None, codec: str = "h264") -> float:
    """CPU ms per frame for VideoFileSink (RGB -> YUV -> the encoder, its own thread)."""
    height, width = frames.shape[1:3]
    start = cpu_seconds()
    sink = VideoFileSink(path, width, height, Fraction(30), Fraction(1, 30), preset=preset, codec=codec)
    for i, image in enumerate(frames):
        sink.write(image, i)
    sink.close()
    return (cpu_seconds() - start) / len(frames) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["256x256", "640x360"])
    ap.add_argument("--frames", type=int, default=90)
    ap.add_argument("--presets", nargs="+", default=["veryfast", "superfast", "ultrafast"])
    ap.add_argument("--codecs", nargs="+", default=["h264"], choices=list(CODECS),
                    help="h265 is measured at --presets too, prores once (it has no presets)")
    ap.add_argument("--no-decode", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for size in args.sizes:
            w, h = (int(v) for v in size.split("x"))
            if not args.no_decode:
                clip = make_clip(tmp / f"{size}.mp4", args.frames, w, h)
                for thread_type in ("AUTO", "NONE"):
                    rows.append({"size": size, "stage": "decode", "setting": f"thread_type {thread_type}",
                                 "cpu_ms_per_frame": decode_cost(clip, thread_type)})
                rows.append({"size": size, "stage": "decode", "setting": "AUTO, to_ndarray(rgb24)",
                             "cpu_ms_per_frame": decode_cost(clip, "AUTO", one_converter=False)})
            noisy = synthetic_frames(args.frames, w, h)
            blurred = np.stack([cv2.GaussianBlur(f, (0, 0), 2) for f in noisy])
            for content, frames in (("generated clip", noisy), ("blurred", blurred)):
                for codec in args.codecs:
                    presets = args.presets if CODECS[codec].crf_and_preset else [None]
                    for preset in presets:
                        out = tmp / ("out.mov" if codec == "prores" else "out.mp4")
                        rows.append({"size": size, "stage": f"encode, {content}", "codec": codec,
                                     "setting": f"{codec} preset {preset}" if preset else codec,
                                     "cpu_ms_per_frame": encode_cost(frames, out, preset, codec)})
            for r in rows:
                if r["size"] == size:
                    print(f"{size:>9}  {r['stage']:24} {r['setting']:24} "
                          f"{r['cpu_ms_per_frame']:6.2f} CPU-ms/frame", flush=True)
    write_results(args.json, av=av.__version__, frames=args.frames, rows=rows)


if __name__ == "__main__":
    main()
