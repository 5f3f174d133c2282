"""2x2 max-pooling as two element-wise maxima, for CPU inference.

PyTorch's CPU max-pooling also works out, and writes, where each maximum came from (for
the backward pass), even when no gradient is wanted: on the lite model's first pool (24
channels, 640x360, bf16 channels_last, one thread) that took 2.96 ms against 1.47 ms for
the maxima of the even and odd rows and then columns, the same values; 1-6% of the lite
and tiny models' frame time (benchmarks/max_pool.py, RESULTS.md, session 28).
"""
from __future__ import annotations

import torch
from torch import nn


def _pairwise_max(y: torch.Tensor, dim: int) -> torch.Tensor:
    """Maximum of each pair of slices along `dim`; an odd last slice stays as it is (ceil_mode)."""
    size = y.shape[dim]
    pairs = torch.maximum(y.narrow(dim, 0, size - 1)[(slice(None),) * dim + (slice(None, None, 2),)],
                          y[(slice(None),) * dim + (slice(1, None, 2),)])
    if size % 2:
        pairs = torch.cat([pairs, y.narrow(dim, size - 1, 1)], dim)
    return pairs


class MaxPool2x2(nn.Module):
    """nn.MaxPool2d(2, 2, ceil_mode=True) without the indices; a channels_last input gives a
    channels_last output, as the next convolution wants."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.requires_grad and torch.is_grad_enabled():
            return nn.functional.max_pool2d(x, 2, 2, ceil_mode=True)
        y = x.permute(0, 2, 3, 1)  # N, H, W, C: a view when x is channels_last
        return _pairwise_max(_pairwise_max(y, 1), 2).permute(0, 3, 1, 2)


def _is_2x2_ceil_pool(module: nn.Module) -> bool:
    return (type(module) is nn.MaxPool2d and module.kernel_size in (2, (2, 2))
            and module.stride in (2, (2, 2)) and module.padding in (0, (0, 0))
            and module.dilation in (1, (1, 1)) and module.ceil_mode and not module.return_indices)


def replace_max_pools(module: nn.Module) -> int:
    """In place, every nn.MaxPool2d(2, 2, ceil_mode=True) in an nn.Sequential of `module`
    becomes a MaxPool2x2. Returns how many."""
    replaced = 0
    for seq in [m for m in module.modules() if isinstance(m, nn.Sequential)]:
        for i, pool in enumerate(seq):
            if _is_2x2_ceil_pool(pool):
                seq[i] = MaxPool2x2()
                replaced += 1
    return replaced
