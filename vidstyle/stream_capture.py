"""A network stream as the live feed: IP cameras (RTSP), phone camera apps (HTTP),
OBS or ffmpeg sending over RTMP, UDP or TCP, decoded through FFmpeg (PyAV).

`StreamCapture` has the OpenCV capture's `read()` / `release()`, so
`sources.CameraSource` takes it as it takes a camera: its grabber thread reads the
stream as fast as it arrives and keeps only the newest frame, so a slow model never
builds up lag behind the sender.
"""
from __future__ import annotations

import re
import threading

import numpy as np

from .errors import VidstyleError, reason
from .video_colors import VideoColors

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# Seconds to wait for the stream to open and for each read: a sender that stops or a
# network that drops ends the feed after this long instead of hanging it.
DEFAULT_TIMEOUT_S = 10.0
# Damaged packets in a row (lost UDP packets, a cut connection) before the feed ends.
_MAX_DAMAGED = 100
# Seconds between attempts to reopen a stream that dropped (with `reconnect`).
RETRY_S = 2.0


def is_stream_url(text) -> bool:
    """Whether `text` names a network stream (rtsp://, http://, udp://, ...), not a file."""
    return isinstance(text, str) and bool(_URL.match(text))


_SECRET_PARAMS = re.compile(r"pass|pwd|secret|token|key|auth|sig", re.IGNORECASE)


def redact(url: str) -> str:
    """The URL without its secrets, for messages: the password in it
    (rtsp://user:secret@cam/ -> rtsp://user:***@cam/), query values that look like one
    (?user=me&pwd=secret -> ?user=me&pwd=***), and an RTMP URL's stream key, its last
    path part (rtmp://live.twitch.tv/app/live_123_abc -> rtmp://live.twitch.tv/app/***)."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:  # unparsable (a broken IPv6 address): keep only the kind and the host's start
        return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://).*$", r"\1***", url)
    netloc, path = parts.netloc, parts.path
    if parts.scheme.lower() in ("rtmp", "rtmps") and path.strip("/").count("/") >= 1:
        path = path.rstrip("/").rsplit("/", 1)[0] + "/***"
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")  # a password may hold an @ itself
        user, colon, _ = userinfo.partition(":")
        netloc = f"{user}{':***' if colon else ''}@{host}"
    query = "&".join(
        f"{k}=***" if sep and _SECRET_PARAMS.search(k) else f"{k}{sep}{v}"
        for k, sep, v in (item.partition("=") for item in parts.query.split("&"))) if parts.query else ""
    redacted = urlunsplit((parts.scheme, netloc, path, query, parts.fragment))
    # (urlunsplit leaves out the "//" of an empty host: "udp://" would read "udp:")
    return redacted.replace(":", "://", 1) if "://" in url and "://" not in redacted else redacted


class StreamCapture:
    """Frames of a network stream from `read()`, in the order they arrive.

    Opening fails with a one-line VidstyleError (no such host, refused, timed out, no
    video). Damaged packets are skipped; when the stream ends or stalls for `timeout`
    seconds, `read()` returns (False, None) and `finished` is True (`error` says why,
    when it was not a clean end). Frames are RGB (`rgb = True`).

    With `reconnect`, a stream that ends or drops is opened again every `retry_s`
    seconds until it is back (a sender restarted, a network that came back):
    meanwhile `read()` waits, `reconnecting` is True and `status` says so;
    `reconnects` counts the times it came back. Only `release()` ends it then.
    """

    rgb = True
    # The live loop waits for it to say it has ended or is back (sources.CameraSource):
    # its reads time out by themselves, and with `reconnect` it comes back by itself.
    times_out_itself = True

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT_S, reconnect: bool = False,
                 retry_s: float = RETRY_S):
        self.url = url
        self.name = redact(url)
        self.finished = False
        self.error: str | None = None
        self.reconnect = reconnect
        self.reconnecting = False
        self.reconnects = 0
        self.status: str | None = None  # a line for the live overlay while the stream is away
        self._timeout, self._retry_s = timeout, retry_s
        self._released = threading.Event()
        # The container is closed only between reads: closing it under a demux that is
        # waiting on the network (another thread) would crash inside FFmpeg.
        self._reading = threading.Lock()
        self._container = None
        why = self._open()
        if why:
            raise VidstyleError(f"cannot open the stream {self.name}: {why}")

    @property
    def listens(self) -> bool:
        """Whether the stream is sent to us (UDP, a listening TCP socket) rather than fetched."""
        return self.url.startswith("udp://") or "listen" in self.url.partition("?")[2]

    def _open(self) -> str | None:
        """Open the stream; why it could not be, or None."""
        import av

        try:
            container = av.open(self.url, timeout=self._timeout)
        except av.error.ExitError:  # PyAV's timeout ends the wait so ("Immediate exit requested")
            waited = f"{self._timeout:g} s"
            return (f"no sender within {waited} (start the sender within {waited} of vidstyle)"
                    if self.listens else f"no answer within {waited}")
        except (av.error.FFmpegError, OSError) as exc:
            return reason(exc)
        if not container.streams.video:
            container.close()
            return "it has no video"
        self._container = container
        self._stream = container.streams.video[0]
        # Frame threads hold back a frame per thread: latency a live feed does not want.
        self._stream.thread_type = "SLICE"
        self._colors = VideoColors.of_stream(self._stream.codec_context)
        self._to_rgb = av.video.reformatter.VideoReformatter()
        self._packets = container.demux(self._stream)
        self._pending: list = []
        return None

    def read(self) -> tuple[bool, np.ndarray | None]:
        with self._reading:
            try:
                return self._read()
            finally:
                if self._released.is_set():  # release() came while this read waited
                    self._close_container()

    def _read(self) -> tuple[bool, np.ndarray | None]:
        frame = self._next_frame()
        while frame is None and self.reconnect and not self._released.is_set():
            self._reopen()
            frame = self._next_frame()
        if frame is None:
            return False, None
        image = self._to_rgb.reformat(frame, format="rgb24", src_colorspace=self._colors.sws_matrix,
                                      src_color_range=self._colors.range).to_ndarray()
        return True, image

    def _next_frame(self):
        import av

        damaged = 0
        while not self._pending and not self.finished and self._container is not None:
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
                self.error = reason(exc)
                self.finished = True
        return self._pending.pop(0) if self._pending else None

    def _reopen(self) -> None:
        """Open the stream again, trying every retry_s seconds until it opens or release()."""
        self.reconnecting = True
        self._close_container()
        tries = 0
        while not self._released.is_set():
            self.status = f"stream lost ({self.error or 'ended'}): reconnecting" + (
                f", try {tries + 1}" if tries else "")
            why = self._open()
            if why is None:
                break
            tries += 1
            self.error = why
            self._released.wait(self._retry_s)
        else:
            return
        self.reconnects += 1
        self.finished = self.reconnecting = False
        self.error = self.status = None

    def _close_container(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    def release(self) -> None:
        self._released.set()
        self.finished = True
        if self._reading.acquire(blocking=False):  # else the read under way closes it
            try:
                self._close_container()
            finally:
                self._reading.release()
