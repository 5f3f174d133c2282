"""A network stream as the live feed: IP cameras (RTSP), phone camera apps (HTTP),
OBS or ffmpeg sending over RTMP, UDP or TCP, decoded through FFmpeg (PyAV).

`StreamCapture` has the OpenCV capture's `read()` / `release()`, so
`sources.CameraSource` takes it as it takes a camera: its grabber thread reads the
stream as fast as it arrives and keeps only the newest frame, so a slow model never
builds up lag behind the sender.
"""
from __future__ import annotations

import re

import numpy as np

from .errors import VidstyleError
from .video_colors import VideoColors

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# Seconds to wait for the stream to open and for each read: a sender that stops or a
# network that drops ends the feed after this long instead of hanging it.
DEFAULT_TIMEOUT_S = 10.0
# Damaged packets in a row (lost UDP packets, a cut connection) before the feed ends.
_MAX_DAMAGED = 100


def is_stream_url(text) -> bool:
    """Whether `text` names a network stream (rtsp://, http://, udp://, ...), not a file."""
    return isinstance(text, str) and bool(_URL.match(text))


def redact(url: str) -> str:
    """The URL without a password (rtsp://user:secret@cam/ -> rtsp://user:***@cam/), for messages."""
    return re.sub(r"^([^:/]+://[^:/@]+):[^@/]*@", r"\1:***@", url)


class StreamCapture:
    """Frames of a network stream from `read()`, in the order they arrive.

    Opening fails with a one-line VidstyleError (no such host, refused, timed out, no
    video). Damaged packets are skipped; when the stream ends or stalls for `timeout`
    seconds, `read()` returns (False, None) and `finished` is True (`error` says why,
    when it was not a clean end). Frames are RGB (`rgb = True`).
    """

    rgb = True

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT_S):
        import av

        self.url = url
        self.name = redact(url)
        self.finished = False
        self.error: str | None = None
        try:
            self._container = av.open(url, timeout=timeout)
        except (av.error.FFmpegError, OSError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise VidstyleError(f"cannot open the stream {self.name}: {reason}") from None
        if not self._container.streams.video:
            self._container.close()
            raise VidstyleError(f"the stream {self.name} has no video")
        self._stream = self._container.streams.video[0]
        # Frame threads hold back a frame per thread: latency a live feed does not want.
        self._stream.thread_type = "SLICE"
        self._colors = VideoColors.of_stream(self._stream.codec_context)
        self._to_rgb = av.video.reformatter.VideoReformatter()
        self._packets = self._container.demux(self._stream)
        self._pending: list = []

    def read(self) -> tuple[bool, np.ndarray | None]:
        frame = self._next_frame()
        if frame is None:
            return False, None
        image = self._to_rgb.reformat(frame, format="rgb24", src_colorspace=self._colors.sws_matrix,
                                      src_color_range=self._colors.range).to_ndarray()
        return True, image

    def _next_frame(self):
        import av

        damaged = 0
        while not self._pending and not self.finished:
            try:
                packet = next(self._packets)
                self._pending = list(packet.decode())
            except StopIteration:
                self.finished = True
            except av.error.InvalidDataError:
                damaged += 1
                if damaged >= _MAX_DAMAGED:
                    self.error = f"{damaged} damaged packets in a row"
                    self.finished = True
            except (av.error.FFmpegError, OSError) as exc:  # timed out, connection lost
                self.error = getattr(exc, "strerror", None) or str(exc)
                self.finished = True
        return self._pending.pop(0) if self._pending else None

    def release(self) -> None:
        self.finished = True
        self._container.close()
