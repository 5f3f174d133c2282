"""GIF palette settings on stylized frames: encode time per frame and file size.

Encodes the same stylized clip's frames (decoded once into memory) to GIF with each
palette setting, one after the other, and reports CPU-ms per frame (the encode thread
runs alone), bytes and PSNR against the frames.

    vidstyle convert samples/clip.mp4 -s samples/styles/strokes.png --model lite --crf 0 -o /tmp/stylized.mp4
    python benchmarks/gif_options.py /tmp/stylized.mp4 --json benchmarks/results/gif_options_s21.json
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from fractions import Fraction

import av
import numpy as np

from results_file import write_results
from vidstyle.gif_sink import palette_graph

SETTINGS = {  # name: (palettegen options, paletteuse options)
    "per-frame palette, sierra2_4a dither (FFmpeg's default)": ("stats_mode=single", "new=1"),
    "per-frame palette, bayer dither": ("stats_mode=single", "new=1:dither=bayer:bayer_scale=3"),
    "per-frame palette, no dither": ("stats_mode=single", "new=1:dither=none"),
}


def encode(frames, path, palettegen: str, paletteuse: str, rate=Fraction(25)) -> float:
    h, w = frames[0].shape[:2]
    tb = Fraction(1, 100)
    out = av.open(path, "w", format="gif")
    stream = out.add_stream("gif", rate=rate)
    stream.width, stream.height, stream.pix_fmt, stream.time_base = w, h, "pal8", tb
    graph, src, sink = palette_graph(w, h, palettegen, paletteuse)
    start = time.process_time()

    def drain():
        while True:
            try:
                out.mux(stream.encode(sink.pull()))
            except (av.error.BlockingIOError, av.error.EOFError):
                return

    for i, img in enumerate(frames):
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts, frame.time_base = i * 4, tb
        src.push(frame)
        drain()
    src.push(None)
    drain()
    out.mux(stream.encode(None))
    out.close()
    return 1000 * (time.process_time() - start) / len(frames)


def psnr(path, frames) -> float:
    with av.open(path) as c:
        decoded = [f.to_ndarray(format="rgb24").astype(float) for f in c.decode(video=0)]
    mse = np.mean([((a - b) ** 2).mean() for a, b in zip(decoded, frames)])
    return float(10 * np.log10(255**2 / mse))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("clip")
    p.add_argument("--json")
    args = p.parse_args()
    with av.open(args.clip) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (gen, use) in SETTINGS.items():
            path = os.path.join(tmp, "out.gif")
            ms = encode(frames, path, gen, use)
            row = {"setting": name, "cpu_ms_per_frame": ms, "bytes": os.path.getsize(path),
                   "psnr_db": psnr(path, frames)}
            rows.append(row)
            print(f"{name}: {ms:.1f} CPU-ms/frame, {row['bytes'] / 1e6:.2f} MB, {row['psnr_db']:.2f} dB")
    height, width = frames[0].shape[:2]
    write_results(args.json, clip=args.clip, frames=len(frames), size=f"{width}x{height}", rows=rows)


if __name__ == "__main__":
    main()
