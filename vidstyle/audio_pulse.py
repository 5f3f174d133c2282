"""The style that breathes with the soundtrack (`convert --audio-pulse S`).

The input's audio is decoded once (before the frames) into a loudness envelope:
RMS over 20 ms windows every 10 ms, in dB, followed with a fast attack and a slower
release (a beat lifts it at once, it falls back over ~0.2 s), then scaled so that
the quiet end of the track (its 10th percentile) is 0 and the loud end (its 98th)
is 1. Each frame's alpha is then alpha x (1 - S + S x envelope at its time): with
S = 1 the style comes and goes with the music, with S = 0.3 it only swells.
The whole track is measured, also for a part (`--start`), so a preview of a few
seconds pulses as the full run will.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

from .errors import VidstyleError
from .sources import start_seconds
from .stylizer import Target

HOP_S = 0.01  # envelope step
WINDOW_S = 0.02  # RMS window
ATTACK_S = 0.01  # time constants of the follower: rises at once...
RELEASE_S = 0.2  # ... falls back slowly
QUIET_PERCENTILE, LOUD_PERCENTILE = 10, 98
SILENCE_DB = -90.0  # the floor for digital silence
METER_RATE = 16000  # the track is measured in mono at this rate


def check_has_audio(path: str | Path) -> None:
    """Refuse a file without audio for --audio-pulse (its header only: before a model loads)."""
    import av

    path = Path(path)
    try:
        with av.open(str(path)) as container:
            has_audio = bool(container.streams.audio)
    except (av.error.FFmpegError, OSError):
        return  # unreadable: the conversion says so itself
    if not has_audio:
        raise VidstyleError(f"--audio-pulse follows the soundtrack, and {path.name} has no audio")


def loudness_envelope(path: str | Path) -> tuple[float, np.ndarray]:
    """(seconds of the first value, envelope in 0..1 every HOP_S seconds) of the file's
    first audio track, its times counted like the video's (from the video's first
    timestamp). VidstyleError when it has no audio, or none that decodes."""
    import av

    path = Path(path)
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise VidstyleError(f"cannot read {path} ({exc.strerror or exc})") from None
    with container:
        if not container.streams.audio:
            raise VidstyleError(f"--audio-pulse follows the soundtrack, and {path.name} has no audio")
        stream = container.streams.audio[0]
        video = container.streams.video[0] if container.streams.video else None
        origin = (start_seconds(video) if video is not None else None) or 0.0
        # Mono at a modest rate: loudness needs no more, and a film's track stays cheap.
        resampler = av.AudioResampler(format="flt", layout="mono", rate=METER_RATE)
        meter, start = PowerMeter(METER_RATE), None
        try:
            for frame in container.decode(stream):
                if start is None and frame.pts is not None and frame.time_base:
                    start = float(frame.pts * frame.time_base)
                for mono in resampler.resample(frame):
                    meter.feed(mono.to_ndarray().reshape(-1))
        except av.error.FFmpegError:
            pass  # a damaged tail: what decoded so far
        for mono in resampler.resample(None):  # the resampler's last few ms
            meter.feed(mono.to_ndarray().reshape(-1))
    if not meter.samples:
        raise VidstyleError(f"the audio of {path.name} does not decode, so --audio-pulse cannot follow it")
    return (start or 0.0) - origin, _shape(meter.finish())


class PowerMeter:
    """Mean square over WINDOW_S every HOP_S, fed a track chunk by chunk (memory stays
    that of the result, not of the samples)."""

    def __init__(self, rate: int):
        self.hop, self.window = max(1, round(HOP_S * rate)), max(1, round(WINDOW_S * rate))
        self.samples = 0
        self._tail = np.zeros(0)  # samples not yet at the start of a whole window
        self._power: list[np.ndarray] = []

    def feed(self, chunk: np.ndarray) -> None:
        self.samples += len(chunk)
        self._take(np.concatenate([self._tail, chunk.astype(np.float64)]))

    def _take(self, buf: np.ndarray) -> None:
        n = (len(buf) - self.window) // self.hop + 1 if len(buf) >= self.window else 0
        if n > 0:
            sums = np.concatenate([[0.0], np.cumsum(buf ** 2)])
            starts = np.arange(n) * self.hop
            self._power.append((sums[starts + self.window] - sums[starts]) / self.window)
            buf = buf[n * self.hop:]
        self._tail = buf

    def finish(self) -> np.ndarray:
        """One value per hop of the track (the last windows run into silence)."""
        self._take(np.concatenate([self._tail, np.zeros(self.window)]))
        steps = max(1, -(-self.samples // self.hop))
        return np.concatenate(self._power)[:steps] if self._power else np.zeros(1)


def _envelope(samples: np.ndarray, rate: int) -> np.ndarray:
    """The 0..1 envelope of a whole track in memory."""
    meter = PowerMeter(rate)
    meter.feed(samples)
    return _shape(meter.finish())


def _shape(power: np.ndarray) -> np.ndarray:
    """Mean squares -> dB, followed (fast attack, slow release), scaled to the track's range."""
    db = np.maximum(10 * np.log10(power + 1e-12), SILENCE_DB)
    followed = np.empty_like(db)
    up, down = 1 - np.exp(-HOP_S / ATTACK_S), 1 - np.exp(-HOP_S / RELEASE_S)
    level = db[0]
    for i, value in enumerate(db):
        level += (value - level) * (up if value > level else down)
        followed[i] = level
    quiet, loud = np.percentile(followed, [QUIET_PERCENTILE, LOUD_PERCENTILE])
    if loud - quiet < 1.0:  # a flat track (a steady tone, silence): nothing to follow
        return np.ones_like(followed)
    return np.clip((followed - quiet) / (loud - quiet), 0.0, 1.0)


class AudioPulse:
    """Scales each frame's alpha by the soundtrack's loudness at its time."""

    def __init__(self, strength: float, first_s: float, envelope: np.ndarray):
        if not 0.0 <= strength <= 1.0:
            raise VidstyleError(f"--audio-pulse must be between 0 and 1, got {strength:g}")
        self.strength, self._first_s, self._envelope = strength, first_s, envelope

    @classmethod
    def of_file(cls, strength: float, path: str | Path) -> "AudioPulse":
        return cls(strength, *loudness_envelope(path))

    def weight(self, t: float) -> float:
        """The alpha factor at `t` seconds of the input (0..1)."""
        i = int(np.clip(round((t - self._first_s) / HOP_S), 0, len(self._envelope) - 1))
        return 1.0 - self.strength + self.strength * float(self._envelope[i])

    def targets(self, target_for: Callable[[int, np.ndarray], Target],
                seconds_of: Callable[[int], float]) -> Callable[[int, np.ndarray], Target]:
        """`target_for(index, frames)` with one alpha per frame, scaled by the pulse at
        `seconds_of(frame index)` (its time in the input, at the frame's middle)."""
        def pulsed(index: int, frames: np.ndarray) -> Target:
            target = target_for(index, frames)
            n = len(frames)
            alphas = target.alpha if isinstance(target.alpha, tuple) else (target.alpha,) * n
            return replace(target, alpha=tuple(a * self.weight(seconds_of(index + i))
                                               for i, a in enumerate(alphas)))

        return pulsed
