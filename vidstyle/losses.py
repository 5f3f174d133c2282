"""The AdaIN training losses, also used by evaluation."""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

from .adain import calc_mean_std


def content_loss(out_feat: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(out_feat.float(), target.float())


def mean_std_loss(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """MSE of channel means + MSE of channel stds (the paper's style loss for one layer)."""
    a_mean, a_std = calc_mean_std(a)
    b_mean, b_std = calc_mean_std(b)
    return F.mse_loss(a_mean, b_mean) + F.mse_loss(a_std, b_std)


def style_losses(out_taps: Sequence[torch.Tensor], style_taps: Sequence[torch.Tensor]) -> torch.Tensor:
    """One mean/std loss per layer, shape (L,)."""
    return torch.stack([mean_std_loss(o, s) for o, s in zip(out_taps, style_taps)])
