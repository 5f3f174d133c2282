"""Shared fixtures: the real (frozen) encoder, a seeded random decoder, tiny generated media."""
from __future__ import annotations

import socket
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from PIL import Image

from vidstyle.decoder import Decoder
from vidstyle.encoder import Encoder
from vidstyle.stylizer import Stylizer


@pytest.fixture(scope="session")
def raw_encoder() -> Encoder:
    return Encoder(balanced=False)


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    return Encoder(balanced=True)


@pytest.fixture(scope="session")
def random_decoder() -> Decoder:
    torch.manual_seed(0)
    return Decoder().eval().requires_grad_(False)


@pytest.fixture(scope="session")
def stylizer(encoder, random_decoder) -> Stylizer:
    return Stylizer(random_decoder, device="cpu", precision="auto", encoder=encoder)


def frames_rgb(n: int, w: int, h: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    out = np.empty((n, h, w, 3), np.uint8)
    for i in range(n):
        out[i, ..., 0] = (xx * 4 + i * 7) % 256
        out[i, ..., 1] = (yy * 4 + i * 3) % 256
        out[i, ..., 2] = rng.integers(0, 256, (h, w))
    return out


def _srt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


LANGUAGES = ("eng", "fra", "spa", "ita")  # (codes that MOV stores too: not "deu")


def write_clip(path: Path, n: int = 12, w: int = 64, h: int = 48, fps: int = 24,
               audio: bool = True, pts_step: int = 1, keyframe_every: int | None = None,
               bframes: int = 0, start_s: int = 0, audio_tracks: int = 1, subtitles=(),
               stored_in_order: bool = False) -> Path:
    """An H.264 clip (optionally with AAC audio) made here, so tests need no files; the
    container follows the suffix. `start_s`: its clock starts there (a broadcast recording).
    With `audio_tracks` > 1, track k sounds 440 * (k + 1) Hz and speaks LANGUAGES[k].
    `subtitles`: (start s, end s, text) lines of a SubRip track in French (Matroska holds it).
    `stored_in_order`: the streams stored as muxed here (all the picture, then the sound and
    the subtitles), not interleaved by time."""
    srt = None
    if subtitles:  # (PyAV cannot open a SubRip encoder: the track is copied from an .srt file)
        lines = [f"{i}\n{_srt_time(a)} --> {_srt_time(b)}\n{text}\n" for i, (a, b, text) in enumerate(subtitles, 1)]
        srt_path = path.with_suffix(".srt")
        srt_path.write_text("\n".join(lines), encoding="utf-8")
        srt = av.open(str(srt_path))
    with av.open(str(path), "w", options={"max_interleave_delta": "1"} if stored_in_order else None) as out:
        v = out.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        v.options = {"preset": "ultrafast"}
        if keyframe_every:
            v.options = {**v.options, "g": str(keyframe_every), "keyint_min": str(keyframe_every),
                         "sc_threshold": "0"}
        if bframes:  # frames decoded out of display order, as most real H.264 files have
            v.options = {**v.options, "bf": str(bframes)}
        tracks = []
        for k in range(audio_tracks if audio else 0):
            a = out.add_stream("aac", rate=22050)
            a.layout = "mono"
            if audio_tracks > 1:
                a.metadata["language"] = LANGUAGES[k]
            tracks.append(a)
        if srt is not None:
            text_track = out.add_stream_from_template(srt.streams[0])
            text_track.metadata["language"] = "fra"
        for i, img in enumerate(frames_rgb(n, w, h)):
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            f.pts, f.time_base = (i + start_s * fps) * pts_step, Fraction(1, fps * pts_step)
            out.mux(v.encode(f))
        out.mux(v.encode(None))
        if srt is not None:
            for packet in srt.demux():
                if packet.size:
                    packet.stream = text_track
                    out.mux(packet)
            srt.close()
        for k, a in enumerate(tracks):
            sr, chunk = 22050, 1024
            t = np.arange(int(sr * n / fps)) / sr
            tone = (0.3 * np.sin(2 * np.pi * 440 * (k + 1) * t)).astype(np.float32)
            for s in range(0, len(tone) - chunk + 1, chunk):
                af = av.AudioFrame.from_ndarray(tone[None, s:s + chunk], format="fltp", layout="mono")
                af.sample_rate, af.pts = sr, s + start_s * sr
                out.mux(a.encode(af))
            out.mux(a.encode(None))
    return path


def write_lagged_clip(path: Path, lags, video_options: dict, ms_times: bool = False, n: int = 72) -> Path:
    """`n` frames (24 FPS) and an AAC track per entry of `lags`: track k sounds 440 * (k + 1)
    Hz, speaks LANGUAGES[k] and is stored lags[k] seconds behind the picture of its time (as
    some cameras store sound); frames timed in milliseconds with `ms_times`."""
    with av.open(str(path), "w", options={"max_interleave_delta": "1"}) as f:
        video = f.add_stream("libx264", rate=24)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        video.options = video_options
        pending = []
        for k, lag in enumerate(lags):
            sound = f.add_stream("aac", rate=22050)
            sound.layout = "mono"
            sound.metadata["language"] = LANGUAGES[k]
            tone = (0.3 * np.sin(2 * np.pi * 440 * (k + 1) * np.arange(n * 22050 // 24) / 22050)).astype(np.float32)
            packets = []
            for s in range(0, len(tone) - 1023, 1024):
                frame = av.AudioFrame.from_ndarray(tone[None, s:s + 1024], format="fltp", layout="mono")
                frame.sample_rate, frame.pts, frame.time_base = 22050, s, Fraction(1, 22050)
                packets += sound.encode(frame)
            pending.append((packets + sound.encode(None), lag))
        for i, image in enumerate(frames_rgb(n, 64, 48)):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = (i * 1000 // 24, Fraction(1, 1000)) if ms_times else (i, Fraction(1, 24))
            f.mux(video.encode(frame))
            for packets, lag in pending:
                while packets and float(packets[0].pts * packets[0].time_base) <= i / 24 - lag:
                    f.mux(packets.pop(0))
        f.mux(video.encode(None))
        for packets, _ in pending:
            f.mux(packets)
    return path


def write_grey_levels(path: Path, levels, fps, w=32, h=24, times_ms=None) -> Path:
    """A clip whose frame j is flat grey at levels[j] (lossless), to see which mask frame
    an input frame got; at `fps`, or shown from `times_ms[j]` milliseconds (a variable rate)."""
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        v.options = {"preset": "ultrafast", "qp": "0"}
        time_base = Fraction(1, 1000) if times_ms else Fraction(1, fps)
        v.codec_context.time_base = time_base
        for j, level in enumerate(levels):
            f = av.VideoFrame.from_ndarray(np.full((h, w, 3), level, np.uint8), format="rgb24")
            f.pts, f.time_base = (times_ms[j] if times_ms else j), time_base
            out.mux(v.encode(f))
        out.mux(v.encode(None))
    return path


def damage_packets(path, indices) -> None:
    """Zero the bytes of these video packets in the file, as a bad sector or a broken copy would."""
    with av.open(str(path)) as c:
        spans = [(p.pos, p.size) for p in c.demux(video=0) if p.size]
    data = bytearray(path.read_bytes())
    for i in indices:
        pos, size = spans[i]
        data[pos:pos + size] = bytes(size)
    path.write_bytes(bytes(data))


def free_port(kind=socket.SOCK_STREAM) -> int:
    """A local port nothing listens on now (TCP, or UDP with socket.SOCK_DGRAM)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def clip(tmp_path) -> Path:
    return write_clip(tmp_path / "clip.mp4")


@pytest.fixture
def style_png(tmp_path) -> Path:
    rng = np.random.default_rng(3)
    img = (rng.random((40, 40, 3)) * 255).astype(np.uint8)
    path = tmp_path / "style.png"
    Image.fromarray(img).save(path)
    return path


@pytest.fixture(scope="session")
def trained_stylizer(encoder) -> Stylizer:
    """The shipped decoder, for tests whose outcome depends on a sensible image."""
    return Stylizer(device="cpu", encoder=encoder)


class FakeDisplay:
    """A preview window that records what it was shown and answers with scripted keys."""

    def __init__(self, keys=()):
        self.keys = list(keys)
        self.shown = []
        self.overlays = []

    def show(self, rgb, overlay):
        self.shown.append(rgb)
        self.overlays.append(overlay)
        return self.keys.pop(0) if self.keys else -1

    def close(self):
        pass


class FakeCapture:
    """OpenCV-like capture producing numbered BGR frames; can be 'unplugged'."""

    def __init__(self, w=40, h=32, fps=200.0, unplug_after=None):
        self.w, self.h, self.period = w, h, 1.0 / fps
        self.count = 0
        self.unplug_after = unplug_after
        self.released = False

    def read(self):
        time.sleep(self.period)
        if self.unplug_after is not None and self.count >= self.unplug_after:
            return False, None
        self.count += 1
        img = np.full((self.h, self.w, 3), self.count % 256, np.uint8)
        img[..., 0] = 255  # blue in BGR -> must arrive as the last RGB channel
        return True, img

    def release(self):
        self.released = True


@pytest.fixture
def fake_camera(monkeypatch, request):
    """`vidstyle webcam` gets a camera that sends frames of 40x32 and is unplugged after 12
    (or after the number a test's `frames` mark gives)."""
    import vidstyle.sources

    opened = []
    mark = request.node.get_closest_marker("frames")
    frames = mark.args[0] if mark else 12

    def open_camera(*args, **kwargs):
        opened.append(FakeCapture(fps=100, unplug_after=frames))
        return opened[-1]

    monkeypatch.setattr(vidstyle.sources, "open_camera", open_camera)
    return opened
