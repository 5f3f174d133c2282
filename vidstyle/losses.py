"""The AdaIN training losses, also used by evaluation."""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

from .adain import EPS, calc_mean_std


def content_loss(out_feat: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(out_feat.float(), target.float())


def one_pass_mean_std(feat: torch.Tensor, eps: float = EPS) -> tuple[torch.Tensor, torch.Tensor]:
    """calc_mean_std's statistics from fp32 sums of x and x^2 (var = E[x^2] - E[x]^2).

    For training: no fp32 copy of the features and far fewer passes over them
    forward and backward (the style loss on bf16 taps of 8 128 px crops: ~110-150
    ms a step against ~190-290 with calc_mean_std on a 2-core CPU). The
    cancellation in E[x^2] - E[x]^2 is harmless for post-ReLU features, whose std
    is of the order of their mean; evaluation keeps the two-pass calc_mean_std.
    """
    hw = feat.shape[2] * feat.shape[3]
    mean = torch.mean(feat, dim=(2, 3), keepdim=True, dtype=torch.float32)
    # vector_norm accumulates in fp32 without materialising a copy; its gradient at a
    # zero norm (a dead channel) is 0, not nan.
    power = torch.linalg.vector_norm(feat, 2, dim=(2, 3), keepdim=True, dtype=torch.float32).square() / hw
    var = (power - mean.square()).clamp_min(0)
    return mean, (var + eps).sqrt()


def mean_std_loss(a: torch.Tensor, b: torch.Tensor, one_pass: bool = False) -> torch.Tensor:
    """MSE of channel means + MSE of channel stds (the paper's style loss for one layer)."""
    stats = one_pass_mean_std if one_pass else calc_mean_std
    a_mean, a_std = stats(a)
    b_mean, b_std = stats(b)
    return F.mse_loss(a_mean, b_mean) + F.mse_loss(a_std, b_std)


def style_losses(out_taps: Sequence[torch.Tensor], style_taps: Sequence[torch.Tensor],
                 one_pass: bool = False) -> torch.Tensor:
    """One mean/std loss per layer, shape (L,); `one_pass` for training (one_pass_mean_std)."""
    return torch.stack([mean_std_loss(o, s, one_pass) for o, s in zip(out_taps, style_taps)])
