"""Animated WebP inputs (stickers, short loops). FFmpeg's WebP decoder reads only still
pictures, so an animated one's frames are read with Pillow, each at its own time, and kept
losslessly (FFV1, RGB, timed in milliseconds) in a temporary Matroska file that the video
path then reads as any other; it goes once no source reads it (the last one made stays for
a next look, until the process ends). Transparent parts are put on white, as stills' are
(vidstyle.images)."""
from __future__ import annotations

import atexit
import os
import tempfile
import threading
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np

from .errors import VidstyleError
from .inputs import file_signature, is_video_file

_made: dict[tuple[str, int, int], Path] = {}  # (file, size, modified) -> its temporary video
_users: dict[tuple[str, int, int], int] = {}  # how many open sources read each
_lock = threading.Lock()
_DEFAULT_MS = 100  # a frame's time where the file gives none (Pillow's and browsers' default)


def is_animated_webp(path: str | Path) -> bool:
    """Whether the file is a WebP of more than one frame (False where it cannot be read)."""
    return Path(path).suffix.lower() == ".webp" and is_video_file(path)


def readable_video(path: Path) -> tuple[Path, Callable[[], None]]:
    """The file FFmpeg reads for `path` and what to call once it is no longer read: for an
    animated WebP its frames as a temporary video, made once and kept while in use (and the
    last one after, for the next look at the same file: a still, then the conversion)."""
    if not is_animated_webp(path):
        return path, lambda: None
    key = file_signature(path)
    with _lock:
        made = _made.get(key)
        if made is None or not made.exists():
            made = _made[key] = _as_video(path)
        _users[key] = _users.get(key, 0) + 1
        _remove_unused(keep=key)
    released = []

    def release() -> None:
        with _lock:
            if not released:
                released.append(True)
                _users[key] -= 1
                _remove_unused(keep=key)

    return made, release


def _remove_unused(keep) -> None:
    """Temporary videos no source reads, but the one of `keep` (lock held)."""
    for key in [k for k, users in _users.items() if not users and k != keep]:
        _made.pop(key).unlink(missing_ok=True)
        del _users[key]


def _as_video(path: Path) -> Path:
    import av
    from PIL import Image, ImageSequence

    handle, name = tempfile.mkstemp(prefix="vidstyle-webp-", suffix=".mkv")
    os.close(handle)
    video = Path(name)
    atexit.register(video.unlink, missing_ok=True)
    try:
        with Image.open(path) as img, av.open(name, "w") as out:
            # (Pillow gives a frame's time only once it has decoded it, and the average rate
            # goes in the header before the first frame: so a first pass, rather than holding
            # every frame in memory)
            durations = [_duration_ms(frame) for frame in ImageSequence.Iterator(img)]
            # Timed in milliseconds, as WebP is (its rate only says the average).
            stream = out.add_stream("ffv1", rate=Fraction(1000 * len(durations), sum(durations)))
            stream.width, stream.height, stream.pix_fmt = img.width, img.height, "bgr0"
            stream.codec_context.time_base = stream.time_base = Fraction(1, 1000)
            lasting, ms = {}, 0  # each frame's duration by its start
            for frame, duration in zip(ImageSequence.Iterator(img), durations):
                rgba = frame.convert("RGBA")
                white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                rgb = np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
                picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
                picture.pts, picture.time_base = ms, Fraction(1, 1000)
                lasting[ms] = duration
                _mux_lasting(out, stream.encode(picture), lasting)
                ms += duration
            _mux_lasting(out, stream.encode(None), lasting)
    except (OSError, ValueError, SyntaxError, av.error.FFmpegError) as exc:
        video.unlink(missing_ok=True)
        raise VidstyleError(f"cannot read {path} as an animation ({exc})") from exc
    return video


def _duration_ms(frame) -> int:
    """A frame's time on screen (Pillow reads it with the frame itself)."""
    frame.load()
    return max(1, int(frame.info.get("duration") or _DEFAULT_MS))


def _mux_lasting(out, packets, lasting: dict) -> None:
    """Mux packets, each lasting its frame's time (the last frame's too: the clip lasts as long)."""
    for packet in packets:
        packet.duration = lasting.get(packet.pts, packet.duration)
        out.mux(packet)
