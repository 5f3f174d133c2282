"""A look at a conversion while it runs (`convert --preview`): the frames as they are
written, in a window, a dozen a second at most so the window costs the model little.

Closing it (q, Esc, or the window's close button) only closes the window: the
conversion goes on (Ctrl-C stops it).
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np

QUIT_KEYS = {ord("q"), 27}  # q, Esc


class ConvertPreview:
    """Shows some of the frames handed to `show()` in `window` (vidstyle.live.PreviewWindow,
    or anything with its show(rgb, overlay) -> key and close())."""

    def __init__(self, window, fps: float = 12.0, clock: Callable[[], float] = time.monotonic):
        self._window = window
        self._every = 1.0 / fps
        self._clock = clock
        self._last: float | None = None
        self.shown = 0

    @property
    def open(self) -> bool:
        return self._window is not None

    def show(self, rgb: np.ndarray, overlay: list[str]) -> None:
        if self._window is None:
            return
        now = self._clock()
        if self._last is not None and now - self._last < self._every:
            return
        self._last = now
        self.shown += 1
        if self._window.show(rgb, overlay) in QUIT_KEYS:
            self.close()

    def close(self) -> None:
        if self._window is not None:
            window, self._window = self._window, None
            window.close()
