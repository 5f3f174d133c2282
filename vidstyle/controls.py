"""The paper's run-time controls, resolved into a per-batch Target.

alpha (content-style trade-off), several styles with weights (interpolation),
colour preservation, and a spatial mask (image or video) splitting the frame
between two styles. `target_source(...)` returns a function
`(frame_index, frames) -> Target` used by files, stills and the webcam alike.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from .color import MODES, ColorKeeper
from .errors import VidstyleError
from .images import load_image
from .style_cache import MIN_STYLE_SIZE, StyleCache, load_style_picture
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
    mask: Path | None = None  # image, or video as long as the input (see MaskVideo)
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
        load_style_picture(path, MIN_STYLE_SIZE)  # (a large scan is read reduced)
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
    """One mask per input frame from a video (with a `segment`: the same part of the mask
    video as of the input).

    Frame by frame where the mask has the input's frame rate (to within 1%: a mask
    rendered at 30 for 29.97 footage, or one whose first frame is stored late, as AVI
    files do, still pairs frame with frame). Once `follow_time` has given the input
    frames' times and the rates differ (24 against 60, 25 against 29.97), or for a live
    feed or a still at a time, by time: each input frame gets the mask frame on screen at
    its time, both counted from their file's start as players count them."""

    # Timestamps closer than this are the same time (rounding between time bases).
    SAME_TIME_S = 1e-3
    # Frame rates closer than this (relative) pair frame with frame.
    SAME_RATE = 0.01
    # By time, read from this much before a segment's start: a cut keeps the frames that
    # start in it, and the mask frame on screen at its start may have started earlier
    # (one held longer is found by reading from the beginning).
    LEAD_S = 1.0

    def __init__(self, path: Path, segment=None):
        self.path = path
        self._segment = segment
        self._source = None
        self._open(segment)
        self._input_seconds = None  # frame index -> the input frame's time, once by time
        self._input_frame_s = 0.0
        self._loop = False
        self._round_s = 0.0  # where the current round of a looped mask starts
        self._last_read_s = None  # the time of the last mask frame read
        self._shown = None  # (seconds, frame, mask or None): the mask frame on screen
        self._ahead = None  # the next mask frame, read ahead: (seconds, frame, None)
        self._last_input_s = None
        self._asked = False  # whether any mask was asked for

    def _open(self, segment) -> None:
        from .frame_clock import FrameClock
        from .sources import VideoFileSource

        if self._source is not None:
            self._source.close()
            self._source = None
        self._source = VideoFileSource(self.path, segment=segment).start()
        self._opened_at = segment.start if segment is not None else 0.0
        self._clock = FrameClock(self._source.info.rate, origin=self._source.input_origin())
        self._frames = enumerate(self._clock.timed(self._source))

    def follow_time(self, input_seconds: Callable[[int], float], input_frame_s: float,
                    loop: bool = False) -> None:
        """Give the input frames' times before any mask is asked for: `input_seconds(index)`
        is input frame `index`'s time on the input's own clock, `input_frame_s` its nominal
        frame duration (0: none, e.g. a still at a time). Masks then go by time unless the
        rates match. `loop`: the mask starts again at its end (a live feed)."""
        from .sources import Segment

        same_rate = input_frame_s > 0 and abs(self._clock.frame_s / input_frame_s - 1) < self.SAME_RATE
        if (same_rate and not loop) or self._asked:
            return
        self._input_seconds, self._input_frame_s, self._loop = input_seconds, input_frame_s, loop
        if self._segment is not None:  # from a little earlier, and on past the cut's end
            start = max(0.0, self._segment.start - self.LEAD_S)
            self._open(Segment(start) if start > 0 else None)

    def masks_for(self, index: int, n: int) -> torch.Tensor:
        """(n, 1, H, W) masks for input frames index .. index + n - 1, in order."""
        if self._input_seconds is None:
            return self.next_masks(n)
        self._asked = True
        return torch.stack([self._mask_at(self._input_seconds(i)) for i in range(index, index + n)])[:, None]

    def next_masks(self, n: int) -> torch.Tensor:
        """The next n mask frames, one per input frame by count."""
        self._asked = True
        masks = []
        for _ in range(n):
            frame = self._read()
            if frame is None:
                raise self._shorter()
            masks.append(_grey(frame[1]))
        return torch.stack(masks)[:, None]

    def _mask_at(self, t: float) -> torch.Tensor:
        if self._shown is None:
            if not self._loop and t - self.LEAD_S > self._opened_at:  # (a still at a late time)
                from .sources import Segment, StartPastEnd

                try:
                    self._open(Segment(t - self.LEAD_S))
                except StartPastEnd:
                    raise self._shorter() from None
            self._shown = self._read()
            if self._shown is not None and self._shown[0] > t + self.SAME_TIME_S and self._opened_at > 0:
                self._open(None)  # a frame held longer than the lead: read from the beginning
                self._shown = self._read()
            if self._shown is None:
                raise self._shorter()
        while True:  # move on to the last mask frame that starts by t
            if self._ahead is None:
                self._ahead = self._read()
            if self._ahead is None or self._ahead[0] > t + self.SAME_TIME_S:
                break
            self._shown, self._ahead = self._ahead, None
        shown_s, frame, mask = self._shown
        if self._ahead is None and t >= shown_s + self._clock.frame_s - self.SAME_TIME_S:
            raise self._shorter()  # past the mask's last frame's end
        if mask is None:  # (made only for the mask frames used: a 60 FPS mask on 24 FPS input)
            mask = _grey(frame)
            self._shown = (shown_s, frame, mask)
        self._last_input_s = t
        return mask

    def _read(self):
        """The next mask frame as (seconds, frame, None), or None at the end."""
        item = next(self._frames, None)
        if item is None and self._loop and self._last_read_s is not None:
            # The next round starts as the last frame ends.
            self._round_s = self._last_read_s + self._clock.frame_s
            self._open(None)
            item = next(self._frames, None)
        if item is None:
            return None
        index, frame = item
        seconds = self._round_s + self._clock.seconds(index)
        self._clock.forget(index)
        self._last_read_s = seconds
        return seconds, frame, None

    def _shorter(self) -> VidstyleError:
        """The mask ran out: said with where it ended, and with the damage that ended it
        early where its decoder skipped packets (a damaged file is not a short one)."""
        last = self._last_read_s
        ends = "" if last is None else f": it ends at {last + self._clock.frame_s:.2f} s"
        damaged = self._source.damaged_packets if self._source is not None else 0
        why = f", where {damaged} damaged packet(s) could not be decoded" if damaged else ""
        return VidstyleError(f"mask video {self.path} is shorter than the input{ends}{why}")

    def frames_left(self) -> bool:
        """Whether the mask goes on past the input's end (worth a warning once the input has
        ended): by count, any frame left; by time, a frame starting after the input's last
        frame ended (never for a cut with an end, where a longer mask is expected, nor
        where no mask was asked for: a resumed run with nothing left to convert)."""
        if not self._asked:
            return False
        if self._input_seconds is None:
            return self._read() is not None
        if self._loop or (self._segment is not None and self._segment.duration is not None):
            return False
        end = self._last_input_s + self._input_frame_s - self.SAME_TIME_S
        frame = self._ahead or self._read()
        while frame is not None and frame[0] < end:
            frame = self._read()
        return frame is not None

    def close(self) -> None:
        if self._source is not None:
            self._source.close()


