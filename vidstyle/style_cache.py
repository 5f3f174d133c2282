"""Style statistics computed once per style file, cached in memory and on disk.

The disk key is the SHA-256 of the file's bytes plus everything that changes
the numbers (encoder scales, style size), so a renamed file still hits and an
edited one misses.
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path

import torch
from safetensors import SafetensorError

from .adain import StyleStats
from .encoder import FEATURE_SCALES
from .errors import VidstyleError
from .images import load_image, resize_shorter
from .inputs import file_signature, is_video_container

log = logging.getLogger(__name__)
STYLE_SIZE = 512  # styles are encoded with their shorter side at most this (as in the paper)
MIN_STYLE_SIZE = 64  # relu4_1 sees an eighth of it: smaller leaves too few positions for statistics
MAX_STYLE_SIZE = 2048  # VGG-19's activations at 2048 px already take gigabytes
# The sizes the webcam's [ and ] keys and a MIDI knob step through (the default among them).
STYLE_SIZE_STEPS = (96, 128, 192, 256, 384, 512, 768, 1024)


def default_cache_dir() -> Path:
    base = os.environ.get("VIDSTYLE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "vidstyle")
    return Path(base) / "styles"


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def style_image(path: Path, style_size: int | None = None) -> torch.Tensor:
    """A style image (3, H, W) at the size its statistics are taken at: shorter side
    `style_size`, or by default at most STYLE_SIZE."""
    return sized_style(load_style_picture(path, style_size or STYLE_SIZE), style_size)


def load_style_picture(path: Path, needed_side: int) -> torch.Tensor:
    """A style file's picture (load_image), a video named for what it is rather than "cannot
    identify image file" (an animated GIF or WebP gives its first frame, as Pillow reads it)."""
    if is_video_container(path) and Path(path).is_file() and _holds_video(path):
        raise VidstyleError(f"style {path} is a video; a style is a still picture (a painting, a "
                            "photo): save the frame you want as an image first")
    return load_image(path, needed_side=needed_side)


def _holds_video(path: Path) -> bool:
    """Whether FFmpeg finds a video stream in the file (a text file named .mp4 has none)."""
    import av

    try:
        with av.open(str(path)) as container:
            return bool(container.streams.video)
    except (av.error.FFmpegError, OSError, ValueError):
        return False


def sized_style(image: torch.Tensor, style_size: int | None = None) -> torch.Tensor:
    """A style image (3, H, W) scaled to its shorter side `style_size`, or by default brought
    down to at most STYLE_SIZE."""
    if style_size is not None:
        return resize_shorter(image, style_size)
    return resize_shorter(image, STYLE_SIZE) if min(image.shape[1:]) > STYLE_SIZE else image


class StyleCache:
    """Maps style image files to StyleStats via `stats_for_path(path)`.

    `encode` turns an image (3, H, W) into StyleStats (Stylizer.style_stats).
    Thread-safe, so styles can be prepared off the frame loop.
    """

    def __init__(self, encode, cache_dir: Path | None = None, style_size: int | None = None):
        self._encode = encode
        self.cache_dir = cache_dir if cache_dir is not None else default_cache_dir()
        if style_size is not None and not MIN_STYLE_SIZE <= style_size <= MAX_STYLE_SIZE:
            raise VidstyleError(f"the style size must be {MIN_STYLE_SIZE} to {MAX_STYLE_SIZE} pixels, "
                                f"got {style_size}")
        # None: styles larger than STYLE_SIZE are brought down to it, smaller ones kept as they
        # are; a size: every style is scaled to it (the user asked for that stroke scale).
        self.style_size = style_size
        self._memory: dict[str, StyleStats] = {}
        # Each file's digest by its signature: asked for again (a style switched back to, the
        # Python API per frame), a style is not read and hashed again unless it changed.
        self._digests: dict[tuple, str] = {}
        self._lock = threading.Lock()
        self.computed = 0  # how many styles were actually encoded (for tests and logs)

    def _key(self, path: Path) -> str:
        size = STYLE_SIZE if self.style_size is None else f"exactly {self.style_size}"
        signature = file_signature(path)
        digest = self._digests.get(signature)
        if digest is None:
            digest = self._digests[signature] = file_digest(path)
        tag = f"{digest}-{size}-" + "-".join(f"{s:g}" for s in FEATURE_SCALES)
        return hashlib.sha256(tag.encode()).hexdigest()[:32]

    def stats_for_path(self, path: str | Path) -> StyleStats:
        path = Path(path)
        if not path.is_file():
            raise VidstyleError(f"style image not found: {path}")
        key = self._key(path)
        with self._lock:
            if key in self._memory:
                return self._memory[key]
        stats = self._load_disk(key)
        if stats is None:
            stats = self._encode(self.style_image(path))
            self.computed += 1
            self._save_disk(key, stats)
        with self._lock:
            self._memory[key] = stats
        return stats

    def style_image(self, path: Path) -> torch.Tensor:
        return style_image(path, self.style_size)

    def at_size(self, style_size: int | None) -> "StyleCache":
        """This cache with styles taken at another size (the same memory and disk; each size
        has its own entries)."""
        other = StyleCache(self._encode, self.cache_dir, style_size)
        other._memory, other._digests, other._lock = self._memory, self._digests, self._lock
        return other

    def _load_disk(self, key: str) -> StyleStats | None:
        path = self.cache_dir / f"{key}.safetensors"
        if not path.is_file():
            return None
        try:
            return StyleStats.load(path)
        except (SafetensorError, OSError, KeyError) as exc:
            log.warning("ignoring unreadable style cache entry %s: %s", path, exc)
            return None

    def _save_disk(self, key: str, stats: StyleStats) -> None:
        # A cache that cannot be written only costs time: warn, don't fail.
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = self.cache_dir / f".{key}.{os.getpid()}.{threading.get_ident()}.partial"
            stats.save(tmp)
            tmp.replace(self.cache_dir / f"{key}.safetensors")
        except OSError as exc:
            log.warning("cannot write style cache in %s: %s", self.cache_dir, exc)
