"""Finding the user's style images and checking blend weights."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Sequence

from .adain import blend_weights
from .errors import VidstyleError
from .inputs import IMAGE_SUFFIXES, expand_files, files_in

WATCH_EVERY_S = 2.0  # how often a live feed looks for new style images


def expand_styles(paths: Sequence[str | Path]) -> list[Path]:
    """Style files, with folders expanded to the images they hold (sorted)."""
    return expand_files(paths, IMAGE_SUFFIXES, "style image")[0]


def normalise_weights(weights: Sequence[float] | None, count: int) -> list[float]:
    if not weights:
        return [1.0 / count] * count
    if len(weights) != count:
        raise VidstyleError(f"{len(weights)} weight{'s' * (len(weights) != 1)} given for {count} "
                            f"style{'s' * (count != 1)}; give one per style")
    try:
        return blend_weights(weights)
    except ValueError as exc:
        raise VidstyleError(str(exc)) from None


SNAPSHOT_PREFIX = "vidstyle-"  # how the webcam's snapshots and recordings are named


class StyleFolderWatch:
    """Style images added to the named folders while a live feed runs.

    `poll()` looks at most every `every` seconds (`due()`; `scan()` looks now) and returns
    the images that appeared since, once their size and modification time held still
    between two looks, so a file still being copied in is not read half-written. Files
    that go away are not reported (styles already loaded stay usable), nor the webcam's
    snapshots (SNAPSHOT_PREFIX...) directly in an `ignore` folder, when they are saved among
    the styles (other images put there join as any new style does).
    """

    def __init__(self, paths: Sequence[str | Path], known: Sequence[Path], every: float | None = None,
                 clock: Callable[[], float] = time.monotonic, ignore: Sequence[str | Path] = ()):
        self.folders = [Path(p) for p in paths if Path(p).is_dir()]
        self._known = {Path(p).resolve() for p in known}
        self._seen = {Path(p) for p in known}  # as listed: most files need no resolve() then
        self._ignore = {Path(p).resolve() for p in ignore}
        self._pending: dict[Path, tuple] = {}  # new file -> (size, mtime) at the last look
        self.every = WATCH_EVERY_S if every is None else every
        self._clock = clock
        self._last = clock()

    def due(self) -> bool:
        return bool(self.folders) and self._clock() - self._last >= self.every

    def poll(self) -> list[Path]:
        return self.scan() if self.due() else []

    def scan(self) -> list[Path]:
        self._last = self._clock()
        ready, pending = [], {}
        for folder in self.folders:
            try:
                found = files_in(folder, IMAGE_SUFFIXES)
            except OSError:  # the folder was moved or unmounted: nothing new there
                continue
            for path in found:
                if path in self._seen:
                    continue
                try:
                    key = path.resolve()
                    st = path.stat()
                except OSError:
                    continue
                snapshot = key.parent in self._ignore and path.name.startswith(SNAPSHOT_PREFIX)
                if key in self._known or snapshot:
                    self._seen.add(path)
                    continue
                pending[key] = (st.st_size, st.st_mtime_ns)
                if st.st_size and self._pending.get(key) == pending[key]:
                    ready.append(path)
                    self._known.add(key)
                    self._seen.add(path)
                    del pending[key]
        self._pending = pending
        return ready