def _grey(frame) -> torch.Tensor:
    """A decoded frame (vidstyle.sources.Frame) as an (H, W) mask in [0, 1]."""
    return torch.from_numpy(frame.image).float().mean(-1) / 255


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
        mask = mask_video.masks_for(index, len(frames)) if mask_video else mask_image
        return Target(stats[0], alpha, mask=mask, stats_b=stats[1], luminance_only=lum)

    if mask_video is not None:  # convert_video gives the input's frame times (MaskVideo.follow_time)
        target_for.follow_input_time = mask_video.follow_time

    def close(finished: bool = False) -> None:
        """Stop the mask video; `finished`: the input ended normally (not an error or Ctrl-C)."""
        if mask_video is None:
            return
        if finished and mask_video.frames_left():
            log.warning("mask video %s is longer than the input; its last frames were not used",
                        mask_video.path)
        mask_video.close()

    return target_for, close


def live_target(target_for: TargetFn, clock: Callable[[], float] = time.perf_counter
                ) -> Callable[[np.ndarray], Target]:
    """`target_for` (from target_source) for a live feed, one call per frame: a mask video
    plays at its own speed from the first frame asked for, whatever rate the model keeps,
    and starts again at its end."""
    follow = getattr(target_for, "follow_input_time", None)
    if follow is not None:
        started: list[float] = []

        def seconds(_index: int) -> float:
            now = clock()
            if not started:
                started.append(now)
            return now - started[0]

        follow(seconds, 0.0, loop=True)
    return lambda frames: target_for(0, frames)
