"""What tone-mapping HDR input costs the decode thread, per frame.

Decodes the same 10-bit PQ clip (bench's generated frames, lifted to up to ~400
nits, encoded by libx264) with `--hdr keep` (8-bit RGB in the PQ coding) and
`--hdr sdr` (16-bit RGB, then vidstyle.tone_map), alternating the two, and reports
the decode thread's wall ms per frame (its CPU, as the thread runs alone) and the ratio.

    python benchmarks/tone_map.py --json benchmarks/results/tone_map.json
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import av
import numpy as np

from results_file import write_results
from vidstyle.bench import synthetic_frames
from vidstyle.sources import VideoFileSource
from vidstyle.tone_map import SDR_WHITE_NITS, nits_to_pq
from vidstyle.video_colors import BT2020_NCL, RANGE_LIMITED, SMPTE2084


def make_pq_clip(path: Path, frames: int, width: int, height: int) -> Path:
    """bench's synthetic frames as 10-bit BT.2020 PQ video, their whites at twice reference white."""
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=30)
        s.width, s.height, s.pix_fmt = width, height, "yuv420p10le"
        s.options = {"crf": "18", "preset": "veryfast"}
        cc = s.codec_context
        cc.colorspace, cc.color_primaries, cc.color_trc, cc.color_range = (BT2020_NCL, BT2020_NCL,
                                                                           SMPTE2084, RANGE_LIMITED)
        for i, rgb in enumerate(synthetic_frames(frames, width, height)):
            nits = 2 * SDR_WHITE_NITS * (rgb / 255.0) ** 2.4
            rgb16 = np.round(nits_to_pq(nits) * 65535).astype(np.uint16)
            frame = av.VideoFrame.from_ndarray(rgb16, format="rgb48le").reformat(
                format="yuv420p10le", dst_colorspace=9, dst_color_range=RANGE_LIMITED)
            frame.pts = i
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def decode_ms_per_frame(clip: Path, hdr: str) -> float:
    with VideoFileSource(clip, hdr=hdr) as source:
        for _ in source:
            pass
        return 1000 * statistics.median(source.decode_times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", nargs="+", default=["640x360", "1920x1080"])
    p.add_argument("--frames", type=int, default=30)
    p.add_argument("--rounds", type=int, default=3, help="keep/sdr alternations per size")
    p.add_argument("--json")
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            width, height = map(int, size.split("x"))
            clip = make_pq_clip(Path(tmp) / f"pq_{size}.mp4", args.frames, width, height)
            keep, sdr = [], []
            for _ in range(args.rounds):
                keep.append(decode_ms_per_frame(clip, "keep"))
                sdr.append(decode_ms_per_frame(clip, "sdr"))
            row = {"size": size, "keep_ms": min(keep), "sdr_ms": min(sdr),
                   "sdr_over_keep": min(sdr) / min(keep), "keep_all_ms": keep, "sdr_all_ms": sdr}
            rows.append(row)
            print(f"{size}: decode + RGB {row['keep_ms']:.1f} ms/frame kept HDR, {row['sdr_ms']:.1f} "
                  f"tone-mapped ({row['sdr_over_keep']:.2f}x; medians per run, best of {args.rounds})")
    write_results(args.json, frames=args.frames, rows=rows)


if __name__ == "__main__":
    main()
