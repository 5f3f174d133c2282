"""The short way in from Python: one object holds a model and its style cache, and
stylizes arrays, image files and videos with the command line's controls.

    import vidstyle
    st = vidstyle.StyleTransfer(model="lite")
    out = st.stylize(frames, "wave.jpg", alpha=0.8)    # (N, H, W, 3) uint8 RGB in and out
    st.stylize_file("photo.jpg", "photo_wave.png", "wave.jpg")
    report = st.convert("clip.mp4", "clip_wave.mp4", "wave.jpg", steady=0.5)

Styles are image files (their statistics cached on disk by content, as the command line
does), arrays, or StyleStats from `style_stats`.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from .adain import StyleStats
from .controls import MASK_VIDEO_SUFFIXES, Controls, target_source
from .errors import VidstyleError
from .pipeline import ConvertReport, convert_video
from .sources import Segment
from .stills import stylize_image_file
from .style_cache import StyleCache, sized_style
from .stylizer import MIN_SIDE, Target, default_batch, load_stylizer
from .styles import normalise_weights

class StyleTransfer:
    """A model (`model`: "full", "lite", "tiny" or "auto"; `weights`: another file of that
    kind) on a device, with the style cache the command line uses (`cache_dir`, default
    ~/.cache/vidstyle/styles; `style_size`: the shorter side styles are taken at, default:
    at most 512). `device`, `precision`, `work_size` and `compile` as the command line's."""

    def __init__(self, model: str = "full", weights: str | Path | None = None, device: str = "auto",
                 precision: str = "auto", work_size: int | None = None, compile: bool = False,
                 style_size: int | None = None, cache_dir: str | Path | None = None):
        self.stylizer = load_stylizer(model, str(weights) if weights else None, device=device,
                                      precision=precision, work_size=work_size, compile=compile)
        self.styles = StyleCache(self.stylizer.style_stats, Path(cache_dir) if cache_dir else None,
                                 style_size)
        self._look = None  # the last look stylize() used, kept for colour keeping's scene memory

    def describe(self) -> dict:
        """Model, device and precision, as `vidstyle bench` reports them."""
        return self.stylizer.describe()

    def style_stats(self, style) -> StyleStats:
        """A style's statistics: from an image file (cached), an (H, W, 3) uint8 RGB array
        or a (3, H, W) float tensor in [0, 1]."""
        if isinstance(style, StyleStats):
            return style
        if isinstance(style, (str, Path)):
            return self.styles.stats_for_path(style)
        image = _image_tensor(style)
        return self.stylizer.style_stats(sized_style(image, self.styles.style_size))

    def stylize(self, frames, style, alpha: float = 1.0, weights: Sequence[float] | None = None,
                color: str | None = None, mask: str | Path | None = None,
                size: int | None = None, batch: int | None = None) -> np.ndarray:
        """Stylized frames: `frames` (H, W, 3) or (N, H, W, 3) uint8 RGB (or a PIL image), the
        same shape back (`size`: its shorter side instead). `style`: one style or a list to
        blend by `weights`; `color` "match" or "luminance" keeps the frames' colours and
        `mask` (an image: white gets the first of two styles) splits the picture, as in the
        command line; both need style files. Calls with the same style and controls share
        colour keeping's memory of the scene, as a video's frames do."""
        array = _frames_array(frames)
        one = array.ndim == 3
        batches = array[None] if one else array
        if mask is not None and Path(mask).suffix.lower() in MASK_VIDEO_SUFFIXES:
            raise VidstyleError("a mask video follows a video's time: use convert() (stylize() takes "
                                "a mask image)")
        target_for = self._look_for(style, alpha, weights, color, mask)
        step = batch or default_batch(self.stylizer.device)
        out = [self.stylizer.stylize_frames(batches[i:i + step], target_for(i, batches[i:i + step]), size)
               for i in range(0, len(batches), step)]
        result = np.concatenate(out)
        return result[0] if one else result

    def stylize_file(self, content: str | Path, output: str | Path, style, alpha: float = 1.0,
                     weights: Sequence[float] | None = None, color: str | None = None,
                     mask: str | Path | None = None, size: int | None = None, at: float = 0.0,
                     overwrite: bool = False) -> Path:
        """An image file (or a video's frame at `at` seconds) stylized into `output` (PNG,
        JPEG, WebP, TIFF or BMP), written whole or not at all; an existing `output` only
        with `overwrite`."""
        target_for, close = self._targets(style, alpha, weights, color, mask)
        try:
            return stylize_image_file(content, output, self.stylizer, target_for, size, overwrite, at)
        finally:
            close()

    def convert(self, input: str | Path, output: str | Path, style, alpha: float = 1.0,
                weights: Sequence[float] | None = None, color: str | None = None,
                mask: str | Path | None = None, start: float = 0.0, duration: float | None = None,
                **options) -> ConvertReport:
        """A video (or image sequence) stylized into `output`, sound copied; `start` and
        `duration` seconds convert a part. `options` go to vidstyle.pipeline.convert_video:
        size, batch, steady, codec, crf, preset, fade_in, fade_out, frame_rate, hdr,
        deinterlace, audio_pulse, workers, overwrite, on_progress(done, total, fps), on_frame."""
        segment = Segment(start, duration) if start or duration is not None else None
        target_for, close = self._targets(style, alpha, weights, color, mask, segment)
        options.setdefault("batch", default_batch(self.stylizer.device))
        finished = False
        try:
            report = convert_video(input, output, self.stylizer, target_for, segment=segment, **options)
            finished = True
            return report
        finally:
            close(finished)

    def _look_for(self, style, alpha, weights, color, mask):
        """target_for for stylize(): the last one again when nothing changed."""
        key = (_style_key(style), alpha, tuple(weights or ()), color, str(mask) if mask else None)
        if self._look is None or self._look[0] != key:
            if self._look is not None:
                self._look[2]()
            self._look = (key, *self._targets(style, alpha, weights, color, mask))
        return self._look[1]

    def _targets(self, style, alpha, weights, color, mask, segment=None):
        """(target_for(index, frames), close(finished=False)) for these controls."""
        styles = list(style) if isinstance(style, (list, tuple)) else [style]
        if all(isinstance(s, (str, Path)) for s in styles):  # files: every control the CLI has
            controls = Controls([Path(s) for s in styles], weights, alpha, color,
                                Path(mask) if mask else None)
            return target_source(controls, self.styles, self.stylizer.style_stats, segment)
        if color is not None or mask is not None:
            raise VidstyleError("colour keeping and masks take style image files")
        if not 0.0 <= alpha <= 1.0:
            raise VidstyleError(f"alpha must be between 0 and 1, got {alpha}")
        stats = [self.style_stats(s) for s in styles]
        target = Target(StyleStats.combine(stats, normalise_weights(weights, len(stats))), alpha)
        return (lambda index, frames: target), (lambda finished=False: None)


