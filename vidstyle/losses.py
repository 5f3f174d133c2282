"""The AdaIN training losses, also used by evaluation."""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

from .adain import EPS, calc_mean_std


def content_loss(out_feat: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(out_feat.float(), target.float())


class _Moments(torch.autograd.Function):
    """Per-channel E[x] and E[x^2] over H x W in fp32, with a backward pass written out.

    Autograd's own backward of these reductions runs several full-size passes and
    dtype copies over the features; the gradient is one fused pass here:
    dL/dx = dL/dE[x] / HW + 2 x dL/dE[x^2] / HW, in the features' dtype.
    """

    @staticmethod
    def forward(ctx, feat):
        f = feat.float()
        mean = f.mean(dim=(2, 3), keepdim=True)
        power = torch.linalg.vector_norm(f, 2, dim=(2, 3), keepdim=True).square_().div_(
            feat.shape[2] * feat.shape[3])
        ctx.save_for_backward(feat)
        return mean, power

    @staticmethod
    def backward(ctx, grad_mean, grad_power):
        (feat,) = ctx.saved_tensors
        hw = feat.shape[2] * feat.shape[3]
        zeros = feat.new_zeros(feat.shape[:2] + (1, 1), dtype=torch.float32)
        grad_mean = zeros if grad_mean is None else grad_mean
        grad_power = zeros if grad_power is None else grad_power
        return torch.addcmul((grad_mean / hw).to(feat.dtype), feat, (2 * grad_power / hw).to(feat.dtype))


def one_pass_mean_std(feat: torch.Tensor, eps: float = EPS) -> tuple[torch.Tensor, torch.Tensor]:
    """calc_mean_std's statistics from E[x] and E[x^2] (var = E[x^2] - E[x]^2), for training.

    Forward and backward through the style loss on bf16 taps of 8 128 px crops took
    54 ms against 236 ms with calc_mean_std (2-core CPU, benchmarks/style_loss_stats.py).
    The cancellation in E[x^2] - E[x]^2 is harmless for post-ReLU features, whose
    std is of the order of their mean; evaluation keeps the two-pass calc_mean_std.
    """
    mean, power = _Moments.apply(feat)
    return mean, ((power - mean.square()).clamp_min(0) + eps).sqrt()


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
