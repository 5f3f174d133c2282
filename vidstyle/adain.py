"""Instance normalisation and AdaIN maths, plus the cached style statistics.

Features are (N, C, H, W); statistics are per instance and per channel over H x W.
Statistics are always computed and kept in fp32, whatever the feature dtype.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import torch
from safetensors.torch import load_file, save_file

EPS = 1e-5


def calc_mean_std(feat: torch.Tensor, eps: float = EPS) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-instance, per-channel mean and std over H x W, shaped (N, C, 1, 1), in fp32.

    eps sits inside the square root so a flat channel gets a small, finite std.
    """
    assert feat.dim() == 4, f"expected (N, C, H, W), got {tuple(feat.shape)}"
    # Two plain passes (mean, then mean squared deviation) in whatever memory layout
    # the features have. Tensor.var's Welford kernel, plus the copy flatten() made of
    # channels_last features, made AdaIN 2.5-3x slower and a lite-model frame ~1.1x
    # slower on CPU (benchmarks/adain_stats.py).
    f = feat.float()
    mean = f.mean(dim=(2, 3), keepdim=True)
    var = (f - mean).square_().mean(dim=(2, 3), keepdim=True)
    return mean, var.add_(eps).sqrt_()


def instance_norm(feat: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    mean, std = calc_mean_std(feat, eps)
    return ((feat.float() - mean) / std).to(feat.dtype)


def adain(content: torch.Tensor, style_mean: torch.Tensor, style_std: torch.Tensor,
          alpha: float | torch.Tensor = 1.0, eps: float = EPS) -> torch.Tensor:
    """t = std(s) * (f - mean(f)) / std(f) + mean(s), blended alpha * t + (1 - alpha) * f.

    style_mean/std broadcast against (N, C, 1, 1): either one style for the whole
    batch or one per instance; so does alpha, a number or an (N, 1, 1, 1) tensor.
    The arithmetic runs in fp32 and returns the content's dtype, so bf16 features
    keep exact statistics.
    """
    f = content.float()
    c_mean, c_std = calc_mean_std(f, eps)
    # Fold the normalisation and re-scaling into one multiply-add per element.
    scale = style_std / c_std
    shift = style_mean - c_mean * scale
    if isinstance(alpha, torch.Tensor) or alpha != 1.0:
        scale = alpha * scale + (1.0 - alpha)
        shift = alpha * shift
    # In place on the fp32 copy; fp32 input is the caller's tensor, so multiply out of place.
    out = f * scale if f is content else f.mul_(scale)
    return out.add_(shift).to(content.dtype)


def masked_adain(content: torch.Tensor, mask: torch.Tensor,
                 mean_a: torch.Tensor, std_a: torch.Tensor,
                 mean_b: torch.Tensor, std_b: torch.Tensor,
                 alpha: float | torch.Tensor = 1.0, eps: float = EPS) -> torch.Tensor:
    """AdaIN done separately in two regions (the paper's spatial control, fig. 10).

    `mask` (N or 1, 1, H, W) in [0, 1] at feature resolution: 1 takes style a,
    0 style b. Each region is normalised with its own (mask-weighted) content
    statistics, so a binary mask gives each region exactly its style's
    statistics; soft masks blend the two targets.
    """
    f = content.float()
    m = mask.float()
    out = torch.zeros_like(f)
    for w, mean, std in ((m, mean_a, std_a), (1.0 - m, mean_b, std_b)):
        total = w.sum(dim=(2, 3), keepdim=True).clamp_min(1e-6)
        mu = (f * w).sum(dim=(2, 3), keepdim=True) / total
        var = ((f - mu) ** 2 * w).sum(dim=(2, 3), keepdim=True) / total
        out += w * ((f - mu) / (var + eps).sqrt() * std + mean)
    if isinstance(alpha, torch.Tensor) or alpha != 1.0:
        out = alpha * out + (1.0 - alpha) * f
    return out.to(content.dtype)


def blend_weights(weights: Sequence[float]) -> list[float]:
    """Weights scaled to sum to 1; ValueError unless finite, non-negative and not all zero."""
    weights = [float(w) for w in weights]
    if not all(math.isfinite(w) and w >= 0 for w in weights) or not any(weights):
        raise ValueError("style weights must be non-negative numbers, not all zero "
                         f"(got {' '.join(f'{w:g}' for w in weights)})")
    largest = max(weights)  # scaled first: 1e308 + 1e308 would overflow to inf
    scaled = [w / largest for w in weights]
    return [w / sum(scaled) for w in scaled]


@dataclass(frozen=True)
class StyleStats:
    """Channel mean and std of a style image's relu4_1 features, each shaped (C,), fp32;
    or (N, C): one style per frame of a batch (`stack`)."""

    mean: torch.Tensor
    std: torch.Tensor
    # as_4d's copies per device: a GPU gets them once, not with every batch (each copy from
    # pageable host memory makes the host wait for the GPU).
    _on_device: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def from_features(cls, feat: torch.Tensor) -> "StyleStats":
        assert feat.shape[0] == 1, "style statistics come from a single image"
        mean, std = calc_mean_std(feat)
        return cls(mean.flatten().cpu(), std.flatten().cpu())

    def as_4d(self, device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(1 or N, C, 1, 1) fp32 tensors ready to broadcast in `adain`."""
        key = str(device)
        if key not in self._on_device:
            c = self.mean.shape[-1]
            self._on_device[key] = (self.mean.reshape(-1, c, 1, 1).to(device, torch.float32),
                                    self.std.reshape(-1, c, 1, 1).to(device, torch.float32))
        return self._on_device[key]

    @staticmethod
    def stack(stats: Sequence["StyleStats"]) -> "StyleStats":
        """One style per frame of a batch, in order: (N, C) statistics."""
        return StyleStats(torch.stack([s.mean for s in stats]), torch.stack([s.std for s in stats]))

    def unstack(self) -> list["StyleStats"]:
        """`stack`'s styles, one per frame."""
        return [StyleStats(m, s) for m, s in zip(self.mean, self.std)]

    def save(self, path: str | Path) -> None:
        save_file({"mean": self.mean.contiguous(), "std": self.std.contiguous()}, str(path))

    @classmethod
    def load(cls, path: str | Path) -> "StyleStats":
        tensors = load_file(str(path))
        return cls(tensors["mean"].float(), tensors["std"].float())

    @staticmethod
    def combine(stats: Sequence["StyleStats"], weights: Sequence[float]) -> "StyleStats":
        """Weighted mean of the statistics (weights are normalised to sum to 1).

        Because AdaIN is affine in (mean, std), decoding with these combined
        statistics equals the weighted sum of the per-style AdaIN targets.
        """
        if len(stats) != len(weights) or not stats:
            raise ValueError("need one weight per style")
        w = torch.tensor(blend_weights(weights))
        mean = sum(wi * s.mean for wi, s in zip(w, stats))
        std = sum(wi * s.std for wi, s in zip(w, stats))
        return StyleStats(mean, std)
