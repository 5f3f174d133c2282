"""A video file played as a live feed: frames come at their own timestamps, in real time.

VJs stylize clips live the way others stylize a camera. `PlaybackCapture` has the
OpenCV capture's `read()` / `release()`, so `sources.CameraSource` takes it as it
takes a camera: its grabber keeps only the newest frame, so a model slower than the
clip skips frames and never falls behind, and the clip plays at its own speed.
Decoding is `sources.VideoFileSource` (rotation, colour matrices, HDR to SDR,
deinterlacing as in `convert`). The audio is not played.
"""
from __future__ import annotations

import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np

from .sources import VideoFileSource

# Behind the clip by more than this (a stall: decoding slower than the clip, a busy
# machine), the clock restarts at the current frame instead of racing to catch up.
MAX_LAG_S = 0.5


class PlaybackCapture:
    """Frames of `path` from `read()`, each returned no sooner than its time in the clip.

    With `loop`, the clip starts again at its end (its first frame follows the last
    one frame time later); without, `read()` then returns (False, None) and `finished`
    is True. Frames are RGB (`rgb = True`, so CameraSource leaves them as they are).
    With `wait_to_play`, the clip holds after its first frame until `play()`: the feed
    starts at the clip's start, not seconds in, when the model took that long to load.
    `clock` and `sleep` are for tests.
    """

    rgb = True

    def __init__(self, path: str | Path, loop: bool = False,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 wait_to_play: bool = False):
        self.path = Path(path)
        self.loop = loop
        self.finished = False
        self._playing = threading.Event()
        if not wait_to_play:
            self._playing.set()
        self._started = False  # the first frame was read
        self.loops = 0  # times the clip started again
        self._clock, self._sleep = clock, sleep
        self._source = VideoFileSource(self.path)  # a bad file is refused here, before any thread
        self.info = self._source.info
        self._frames = iter(self._source)
        self._frame_time = 1 / float(self.info.rate)
        self._start_wall: float | None = None  # wall time at which the clip's time 0 is due
        self._first_t: float | None = None  # the timestamp of this pass's first frame
        self._next_t = 0.0  # clip time one frame after the latest frame (for frames without one)
        self._offset = 0.0  # clip time of the passes before this one

    def play(self) -> None:
        """Let a clip made with `wait_to_play` go on from its first frame, from now on (the
        time spent waiting is not made up by skipping frames)."""
        self._start_wall = None
        self._playing.set()

    def stop_waiting(self) -> None:
        """End the clip before it was played: a read() waiting for play() returns at once
        (closing after a failed start must not wait out the grabber)."""
        self.finished = True
        self._playing.set()

    def read(self) -> tuple[bool, np.ndarray | None]:
        while self._started and not self._playing.wait(0.1):
            if self.finished:  # released meanwhile
                return False, None
        self._started = True
        frame = self._next_frame()
        if frame is None:
            return False, None
        t = self._clip_time(frame)
        now = self._clock()
        if self._start_wall is None or now - (self._start_wall + t) > MAX_LAG_S:
            self._start_wall = now - t
        wait = self._start_wall + t - now
        if wait > 0:
            self._sleep(wait)
        return True, frame.image

    def _next_frame(self):
        if self.finished:
            return None
        frame = next(self._frames, None)
        if frame is None and self.loop and self._next_t > self._offset:  # this pass had frames
            self._offset = self._next_t  # the next pass starts a frame time after the last frame
            self._first_t = None
            self._source.close()
            self._source = VideoFileSource(self.path)
            self._frames = iter(self._source)
            self.loops += 1
            frame = next(self._frames, None)
        if frame is None:
            self.finished = True
        return frame

    def _clip_time(self, frame) -> float:
        """Seconds from the first pass's first frame (timestamps, else the frame rate)."""
        if frame.pts is not None and frame.time_base:
            t = float(frame.pts * Fraction(frame.time_base))
            if self._first_t is None:
                self._first_t = t
            t = self._offset + t - self._first_t
        else:
            t = self._next_t
        self._next_t = max(self._next_t, t + self._frame_time)
        return t

    def release(self) -> None:
        self.finished = True
        self._source.close()
