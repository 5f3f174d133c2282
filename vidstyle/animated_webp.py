"""Animated WebP inputs (stickers, short loops). FFmpeg's WebP decoder reads only still
pictures, so an animated one's frames are read with Pillow, each at its own time, and kept
losslessly (FFV1, RGB) in a temporary Matroska file that the video path then reads
as any other; it goes when the process ends. Transparent parts are put on white, as stills'
are (vidstyle.images)."""
from __future__ import annotations

import atexit
import os
import tempfile
import threading
from fractions import Fraction
from pathlib import Path

import numpy as np

from .errors import VidstyleError

_made: dict[tuple[str, int, int], Path] = {}  # (file, size, modified) -> its temporary video
_lock = threading.Lock()
_DEFAULT_MS = 100  # a frame's time where the file gives none (Pillow's and browsers' default)


def is_animated_webp(path: str | Path) -> bool:
    """Whether the file is a WebP of more than one frame (False where it cannot be read)."""
    from PIL import Image

    if Path(path).suffix.lower() != ".webp":
        return False
    try:
        with Image.open(path) as img:
            return bool(getattr(img, "is_animated", False))
    except (OSError, ValueError, SyntaxError):
        return False


def readable_video(path: Path) -> Path:
    """The file FFmpeg reads for `path`: itself, or for an animated WebP its frames as a
    temporary video (made once per process and version of the file)."""
    if not is_animated_webp(path):
        return path
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _lock:
        made = _made.get(key)
        if made is None or not made.exists():
            made = _made[key] = _as_video(path)
    return made


def _as_video(path: Path) -> Path:
    import av
    from PIL import Image, ImageSequence

    handle, name = tempfile.mkstemp(prefix="vidstyle-webp-", suffix=".mkv")
    os.close(handle)
    video = Path(name)
    atexit.register(video.unlink, missing_ok=True)
    try:
        with Image.open(path) as img, av.open(name, "w") as out:
            stream = out.add_stream("ffv1", rate=Fraction(1000, _DEFAULT_MS))
            stream.width, stream.height, stream.pix_fmt = img.width, img.height, "bgr0"
            stream.time_base = Fraction(1, 1000)
            ms = 0
            for frame in ImageSequence.Iterator(img):
                rgba = frame.convert("RGBA")
                white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                rgb = np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
                picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
                picture.pts, picture.time_base = ms, Fraction(1, 1000)
                out.mux(stream.encode(picture))
                ms += max(1, int(frame.info.get("duration") or _DEFAULT_MS))
            out.mux(stream.encode(None))
    except (OSError, ValueError, SyntaxError, av.error.FFmpegError) as exc:
        video.unlink(missing_ok=True)
        raise VidstyleError(f"cannot read {path} as an animation ({exc})") from exc
    return video
