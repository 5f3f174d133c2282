"""Progress bars for the terminal (tqdm); where stderr is not a terminal (a log of an
unattended batch), a plain line now and then instead."""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager

from tqdm import tqdm


FILE_BAR = "{l_bar}{bar}| {n_fmt}/{total_fmt} frames [{elapsed}<{remaining}{postfix}]"
COUNT_ONLY = "{desc}: {n_fmt} frames [{elapsed}{postfix}]"  # the container gave no frame count
LOG_EVERY_S = 60.0  # how often a file's progress is logged where no bar is drawn


class Progress:
    """An overall bar over files (when there are several) and one bar per file.

    Drawn on stderr when it is a terminal; on `stream` always (tests).
    """

    def __init__(self, files: int, stream=None, log_every_s: float = LOG_EVERY_S):
        self._stream = stream
        self._log_every_s = log_every_s
        self._disable = None if stream is None else False  # None: tqdm's own tty test
        self._overall = tqdm(total=files, unit="file", position=0, desc="overall", file=stream,
                             disable=self._disable if files > 1 else True)

    @contextmanager
    def file(self, name: str):
        # Our own FPS (the pipeline's, from the start of the file) in place of tqdm's rate:
        # one rate on the bar, the same one the summary line prints.
        bar = tqdm(desc=name, unit="frame", position=1 if not self._overall.disable else 0,
                   leave=False, disable=self._disable, dynamic_ncols=True, bar_format=COUNT_ONLY,
                   file=self._stream)

        logged = [time.monotonic()]

        def log_line(done: int, total: int, fps: float) -> None:
            if time.monotonic() - logged[0] < self._log_every_s:
                return
            logged[0] = time.monotonic()
            total = max(total, done) if total else total  # (a cut's count is an estimate)
            of = f"/{total} frames ({100 * done // total}%)" if total else " frames"
            left = f", about {_duration((total - done) / fps)} left" if total > done and fps else ""
            self.write(f"vidstyle: {name}: {done}{of}, {fps:.1f} FPS{left}")

        def on_progress(done: int, total: int, fps: float) -> None:
            if bar.disable:  # (no terminal: a line a minute for the log)
                log_line(done, total, fps)
                return
            if total and bar.total != total:
                bar.total = max(total, done)
                bar.bar_format = FILE_BAR
            bar.n = done
            bar.set_postfix_str(f"{fps:.1f} FPS", refresh=False)
            bar.refresh()

        try:
            yield on_progress
        finally:
            bar.close()
            self._overall.update(1)

    def write(self, message: str, file=None) -> None:
        """A line above the bars, on stderr (or `file`), there at once (a log file's stdout
        is written in blocks, else)."""
        file = self._stream or file or sys.stderr
        tqdm.write(message, file=file)
        file.flush()

    def skip(self) -> None:
        """A file left out on its turn counts as done on the overall bar."""
        self._overall.update(1)

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self._overall.close()


def _duration(seconds: float) -> str:
    """`1 h 05 min`, `12 min`, `40 s`."""
    seconds = round(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    return f"{seconds // 60} min" if seconds >= 60 else f"{seconds} s"
