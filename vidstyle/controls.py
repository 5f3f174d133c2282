"""The paper's run-time controls, resolved into a per-batch Target.

alpha (content-style trade-off), several styles with weights (interpolation),
colour preservation, and a spatial mask (image or video) splitting the frame
between two styles. `target_source(...)` returns a function
`(frame_index, frames) -> Target` used by files, stills and the webcam alike.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from .color import MODES, ColorKeeper
from .errors import VidstyleError
from .images import load_image
from .style_cache import StyleCache
from .styles import normalise_weights
from .stylizer import Target

log = logging.getLogger(__name__)
TargetFn = Callable[[int, np.ndarray], Target]
MASK_VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"}


@dataclass
class Controls:
    styles: Sequence[Path]
    weights: Sequence[float] | None = None
    alpha: float = 1.0
    color: str | None = None  # None, "match" or "luminance"
    mask: Path | None = None  # image, or video of the same length as the input
    scene_threshold: float = 0.1

    def validate(self) -> None:
        if not self.styles:
            raise VidstyleError("give at least one --style")
        if not 0.0 <= self.alpha <= 1.0:
            raise VidstyleError(f"--alpha must be between 0 and 1, got {self.alpha}")
        if self.color is not None and self.color not in MODES:
            raise VidstyleError(f"unknown colour mode {self.color!r} (use {' or '.join(MODES)})")
        if self.mask is not None:
            if len(self.styles) != 2:
                raise VidstyleError(f"--mask needs exactly two styles (white gets the first), "
                                    f"got {len(self.styles)}")
            if self.weights:
                raise VidstyleError("--mask and --weights cannot be combined")
            if not Path(self.mask).is_file():
                raise VidstyleError(f"mask not found: {self.mask}")
        else:
            normalise_weights(self.weights, len(self.styles))


def check_readable(styles: Sequence[Path], mask: Path | None = None) -> None:
    """Read these style images and the mask once, so that a bad one is refused before a
    model loads (seconds on a CPU) rather than after."""
    for path in styles:
        load_image(path)
    if mask is None:
        return
    if Path(mask).suffix.lower() in MASK_VIDEO_SUFFIXES:
        from .sources import VideoFileSource

        VideoFileSource(mask).close()
    else:
        load_mask_image(Path(mask))


def load_mask_image(path: Path) -> torch.Tensor:
    """A mask image as (1, 1, H, W) in [0, 1] (grey level; colour images are averaged)."""
    return load_image(path, min_side=1).mean(0)[None, None]


class MaskVideo:
    """Yields one mask per frame from a video, in step with the input (with a `segment`: the
    same part of the mask video as of the input)."""

    def __init__(self, path: Path, segment=None):
        from .sources import VideoFileSource

        self._source = VideoFileSource(path, segment=segment).start()
        self._iter = iter(self._source)
        self.path = path

    def next_masks(self, n: int) -> torch.Tensor:
        masks = []
        for _ in range(n):
            try:
                frame = next(self._iter)
            except StopIteration:
                raise VidstyleError(f"mask video {self.path} is shorter than the input") from None
            masks.append(torch.from_numpy(frame.image).float().mean(-1) / 255)
        return torch.stack(masks)[:, None]

    def frames_left(self) -> bool:
        """Whether frames remain after the input's (worth a warning once the input has ended)."""
        return next(self._iter, None) is not None

    def close(self) -> None:
        self._source.close()


def target_source(controls: Controls, cache: StyleCache, encode,
                  segment=None) -> tuple[TargetFn, Callable[..., None]]:
    """(target_for(frame_index, frames), close(finished=False)) for these controls.

    `encode` is Stylizer.style_stats. Fixed styles come from the cache;
    colour-preserving styles are recomputed only when the scene changes. `segment`
    (vidstyle.sources.Segment): the part of the input converted, for a mask video.
    """
    controls.validate()
    paths = [Path(p) for p in controls.styles]
    alpha, lum = controls.alpha, controls.color == "luminance"
    mask_video = None
    mask_image = None
    if controls.mask is not None:
        if Path(controls.mask).suffix.lower() in MASK_VIDEO_SUFFIXES:
            mask_video = MaskVideo(Path(controls.mask), segment)
        else:
            mask_image = load_mask_image(Path(controls.mask))

    try:
        if controls.color:
            images = [cache.style_image(p) for p in paths]
            if controls.mask is not None:
                keepers = [ColorKeeper([img], [1.0], controls.color, encode, controls.scene_threshold)
                           for img in images]
            else:
                keepers = [ColorKeeper(images, normalise_weights(controls.weights, len(paths)),
                                       controls.color, encode, controls.scene_threshold)]
            style_stats = lambda frames: [k.stats_for(frames) for k in keepers]  # noqa: E731
        else:
            fixed = [cache.stats_for_path(p) for p in paths]
            if controls.mask is None and len(fixed) > 1:
                from .adain import StyleStats

                fixed = [StyleStats.combine(fixed, normalise_weights(controls.weights, len(fixed)))]
            style_stats = lambda frames: fixed  # noqa: E731
    except BaseException:
        if mask_video is not None:  # don't leak its decode thread
            mask_video.close()
        raise

    def target_for(index: int, frames: np.ndarray) -> Target:
        stats = style_stats(frames)
        if controls.mask is None:
            return Target(stats[0], alpha, luminance_only=lum)
        mask = mask_video.next_masks(len(frames)) if mask_video else mask_image
        return Target(stats[0], alpha, mask=mask, stats_b=stats[1], luminance_only=lum)

    def close(finished: bool = False) -> None:
        """Stop the mask video; `finished`: the input ended normally (not an error or Ctrl-C)."""
        if mask_video is None:
            return
        if finished and mask_video.frames_left():
            log.warning("mask video %s is longer than the input; its last frames were not used",
                        mask_video.path)
        mask_video.close()

    return target_for, close
