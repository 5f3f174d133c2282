"""Writing stylized frames as an animated GIF (a loop to share), through FFmpeg's palette filters.

GIF holds 256 colours per frame. One palette for the whole clip would need every
frame before the first is written (palettegen's default), so each frame gets its own
palette (palettegen stats_mode=single, paletteuse new=1) and memory stays flat. Bayer
dithering: on the bundled clip stylized (384x216, benchmarks/gif_options.py) it made a
6% smaller file at 1 dB higher PSNR than FFmpeg's default error diffusion, for the same
~58 CPU-ms per frame; no dithering scored a little higher still, but bands smooth
gradients, which PSNR does not see.
Timestamps are kept in GIF's centiseconds; the file loops forever, as shared GIFs do.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from .errors import VidstyleError
from .writer_thread import END, ContainerWriter

_GIF_TIME_BASE = Fraction(1, 100)  # GIF's frame delays are centiseconds


def is_gif(path: str | Path) -> bool:
    return Path(path).suffix.lower() == ".gif"


class GifSink(ContainerWriter):
    """The same calls as vidstyle.sinks.VideoFileSink (write, close, abort) for a GIF file.
    Audio packets are dropped (`audio_dropped` says whether there were any)."""

    audio_tracks: list = []  # (none kept)
    leaves_out_audio = "a GIF holds none"

    def __init__(self, path: str | Path, width: int, height: int, rate: Fraction, time_base: Fraction,
                 queue_size: int = 16):
        import av

        self.path = Path(path)
        self.width, self.height = width, height
        self._rate, self._time_base = rate, time_base
        self._container = av.open(str(self.path), mode="w", format="gif")
        try:
            self._stream = self._container.add_stream("gif", rate=rate)
            self._stream.width, self._stream.height, self._stream.pix_fmt = width, height, "pal8"
            # The encoder counts in centiseconds too: in its default 1/rate, frames closer
            # than one tick apart collided and the muxer refused them.
            self._stream.time_base = self._stream.codec_context.time_base = _GIF_TIME_BASE
            self._graph, self._source, self._sink = palette_graph(width, height)
        except Exception:
            self._container.close()
            raise
        self._last_pts = -1
        self._index = 0
        self.audio_dropped = False
        self.frames_written = 0
        self.encode_times: list[float] = []  # seconds per frame, for the stage statistics
        self._start_writer(queue_size, "vidstyle-encode-gif")

    def write(self, image: np.ndarray, pts: int | None) -> None:
        """Queue one RGB uint8 frame (blocks when the encoder is behind)."""
        self._put((image, pts))

    def add_audio_packet(self, packet) -> None:
        self.audio_dropped = True

    def _centiseconds(self, pts: int | None) -> int:
        """The frame's time in GIF's centiseconds, always after the last frame's."""
        seconds = pts * self._time_base if pts is not None else self._index / self._rate
        self._index += 1
        self._last_pts = max(round(seconds * 100), self._last_pts + 1)
        return self._last_pts

    def _encode_filtered(self) -> None:
        import av

        while True:
            try:
                frame = self._sink.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return
            self._container.mux(self._stream.encode(frame))
            self.frames_written += 1

    def _run(self) -> None:
        import time

        import av

        try:
            while (item := self._next_item()) is not None:
                if item is END:
                    self._source.push(None)
                    self._encode_filtered()
                    self._container.mux(self._stream.encode(None))
                    return
                image, pts = item
                t0 = time.perf_counter()
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
                frame.pts, frame.time_base = self._centiseconds(pts), _GIF_TIME_BASE
                self._source.push(frame)
                self._encode_filtered()
                self.encode_times.append(time.perf_counter() - t0)
        except BaseException as exc:  # reported to the producer by write()/close()
            self.error = exc if isinstance(exc, VidstyleError) else VidstyleError(
                f"encoding {self.path.name} failed: {exc}")


PALETTEGEN = "stats_mode=single"  # a palette per frame
PALETTEUSE = "new=1:dither=bayer:bayer_scale=3"


def palette_graph(width: int, height: int, palettegen: str = PALETTEGEN, paletteuse: str = PALETTEUSE):
    """rgb24 frames -> a palette of their own -> pal8 frames: (graph, source, sink)."""
    import av

    graph = av.filter.Graph()
    source = graph.add_buffer(width=width, height=height, format="rgb24", time_base=_GIF_TIME_BASE)
    split = graph.add("split")
    palette = graph.add("palettegen", palettegen)
    use = graph.add("paletteuse", paletteuse)
    sink = graph.add("buffersink")
    source.link_to(split)
    split.link_to(palette, 0, 0)
    split.link_to(use, 1, 0)
    palette.link_to(use, 0, 1)
    use.link_to(sink)
    graph.configure()
    return graph, source, sink
