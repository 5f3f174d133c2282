"""Progress bars for the terminal (tqdm; silent when stderr is not a terminal)."""
from __future__ import annotations

import sys
from contextlib import contextmanager

from tqdm import tqdm


FILE_BAR = "{l_bar}{bar}| {n_fmt}/{total_fmt} frames [{elapsed}<{remaining}{postfix}]"
COUNT_ONLY = "{desc}: {n_fmt} frames [{elapsed}{postfix}]"  # the container gave no frame count


class Progress:
    """An overall bar over files (when there are several) and one bar per file.

    Drawn on stderr when it is a terminal; on `stream` always (tests).
    """

    def __init__(self, files: int, stream=None):
        self._stream = stream
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

        def on_progress(done: int, total: int, fps: float) -> None:
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

    def write(self, message: str) -> None:
        """A line on stderr above the bars."""
        tqdm.write(message, file=self._stream or sys.stderr)

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self._overall.close()
