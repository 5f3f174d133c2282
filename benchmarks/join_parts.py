"""How long joining a stopped conversion's part to the rest takes (vidstyle.resume.join_parts):
the packets are copied, not encoded, so it should run at disk speed.

Two H.264 + AAC parts of noisy 1280x720 frames (large, like real footage at crf 18) are
made, then joined; the time and MB/s are printed.

    python benchmarks/join_parts.py --frames 150 --json benchmarks/results/join_parts_s24.json
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
from vidstyle.resume import join_parts


def make_part(path: Path, frames: int, first: int, fps: int = 30) -> None:
    rng = np.random.default_rng(first)
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = 1280, 720, "yuv420p"
        video.options = {"preset": "ultrafast", "crf": "18"}
        sound = out.add_stream("aac", rate=48000)
        sound.layout = "stereo"
        base = rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)
        for i in range(frames):
            noise = rng.integers(0, 24, (720, 1280, 3), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(np.roll(base, 8 * i, axis=1) + noise, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        t = np.arange(48000 * frames // fps) / 48000
        tone = (0.3 * np.stack([np.sin(2 * np.pi * 440 * t)] * 2)).astype(np.float32)
        for s in range(0, tone.shape[1] - 1023, 1024):
            chunk = av.AudioFrame.from_ndarray(tone[:, s:s + 1024], format="fltp", layout="stereo")
            chunk.sample_rate, chunk.pts = 48000, s
            out.mux(sound.encode(chunk))
        out.mux(sound.encode(None))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames", type=int, default=150, help="frames per part (default 150)")
    p.add_argument("--json", help="write the result here")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        first, second, joined = Path(tmp) / "a.mp4", Path(tmp) / "b.mp4", Path(tmp) / "joined.mp4"
        make_part(first, args.frames, 0)
        make_part(second, args.frames, 1)
        megabytes = (first.stat().st_size + second.stat().st_size) / 1e6
        t0 = time.perf_counter()
        join_parts(first, second, joined, 1 / 30)
        seconds = time.perf_counter() - t0
        with av.open(str(joined)) as container:
            frames = sum(1 for p in container.demux(video=0) if p.size)
    print(f"joined {megabytes:.0f} MB ({2 * args.frames} frames 1280x720 + AAC) in {seconds:.2f} s: "
          f"{megabytes / seconds:.0f} MB/s; {frames} frames in the result")
    write_results(args.json, megabytes=round(megabytes, 1), seconds=round(seconds, 3),
                  megabytes_per_second=round(megabytes / seconds, 1), frames=frames)
    return 0 if frames == 2 * args.frames else 1


if __name__ == "__main__":
    sys.exit(main())
