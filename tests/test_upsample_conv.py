"""Upsampling folded into the convolution after it (vidstyle.upsample_conv): the same output as
upsample -> reflection pad -> 3x3 convolution (-> ReLU), for the decoders and the stylizer."""
import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import vidstyle.conv_relu as conv_relu
from vidstyle.decoder import Decoder
from vidstyle.layers import ReflectionPad
from vidstyle.lite import LiteModel
from vidstyle.stylizer import Stylizer
from vidstyle.upsample_conv import UpsampledConv, fold_upsampling, phase_kernels

from conftest import frames_rgb


def as_written(x, conv, relu):
    y = conv(F.pad(F.interpolate(x, scale_factor=2, mode="nearest"), (1, 1, 1, 1), mode="reflect"))
    return F.relu(y) if relu else y


@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(1, 5, 2, 2), (3, 4, 7, 5), (2, 6, 9, 16)])
def test_the_folded_block_computes_what_the_written_one_does(relu, bias, shape):
    torch.manual_seed(1)
    conv = nn.Conv2d(shape[1], 7, 3, bias=bias)
    x = torch.randn(shape)
    block = UpsampledConv(conv, relu)
    with torch.no_grad():
        expected = as_written(x, conv, relu)
        got = block(x)
        got_cl = block(x.contiguous(memory_format=torch.channels_last))
    assert got.shape == expected.shape == (shape[0], 7, 2 * shape[2], 2 * shape[3])
    assert got.is_contiguous(memory_format=torch.channels_last)
    assert (got - expected).abs().max().item() < 1e-5
    assert torch.equal(got, got_cl)


def test_phase_kernels_sum_the_taps_that_land_on_one_pixel():
    w = torch.arange(9.0).view(1, 1, 3, 3)  # rows [0 1 2], [3 4 5], [6 7 8]
    k = phase_kernels(w)
    assert k.shape == (4, 1, 2, 2)
    # even row, even column: row 0 alone, rows 1+2 together; the same for columns
    assert k[0, 0].tolist() == [[0, 1 + 2], [3 + 6, (4 + 5) + (7 + 8)]]
    # odd row, odd column: rows 0+1 together, row 2 alone
    assert k[3, 0].tolist() == [[(0 + 1) + (3 + 4), 2 + 5], [6 + 7, 8]]
    assert k.sum().item() == 4 * w.sum().item()  # every tap used once per phase


@pytest.mark.parametrize("make, folds", [(Decoder, 3), (lambda: LiteModel((8, 16, 24)).decoder, 3)])
def test_decoders_fold_each_upsampling_and_still_decode_the_same(make, folds):
    torch.manual_seed(2)
    decoder = make().eval()
    folded = copy.deepcopy(decoder)
    kept = {k: v for k, v in folded.state_dict().items()}
    assert fold_upsampling(folded) == folds
    assert fold_upsampling(folded) == 0  # nothing left
    assert not any(isinstance(m, nn.Upsample) for m in folded.modules())
    # the convolutions that were not folded keep their names and weights
    unfolded = [k for k in kept if k in folded.state_dict()]
    assert len(unfolded) == len(kept) - 2 * folds
    assert all(torch.equal(folded.state_dict()[k], kept[k]) for k in unfolded)
    t = torch.rand(2, 512, 5, 7)  # odd sizes, as the max-pools' rounding up makes
    with torch.no_grad():
        expected, got = decoder(t), folded(t)
    assert got.shape == expected.shape == (2, 3, 40, 56)
    assert (got - expected).abs().max().item() < 1e-4 * expected.abs().max().item()


