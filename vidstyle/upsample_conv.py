"""The decoder's "2x nearest upsampling, reflection pad, 3x3 convolution" as one small convolution.

After a nearest 2x upsampling every 2x2 block of pixels is the same, so each output
pixel of the 3x3 convolution sees only a 2x2 neighbourhood of the *low-resolution*
input, with some of the nine taps landing on the same pixel. Which taps share a pixel
depends only on the output pixel's phase (row and column parity), so the block is
four 2x2 convolutions of the low-resolution input, one per phase, whose outputs
interleave into the high-resolution result (sub-pixel convolution). The reflection pad
of the upsampled image is a replicate pad of the low-resolution one.

That is the same sums with 4/9 of the multiply-adds (in bf16 the combined taps are rounded
once, so outputs differ by about one bf16 step), and without the upsampled and
padded copies of the input at four times its size: 1.8-5x faster per block on the CPU
(benchmarks/upsample_blocks.py, RESULTS.md, session 28). Inference only: the combined
kernels are computed from the convolution's weights once, so training never sees this.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import conv_relu
from .layers import ReflectionPad


def _taps_per_phase(kernel: torch.Tensor, dim: int, phase: int) -> torch.Tensor:
    """The three taps along `dim` of a 3x3 kernel folded into the two low-resolution pixels
    they fall on: phase 0 (even rows) sees pixels i, i+1 through taps [0], [1]+[2];
    phase 1 (odd rows) sees i+1, i+2 through taps [0]+[1], [2] (in the padded input)."""
    a, b, c = kernel.unbind(dim)
    pair = (a, b + c) if phase == 0 else (a + b, c)
    return torch.stack(pair, dim)


def phase_kernels(weight: torch.Tensor) -> torch.Tensor:
    """(C_out, C_in, 3, 3) -> (4 * C_out, C_in, 2, 2): the 2x2 kernels of the four phases,
    in the order (row phase, column phase) = (0, 0), (0, 1), (1, 0), (1, 1)."""
    return torch.cat([_taps_per_phase(_taps_per_phase(weight, 2, py), 3, px)
                      for py in (0, 1) for px in (0, 1)])


class UpsampledConv(nn.Module):
    """conv3x3(reflection_pad(upsample_nearest_2x(x))), optionally followed by ReLU, computed
    at the low resolution. The output is channels_last. With `fuse_relu` (where
    conv_relu.fusion_available) the convolution and its ReLU run as one oneDNN call on the CPU."""

    def __init__(self, conv: nn.Conv2d, relu: bool, fuse_relu: bool = True):
        super().__init__()
        # Summed in fp32 and rounded once to the convolution's dtype.
        kernel = phase_kernels(conv.weight.detach().float()).to(conv.weight.dtype)
        self.weight = nn.Parameter(kernel.contiguous(memory_format=torch.channels_last),
                                   requires_grad=False)
        bias = conv.bias.detach().repeat(4) if conv.bias is not None else None
        self.bias = None if bias is None else nn.Parameter(bias, requires_grad=False)
        self.out_channels = conv.out_channels
        self.relu = relu
        self.fuse_relu = fuse_relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        with torch.autocast(device_type=x.device.type, enabled=False):
            padded = F.pad(x, (1, 1, 1, 1), mode="replicate")
        z = self._conv(padded).permute(0, 2, 3, 1)  # (N, h+1, w+1, 4C), a view if channels_last
        # Output pixel (2i+py, 2j+px) is z's pixel (i+py, j+px) in phase (py, px)'s channels
        # [(2py+px)C, (2py+px+1)C). Four copies lay them out (one strided copy of all four was
        # 1.3-4x slower: its innermost run is only C long).
        c = self.out_channels
        out = torch.empty((n, h, 2, w, 2, c), dtype=z.dtype, device=z.device)
        for py in (0, 1):
            for px in (0, 1):
                phase = 2 * py + px
                out[:, :, py, :, px].copy_(z[:, py:py + h, px:px + w, phase * c:(phase + 1) * c])
        return out.view(n, 2 * h, 2 * w, c).permute(0, 3, 1, 2)

    def _conv(self, x: torch.Tensor) -> torch.Tensor:
        if self.fuse_relu and conv_relu.fused_call_fits(x, self.weight, self.bias):
            return conv_relu.fused_conv(x, self.weight, self.bias, self.relu)
        z = F.conv2d(x, self.weight, self.bias)
        return F.relu_(z) if self.relu else z


def _is_nearest_2x(module: nn.Module) -> bool:
    scale = module.scale_factor if isinstance(module, nn.Upsample) else None
    return (scale is not None and module.mode == "nearest" and module.size is None
            and all(float(s) == 2.0 for s in (scale if isinstance(scale, tuple) else (scale,))))


def _is_plain_3x3(module: nn.Module) -> bool:
    return (type(module) is nn.Conv2d and module.kernel_size == (3, 3) and module.stride == (1, 1)
            and module.padding == (0, 0) and module.dilation == (1, 1) and module.groups == 1)


def fold_upsampling(module: nn.Module, fuse_relu: bool = True) -> int:
    """In place, in every nn.Sequential of `module`: each nearest 2x upsampling followed by a
    ReflectionPad, a plain 3x3 Conv2d and optionally a ReLU becomes one UpsampledConv, the
    following modules nn.Identity (indices and the other names stay). Returns how many."""
    folded = 0
    for seq in [m for m in module.modules() if isinstance(m, nn.Sequential)]:
        for i in range(len(seq) - 2):
            up, pad, conv = seq[i], seq[i + 1], seq[i + 2]
            if not (_is_nearest_2x(up) and isinstance(pad, ReflectionPad) and _is_plain_3x3(conv)):
                continue
            relu = i + 3 < len(seq) and isinstance(seq[i + 3], nn.ReLU)
            seq[i] = UpsampledConv(conv, relu, fuse_relu).to(conv.weight.device)
            for j in range(i + 1, i + 3 + relu):
                seq[j] = nn.Identity()
            folded += 1
    return folded
