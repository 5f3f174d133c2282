"""The short way in from Python: one object holds a model and its style cache, and
stylizes arrays, image files and videos with the command line's controls.

    import vidstyle
    st = vidstyle.StyleTransfer(model="lite")
    out = st.stylize(frames, "wave.jpg", alpha=0.8)    # (N, H, W, 3) uint8 RGB in and out
    st.stylize_file("photo.jpg", "photo_wave.png", "wave.jpg")
    report = st.convert("clip.mp4", "clip_wave.mp4", "wave.jpg", steady=0.5)

Styles are image files (their statistics cached on disk by content, as the command line
does), arrays, PIL images, tensors, or StyleStats from `style_stats`.
"""
from __future__ import annotations

import hashlib
import inspect
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .adain import StyleStats
from .api_checks import (check_convert_options, checked_alpha, checked_batch, checked_path, checked_side,
                         checked_size, checked_weights, seconds)
from .controls import MASK_VIDEO_SUFFIXES, Controls, target_source
from .errors import VidstyleError
from .gif_sink import is_gif
from .images import pil_to_rgb8, pil_to_tensor
from .inputs import file_signature
from .outputs import refuse_outputs_over_sources
from .pipeline import ConvertReport, convert_video
from .sequences import is_sequence
from .sinks import codec_for_output
from .sources import Segment
from .stills import stylize_image_file
from .style_cache import StyleCache, sized_style
from .stylizer import MIN_SIDE, Target, default_batch, load_stylizer
from .styles import normalise_weights

# convert()'s options: convert_video's keywords, less those convert() sets itself.
CONVERT_OPTIONS = sorted(set(inspect.signature(convert_video).parameters)
                         - {"input_path", "output_path", "stylizer", "target", "segment", "resumable"})
ARRAY_STATS_KEPT = 32  # statistics of style arrays kept in memory, by content


