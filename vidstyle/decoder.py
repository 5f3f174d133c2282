"""The AdaIN decoder: a mirror of the encoder, from relu4_1 features back to RGB.

Nearest-neighbour upsampling, reflection padding, no normalisation layers
(Huang & Belongie 2017). Weights are ours, trained with `vidstyle train`.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .layers import ReflectionPad, conv3x3
from .weights_file import load_weights, packaged_path, read_meta, save_weights

WEIGHTS_NAME = "decoder.safetensors"
TRAIN_HINT = ("train one with 'vidstyle train --content PHOTOS --style PAINTINGS' "
              "(see weights/README.md)")


def default_weights_path() -> Path:
    return packaged_path(WEIGHTS_NAME)


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        c512, c256, c128, c64 = 512, 256, 128, 64
        pad, relu = ReflectionPad, (lambda: nn.ReLU(inplace=True))
        up = lambda: nn.Upsample(scale_factor=2, mode="nearest")  # noqa: E731
        self.layers = nn.Sequential(
            pad(), conv3x3(c512, c256), relu(), up(),  # mirrors relu4_1
            pad(), conv3x3(c256, c256), relu(),
            pad(), conv3x3(c256, c256), relu(),
            pad(), conv3x3(c256, c256), relu(),
            pad(), conv3x3(c256, c128), relu(), up(),  # mirrors relu3_1
            pad(), conv3x3(c128, c128), relu(),
            pad(), conv3x3(c128, c64), relu(), up(),  # mirrors relu2_1
            pad(), conv3x3(c64, c64), relu(),
            pad(), conv3x3(c64, 3),  # mirrors relu1_1; RGB in [0, 1] (not clamped here)
        )

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return self.layers(t)

    def save(self, path: str | Path, dtype: torch.dtype = torch.float16,
             meta: dict | None = None) -> None:
        """Write safetensors (atomically); `meta` (JSON-able) describes how it was trained."""
        save_weights(self, path, dtype, meta)

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Decoder":
        return load_weights(cls(), Path(path) if path else default_weights_path(), "decoder", TRAIN_HINT)


def read_training_meta(path: str | Path | None = None) -> dict:
    """The JSON training description stored in a decoder file ({} if none)."""
    return read_meta(path or default_weights_path())
