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
from .frame_clock import FrameClock
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
    second (nominal). A frame's time comes from its timestamp (vidstyle.frame_clock;
    `timed()` notes them as the frames go by), so variable frame rates fade on time.
    Each frame stands for its time plus half a nominal frame."""

    def __init__(self, fade_in: float, fade_out: float, rate: Fraction, total: float | None,
                 origin: float | None = None):
        for name, seconds in (("--fade-in", fade_in), ("--fade-out", fade_out)):
            if seconds < 0:
                raise VidstyleError(f"{name} must be 0 or more seconds, got {seconds:g}")
        if fade_out and not total:
            raise VidstyleError("--fade-out needs the video's duration, and this file does not list it")
        self.fade_in, self.fade_out, self.total = fade_in, fade_out, total
        # Times from the first frame, or from `origin` (a timestamp in seconds: a conversion
        # going on from a stopped one fades on the whole output's time).
        self._clock = FrameClock(rate, origin)

    def __bool__(self) -> bool:
        return bool(self.fade_in or self.fade_out)

    def timed(self, frames: Iterable) -> Iterator:
        """The frames passed on, each one's time noted (FrameClock.timed)."""
        return self._clock.timed(frames)

    def weight(self, index: int) -> float:
        """The fade weight of frame `index`."""
        t = self._clock.seconds(index) + self._clock.frame_s / 2
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
        self._clock.forget(index)
        if w >= 1.0:
            return stylized
        out = w * stylized.astype(np.float32) + (1.0 - w) * original().astype(np.float32)
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)
