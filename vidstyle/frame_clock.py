"""Each frame's time in a video, from its timestamp, for controls that follow time
(fades, style cues) while frames travel through the pipeline by index."""
from __future__ import annotations

from fractions import Fraction
from typing import Iterable, Iterator


class FrameClock:
    """Frame index -> seconds from the first frame, noted as the frames go by.

    A frame's time is its timestamp counted from the first frame's (or from
    `origin`, a timestamp in seconds, where the times must be the input's own: the
    first frames of a cut file may not decode), so variable frame rates keep their
    times; a frame without one follows the last timed one by its count at the
    nominal `rate`, and frames before the first timestamp keep their count's times,
    so the scale never restarts.
    """

    def __init__(self, rate: Fraction, origin: float | None = None):
        self.frame_s = 1 / float(rate)
        self._times: dict[int, float] = {}  # frame index -> seconds, until forgotten
        self._origin = origin  # the timestamp that is 0 s
        self._last: tuple[int, float] | None = None  # the last timed frame: (index, seconds)

    def timed(self, frames: Iterable) -> Iterator:
        """The frames (vidstyle.sources.Frame) passed on, each one's time noted."""
        for index, frame in enumerate(frames):
            if frame.pts is not None and frame.time_base:
                t = float(frame.pts * frame.time_base)
                if self._origin is None:
                    self._origin = t - index * self.frame_s
                self._last = (index, t - self._origin)
                self._times[index] = t - self._origin
            elif self._last is not None:
                last_index, last_t = self._last
                self._times[index] = last_t + (index - last_index) * self.frame_s
            yield frame

    def seconds(self, index: int) -> float:
        """When frame `index` starts (by its count, if it was never timed)."""
        return self._times.get(index, index * self.frame_s)

    def forget(self, index: int) -> None:
        """Drop frame `index`'s time once nothing will ask for it (long videos)."""
        self._times.pop(index, None)
