"""Finding the user's style images and checking blend weights."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Sequence

from .errors import VidstyleError
from .inputs import expand_files, files_in
from .train_data import IMAGE_SUFFIXES


def expand_styles(paths: Sequence[str | Path]) -> list[Path]:
    """Style files, with folders expanded to the images they hold (sorted)."""
    return expand_files(paths, IMAGE_SUFFIXES, "style image")[0]


def normalise_weights(weights: Sequence[float] | None, count: int) -> list[float]:
    if not weights:
        return [1.0 / count] * count
    if len(weights) != count:
        raise VidstyleError(f"{len(weights)} weights given for {count} styles; give one per style")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise VidstyleError("style weights must be non-negative and not all zero")
    total = float(sum(weights))
    return [w / total for w in weights]


class StyleFolderWatch:
    """Style images added to the named folders while a live feed runs.

    `poll()` looks at most every `every` seconds and returns the images that appeared
    since, once their size and modification time held still between two looks, so a
    file still being copied in is not read half-written. Files that go away are not
    reported: styles already loaded stay usable.
    """

    def __init__(self, paths: Sequence[str | Path], known: Sequence[Path], every: float = 2.0,
                 clock: Callable[[], float] = time.monotonic):
        self.folders = [Path(p) for p in paths if Path(p).is_dir()]
        self._known = {Path(p).resolve() for p in known}
        self._pending: dict[Path, tuple] = {}  # new file -> (size, mtime) at the last look
        self.every = every
        self._clock = clock
        self._last = clock()

    def poll(self) -> list[Path]:
        now = self._clock()
        if not self.folders or now - self._last < self.every:
            return []
        self._last = now
        ready, seen = [], {}
        for folder in self.folders:
            try:
                found = files_in(folder, IMAGE_SUFFIXES)
            except OSError:  # the folder was moved or unmounted: nothing new there
                continue
            for path in found:
                key = path.resolve()
                if key in self._known:
                    continue
                try:
                    st = path.stat()
                except OSError:
                    continue
                seen[key] = (st.st_size, st.st_mtime_ns)
                if st.st_size and self._pending.get(key) == seen[key]:
                    ready.append(path)
                    self._known.add(key)
        self._pending = {k: v for k, v in seen.items() if k not in self._known}
        return ready