def _style_key(style):
    """Something equal for the same styles (arrays by identity: they may be changed in place)."""
    styles = style if isinstance(style, (list, tuple)) else [style]
    return tuple(str(s) if isinstance(s, (str, Path)) else id(s) for s in styles)


def _frames_array(frames) -> np.ndarray:
    if hasattr(frames, "convert") and not isinstance(frames, np.ndarray):  # a PIL image
        frames = frames.convert("RGB")
    array = np.asarray(frames)
    if array.dtype != np.uint8 or array.ndim not in (3, 4) or array.shape[-1] != 3:
        raise VidstyleError(f"frames must be (H, W, 3) or (N, H, W, 3) uint8 RGB, got {array.dtype} "
                            f"{tuple(array.shape)}")
    if min(array.shape[-3:-1]) < MIN_SIDE:
        raise VidstyleError(f"frames need at least {MIN_SIDE} px per side, got "
                            f"{array.shape[-2]}x{array.shape[-3]}")
    return np.ascontiguousarray(array)


def _image_tensor(style) -> torch.Tensor:
    """(3, H, W) float in [0, 1] from a uint8 (H, W, 3) array, a PIL image or such a tensor."""
    if isinstance(style, torch.Tensor):
        if style.ndim != 3 or style.shape[0] != 3 or not style.is_floating_point():
            raise VidstyleError(f"a style tensor must be (3, H, W) float in [0, 1], got "
                                f"{style.dtype} {tuple(style.shape)}")
        image = style.detach().float().cpu()
    else:
        array = _frames_array(style)
        if array.ndim != 3:
            raise VidstyleError(f"a style image is (H, W, 3) uint8 RGB, got {tuple(array.shape)}")
        image = torch.from_numpy(array.copy()).permute(2, 0, 1).float() / 255  # (a PIL image's is read-only)
    if min(image.shape[1:]) < MIN_SIDE:
        raise VidstyleError(f"a style image needs at least {MIN_SIDE} px per side")
    return image.contiguous()
