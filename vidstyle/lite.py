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

# The shipped models with this architecture: "lite" (24/48/96) and "tiny" (16/32/64, ~2x faster).
WEIGHTS_FILES = {"lite": "lite.safetensors", "tiny": "tiny.safetensors"}
WIDTHS = (24, 48, 96)  # at full, 1/2 and 1/4 size (VGG-19 has 64, 128, 256)
FEATURES = 512  # the full encoder's relu4_1 channels
TRAIN_HINT = "distill one with 'vidstyle distill' (see weights/README.md)"


def _conv(c_in: int, c_out: int, relu: bool = True) -> list[nn.Module]:
    return [ReflectionPad(), conv3x3(c_in, c_out)] + ([nn.ReLU(inplace=True)] if relu else [])


class LiteEncoder(nn.Module):
    """RGB in [0, 1] -> an estimate of the balanced VGG-19 relu4_1 features."""

    def __init__(self, widths: tuple[int, int, int] = WIDTHS):
        super().__init__()
        a, b, c = widths
        pool = lambda: nn.MaxPool2d(2, 2, ceil_mode=True)  # noqa: E731  (same sizes as VGG's)
        self.layers = nn.Sequential(
            *_conv(3, a), pool(),
            *_conv(a, b), *_conv(b, b), pool(),
            *_conv(b, c), *_conv(c, c), pool(),
            *_conv(c, FEATURES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class LiteDecoder(nn.Module):
    """relu4_1-space features -> RGB in [0, 1] (not clamped), mirroring LiteEncoder."""

    def __init__(self, widths: tuple[int, int, int] = WIDTHS):
        super().__init__()
        a, b, c = widths
        up = lambda: nn.Upsample(scale_factor=2, mode="nearest")  # noqa: E731
        self.layers = nn.Sequential(
            *_conv(FEATURES, c), up(),
            *_conv(c, c), *_conv(c, b), up(),
            *_conv(b, b), *_conv(b, a), up(),
            *_conv(a, 3, relu=False))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return self.layers(t)


def default_weights_path(model: str = "lite") -> Path:
    return packaged_path(WEIGHTS_FILES[model])


class LiteModel(nn.Module):
    """The pair, saved together in one safetensors file whose metadata records the widths."""

    def __init__(self, widths: tuple[int, int, int] = WIDTHS):
        super().__init__()
        self.widths = tuple(widths)
        self.encoder = LiteEncoder(self.widths)
        self.decoder = LiteDecoder(self.widths)

    def save(self, path: str | Path, dtype: torch.dtype = torch.float16, meta: dict | None = None) -> None:
        save_weights(self, path, dtype, {**(meta or {}), "widths": list(self.widths)})

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
        narrow = LiteModel(widths)
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

    @classmethod
    def load(cls, path: str | Path | None = None, model: str = "lite") -> "LiteModel":
        """From `path`, else the shipped weights of `model` ("lite" or "tiny")."""
        path = Path(path) if path else default_weights_path(model)
        return load_weights(cls(stored_widths(path) or WIDTHS), path, "lite model", TRAIN_HINT)


def stored_widths(path: str | Path) -> tuple[int, int, int] | None:
    """The widths a lite weights file records; None if it is not a readable lite file."""
    try:
        widths = read_meta(path).get("widths")
    except (OSError, ValueError, SafetensorError):
        return None
    valid = (isinstance(widths, list) and len(widths) == 3
             and all(isinstance(w, int) and w > 0 for w in widths))
    return tuple(widths) if valid else None


def is_lite_file(path: str | Path) -> bool:
    return stored_widths(path) is not None
