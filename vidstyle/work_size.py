"""Holding a live feed at a frame rate by changing the model's working size.

A frame model's time grows with its pixel count, so the shorter side at which a
frame takes 1/fps seconds is about size * sqrt(wanted time / measured time).
The controller measures the time per frame at the current working size (the
model's, plus the live loop's own work around it when that runs in between), and
every few frames moves the size there (in steps of 8 pixels, between a floor
and the frame's own size). It rounds down and moves down as soon as frames run 5%
over the budget, but up only when the budget has 10% of size to spare: the rate
shown settles at the one asked for or a little above it (at most 5% below), and
does not hunt between two sizes.
The model's output is scaled back to the frame's size (Stylizer.work_size), so
the preview, recordings and snapshots keep their size while detail comes and goes.
"""
from __future__ import annotations

import math
import statistics


class WorkSizeController:
    """The working size (shorter side, pixels) that makes frames take about 1/fps seconds.

    `largest`: the frame's own shorter side (or a --work-size cap); `smallest`:
    the floor (below ~100 pixels styles turn to mush). Starts at `largest`.
    After a change, `settle` frames are not timed: the first call at a new shape
    sets up its kernels, and with several workers, frames already running keep
    the old size.
    """

    def __init__(self, fps: float, largest: int, smallest: int = 96, step: int = 8, every: int = 5,
                 dead_band: float = 0.1, settle: int = 1, over_budget: float = 0.05):
        if fps <= 0:
            raise ValueError("fps must be positive")
        self.wanted = 1.0 / fps
        self.largest, self.smallest = largest, min(smallest, largest)
        self.step, self.every, self.dead_band, self.settle = step, every, dead_band, settle
        self.over_budget = over_budget
        self.size = largest
        self._samples: list[float] = []
        self._skip = settle

    def update(self, seconds: float) -> int:
        """Record one frame's time at the current size; returns the size for the next frames."""
        if self._skip:
            self._skip -= 1
            return self.size
        self._samples.append(seconds)
        if len(self._samples) < self.every:
            return self.size
        measured = statistics.median(self._samples)  # one slow frame (a busy core) is not a trend
        self._samples.clear()
        ideal = self.size * math.sqrt(self.wanted / measured)
        too_slow = measured > self.wanted * (1 + self.over_budget)
        room_to_grow = ideal > self.size * (1 + self.dead_band)
        if not (too_slow or room_to_grow):
            return self.size
        new = min(self.largest, max(self.smallest, math.floor(ideal / self.step) * self.step))
        if new != self.size:
            self.size, self._skip = new, self.settle
        return self.size
