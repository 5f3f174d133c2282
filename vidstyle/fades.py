"""Fading the style in at the start of a video and out at its end.

A fade weight w goes from 0 to 1 over the first seconds and back over the last.
It scales the content-style trade-off alpha (the paper's run-time control), so
the strokes grow in feature space, and it also mixes the output with the input
frame (w x stylized + (1 - w) x input): at alpha 0 the decoder gives back only an
approximation of the photo (softer, colours a little off), and a fade should
begin and end on the real picture.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

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


@dataclass(frozen=True)
class Fades:
    """Fade-in and fade-out seconds for a video of `total` seconds at `rate` frames per
    second. Frame i stands for [i, i + 1) / rate; a variable frame rate moves a fade by
    a frame or two at most, which over seconds does not show."""
    fade_in: float
    fade_out: float
    rate: Fraction
    total: float | None

    def __post_init__(self):
        for name, seconds in (("--fade-in", self.fade_in), ("--fade-out", self.fade_out)):
            if seconds < 0:
                raise VidstyleError(f"{name} must be 0 or more seconds, got {seconds:g}")
        if self.fade_out and not self.total:
            raise VidstyleError("--fade-out needs the video's duration, and this file does not list it")

    def __bool__(self) -> bool:
        return bool(self.fade_in or self.fade_out)

    def weight(self, index: float) -> float:
        """The fade weight of frame `index` (taken at the middle of its time)."""
        return fade_factor((index + 0.5) / float(self.rate), self.fade_in, self.fade_out, self.total)

    def targets(self, target_for):
        """`target_for(index, frames) -> Target` with alpha scaled by the batch's middle
        frame's weight."""
        def faded(index: int, frames: np.ndarray) -> Target:
            target = target_for(index, frames)
            return replace(target, alpha=target.alpha * self.weight(index + (len(frames) - 1) / 2))

        return faded

    def mix(self, index: int, original: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        """Frame `index`'s output mixed with its input frame by the fade weight."""
        w = self.weight(index)
        if w >= 1.0:
            return stylized
        if original.shape != stylized.shape:  # --size: the input frame at the output's size
            import cv2

            original = cv2.resize(original, (stylized.shape[1], stylized.shape[0]),
                                  interpolation=cv2.INTER_AREA)
        out = w * stylized.astype(np.float32) + (1.0 - w) * original.astype(np.float32)
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)
