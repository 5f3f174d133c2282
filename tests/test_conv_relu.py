"""Convolution + ReLU fused on the CPU (vidstyle.conv_relu): the same output, parameters and
training behaviour as the two ops."""
import copy

import numpy as np
import pytest
import torch
from torch import nn

import vidstyle.conv_relu as conv_relu
from vidstyle.conv_relu import ConvReLU, fuse_conv_relu
from vidstyle.layers import ReflectionPad
from vidstyle.stylizer import Stylizer

from conftest import frames_rgb

needs_onednn = pytest.mark.skipif(conv_relu._POINTWISE is None, reason="torch built without oneDNN")


def small_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(ReflectionPad(), nn.Conv2d(3, 8, 3), nn.ReLU(inplace=True),
                         nn.Sequential(nn.Conv2d(8, 8, 1), nn.ReLU()),  # nested, 1x1
                         nn.Conv2d(8, 4, 3, padding=1), nn.Upsample(scale_factor=2),
                         nn.Conv2d(4, 3, 3))  # last: no ReLU after it, stays a Conv2d


@pytest.fixture
def fused_calls(monkeypatch) -> list:
    """Counts the fused oneDNN calls, so a test can tell they were made."""
    calls = []
    real = conv_relu._POINTWISE

    def counting(*args):
        calls.append(args[0].dtype)
        return real(*args)
    monkeypatch.setattr(conv_relu, "_POINTWISE", counting)
    return calls


def test_pairs_are_fused_in_place_and_parameters_keep_their_names():
    net = small_net()
    names = {k: v.clone() for k, v in net.state_dict().items()}
    assert fuse_conv_relu(net) == 2
    assert isinstance(net[1], ConvReLU) and isinstance(net[2], nn.Identity)
    assert isinstance(net[3][0], ConvReLU) and type(net[4]) is nn.Conv2d and type(net[6]) is nn.Conv2d
    assert {k: torch.equal(v, names[k]) for k, v in net.state_dict().items()} == {k: True for k in names}
    assert fuse_conv_relu(net) == 0  # nothing left to fuse


@needs_onednn
@pytest.mark.parametrize("dtype, tolerance", [(torch.float32, 1e-5), (torch.bfloat16, 0.02)])
def test_fused_inference_matches_the_two_ops(dtype, tolerance, fused_calls):
    assert conv_relu.fusion_available(dtype)
    ref = small_net().to(dtype, memory_format=torch.channels_last).eval()
    fused = copy.deepcopy(ref)
    fuse_conv_relu(fused)
    x = torch.rand(2, 3, 20, 28).to(dtype).contiguous(memory_format=torch.channels_last)
    fused_calls.clear()  # the availability probe may have made one
    with torch.no_grad():
        expected, got = ref(x), fused(x)
    assert fused_calls == [dtype, dtype]  # both pairs went through oneDNN's fused call
    assert got.dtype == dtype and got.shape == expected.shape
    assert (got.float() - expected.float()).abs().max().item() <= tolerance


def test_training_and_autocast_take_the_two_ops(fused_calls):
    ref = small_net()
    fused = copy.deepcopy(ref)
    fuse_conv_relu(fused)
    x = torch.rand(1, 3, 16, 16)
    ref(x).square().sum().backward()
    fused(x).square().sum().backward()  # gradients flow: the unfused path ran
    assert fused_calls == []
    for (name, p), q in zip(ref.named_parameters(), fused.parameters()):
        assert torch.allclose(p.grad, q.grad, atol=1e-5), name
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert fused(x).shape == ref(x).shape
    assert fused_calls == []


@needs_onednn
def test_the_cpu_stylizer_fuses_and_stylizes_as_the_unfused_one(encoder, random_decoder, fused_calls):
    from vidstyle.bench import random_target

    fused = Stylizer(random_decoder, device="cpu", encoder=encoder)
    plain = Stylizer(random_decoder, device="cpu", encoder=encoder, fuse_relu=False)
    assert fused.relu_fused and not plain.relu_fused and fused.describe()["relu_fused"]
    target = random_target(plain)
    frames = frames_rgb(2, 48, 32)
    fused_calls.clear()  # the availability probe may have made one
    expected = plain.stylize_frames(frames, target)
    assert fused_calls == []
    got = fused.stylize_frames(frames, target)
    assert len(fused_calls) == 17  # every convolution with a ReLU after it: 9 encoder, 8 decoder
    diff = np.abs(got.astype(int) - expected.astype(int))
    assert diff.max() <= 2 and diff.mean() < 0.05


def test_where_the_fused_call_fails_nothing_is_fused(monkeypatch, encoder, random_decoder):
    def unsupported(*args):
        raise RuntimeError("mkldnn: this build has no such primitive")
    monkeypatch.setattr(conv_relu, "_POINTWISE", unsupported)
    monkeypatch.setattr(conv_relu, "_works", {})
    assert not conv_relu.fusion_available(torch.float32)
    stylizer = Stylizer(random_decoder, device="cpu", precision="fp32", encoder=encoder)
    assert not stylizer.relu_fused and not any(isinstance(m, ConvReLU) for m in stylizer.net.modules())


@needs_onednn
def test_tracing_and_unbatched_input_take_the_two_ops(fused_calls):
    net = small_net().eval()
    fuse_conv_relu(net)
    assert not net[1].training and not net[2].training  # the replacements keep eval mode
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        traced = torch.jit.trace(net, x)  # as ONNX export traces
        assert torch.allclose(traced(x), net(x), atol=1e-5)
        fused_calls.clear()
        assert net[1](x[0]).shape == (8, 14, 14)  # (C, H, W) works as Conv2d does
    assert fused_calls == []


@needs_onednn
def test_the_eager_fallback_of_a_compiled_stylizer_is_fused(monkeypatch, encoder, random_decoder):
    from vidstyle.bench import random_target

    def no_compiler(*args, **kwargs):
        raise RuntimeError("no C++ compiler")
    monkeypatch.setattr(torch, "compile", no_compiler)
    unavailable = Stylizer(random_decoder, device="cpu", encoder=encoder, compile=True)
    assert not unavailable.compiled and unavailable.relu_fused  # torch.compile unavailable

    def failing_graph(*args, **kwargs):
        raise RuntimeError("inductor: the compiled graph failed")
    monkeypatch.setattr(torch, "compile", lambda module, **kwargs: failing_graph)
    failing = Stylizer(random_decoder, device="cpu", encoder=encoder, compile=True)
    assert failing.compiled and not failing.relu_fused  # compiling would fuse by itself
    out = failing.stylize_frames(frames_rgb(1, 48, 32), random_target(failing))  # it fell back
    assert out.shape == (1, 32, 48, 3)
    assert not failing.compiled and failing.relu_fused and failing.net is failing._eager
    assert any(isinstance(m, ConvReLU) for m in failing.net.modules())
