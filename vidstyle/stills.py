"""Stylizing still images."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

import torch

from .images import check_image_output, load_alpha, load_image, save_image
from .inputs import is_video_file
from .outputs import atomic_output, check_output
from .stylizer import Stylizer, Target


def stylize_image(image: torch.Tensor, stylizer: Stylizer, target: Target,
                  size: int | None = None) -> torch.Tensor:
    """(3, H, W) float in [0, 1] -> stylized (3, H', W') float in [0, 1] on the CPU."""
    x = image[None].to(stylizer.device, stylizer.dtype).contiguous(memory_format=torch.channels_last)
    return stylizer.stylize_tensor(x, target, size)[0].float().cpu()


def load_still(path: str | Path, at: float = 0.0) -> torch.Tensor:
    """An image file, or the frame of a video on screen at `at` seconds (the last one that
    starts by then), as RGB float (3, H, W) in [0, 1]."""
    if not is_video_file(path):
        return load_image(path)
    from .errors import VidstyleError
    from .sources import Segment, VideoFileSource

    with VideoFileSource(path) as source:
        rate, duration = source.info.rate, source.video_seconds()
    if duration is not None and at >= duration:
        raise VidstyleError(f"{path}: --at {at:g} s is past its end ({duration:.2f} s)")
    # Decoding starts a couple of frames early: the frame on screen at `at` began before it.
    start = max(0.0, at - 2 / float(rate))
    shown = None
    with VideoFileSource(path, segment=Segment(start) if start else None) as source:
        for frame in source:
            t = start + (float(frame.pts * frame.time_base) if frame.pts is not None else 0.0)
            if shown is not None and t > at + 1e-6:
                break
            shown = frame
    if shown is None:
        raise VidstyleError(f"{path} has no frame at {at:g} s")
    return torch.from_numpy(shown.image).permute(2, 0, 1).float().div_(255)


def stylize_image_file(content: str | Path, output: str | Path, stylizer: Stylizer,
                       target: Target | Callable[[int, np.ndarray], Target],
                       size: int | None = None, overwrite: bool = False, at: float = 0.0,
                       still: torch.Tensor | None = None) -> Path:
    """`target` may be a function of the image (colour preservation, see controls). A video
    `content` gives its frame at `at` seconds (and a mask video its frame at that time);
    `still` is that picture when already loaded."""
    content, output = Path(content), Path(output)
    check_image_output(output)
    check_output(content, output, overwrite)
    image = still if still is not None else load_still(content, at)
    video = is_video_file(content)
    if callable(target):
        follow_input_time = getattr(target, "follow_input_time", None)  # (controls.MaskVideo)
        if follow_input_time is not None and video:
            follow_input_time(lambda _index: at, 0.0)
        frame = (image * 255).round().byte().permute(1, 2, 0).numpy()[None]
        target = target(0, frame)
    result = stylize_image(image, stylizer, target, size)
    # A cut-out keeps its transparency (its picture was stylized on white, as load_image reads it).
    alpha = None if video else load_alpha(content)
    with atomic_output(output, overwrite) as tmp:
        save_image(result, tmp, alpha)
    return output
