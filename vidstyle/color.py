"""Colour preservation (AdaIN paper, section 7.3) and its policy for video.

Two modes:
- "match": the style image's colours are matched to the content's (mean and
  covariance of RGB, a linear map) before its statistics are taken, so the
  output keeps the content's palette but the style's texture.
- "luminance": only luminance is stylized (style luminance matched to the
  content's mean/std); the content's chroma is put back afterwards.

Both depend on the content's colours. For video the content colours come from
the first frame and are refreshed only on a scene change (the mean colour moves
by more than `scene_threshold`), so colours do not pump from frame to frame.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

from .adain import StyleStats
from .errors import VidstyleError

MODES = ("match", "luminance")
# BT.601 full-range RGB <-> YUV (what JPEG and most webcams use).
_RGB2YUV = torch.tensor([[0.299, 0.587, 0.114], [-0.14713, -0.28886, 0.436], [0.615, -0.51499, -0.10001]])
_YUV2RGB = torch.linalg.inv(_RGB2YUV)


def color_moments(img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (3,) and covariance (3, 3) of the pixels of (3, H, W) or (N, 3, H, W)."""
    px = img.float().transpose(0, 1).reshape(3, -1) if img.dim() == 4 else img.float().reshape(3, -1)
    mean = px.mean(1)
    centred = px - mean[:, None]
    return mean, centred @ centred.T / px.shape[1]


def _sqrtm(cov: torch.Tensor, inverse: bool = False) -> torch.Tensor:
    vals, vecs = torch.linalg.eigh(cov.double() + 1e-5 * torch.eye(3, dtype=torch.float64))
    vals = vals.clamp_min(1e-8) ** (-0.5 if inverse else 0.5)
    return (vecs @ torch.diag(vals) @ vecs.T).float()


def match_colors(style: torch.Tensor, content_mean: torch.Tensor, content_cov: torch.Tensor) -> torch.Tensor:
    """Map (3, H, W) style colours so their mean and covariance equal the content's."""
    s_mean, s_cov = color_moments(style)
    a = _sqrtm(content_cov) @ _sqrtm(s_cov, inverse=True)
    flat = style.float().reshape(3, -1) - s_mean[:, None]
    return (a @ flat + content_mean[:, None]).reshape(style.shape).clamp(0, 1)


def rgb_to_yuv(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) or (3, H, W) RGB -> YUV."""
    return torch.einsum("ij,...jhw->...ihw", _RGB2YUV.to(x.device, x.dtype), x)


def yuv_to_rgb(x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,...jhw->...ihw", _YUV2RGB.to(x.device, x.dtype), x)


def luminance_style(style: torch.Tensor, content_y_mean: float, content_y_std: float) -> torch.Tensor:
    """The style's luminance, matched to the content's mean/std, as a grey RGB image."""
    y = rgb_to_yuv(style.float())[0]
    y = (y - y.mean()) / (y.std() + 1e-6) * content_y_std + content_y_mean
    return y.clamp(0, 1)[None].expand(3, -1, -1).contiguous()


class ColorKeeper:
    """Style statistics that follow the content's colours, refreshed on scene changes.

    `styles` are (3, H, W) images in [0, 1] with blending `weights`; `encode`
    turns an image into StyleStats (Stylizer.style_stats).
    """

    def __init__(self, styles: Sequence[torch.Tensor], weights: Sequence[float], mode: str,
                 encode: Callable[[torch.Tensor], StyleStats], scene_threshold: float = 0.1):
        if mode not in MODES:
            raise VidstyleError(f"unknown colour mode {mode!r} (use {' or '.join(MODES)})")
        self.styles, self.weights, self.mode = list(styles), list(weights), mode
        self._encode = encode
        self.scene_threshold = scene_threshold
        self.reference_mean: torch.Tensor | None = None
        self.stats: StyleStats | None = None
        self.refreshes = 0

    @staticmethod
    def frame_colors(frames: np.ndarray | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Colour moments of the first frame of a (N, H, W, 3) uint8 batch, subsampled for speed."""
        f = torch.as_tensor(frames[0])
        step = max(1, min(f.shape[:2]) // 64)
        small = f[::step, ::step].permute(2, 0, 1).float() / 255
        return color_moments(small)

    def needs_refresh(self, mean: torch.Tensor) -> bool:
        return self.reference_mean is None or float(
            (mean - self.reference_mean).norm()) > self.scene_threshold

    def stats_for(self, frames) -> StyleStats:
        mean, cov = self.frame_colors(frames)
        if self.needs_refresh(mean):
            self.stats = self.compute(mean, cov)
            self.reference_mean = mean
            self.refreshes += 1
        return self.stats

    def compute(self, mean: torch.Tensor, cov: torch.Tensor) -> StyleStats:
        if self.mode == "match":
            images = [match_colors(s, mean, cov) for s in self.styles]
        else:
            y = rgb_to_yuv(mean.view(3, 1, 1))[0].item()
            # Luminance std of the content from its RGB covariance: w^T C w.
            w = _RGB2YUV[0]
            y_std = float((w @ cov @ w).clamp_min(1e-8).sqrt())
            images = [luminance_style(s, y, y_std) for s in self.styles]
        stats = [self._encode(img) for img in images]
        return stats[0] if len(stats) == 1 else StyleStats.combine(stats, self.weights)
