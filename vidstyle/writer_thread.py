"""A bounded queue drained by one writer thread, shared by the video and image-sequence sinks.

The producer blocks while the writer is behind (bounded memory) but still sees the
writer's error at once; the writer stops at the end marker or when cancelled.
"""
from __future__ import annotations

import queue
import threading
from pathlib import Path

from .errors import VidstyleError

END = object()  # the producer's last item
_POLL_S = 0.1  # how often a blocked put or get looks for an error or a cancel


class QueuedWriter:
    """Base for sinks: `_start_writer` starts `self._run`, which takes items with
    `_next_item` (None once cancelled, END at the end); `error`, set by `_run`, is raised
    to the producer."""

    error: BaseException | None = None

    def _start_writer(self, queue_size: int, name: str) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._aborted = threading.Event()
        self.error = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        raise NotImplementedError

    def _put(self, item) -> None:
        """Queue an item (blocks when the writer is behind); raises the writer's error."""
        while True:
            if self.error:
                raise self.error
            try:
                self._queue.put(item, timeout=_POLL_S)
                return
            except queue.Full:
                continue

    def _next_item(self):
        """The next item for the writer thread: END at the end, None once cancelled."""
        while not self._aborted.is_set():
            try:
                return self._queue.get(timeout=_POLL_S)
            except queue.Empty:
                continue
        return None

    def _finish_writer(self) -> None:
        """Hand the writer the end marker and wait for it to finish."""
        while self._thread.is_alive():
            try:
                self._queue.put(END, timeout=_POLL_S)
                break
            except queue.Full:
                continue
        self._thread.join()

    def cancel(self) -> None:
        """Make the writer thread stop without finishing, from any thread."""
        self._aborted.set()


class ContainerWriter(QueuedWriter):
    """A QueuedWriter whose thread writes into a PyAV output container, `self._container`
    (for `self.path`): closing it finishes the file, aborting leaves it to be removed."""

    path: Path

    def close(self) -> None:
        """Flush everything and close the file; raises VidstyleError if encoding failed."""
        self._finish_writer()
        try:
            self._container.close()
        except Exception as exc:  # e.g. disk full while writing the trailer
            self.error = self.error or VidstyleError(f"finishing {self.path.name} failed: {exc}")
        if self.error:
            raise self.error

    def abort(self) -> None:
        """Stop without flushing (the caller removes the partial file)."""
        self.cancel()
        self._thread.join()
        try:
            self._container.close()
        except Exception:  # the file is about to be deleted; nothing to save
            pass