class StyleTransfer:
    """A model (`model`: "full", "lite", "tiny" or "auto"; `weights`: another file of that
    kind) on a device, with the style cache the command line uses (`cache_dir`, default
    ~/.cache/vidstyle/styles; `style_size`: the shorter side styles are taken at, default:
    at most 512). `device`, `precision`, `work_size` and `compile` as the command line's."""

    def __init__(self, model: str = "full", weights: str | Path | None = None, device: str = "auto",
                 precision: str = "auto", work_size: int | None = None, compile: bool = False,
                 style_size: int | None = None, cache_dir: str | Path | None = None):
        work_size, style_size = checked_side("work_size", work_size), checked_side("style_size", style_size)
        self.stylizer = load_stylizer(model, str(weights) if weights else None, device=device,
                                      precision=precision, work_size=work_size, compile=compile)
        self.styles = StyleCache(self.stylizer.style_stats, Path(cache_dir) if cache_dir else None,
                                 style_size)
        self._look = None  # colour keeping's targets, kept between stylize() calls (its scene memory)
        self._array_stats: dict[str, StyleStats] = {}

    def describe(self) -> dict:
        """Model, device and precision, as `vidstyle bench` reports them."""
        return self.stylizer.describe()

    def style_stats(self, style) -> StyleStats:
        """A style's statistics: from an image file (cached), an (H, W, 3) uint8 RGB array
        or a (3, H, W) float tensor in [0, 1]."""
        if isinstance(style, StyleStats):
            return style
        if isinstance(style, (str, Path)):
            return self.styles.stats_for_path(_style_file(style))
        if style is None or isinstance(style, (list, tuple)):
            raise VidstyleError("a style is one image file, array, PIL image, tensor or StyleStats, got "
                                + ("None" if style is None else "a list (stylize() blends a list)"))
        image = _style_tensor(style)
        # By content: the same picture again costs no encoder pass, an edited one is encoded anew.
        # (the shape too: a reshaped array holds the same bytes)
        digest = hashlib.sha256(image.numpy().tobytes()).hexdigest()
        key = f"{digest}-{tuple(image.shape)}-{self.styles.style_size}"
        if key not in self._array_stats:
            if len(self._array_stats) >= ARRAY_STATS_KEPT:
                self._array_stats.pop(next(iter(self._array_stats)))
            self._array_stats[key] = self.stylizer.style_stats(sized_style(image, self.styles.style_size))
        return self._array_stats[key]

    def stylize(self, frames, style, alpha: float = 1.0, weights: Sequence[float] | None = None,
                color: str | None = None, mask: str | Path | None = None,
                size: int | None = None, batch: int | None = None, video: bool = False) -> np.ndarray:
        """Stylized frames: `frames` (H, W, 3) or (N, H, W, 3) uint8 RGB (or PIL images, read as
        image files are: 16-bit pictures scaled, transparency on white), the same shape back
        (`size`: its shorter side instead). `style`: one style or a list to blend by
        `weights`; `color` "match" or "luminance" keeps the frames' colours and `mask` (an
        image file: white gets the first of two styles) splits the picture, as in the
        command line; both need style files. `batch`: frames per model call (default: 1 on
        a CPU and with colour keeping, else 8 on a GPU).

        Colour keeping recolours the style to each picture (each batch, with `batch`) and
        encodes it again: about one style encoding per picture. With `video=True` the frames
        are a video's, in order: the colours are kept while the next frames look alike, also
        across calls with the same style and controls (`forget_scene()` starts afresh), as
        the command line does."""
        array = _frames_array(frames)
        size, batch, mask = checked_size(size), checked_batch(batch), checked_path("mask", mask)
        one = array.ndim == 3
        batches = array[None] if one else array
        if len(batches) == 0:
            raise VidstyleError("no frames to stylize")
        if mask is not None and Path(mask).suffix.lower() in MASK_VIDEO_SUFFIXES:
            raise VidstyleError("a mask video follows a video's time: use convert() (stylize() takes "
                                "a mask image)")
        alpha, weights = checked_alpha(alpha), checked_weights(weights)
        if color is not None:
            step = batch or 1
            if video:  # a video's frames: colours kept while the scene stays, call to call
                target_for = self._look_for(style, alpha, weights, color, mask)
            else:
                def target_for(index, frames):  # each picture its own colours
                    self.forget_scene()
                    return self._look_for(style, alpha, weights, color, mask)(index, frames)
        else:
            target_for, close = self._targets(style, alpha, weights, color, mask)
            close()  # (only a mask video needs closing, and stylize() takes none)
            step = batch or default_batch(self.stylizer.device)
        result = None
        for i in range(0, len(batches), step):
            part = batches[i:i + step]
            out = self.stylizer.stylize_frames(part, target_for(i, part), size)
            if result is None:  # all outputs in one array, not a list joined at the end
                result = np.empty((len(batches), *out.shape[1:]), np.uint8)
            result[i:i + len(part)] = out
        if color is not None and not video:  # (a video's frames that follow start afresh)
            self.forget_scene()
        return result[0] if one else result

    def forget_scene(self) -> None:
        """Colour keeping starts afresh with the next stylize() call (new footage)."""
        if self._look is not None:
            self._look[2]()
            self._look = None

    def stylize_file(self, content: str | Path, output: str | Path, style, alpha: float = 1.0,
                     weights: Sequence[float] | None = None, color: str | None = None,
                     mask: str | Path | None = None, size: int | None = None, at: float = 0.0,
                     overwrite: bool = False) -> Path:
        """An image file (or a video's frame at `at` seconds) stylized into `output` (PNG,
        JPEG, WebP, TIFF or BMP), written whole or not at all; an existing `output` only
        with `overwrite`."""
        content, output = checked_path("content", content), checked_path("output", output)
        size, mask, at = checked_size(size), checked_path("mask", mask), seconds("at", at)
        if not 0 <= at < math.inf:
            raise VidstyleError(f"at must be 0 or more seconds, got {at:g}")
        _check_output(output, overwrite, style, mask)
        target_for, close = self._targets(style, checked_alpha(alpha), checked_weights(weights), color, mask)
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
        unknown = sorted(set(options) - set(CONVERT_OPTIONS))
        if unknown:
            hint = " (use start= and duration=)" if "segment" in unknown else ""
            raise VidstyleError(f"convert() has no option {unknown[0]!r}{hint}; its options: "
                                f"{', '.join(CONVERT_OPTIONS)}")
        input, output = checked_path("input", input), checked_path("output", output)
        mask, start = checked_path("mask", mask), seconds("start", start)  # (Segment checks the range)
        duration = None if duration is None else seconds("duration", duration)
        options["size"] = checked_size(options.get("size"))
        options["batch"] = checked_batch(options.get("batch")) or default_batch(self.stylizer.device)
        check_convert_options(options)
        weights = checked_weights(weights)
        if str(output) != "-":
            _check_output(output, options.get("overwrite", False), style, mask)
        if is_gif(output) or is_sequence(output):
            given = [k for k in ("codec", "crf", "preset") if options.get(k) is not None]
            if given:
                raise VidstyleError(f"{given[0]} is for video outputs; {output} is "
                                    + ("an animated GIF" if is_gif(output) else "an image sequence"))
        else:
            options["codec"] = codec_for_output(output, options.get("codec"))  # VP9 for .webm
        segment = Segment(start, duration) if start or duration is not None else None
        target_for, close = self._targets(style, checked_alpha(alpha), weights, color, mask, segment)
        finished = False
        try:
            report = convert_video(input, output, self.stylizer, target_for, segment=segment, **options)
            finished = True
            return report
        finally:
            close(finished)

    def _look_for(self, style, alpha, weights, color, mask):
        """target_for for colour keeping in stylize(): the last one again while the styles,
        the mask (by content) and the controls stay the same."""
        key = (_style_key(style), alpha, _weights_key(weights), color, _file_key(mask) if mask else None)
        if self._look is None or self._look[0] != key:
            self.forget_scene()
            self._look = (key, *self._targets(style, alpha, weights, color, mask))
        return self._look[1]

    def _targets(self, style, alpha, weights, color, mask, segment=None):
        """(target_for(index, frames), close(finished=False)) for these controls."""
        styles = list(style) if isinstance(style, (list, tuple)) else [style]
        weights = None if weights is None else [float(w) for w in weights]
        if all(isinstance(s, (str, Path)) for s in styles):  # files: every control the CLI has
            controls = Controls([_style_file(s) for s in styles], weights, alpha, color,
                                Path(mask) if mask else None)
            return target_source(controls, self.styles, self.stylizer.style_stats, segment)
        if color is not None or mask is not None:
            raise VidstyleError("colour keeping and masks take style image files")
        stats = [self.style_stats(s) for s in styles]
        target = Target(StyleStats.combine(stats, normalise_weights(weights, len(stats))), alpha)
        return (lambda index, frames: target), (lambda finished=False: None)


