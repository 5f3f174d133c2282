"""Writing stylized frames as a numbered image sequence (out/shot_%04d.png), safely.

For compositing and editing software, which take image sequences. The frames are
written by a thread into a hidden folder beside the output and moved into place only
when every frame is written: an error or Ctrl-C leaves no part of a sequence under
the output's names. An existing sequence under those names is replaced only with
`overwrite`, and then as a whole (its frames past the new last one are removed, so no
stale frames of an older, longer run stay mixed in).
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import cv2
import numpy as np

from .errors import VidstyleError
from .outputs import OutputTaken, make_folders, move_unless_taken, remove_empty_folders
from .sequences import sequence_files, sequence_stem
from .signals import signals_deferred
from .writer_thread import END, QueuedWriter

# cv2.imwrite settings per file type: PNG's fast zlib level (level 9 took several times
# as long for a few percent), JPEG and WebP at a quality meant for further work.
_WRITE_PARAMS = {".png": [cv2.IMWRITE_PNG_COMPRESSION, 3], ".jpg": [cv2.IMWRITE_JPEG_QUALITY, 95],
                 ".jpeg": [cv2.IMWRITE_JPEG_QUALITY, 95], ".webp": [cv2.IMWRITE_WEBP_QUALITY, 95],
                 ".tif": [], ".tiff": [], ".bmp": []}
SEQUENCE_SUFFIXES = tuple(_WRITE_PARAMS)


def check_sequence_output(pattern: str | Path, overwrite: bool) -> list[Path]:
    """Refuse a sequence output of a file type we cannot write, or one that exists
    without `overwrite`; returns the files it has now."""
    pattern = Path(pattern)
    if pattern.suffix.lower() not in _WRITE_PARAMS:
        raise VidstyleError(f"cannot write an image sequence as {pattern.suffix or 'suffix-less'} files; "
                            f"use one of {', '.join(SEQUENCE_SUFFIXES)}")
    existing = sequence_files(pattern)
    if existing and not overwrite:
        raise VidstyleError(f"output {pattern} exists ({len(existing)} files, {existing[0].name} first); "
                            "pass --overwrite to replace it")
    return existing


class ImageSequenceSink(QueuedWriter):
    """The same calls as vidstyle.sinks.VideoFileSink (write, close, abort), for image files.

    Frames are numbered from `start_number` in the order written (timestamps are not
    kept: a sequence has none; the frame rate travels with the user). Audio packets
    are dropped (`audio_dropped` says whether there were any).
    """

    audio_tracks: list = []  # (none kept)
    leaves_out_audio = "an image sequence holds none"

    def __init__(self, pattern: str | Path, start_number: int = 1, overwrite: bool = False,
                 queue_size: int = 16, adopt: tuple[Path, int] | None = None):
        """`adopt`: (folder, n) of a stopped conversion (vidstyle.resume): its first n frames
        are this sequence's first, and the frames written follow them; an abort gives the
        folder back with those n."""
        self.pattern = Path(pattern)
        self._existing = check_sequence_output(self.pattern, overwrite)
        self._params = _WRITE_PARAMS[self.pattern.suffix.lower()]
        self._overwrite = overwrite
        self.start_number = start_number
        self._folder = self.pattern.parent / f".{sequence_stem(self.pattern)}.{os.getpid()}.partial"
        self._names: list[str] = []
        self._adopted: tuple[Path, int] | None = None
        self.moved = False  # the frames are in place under the output's names
        # A folder of this name is one a process of this number left behind (a crash).
        shutil.rmtree(self._folder, ignore_errors=True)
        if adopt is not None:
            self._adopt(*adopt)
        self._made = make_folders(self.pattern.parent)  # (removed again if this run fails)
        self._folder.mkdir(exist_ok=True)
        self.audio_dropped = False
        self.encode_times: list[float] = []  # seconds per frame, for the stage statistics
        self.frames_written = len(self._names)
        self._start_writer(queue_size, "vidstyle-write-frames")

    def _adopt(self, folder: Path, frames: int) -> None:
        names = [self.pattern.name % (self.start_number + k) for k in range(frames)]
        missing = [name for name in names if not (folder / name).is_file()]
        if missing:
            raise VidstyleError(f"the stopped conversion's frames are incomplete ({missing[0]} is missing); "
                                "run again with --no-resume")
        for extra in set(p.name for p in folder.iterdir()) - set(names):  # made after its record
            (folder / extra).unlink()
        folder.replace(self._folder)
        self._names, self._adopted = names, (folder, frames)

    def write(self, image: np.ndarray, pts: int | None) -> None:
        """Queue one RGB uint8 frame (blocks when the writer is behind)."""
        self._put(image)

    def add_audio_packet(self, packet) -> None:
        self.audio_dropped = True

    def _run(self) -> None:
        try:
            while (image := self._next_item()) is not None:
                if image is END:
                    return
                t0 = time.perf_counter()
                name = self.pattern.name % (self.start_number + self.frames_written)
                bgr = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2BGR)
                if not cv2.imwrite(str(self._folder / name), bgr, self._params):
                    raise VidstyleError(f"writing {name} failed (is the disk full?)")
                self._names.append(name)
                self.frames_written += 1
                self.encode_times.append(time.perf_counter() - t0)
        except BaseException as exc:  # reported to the producer by write()/close()
            self.error = exc if isinstance(exc, VidstyleError) else VidstyleError(
                f"writing {self.pattern.name} failed: {exc}")

    def close(self) -> None:
        """Write the last frames and move the sequence into place; raises VidstyleError if
        writing failed (nothing is then left under the output's names). A Ctrl-C or SIGTERM
        while the frames move waits until all of them are in place (`moved` is then set)."""
        self._finish_writer()
        if self.error:
            self.abort()
            raise self.error
        with signals_deferred():
            self._move_into_place()
            self.moved = True

    def _move_into_place(self) -> None:
        folder = self.pattern.parent
        if not self._overwrite:
            taken = [name for name in self._names if (folder / name).exists()]
            if taken:  # another run wrote there meanwhile: keep its files, drop ours
                self.abort()
                raise OutputTaken(f"output {self.pattern} appeared while this run was writing it "
                                    f"({taken[0]}); pass --overwrite to replace it")
        for name in self._names:
            if self._overwrite:
                (self._folder / name).replace(folder / name)
            elif not move_unless_taken(self._folder / name, folder / name):
                raise VidstyleError(f"output {folder / name} appeared while this run was writing it; "
                                    "pass --overwrite to replace it")
        written = set(self._names)
        for old in self._existing:  # an older, longer run's frames past the new end
            if old.name not in written:
                old.unlink(missing_ok=True)
        self._remove_partial()

    def _remove_partial(self) -> None:
        shutil.rmtree(self._folder, ignore_errors=True)

    def abort(self) -> None:
        """Stop without finishing; the frames written so far are removed (an adopted folder
        goes back where it was, its frames past those it came with later overwritten)."""
        self.cancel()
        self._thread.join()
        if self._adopted is not None and self._folder.is_dir():
            self._folder.replace(self._adopted[0])
        else:
            self._remove_partial()
            remove_empty_folders(self._made)

    def finish_for_keeping(self) -> Path:
        """Write the queued frames and leave them in the hidden folder, which is returned
        (a stopped conversion's part); raises VidstyleError if writing failed."""
        self._finish_writer()
        if self.error:
            self.abort()
            raise self.error
        return self._folder
