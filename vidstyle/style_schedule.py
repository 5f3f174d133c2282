"""Styles that change along a video: cues (`--style-at 0:42 wave.jpg`) that switch to a
new style at a time of the input, cutting or cross-fading to it.

A cross-fade moves the cached statistics linearly from the style on screen to the
new one; AdaIN is affine in them, so this mixes the two styles' targets frame by
frame (as the webcam's --transition does). Each frame gets its own statistics, so a
batch of frames steps smoothly through a fade.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import replace
from typing import Callable, Sequence

import numpy as np

from .adain import StyleStats
from .errors import VidstyleError
from .stylizer import Target

# A frame this close after a cue's time (rounded timestamps) already shows it.
_SLACK_S = 5e-7


class StyleSchedule:
    """`first` from the start; each cue `(seconds, stats)` from its time of the input on,
    reached through a cross-fade of `transition` seconds (0: a cut). A cue that comes
    while a fade is under way fades on from wherever that fade had got to."""

    def __init__(self, first: StyleStats, cues: Sequence[tuple[float, StyleStats]], transition: float = 0.0):
        if not math.isfinite(transition) or transition < 0:
            raise VidstyleError(f"the transition must be 0 or more seconds, got {transition:g}")
        times = [t for t, _ in cues]
        if any(not math.isfinite(t) or t <= 0 for t in times):
            raise VidstyleError("a style cue's time must be after the start (more than 0 s; the first "
                                "--style is the one at 0)")
        if any(b <= a for a, b in zip(times, times[1:])):
            raise VidstyleError("style cues must come in order of time, each after the one before")
        self.transition = transition
        self._times = times
        self._styles = [first] + [stats for _, stats in cues]
        # What is on screen as each cue begins: where its fade starts from.
        self._from: list[StyleStats] = [first]
        for i in range(1, len(self._styles)):
            self._from.append(self._blend(i - 1, times[i - 1]))

    def __len__(self) -> int:
        return len(self._times)

    def cues_after(self, t: float) -> list[float]:
        """The cue times later than `t` (past a video's last frame: cues never reached)."""
        return [c for c in self._times if c > t]

    def _blend(self, i: int, t: float) -> StyleStats:
        """The statistics at `t` seconds while style `i` (0: the first) is the latest cued."""
        if i == 0 or not self.transition:
            return self._styles[i]
        w = (t - self._times[i - 1]) / self.transition
        if w >= 1.0:
            return self._styles[i]
        return StyleStats.combine([self._from[i], self._styles[i]], [1.0 - w, w])

    def stats_at(self, t: float) -> StyleStats:
        """The statistics at `t` seconds of the input."""
        return self._blend(bisect.bisect_right(self._times, t + _SLACK_S), t)

    def stats_for(self, times: Sequence[float], per_frame: bool = False) -> StyleStats:
        """One frame's statistics per time; the very object a style's frames share where
        they all show it whole (its device copy is then made once), unless `per_frame`
        (a compiled model: one shape of statistics for the whole run, never recompiled)."""
        stats = [self.stats_at(t) for t in times]
        if all(s is stats[0] for s in stats) and not per_frame:
            return stats[0]
        return StyleStats.stack(stats)

    def targets(self, target_for: Callable[[int, np.ndarray], Target], seconds_of: Callable[[int], float],
                per_frame: bool = False) -> Callable[[int, np.ndarray], Target]:
        """`target_for(index, frames)` with each frame's statistics taken from the schedule
        at `seconds_of(frame index)` (its time in the input); `per_frame`: see stats_for."""
        def scheduled(index: int, frames: np.ndarray) -> Target:
            target = target_for(index, frames)
            if target.mask is not None:
                raise VidstyleError("style cues and a mask cannot be combined")
            times = [seconds_of(index + i) for i in range(len(frames))]
            return replace(target, stats=self.stats_for(times, per_frame))

        return scheduled