def _style_file(path) -> Path:
    if Path(path).is_dir():
        raise VidstyleError(f"style {path} is a folder: name its image files (a list blends them)")
    return Path(path)


def _check_output(output, overwrite: bool, style, mask) -> None:
    """Refused: an existing output without `overwrite`, and ever an output that is a style or mask."""
    styles = style if isinstance(style, (list, tuple)) else [style]
    files = [("the style image", s) for s in styles if isinstance(s, (str, Path))]
    refuse_outputs_over_sources([output], files + [("the mask", mask)])
    if Path(output).is_file() and not overwrite:
        raise VidstyleError(f"output {output} exists; pass overwrite=True to replace it")


def _file_key(path) -> tuple:
    """A file by name and version: an edited style or mask is read anew."""
    path = Path(path)
    return file_signature(path) if path.is_file() else (str(path),)


def _style_key(style) -> tuple:
    styles = style if isinstance(style, (list, tuple)) else [style]
    return tuple(_file_key(s) if isinstance(s, (str, Path)) else id(s) for s in styles)


def _weights_key(weights) -> tuple:
    return () if weights is None else tuple(float(w) for w in weights)


def _frames_array(frames) -> np.ndarray:
    # Pictures as image files are read: 16-bit and float ones scaled, transparency on white.
    if isinstance(frames, torch.Tensor):  # (uint8 (N,) H, W, 3, as arrays; one that keeps gradients too)
        frames = frames.detach().cpu().numpy()
    if isinstance(frames, Image.Image):
        frames = pil_to_rgb8(frames)
    elif isinstance(frames, (list, tuple)) and frames and all(isinstance(f, Image.Image) for f in frames):
        frames = [pil_to_rgb8(f) for f in frames]
    try:
        array = np.asarray(frames)
    except ValueError:  # e.g. a list of frames of different sizes
        raise VidstyleError("frames must be one (H, W, 3) uint8 RGB array, or N of the same size "
                            "(stylize others in their own calls)") from None
    if array.dtype != np.uint8 or array.ndim not in (3, 4) or array.shape[-1] != 3:
        raise VidstyleError(f"frames must be (H, W, 3) or (N, H, W, 3) uint8 RGB, got {array.dtype} "
                            f"{tuple(array.shape)}")
    if array.size and min(array.shape[-3:-1]) < MIN_SIDE:
        raise VidstyleError(f"frames need at least {MIN_SIDE} px per side, got "
                            f"{array.shape[-2]}x{array.shape[-3]}")
    # (a copy where it is read-only, as a PIL image's array is: torch warns of those)
    return np.ascontiguousarray(array) if array.flags.writeable else array.copy()


def _style_tensor(style) -> torch.Tensor:
    """(3, H, W) float in [0, 1] from a PIL image, a uint8 array ((H, W) grey, (H, W, 3) RGB,
    (H, W, 4) RGBA composited on white, as in style files) or a (3, H, W) float tensor."""
    if isinstance(style, torch.Tensor):
        if style.ndim != 3 or style.shape[0] != 3 or not style.is_floating_point():
            raise VidstyleError(f"a style tensor must be (3, H, W) float in [0, 1], got "
                                f"{style.dtype} {tuple(style.shape)}")
        image = style.detach().float().cpu()
        if image.numel() and not (0.0 <= float(image.min()) and float(image.max()) <= 1.0):
            raise VidstyleError(f"a style tensor must hold values in [0, 1], got {float(image.min()):g} "
                                f"to {float(image.max()):g} (divide 0-255 values by 255)")
    else:
        if not isinstance(style, Image.Image):
            array = np.asarray(style)
            grey_rgb_or_rgba = array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in (3, 4))
            if array.dtype != np.uint8 or not grey_rgb_or_rgba:
                raise VidstyleError(f"a style image must be (H, W, 3) uint8 RGB (or grey, or RGBA), got "
                                    f"{array.dtype} {tuple(array.shape)}")
            style = Image.fromarray(array)
        image = pil_to_tensor(style)  # grey and RGBA (on white) as in style files
    if min(image.shape[1:]) < MIN_SIDE:
        raise VidstyleError(f"a style image needs at least {MIN_SIDE} px per side, got "
                            f"{image.shape[2]}x{image.shape[1]}")
    return image.contiguous()
