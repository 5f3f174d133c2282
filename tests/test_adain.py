import pytest
import torch

from vidstyle.adain import StyleStats, adain, calc_mean_std, instance_norm


def feats(n=2, c=8, h=6, w=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, c, h, w, generator=g) * 3 + 1


def test_mean_std_match_the_formulas():
    x = feats()
    mean, std = calc_mean_std(x, eps=0.0)
    flat = x.flatten(2)
    expected_mean = flat.sum(2) / flat.shape[2]
    expected_std = (((flat - expected_mean[..., None]) ** 2).sum(2) / flat.shape[2]).sqrt()
    assert torch.allclose(mean.flatten(1), expected_mean, atol=1e-5)
    assert torch.allclose(std.flatten(1), expected_std, atol=1e-5)
    assert mean.shape == std.shape == (2, 8, 1, 1)


def test_statistics_do_not_depend_on_the_memory_layout():
    x = feats(c=16)
    last = x.contiguous(memory_format=torch.channels_last)
    for a, b in zip(calc_mean_std(x), calc_mean_std(last)):
        assert torch.allclose(a, b, atol=1e-6)


def test_adain_leaves_fp32_input_untouched():
    x = feats()
    before = x.clone()
    adain(x, torch.zeros(1, 8, 1, 1), torch.ones(1, 8, 1, 1), alpha=0.5)
    assert torch.equal(x, before)


def test_eps_sits_inside_the_sqrt():
    flat = torch.zeros(1, 2, 3, 3)
    _, std = calc_mean_std(flat, eps=1e-4)
    assert torch.allclose(std, torch.full_like(std, 1e-2))


def test_adain_output_has_the_style_statistics():
    content, style = feats(seed=1), feats(seed=2)
    s_mean, s_std = calc_mean_std(style)
    out = adain(content, s_mean, s_std)
    o_mean, o_std = calc_mean_std(out)
    assert torch.allclose(o_mean, s_mean, atol=1e-4)
    assert torch.allclose(o_std, s_std, atol=1e-3)


def test_instance_norm_ignores_per_instance_contrast_and_brightness():
    x = feats()
    scale = torch.tensor([2.5, 0.3]).view(2, 1, 1, 1)
    shift = torch.tensor([-4.0, 10.0]).view(2, 1, 1, 1)
    assert torch.allclose(instance_norm(x), instance_norm(x * scale + shift), atol=1e-3)


def test_alpha_zero_returns_content_features_and_alpha_blends_linearly():
    content, style = feats(seed=1), feats(seed=2)
    s_mean, s_std = calc_mean_std(style)
    assert torch.allclose(adain(content, s_mean, s_std, alpha=0.0), content, atol=1e-5)
    full = adain(content, s_mean, s_std)
    half = adain(content, s_mean, s_std, alpha=0.5)
    assert torch.allclose(half, 0.5 * full + 0.5 * content, atol=1e-4)


def test_bf16_features_keep_fp32_statistics():
    content = feats(seed=1).to(torch.bfloat16)
    s_mean, s_std = calc_mean_std(feats(seed=2))
    out = adain(content, s_mean, s_std)
    assert out.dtype == torch.bfloat16
    o_mean, _ = calc_mean_std(out)
    assert torch.allclose(o_mean, s_mean, atol=0.05)


def test_style_stats_combine_is_the_weighted_mean_and_equals_blended_targets():
    a = StyleStats.from_features(feats(n=1, seed=3))
    b = StyleStats.from_features(feats(n=1, seed=4))
    mixed = StyleStats.combine([a, b], [3, 1])  # weights are normalised
    assert torch.allclose(mixed.mean, 0.75 * a.mean + 0.25 * b.mean)
    assert torch.allclose(mixed.std, 0.75 * a.std + 0.25 * b.std)
    content = feats(n=1, seed=5)
    t_mixed = adain(content, *mixed.as_4d())
    t_blend = 0.75 * adain(content, *a.as_4d()) + 0.25 * adain(content, *b.as_4d())
    assert torch.allclose(t_mixed, t_blend, atol=1e-4)


@pytest.mark.parametrize("weights", [[1.0], [-1.0, 2.0], [0.0, 0.0]])
def test_style_stats_combine_rejects_bad_weights(weights):
    a = StyleStats.from_features(feats(n=1, seed=3))
    with pytest.raises(ValueError):
        StyleStats.combine([a, a], weights)


def test_style_stats_save_load_roundtrip(tmp_path):
    s = StyleStats.from_features(feats(n=1, seed=6))
    s.save(tmp_path / "s.safetensors")
    back = StyleStats.load(tmp_path / "s.safetensors")
    assert torch.equal(back.mean, s.mean) and torch.equal(back.std, s.std)


def test_style_statistics_reach_a_device_once():
    stats = StyleStats(torch.arange(4.0), torch.ones(4))
    mean, std = stats.as_4d("cpu")
    assert mean.shape == (1, 4, 1, 1) and torch.equal(mean.flatten(), stats.mean)
    again = stats.as_4d("cpu")
    assert again[0] is mean and again[1] is std  # no copy per batch
