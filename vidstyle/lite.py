"""The lite model: a small frame encoder and decoder distilled from the full VGG model, for CPUs.

The lite encoder maps a frame into the full encoder's (balanced) relu4_1 space,
512 channels at 1/8 size, so styles are still encoded once by VGG-19 and AdaIN,
style blending, masks and colour preservation work unchanged. Only the
per-frame network shrinks: ~10x fewer multiply-adds than VGG-19 + its mirror decoder.
Trained by `vidstyle distill` (vidstyle/distill.py) to reproduce the full
model's stylized frames.
"""
from __future__ import annotations

from pathlib import Path

import torch
from safetensors import SafetensorError
from torch import nn

from .layers import ReflectionPad, conv3x3
from .weights_file import load_weights, packaged_path, read_meta, save_weights

# The shipped models with this architecture: "lite" (24/48/96) and "tiny" (16/32/64, ~1.5x faster).
WEIGHTS_FILES = {"lite": "lite.safetensors", "tiny": "tiny.safetensors"}
WIDTHS = (24, 48, 96)  # at full, 1/2 and 1/4 size (VGG-19 has 64, 128, 256)
FEATURES = 512  # the full encoder's relu4_1 channels
# The convolutions into and out of the 512 feature channels: 3x3 in the shipped models.
# 1x1 ran the tiny widths 1.35-1.5x faster on an AVX2 CPU (benchmarks/RESULTS.md), where
# the two 3x3 ones took a quarter of the time; such a model is still being distilled.
FEATURE_KERNEL = 3
TRAIN_HINT = "distill one with 'vidstyle distill' (see weights/README.md)"


def _conv(c_in: int, c_out: int, relu: bool = True, kernel: int = 3) -> list[nn.Module]:
    conv = [ReflectionPad(), conv3x3(c_in, c_out)] if kernel == 3 else [nn.Conv2d(c_in, c_out, 1)]
    return conv + ([nn.ReLU(inplace=True)] if relu else [])


class LiteEncoder(nn.Module):
    """RGB in [0, 1] -> an estimate of the balanced VGG-19 relu4_1 features."""

    def __init__(self, widths: tuple[int, int, int] = WIDTHS, feature_kernel: int = FEATURE_KERNEL):
        super().__init__()
        a, b, c = widths
        pool = lambda: nn.MaxPool2d(2, 2, ceil_mode=True)  # noqa: E731  (same sizes as VGG's)
        self.layers = nn.Sequential(
            *_conv(3, a), pool(),
            *_conv(a, b), *_conv(b, b), pool(),
            *_conv(b, c), *_conv(c, c), pool(),
            *_conv(c, FEATURES, kernel=feature_kernel))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class LiteDecoder(nn.Module):
    """relu4_1-space features -> RGB in [0, 1] (not clamped), mirroring LiteEncoder."""

    def __init__(self, widths: tuple[int, int, int] = WIDTHS, feature_kernel: int = FEATURE_KERNEL):
        super().__init__()
        a, b, c = widths
        up = lambda: nn.Upsample(scale_factor=2, mode="nearest")  # noqa: E731
        self.layers = nn.Sequential(
            *_conv(FEATURES, c, kernel=feature_kernel), up(),
            *_conv(c, c), *_conv(c, b), up(),
            *_conv(b, b), *_conv(b, a), up(),
            *_conv(a, 3, relu=False))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return self.layers(t)


def default_weights_path(model: str = "lite") -> Path:
    return packaged_path(WEIGHTS_FILES[model])


