"""Temporal steadiness (`--steady`): warping error and style strength, with and without.

Every sequence is stylized frame by frame once per model and style; `FlowBlend` then
runs over those outputs at each strength, so all rows share the same model outputs.

- warping error: mean |O_t - O_t+1 pulled back along the flow| (0..255) over pixels
  the flow marks as visible in both frames; lower is steadier. The inputs' own error
  (lighting, motion blur, resampling) is the floor.
  * MPI-Sintel alley_1, cave_2, market_5, clean and final passes: frames 1-4, the
    pair 2 -> 3 scored with its **ground-truth** flow and occlusion masks.
  * marple8 (real footage): frames 1-5, all 4 pairs scored with the DeepFlow
    estimates and reliability masks that ship with it (estimates, not ground truth).
- flicker: mean |O_t - O_t-1| (0..255) over the first 24 frames of the webcam clip
  `imageio_test_webm.webm` (a still camera, a person waving), whole frame and its
  right quarter (a plain wall: the input changes by ~4.5 there, sensor noise).
- style gap (`vidstyle eval`'s, 1 = unstylized) and content loss of the last frame of
  each sequence: what the blending costs in stylization.
- milliseconds per frame of the blend alone at 640x360 and 1280x720.

    python benchmarks/temporal.py --json benchmarks/results/temporal.json
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from results_file import write_results
from vidstyle.style_cache import style_image
from vidstyle.evaluate import Scorer
from vidstyle.sources import VideoFileSource
from vidstyle.stylizer import Target, load_stylizer
from vidstyle.temporal import FlowBlend, warp_error

VIDEO = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "eval" / "video"
STYLES = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "eval" / "style"


def read_flo(path: Path) -> np.ndarray:
    """Middlebury .flo: magic 202021.25, width, height, then (dx, dy) float32 per pixel."""
    raw = path.read_bytes()
    if np.frombuffer(raw[:4], np.float32)[0] != 202021.25:
        raise ValueError(f"{path} is not a .flo file")
    w, h = np.frombuffer(raw[4:12], np.int32)
    return np.frombuffer(raw[12:], np.float32, count=w * h * 2).reshape(h, w, 2).copy()


def read_rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def sequences(video: Path):
    """(name, frames, [(index t, flow t -> t+1, valid mask on t)])."""
    for scene in ("alley_1", "cave_2", "market_5"):
        root = video / "sintel_flow_gt" / scene
        gt = root / "gt"
        valid = (cv2.imread(str(gt / "occlusions_0002.png"), 0) < 128) & \
                (cv2.imread(str(gt / "invalid_0002.png"), 0) < 128)
        flow = read_flo(gt / "flow_0002_to_0003.flo")
        for pass_ in ("clean", "final"):
            frames = [read_rgb(root / pass_ / f"frame_{i:04d}.png") for i in range(1, 5)]
            yield f"sintel {scene} {pass_}", frames, [(1, flow, valid)]
    root = video / "marple8"
    frames = [read_rgb(root / f"marple8_{i:02d}.png") for i in range(1, 6)]
    pairs = [(i - 1, read_flo(root / "deepflow" / f"forward_{i}_{i + 1}.flo"),
              cv2.imread(str(root / "deepflow" / f"reliable_{i}_{i + 1}.pgm"), 0) > 127) for i in range(1, 5)]
    yield "marple8 (DeepFlow estimates)", frames, pairs


def webcam_clip(video: Path, frames: int = 24) -> list[np.ndarray]:
    with VideoFileSource(video / "imageio_test_webm.webm") as source:
        return [frame.image for _, frame in zip(range(frames), source)]


def flicker(frames: list[np.ndarray]) -> dict:
    change = np.abs(np.diff(np.stack(frames).astype(np.int16), axis=0)).mean(axis=(0, 3))
    wall = change[:, 3 * change.shape[1] // 4:]
    return {"flicker": float(change.mean()), "flicker_wall": float(wall.mean())}


def mean_warp_error(frames: list[np.ndarray], pairs) -> float:
    return float(np.mean([warp_error(frames[t], frames[t + 1], flow, valid) for t, flow, valid in pairs]))


def steadied(inputs: list[np.ndarray], outputs: list[np.ndarray], strength: float) -> list[np.ndarray]:
    blend = FlowBlend(strength)
    return [blend(i, o) for i, o in zip(inputs, outputs)]


def as_tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(rgb).permute(2, 0, 1).float() / 255


def blend_ms(width: int, height: int, frames: int = 30) -> float:
    """Milliseconds per frame of FlowBlend(0.5) on a moving synthetic pattern."""
    rng = np.random.default_rng(0)
    base = cv2.GaussianBlur(rng.integers(0, 255, (height + 64, width + 64, 3), dtype=np.uint8), (0, 0), 3)
    blend = FlowBlend(0.5)
    seconds = []
    for i in range(frames):
        frame = np.ascontiguousarray(base[i % 32:i % 32 + height, i % 64:i % 64 + width])
        t0 = time.perf_counter()
        blend(frame, frame)
        seconds.append(time.perf_counter() - t0)
    return 1000 * float(np.median(seconds[3:]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["lite", "full"])
    ap.add_argument("--styles", nargs="+", default=["msgnet_candy.jpg", "msgnet_mosaic.jpg",
                                                    "msgnet_wave.jpg"])
    ap.add_argument("--strengths", nargs="+", type=float, default=[0.0, 0.3, 0.5, 0.7])
    ap.add_argument("--video", type=Path, default=VIDEO)
    ap.add_argument("--style-dir", type=Path, default=STYLES)
    ap.add_argument("--json")
    args = ap.parse_args()
    data = list(sequences(args.video))
    scorer = Scorer()
    # Built once, so that Scorer computes each input's features once.
    last_frames = {name: as_tensor(frames[-1]) for name, frames, _ in data}
    styles = {name: style_image(args.style_dir / name) for name in args.styles}
    rows = [{"model": "input", "sequence": name, "warp_error": mean_warp_error(frames, pairs)}
            for name, frames, pairs in data]
    for row in rows:
        print(f"input  {row['sequence']:34s} warp error {row['warp_error']:6.2f}")
    clip = webcam_clip(args.video)
    flickers = [{"model": "input", **flicker(clip)}]
    for model in args.models:
        stylizer = load_stylizer(model)
        for style_name, style in styles.items():
            target = Target(stylizer.style_stats(style))
            for name, frames, pairs in data:
                outputs = [stylizer.stylize_frames(f[None], target)[0] for f in frames]
                for strength in args.strengths:
                    steady = steadied(frames, outputs, strength)
                    score = scorer.score(as_tensor(steady[-1]), last_frames[name], style)
                    row = {"model": model, "style": style_name, "sequence": name, "strength": strength,
                           "warp_error": mean_warp_error(steady, pairs), **score}
                    rows.append(row)
                    print(f"{model:5s} {style_name:22s} {name:34s} steady {strength:.1f} warp error "
                          f"{row['warp_error']:6.2f} style gap {row['style_gap']:.3f}", flush=True)
            outputs = [stylizer.stylize_frames(f[None], target)[0] for f in clip]
            for strength in args.strengths:
                flickers.append({"model": model, "style": style_name, "strength": strength,
                                 **flicker(steadied(clip, outputs, strength))})
                print(f"{model:5s} {style_name:22s} webcam clip steady {strength:.1f} "
                      f"flicker {flickers[-1]['flicker']:.2f} (wall {flickers[-1]['flicker_wall']:.2f})")
    speed = {f"{w}x{h}": blend_ms(w, h) for w, h in ((640, 360), (1280, 720))}
    print("blend ms per frame:", {k: round(v, 2) for k, v in speed.items()})
    summary = summarise(rows, flickers, args.models, args.strengths)
    for line in summary:
        print(line)
    write_results(args.json, rows=rows, flicker=flickers, blend_ms=speed, summary=summary)


def mean_error(rows: list[dict], prefix: str) -> float:
    return float(np.mean([r["warp_error"] for r in rows if r["sequence"].startswith(prefix)]))


def summarise(rows: list[dict], flickers: list[dict], models: list[str], strengths: list[float]) -> list[str]:
    """Per model and strength: mean warping error on Sintel (GT) and marple8, flicker on the
    webcam clip, mean style gap."""
    lines = []
    for model in models:
        for strength in strengths:
            mine = [r for r in rows if r["model"] == model and r["strength"] == strength]
            gap = np.mean([r["style_gap"] for r in mine])
            wall = np.mean([f["flicker_wall"] for f in flickers
                            if f["model"] == model and f["strength"] == strength])
            content = np.mean([r["content_loss"] for r in mine])
            sintel, marple = mean_error(mine, "sintel"), mean_error(mine, "marple")
            lines.append(f"{model} steady {strength:.1f}: warp error Sintel {sintel:.2f}, "
                         f"marple8 {marple:.2f}; wall flicker {wall:.2f}; style gap {gap:.3f}, "
                         f"content loss {content:,.0f}")
    inputs = [r for r in rows if r["model"] == "input"]
    lines.append(f"inputs: warp error Sintel {mean_error(inputs, 'sintel'):.2f}, "
                 f"marple8 {mean_error(inputs, 'marple'):.2f}; "
                 f"wall flicker {flickers[0]['flicker_wall']:.2f}")
    return lines


if __name__ == "__main__":
    main()
