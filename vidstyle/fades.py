"""Fading the style in at the start of a video and out at its end.

A fade weight w goes from 0 to 1 over the first seconds and back over the last.
It scales the content-style trade-off alpha (the paper's run-time control), so
the strokes grow in feature space, and it also mixes the output with the input
frame (w x stylized + (1 - w) x input): at alpha 0 the decoder gives back only an
approximation of the photo (softer, colours a little off), and a fade should
begin and end on the real picture.
"""
from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import Iterable, Iterator

import numpy as np

from .errors import VidstyleError
from .stylizer import Target


def fade_factor(t: float, fade_in: float, fade_out: float, total: float | None) -> float:
    """The fade weight at `t` seconds into a video of `total` seconds (0..1)."""
    factor = 1.0
    if fade_in > 0:
        factor = min(factor, max(0.0, t / fade_in))
    if fade_out > 0 and total is not None:
        factor = min(factor, max(0.0, (total - t) / fade_out))
    return factor


class Fades:
    """Fade-in and fade-out seconds for a video of `total` seconds at `rate` frames per
    second (nominal). A frame's time is its timestamp counted from the first frame's
    (`timed()` notes them as the frames go by), so variable frame rates fade on time;
    frames without one are placed by their count. Each frame stands for its time plus
    half a nominal frame."""

    def __init__(self, fade_in: float, fade_out: float, rate: Fraction, total: float | None):
        for name, seconds in (("--fade-in", fade_in), ("--fade-out", fade_out)):
            if seconds < 0:
                raise VidstyleError(f"{name} must be 0 or more seconds, got {seconds:g}")
        if fade_out and not total:
            raise VidstyleError("--fade-out needs the video's duration, and this file does not list it")
        self.fade_in, self.fade_out, self.total = fade_in, fade_out, total
        self._frame_s = 1 / float(rate)
        self._times: dict[int, float] = {}  # frame index -> seconds, until its mix()
        self._origin: float | None = None  # the timestamp that is 0 s
        self._last: tuple[int, float] | None = None  # the last timed frame: (index, seconds)

    def __bool__(self) -> bool:
        return bool(self.fade_in or self.fade_out)

    def timed(self, frames: Iterable) -> Iterator:
        """The frames (vidstyle.sources.Frame) passed on, each one's time noted. A frame
        without a timestamp follows the last timed one by its count, and frames before
        the first timestamp keep their count's times, so the scale never restarts."""
        for index, frame in enumerate(frames):
            if frame.pts is not None and frame.time_base:
                t = float(frame.pts * frame.time_base)
                if self._origin is None:
                    self._origin = t - index * self._frame_s
                self._last = (index, t - self._origin)
                self._times[index] = t - self._origin
            elif self._last is not None:
                last_index, last_t = self._last
                self._times[index] = last_t + (index - last_index) * self._frame_s
            yield frame

    def weight(self, index: int) -> float:
        """The fade weight of frame `index`."""
        t = self._times.get(index, index * self._frame_s) + self._frame_s / 2
        return fade_factor(t, self.fade_in, self.fade_out, self.total)

    def targets(self, target_for):
        """`target_for(index, frames) -> Target` with one alpha per frame, scaled by each
        frame's weight (a batch of 8 would otherwise step through a short fade)."""
        def faded(index: int, frames: np.ndarray) -> Target:
            target = target_for(index, frames)
            alphas = tuple(target.alpha * self.weight(index + i) for i in range(len(frames)))
            return replace(target, alpha=alphas)

        return faded

    def mix(self, index: int, original, stylized: np.ndarray) -> np.ndarray:
        """Frame `index`'s output mixed with its input frame by the fade weight (called once
        per frame, in order, after its target). `original()` gives the input frame at the
        output's size, asked for only where the weight is under 1."""
        w = self.weight(index)
        self._times.pop(index, None)
        if w >= 1.0:
            return stylized
        out = w * stylized.astype(np.float32) + (1.0 - w) * original().astype(np.float32)
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)
