"""Which VP9 crf matches libx264's default (crf 18) on stylized frames: quality, size, speed.

The clip is stylized once (any vidstyle output; default: the bundled sample with the
lite model), decoded to RGB, and the same frames are encoded by VideoFileSink with
each setting. Quality is the PSNR of the decoded frames against those RGB frames
(all planes), so every encoder is scored on the same pictures.

    vidstyle convert samples/clip.mp4 -s samples/styles/strokes.png --model lite --crf 0 \
        -o /tmp/stylized.mp4 --overwrite
    python benchmarks/vp9_crf.py /tmp/stylized.mp4 --json benchmarks/results/vp9_crf_s20.json
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from results_file import write_results
from vidstyle.sinks import VideoFileSink

# (codec, crf, preset): for VP9 the preset picks libvpx's deadline and cpu-used (vidstyle.sinks.VP9_SPEEDS).
SETTINGS = [("h264", 18, None), ("h264", 18, "ultrafast"), ("vp9", 24, None), ("vp9", 28, None),
            ("vp9", 31, None), ("vp9", 34, None), ("vp9", 31, "ultrafast"), ("vp9", 31, "fast")]


def decode_rgb(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def psnr(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    mse = np.mean([np.mean((x.astype(np.float64) - y) ** 2) for x, y in zip(a, b, strict=True)])
    return float(10 * np.log10(255 ** 2 / mse))


def measure(frames: list[np.ndarray], codec: str, crf: int, preset: str | None, folder: Path) -> dict:
    h, w = frames[0].shape[:2]
    path = folder / f"{codec}_{crf}_{preset or 'default'}.{'webm' if codec == 'vp9' else 'mp4'}"
    t0 = time.perf_counter()
    sink = VideoFileSink(path, w, h, Fraction(25), Fraction(1, 25), crf=crf, preset=preset, codec=codec)
    for i, frame in enumerate(frames):
        sink.write(frame, i)
    sink.close()
    seconds = time.perf_counter() - t0
    return {"codec": codec, "crf": crf, "preset": preset or "veryfast (default)",
            "psnr_db": round(psnr(frames, decode_rgb(path)), 2), "kbytes": path.stat().st_size // 1024,
            "encode_fps": round(len(frames) / seconds, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clip", type=Path, help="a stylized clip (ideally lossless: --crf 0)")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    frames = decode_rgb(args.clip)
    with tempfile.TemporaryDirectory() as folder:
        rows = [measure(frames, codec, crf, preset, Path(folder)) for codec, crf, preset in SETTINGS]
    for r in rows:
        print(f"{r['codec']:5} crf {r['crf']:2}  {r['preset']:20} {r['psnr_db']:6.2f} dB  "
              f"{r['kbytes']:6} KB  {r['encode_fps']:6.1f} FPS")
    h, w = frames[0].shape[:2]
    write_results(args.json, clip=str(args.clip), frames=len(frames), size=f"{w}x{h}", rows=rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
