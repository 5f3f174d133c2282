"""The training losses: the one-pass statistics training uses against the two-pass ones."""
import pytest
import torch

from vidstyle.adain import calc_mean_std
from vidstyle.losses import one_pass_mean_std, style_losses


def relu_features(dtype, seed=0, shape=(2, 8, 24, 20)):
    g = torch.Generator().manual_seed(seed)
    f = torch.relu(torch.randn(shape, generator=g) * 3 + 1).to(dtype)
    return f.contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.bfloat16, 1e-5)])
def test_one_pass_statistics_match_the_two_pass_ones(dtype, tol):
    f = relu_features(dtype)
    f[0, 3] = 0  # a dead channel
    mean, std = one_pass_mean_std(f)
    ref_mean, ref_std = calc_mean_std(f)
    assert mean.dtype == std.dtype == torch.float32 and mean.shape == (2, 8, 1, 1)
    assert torch.allclose(mean, ref_mean, rtol=tol, atol=tol)
    assert torch.allclose(std, ref_std, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-3), (torch.bfloat16, 2e-2)])
def test_one_pass_style_loss_and_its_gradient_match_the_two_pass_ones(dtype, tol):
    taps = [relu_features(dtype, seed=i).requires_grad_(True) for i in range(3)]
    style = [relu_features(dtype, seed=10 + i) for i in range(3)]
    taps[1].data[1, 2] = 0  # a dead channel must not make the gradient nan
    grads = []
    losses = []
    for one_pass in (False, True):
        loss = style_losses(taps, style, one_pass=one_pass)
        losses.append(loss.detach())
        grads.append(torch.autograd.grad(loss.sum(), taps))
    assert torch.allclose(losses[0], losses[1], rtol=1e-4)
    for a, b in zip(*grads):
        assert b.dtype == dtype and torch.isfinite(b).all()
        a, b = a.float(), b.float()
        assert (a - b).norm() <= tol * a.norm()
