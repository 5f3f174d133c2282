"""The AdaIN decoder: a mirror of the encoder, from relu4_1 features back to RGB.

Nearest-neighbour upsampling, reflection padding, no normalisation layers
(Huang & Belongie 2017). Weights are ours, trained with `vidstyle train`.
"""
from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file
from torch import nn

from .errors import VidstyleError
from .layers import ReflectionPad, conv3x3

WEIGHTS_NAME = "decoder.safetensors"
TRAIN_HINT = ("train one with 'vidstyle train --content PHOTOS --style PAINTINGS' "
              "(see weights/README.md)")


def default_weights_path() -> Path:
    """The shipped decoder: inside the installed package, else in the source tree's weights/."""
    try:
        ref = importlib.resources.files("vidstyle.weights").joinpath(WEIGHTS_NAME)
        if ref.is_file():
            return Path(str(ref))
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parent.parent / "weights" / WEIGHTS_NAME


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
        path = Path(path)
        tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in self.state_dict().items()}
        metadata = {"train": json.dumps(meta or {})}
        tmp = path.with_name(path.name + ".partial")
        save_file(tensors, str(tmp), metadata=metadata)
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Decoder":
        path = Path(path) if path else default_weights_path()
        if not path.is_file():
            raise VidstyleError(f"decoder weights not found at {path}; {TRAIN_HINT}")
        try:
            tensors = load_file(str(path))
            decoder = cls()
            decoder.load_state_dict({k: v.float() for k, v in tensors.items()})
        except (SafetensorError, RuntimeError, ValueError, OSError) as exc:
            raise VidstyleError(
                f"decoder weights at {path} are unreadable or do not fit this model "
                f"({str(exc).splitlines()[0]}); {TRAIN_HINT}") from exc
        return decoder.eval().requires_grad_(False)


def read_training_meta(path: str | Path | None = None) -> dict:
    """The JSON training description stored in a decoder file ({} if none)."""
    with safe_open(str(path or default_weights_path()), framework="pt") as f:
        return json.loads((f.metadata() or {}).get("train", "{}"))