def test_only_the_exact_pattern_is_folded():
    def block(up, pad, conv):
        return nn.Sequential(up, pad, conv, nn.ReLU())
    nearest = nn.Upsample(scale_factor=2, mode="nearest")
    others = [
        block(nn.Upsample(scale_factor=2, mode="bilinear"), ReflectionPad(), nn.Conv2d(4, 4, 3)),
        block(nn.Upsample(scale_factor=3, mode="nearest"), ReflectionPad(), nn.Conv2d(4, 4, 3)),
        block(nearest, nn.ZeroPad2d(1), nn.Conv2d(4, 4, 3)),
        block(nearest, ReflectionPad(), nn.Conv2d(4, 4, 3, stride=2)),
        block(nearest, ReflectionPad(), nn.Conv2d(4, 4, 5)),
        block(nearest, ReflectionPad(), nn.Conv2d(4, 4, 3, groups=2)),
        nn.Sequential(nearest, nn.Conv2d(4, 4, 3, padding=1)),
    ]
    for net in others:
        assert fold_upsampling(net) == 0, net
    same = block(nn.Upsample(scale_factor=(2.0, 2.0)), ReflectionPad(), nn.Conv2d(4, 4, 3))
    assert fold_upsampling(same) == 1


def test_without_the_fused_call_it_runs_the_plain_convolution(monkeypatch):
    monkeypatch.setattr(conv_relu, "_POINTWISE", None)
    monkeypatch.setattr(conv_relu, "_works", {})
    torch.manual_seed(3)
    conv = nn.Conv2d(4, 6, 3)
    x = torch.randn(1, 4, 6, 5)
    with torch.no_grad():
        assert (UpsampledConv(conv, True)(x) - as_written(x, conv, True)).abs().max().item() < 1e-5


def network_outputs(stylizers, target, frames):
    """Each stylizer's network output before clamping (the random decoder's frames are mostly
    clipped to 0 and 1, which would hide a wrong fold), in fp32."""
    outs = []
    for st in stylizers:
        mean, std = target.stats.as_4d(st.device)
        with torch.no_grad():
            outs.append(st.net(st.to_device(frames), mean, std).float())
    return outs


def test_the_cpu_stylizer_folds_and_stylizes_as_the_unfolded_one(encoder, random_decoder):
    from vidstyle.bench import random_target

    folded = Stylizer(random_decoder, device="cpu", encoder=encoder)
    plain = Stylizer(random_decoder, device="cpu", encoder=encoder, fold_upsampling=False)
    reference = Stylizer(random_decoder, device="cpu", precision="fp32", encoder=encoder,
                         fold_upsampling=False, fuse_relu=False)
    fp32 = Stylizer(random_decoder, device="cpu", precision="fp32", encoder=encoder)
    assert folded.upsampling_folded and folded.describe()["upsampling_folded"] and fp32.upsampling_folded
    assert not plain.upsampling_folded and not reference.upsampling_folded
    assert sum(isinstance(m, UpsampledConv) for m in folded.net.modules()) == 3
    target = random_target(reference)
    frames = frames_rgb(2, 50, 34)  # not a multiple of 8: the output is cropped back
    expected, got, unfolded, got_fp32 = network_outputs((reference, folded, plain, fp32), target, frames)
    assert got.shape == expected.shape == (2, 3, 34, 50)
    scale = expected.abs().max().item()
    assert (got_fp32 - expected).abs().max().item() < 1e-5 * scale
    # In the model's precision (bf16 where the CPU has it) the fold is as close to fp32 as before.
    error_folded, error_plain = (got - expected).abs(), (unfolded - expected).abs()
    assert error_folded.max().item() <= 1.5 * error_plain.max().item() + 1e-6 * scale
    assert error_folded.mean().item() <= 1.5 * error_plain.mean().item() + 1e-6 * scale
    assert folded.stylize_frames(frames, target).shape == (2, 34, 50, 3)


def test_a_compiled_stylizer_is_folded_before_compiling(monkeypatch, encoder, random_decoder):
    compiled = []

    def fake_compile(module, **kwargs):
        compiled.append(sum(isinstance(m, UpsampledConv) for m in module.modules()))
        return module
    monkeypatch.setattr(torch, "compile", fake_compile)
    stylizer = Stylizer(random_decoder, device="cpu", encoder=encoder, compile=True)
    assert stylizer.compiled and stylizer.upsampling_folded and compiled == [3]
    assert not stylizer.relu_fused  # inductor fuses those by itself