class LiteModel(nn.Module):
    """The pair, saved together in one safetensors file whose metadata records the widths
    and the feature kernel."""

    def __init__(self, widths: tuple[int, int, int] = WIDTHS, feature_kernel: int = FEATURE_KERNEL):
        super().__init__()
        if feature_kernel not in (1, 3):
            raise ValueError(f"the feature kernel is 1 or 3, not {feature_kernel}")
        self.widths = tuple(widths)
        self.feature_kernel = feature_kernel
        self.encoder = LiteEncoder(self.widths, feature_kernel)
        self.decoder = LiteDecoder(self.widths, feature_kernel)

    def save(self, path: str | Path, dtype: torch.dtype = torch.float16, meta: dict | None = None) -> None:
        save_weights(self, path, dtype, {**(meta or {}), "widths": list(self.widths),
                                         "feature_kernel": self.feature_kernel})

    def convs(self) -> list[nn.Conv2d]:
        """Every convolution, from the encoder's first to the decoder's last."""
        parts = (self.encoder, self.decoder)
        return [m for part in parts for m in part.modules() if isinstance(m, nn.Conv2d)]

    @torch.no_grad()
    def narrowed(self, widths: tuple[int, int, int]) -> "LiteModel":
        """A narrower copy, to start distilling a faster model from this one's weights.

        Each convolution keeps the output channels whose filters have the largest L1
        norms, and the next one the matching input channels (structured pruning).
        """
        if any(new > old for new, old in zip(widths, self.widths)):
            raise ValueError(f"cannot widen a lite model ({self.widths} -> {tuple(widths)})")
        narrow = LiteModel(widths, self.feature_kernel)
        kept = None  # this layer's input channels that the previous layer kept
        for old, new in zip(self.convs(), narrow.convs()):
            weight, bias = old.weight if kept is None else old.weight[:, kept], old.bias
            kept = None
            if new.out_channels < old.out_channels:
                kept = weight.abs().sum((1, 2, 3)).topk(new.out_channels).indices.sort().values
                weight, bias = weight[kept], bias[kept]
            new.weight.copy_(weight)
            new.bias.copy_(bias)
        return narrow

    @torch.no_grad()
    def with_pointwise_features(self) -> "LiteModel":
        """A copy whose convolutions into and out of the features are 1x1, to start
        distilling one from this model: each 1x1 filter is the sum of its 3x3 one's taps
        (the same output on a flat input, as far as the reflection padding goes)."""
        if self.feature_kernel == 1:
            return self
        pointwise = LiteModel(self.widths, 1)
        for old, new in zip(self.convs(), pointwise.convs()):
            pointwise_here = new.kernel_size == (1, 1)
            new.weight.copy_(old.weight.sum((2, 3), keepdim=True) if pointwise_here else old.weight)
            new.bias.copy_(old.bias)
        return pointwise

    @classmethod
    def load(cls, path: str | Path | None = None, model: str = "lite") -> "LiteModel":
        """From `path`, else the shipped weights of `model` ("lite" or "tiny")."""
        path = Path(path) if path else default_weights_path(model)
        meta = _stored_meta(path)  # read once for both
        return load_weights(cls(_widths_in(meta) or WIDTHS, _feature_kernel_in(meta)), path,
                            f"{model} model", TRAIN_HINT)


def _stored_meta(path: str | Path) -> dict | None:
    try:
        return read_meta(path)
    except (OSError, ValueError, SafetensorError):
        return None


def _widths_in(meta: dict | None) -> tuple[int, int, int] | None:
    widths = (meta or {}).get("widths")
    valid = (isinstance(widths, list) and len(widths) == 3
             and all(isinstance(w, int) and w > 0 for w in widths))
    return tuple(widths) if valid else None


def _feature_kernel_in(meta: dict | None) -> int:
    kernel = (meta or {}).get("feature_kernel", FEATURE_KERNEL)  # files before it was recorded: 3
    return kernel if kernel in (1, 3) else FEATURE_KERNEL


def stored_widths(path: str | Path) -> tuple[int, int, int] | None:
    """The widths a lite weights file records; None if it is not a readable lite file."""
    return _widths_in(_stored_meta(path))


def stored_feature_kernel(path: str | Path) -> int:
    """The feature kernel a lite weights file records (files from before it was recorded: 3)."""
    return _feature_kernel_in(_stored_meta(path))


def stored_architecture(path: str | Path) -> tuple[tuple[int, int, int] | None, int]:
    """(widths, feature kernel) a lite weights file records, its metadata read once."""
    meta = _stored_meta(path)
    return _widths_in(meta), _feature_kernel_in(meta)


def is_lite_file(path: str | Path) -> bool:
    return stored_widths(path) is not None
