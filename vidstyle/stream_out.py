"""The live feed sent out as a network stream: to Twitch, YouTube or a media server over
RTMP, or to OBS (a Media Source) and other programs over UDP or TCP, with no
virtual-camera driver.

`StreamOut` has the live loop's display interface (`show(rgb, overlay) -> key`,
`close()`), like vidstyle.virtual_camera, and sends the stylized frames without the
overlay. Encoding (H.264, tuned for low latency) runs in its own thread behind a
queue of one frame: when the encoder or the network falls behind, the oldest frame is
dropped instead of slowing the feed (`dropped` counts them).
"""
from __future__ import annotations

import queue
import threading
import time
from fractions import Fraction

import numpy as np

from .errors import VidstyleError, reason
from .stream_capture import redact
from .virtual_camera import even_size, fit_to

# The container each kind of URL takes.
FORMATS = {"rtmp": "flv", "rtmps": "flv", "rtsp": "rtsp", "udp": "mpegts", "tcp": "mpegts"}
_END = object()
KEYFRAME_MS = 2000  # a keyframe this often (by time: the feed's frame rate varies), for viewers joining
# Seconds one frame's send may wait on the network (a receiver that stopped reading)
# before the stream is given up. Watched from the feed's side: PyAV's timeout covers
# only inputs, and FFmpeg's rw_timeout does not reach an output's connection through it.
STALL_S = 10.0
STUCK_AT_CLOSE_S = 2.0


def stream_format(url: str) -> str:
    """The muxer for a stream URL; VidstyleError for a kind that cannot be sent to, or a
    URL that names no host, no port (UDP, TCP) or a port out of range (which FFmpeg would
    take modulo 65536, sending elsewhere)."""
    from urllib.parse import urlsplit

    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in FORMATS:
        kinds = ", ".join(f"{k}://" for k in FORMATS)
        raise VidstyleError(f"--stream-out sends to {kinds} URLs, not {redact(url)}")
    example = f"e.g. {scheme}://127.0.0.1:5000" if scheme in ("udp", "tcp") else f"e.g. {scheme}://host/app/key"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise VidstyleError(f"--stream-out {redact(url)}: the port must be a number from 1 to 65535") from None
    listens = scheme == "tcp" and "listen" in parts.query  # (a server on every interface: no host)
    if not parts.hostname and not listens:
        raise VidstyleError(f"--stream-out {redact(url)} names no host to send to ({example})")
    if port == 0 or port is None and scheme in ("udp", "tcp"):
        raise VidstyleError(f"--stream-out {redact(url)} needs a port from 1 to 65535 ({example})")
    return FORMATS[scheme]


