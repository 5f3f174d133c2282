"""Max-pooling without indices (vidstyle.max_pool): PyTorch's values, for the encoders and the stylizer."""
import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vidstyle.lite import LiteModel
from vidstyle.max_pool import MaxPool2x2, replace_max_pools
from vidstyle.stylizer import Stylizer


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("shape", [(1, 3, 4, 6), (2, 5, 7, 9), (1, 24, 45, 80), (3, 2, 1, 5), (1, 1, 2, 1)])
def test_the_same_values_as_pytorchs_ceil_mode_pool(dtype, shape):
    torch.manual_seed(0)
    x = torch.randn(shape).to(dtype)
    for layout in (torch.contiguous_format, torch.channels_last):
        got = MaxPool2x2()(x.contiguous(memory_format=layout))
        assert torch.equal(got, F.max_pool2d(x, 2, 2, ceil_mode=True)), layout
        if layout == torch.channels_last:  # as the next convolution wants it
            assert got.is_contiguous(memory_format=torch.channels_last)


def test_with_a_gradient_wanted_it_is_pytorchs_pool():
    x = torch.randn(1, 2, 6, 6, requires_grad=True)
    MaxPool2x2()(x).sum().backward()
    assert x.grad.sum().item() == 2 * 3 * 3  # one winner per window


def test_only_the_two_by_two_ceil_mode_pools_are_replaced():
    lite = LiteModel((8, 16, 24))
    encoder = copy.deepcopy(lite.encoder)
    assert replace_max_pools(encoder) == 3 and replace_max_pools(encoder) == 0
    x = torch.rand(1, 3, 35, 50)
    with torch.no_grad():
        # (the convolutions after a pool then get channels_last input: other kernels, other rounding)
        assert torch.allclose(encoder(x), lite.encoder(x), rtol=1e-4, atol=1e-5)
    others = nn.Sequential(nn.MaxPool2d(2, 2), nn.MaxPool2d(3, 2, ceil_mode=True),
                           nn.MaxPool2d(2, 1, ceil_mode=True),
                           nn.MaxPool2d(2, 2, ceil_mode=True, return_indices=True))
    assert replace_max_pools(others) == 0


def test_the_cpu_stylizer_pools_without_indices_unless_told(encoder, random_decoder):
    from vidstyle.bench import random_target

    fast = Stylizer(random_decoder, device="cpu", precision="fp32", encoder=encoder)
    plain = Stylizer(random_decoder, device="cpu", precision="fp32", encoder=encoder,
                     pool_without_indices=False)
    assert fast.describe()["pools_without_indices"] and not plain.pools_without_indices
    assert sum(isinstance(m, MaxPool2x2) for m in fast.net.modules()) == 3  # VGG-19 to relu4_1
    assert not any(isinstance(m, MaxPool2x2) for m in plain.net.modules())
    assert not any(isinstance(m, MaxPool2x2) for m in fast._style_encoder.modules())  # styles: as written
    x = torch.rand(1, 3, 37, 50).contiguous(memory_format=torch.channels_last)
    mean, std = random_target(plain).stats.as_4d(plain.device)
    with torch.no_grad():
        features = [st.net.encoder(x) for st in (fast, plain)]  # before the decoder clips anything
    assert torch.allclose(*features, rtol=1e-4, atol=1e-5) and features[0].abs().max() > 0
    with torch.no_grad():
        assert torch.allclose(fast.net(x, mean, std), plain.net(x, mean, std), rtol=1e-4, atol=1e-4)
