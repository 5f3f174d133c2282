"""Render the bundled samples: a short clip with a soundtrack, and three style images.

Everything here is drawn by this script (no third-party images), so it can be
committed and re-made:  python samples/make_samples.py
"""
from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

HERE = Path(__file__).resolve().parent


def scene(t: float, w: int, h: int) -> np.ndarray:
    """A landscape at time t (seconds): sky, sun, rolling hills, a house, a ball."""
    y = np.linspace(0, 1, h)[:, None, None]
    img = (np.array([70, 130, 200]) * (1 - y) + np.array([200, 220, 240]) * y) * np.ones((h, w, 3))
    img = img.astype(np.uint8)
    cv2.circle(img, (int(w * (0.2 + 0.05 * t)), int(h * 0.25)), h // 9, (255, 220, 120), -1, cv2.LINE_AA)
    for k, (shade, amp, base) in enumerate([((90, 150, 80), 0.06, 0.62), ((50, 110, 50), 0.08, 0.75)]):
        xs = np.arange(w)
        ys = h * (base + amp * np.sin(xs / w * 2 * math.pi * (1.5 + k) + t * (0.6 + 0.4 * k)))
        pts = np.concatenate([np.stack([xs, ys], 1), [[w - 1, h - 1], [0, h - 1]]]).astype(np.int32)
        cv2.fillPoly(img, [pts], shade, cv2.LINE_AA)
    hx, hy = int(w * 0.65), int(h * 0.58)
    cv2.rectangle(img, (hx, hy), (hx + w // 8, hy + h // 6), (180, 60, 50), -1)
    cv2.fillPoly(img, [np.array([[hx - 6, hy], [hx + w // 16, hy - h // 9], [hx + w // 8 + 6, hy]])],
                 (90, 40, 30), cv2.LINE_AA)
    bx = int(w * (0.1 + 0.8 * (0.5 + 0.5 * math.sin(t * 1.3))))
    by = int(h * (0.85 - 0.25 * abs(math.sin(t * 3.0))))
    cv2.circle(img, (bx, by), h // 14, (240, 200, 40), -1, cv2.LINE_AA)
    return img


def make_clip(path: Path, seconds: float = 4.0, fps: int = 25, w: int = 384, h: int = 216) -> None:
    """H.264 video plus an AAC soundtrack (a two-note chime), like a real phone clip."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = w, h, "yuv420p"
        video.options = {"crf": "20", "preset": "slow"}
        audio = out.add_stream("aac", rate=44100)
        audio.layout = "mono"
        for i in range(int(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(scene(i / fps, w, h), format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        sr, n = 44100, 1024
        t = np.arange(int(seconds * sr)) / sr
        tone = 0.2 * np.sin(2 * np.pi * np.where(t % 1.0 < 0.5, 440.0, 660.0) * t) * np.exp(-3 * (t % 0.5))
        for start in range(0, len(tone) - n + 1, n):
            chunk = tone[start:start + n].astype(np.float32)[None]
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = sr, start
            out.mux(audio.encode(frame))
        out.mux(audio.encode(None))


def waves(rng: np.random.Generator, size: int = 384) -> np.ndarray:
    """Deep blue bands with white crests (woodblock-print-like)."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    phase = 6 * yy + 1.2 * np.sin(6 * xx + 3 * yy) + 0.04 * rng.standard_normal((size, size))
    band = (np.sin(2 * np.pi * phase) + 1) / 2
    palette = np.array([[20, 40, 90], [40, 90, 160], [230, 230, 215]], dtype=np.float32)
    idx = np.clip((band * 2.999).astype(int), 0, 2)
    img = palette[idx]
    return cv2.GaussianBlur(img, (3, 3), 0).astype(np.uint8)


def mosaic(rng: np.random.Generator, size: int = 384, cells: int = 140) -> np.ndarray:
    """Bright Voronoi tiles with dark grout (stained-glass-like)."""
    seeds = rng.uniform(0, size, (cells, 2))
    colours = rng.choice(np.array([[220, 60, 50], [250, 200, 40], [40, 120, 200], [60, 170, 90],
                                   [240, 130, 30], [150, 60, 160]]), cells)
    yy, xx = np.mgrid[0:size, 0:size]
    d = (xx[..., None] - seeds[:, 0]) ** 2 + (yy[..., None] - seeds[:, 1]) ** 2
    order = np.sort(d, axis=2)
    img = colours[np.argmin(d, axis=2)].astype(np.float32)
    edge = (np.sqrt(order[..., 1]) - np.sqrt(order[..., 0])) < 2.5
    img[edge] = (30, 25, 20)
    return img.astype(np.uint8)


def strokes(rng: np.random.Generator, size: int = 384, n: int = 2500) -> np.ndarray:
    """Short swirling brush strokes in night blues and yellows (impasto-like)."""
    img = np.full((size, size, 3), (25, 40, 90), np.uint8)
    palette = [(30, 60, 140), (60, 100, 180), (240, 210, 80), (250, 240, 170), (20, 30, 60), (90, 150, 200)]
    for _ in range(n):
        x, y = rng.uniform(0, size, 2)
        angle = math.atan2(y - size / 2, x - size / 2) + math.pi / 2 + rng.normal(0, 0.3)
        length = rng.uniform(6, 16)
        dx, dy = math.cos(angle) * length, math.sin(angle) * length
        colour = palette[rng.integers(len(palette))]
        cv2.line(img, (int(x - dx), int(y - dy)), (int(x + dx), int(y + dy)), colour,
                 int(rng.integers(2, 5)), cv2.LINE_AA)
    return img


def main() -> None:
    rng = np.random.default_rng(7)
    (HERE / "styles").mkdir(exist_ok=True)
    for name, fn in [("waves", waves), ("mosaic", mosaic), ("strokes", strokes)]:
        cv2.imwrite(str(HERE / "styles" / f"{name}.png"), cv2.cvtColor(fn(rng), cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(HERE / "landscape.png"), cv2.cvtColor(scene(1.0, 384, 216), cv2.COLOR_RGB2BGR))
    make_clip(HERE / "clip.mp4")


if __name__ == "__main__":
    main()