class StreamOut:
    """H.264 at `width` x `height` (even) and about `fps`, sent to `url` as it comes.

    Frames are stamped with the wall clock, as live frames arrive irregularly; a
    keyframe every 2 s lets viewers join (what streaming services ask for).
    """

    def __init__(self, url: str, width: int, height: int, fps: float = 30.0):
        import av

        self.url, self.name = url, redact(url)
        self.width, self.height = even_size(width, height)
        fmt = stream_format(url)
        try:
            self._container = av.open(url, "w", format=fmt)
        except (av.error.FFmpegError, OSError) as exc:
            raise VidstyleError(f"cannot stream to {self.name}: {reason(exc)}") from None
        rate = Fraction(max(1, round(fps)))
        stream = self._container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = self.width, self.height, "yuv420p"
        # Roughly what services ask for: ~0.1 bit per pixel per frame, capped.
        kbps = max(300, min(6000, round(self.width * self.height * float(rate) * 0.1 / 1000)))
        # Keyframes are forced by time (_run); x264's own interval is only a fallback.
        stream.options = {"preset": "veryfast", "tune": "zerolatency", "g": str(10 * int(rate)),
                          "forced-idr": "1", "crf": "23", "maxrate": f"{kbps}k", "bufsize": f"{2 * kbps}k"}
        stream.codec_context.time_base = Fraction(1, 1000)
        self._stream = stream
        try:  # connects now (RTMP, TCP): a server that is not there is refused before the model loads
            self._container.start_encoding()
        except (av.error.FFmpegError, OSError) as exc:
            self._container.close()
            raise VidstyleError(f"cannot stream to {self.name}: {reason(exc)}") from None
        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self.frames_sent = 0
        self.dropped = 0
        self.error: VidstyleError | None = None
        self._t0: float | None = None
        self._sending_since: float | None = None  # when the frame being sent was taken up
        self._last_pts = -1
        self._thread = threading.Thread(target=self._run, name="vidstyle-stream-out", daemon=True)
        self._thread.start()

    def show(self, rgb: np.ndarray, overlay: list[str]) -> int:
        since = self._sending_since
        if self.error is None and since is not None and time.perf_counter() - since > STALL_S:
            self.error = VidstyleError(f"streaming to {self.name} stalled: nothing could be sent for "
                                       f"{STALL_S:g} s (is the receiver still reading?)")
        if self.error is not None:
            raise self.error
        if self._t0 is None:
            self._t0 = time.perf_counter()
        pts = max(self._last_pts + 1, round((time.perf_counter() - self._t0) * 1000))
        self._last_pts = pts
        item = (rgb, pts)
        try:
            self._queue.put_nowait(item)
        except queue.Full:  # the encoder or the network is behind: the older frame goes
            try:
                self._queue.get_nowait()
                self.dropped += 1
            except queue.Empty:
                pass
            self._queue.put_nowait(item)
        return -1

    def _run(self) -> None:
        import av
        from av.video.frame import PictureType

        last_key = None
        try:
            while (item := self._queue.get()) is not _END:
                self._sending_since = time.perf_counter()
                rgb, pts = item
                frame = av.VideoFrame.from_ndarray(fit_to(rgb, self.width, self.height), format="rgb24")
                frame = frame.reformat(format="yuv420p")
                frame.pts, frame.time_base = pts, Fraction(1, 1000)
                if last_key is None or pts - last_key >= KEYFRAME_MS:
                    frame.pict_type, last_key = PictureType.I, pts
                self._container.mux(self._stream.encode(frame))
                self.frames_sent += 1
                self._sending_since = None
            self._container.mux(self._stream.encode(None))
        except (av.error.FFmpegError, OSError) as exc:  # the server went away, the network dropped
            self.error = VidstyleError(f"streaming to {self.name} stopped ({reason(exc)})")
        except Exception as exc:  # anything else: said as itself, not taken for a stalled network
            self.error = VidstyleError(f"streaming to {self.name} failed: {type(exc).__name__}: {exc}")

    def close(self) -> None:
        """End the stream and close the connection. A frame still queued goes out first,
        unless the encoder seems stuck on a network that stopped taking data: then it is
        dropped (on a loaded CPU the encoder may not have taken up even the first frame yet)."""
        stuck_s = min(STUCK_AT_CLOSE_S, STALL_S)
        try:  # (a sender that stopped on an error takes nothing more)
            self._queue.put(_END, timeout=stuck_s if self._thread.is_alive() else 0)
        except queue.Full:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                pass
            self._queue.put(_END)  # the only producer is this thread, so there is room now
        # The encoder's last frames go out, unless a send is stuck on the network. A send still
        # going after STUCK_AT_CLOSE_S counts as stuck (not the full STALL_S: quitting should not
        # wait that long); one that is only slow (a loaded CPU) is waited for.
        deadline = time.perf_counter() + STALL_S
        while self._thread.is_alive() and time.perf_counter() < deadline:
            self._thread.join(timeout=0.05)
            since = self._sending_since
            if since is not None and time.perf_counter() - since > stuck_s:
                break
        if self._thread.is_alive():  # stuck on the network: closing under it would crash FFmpeg
            return
        import av

        try:
            self._container.close()
        except (av.error.FFmpegError, OSError, ValueError):  # a connection already gone
            pass
