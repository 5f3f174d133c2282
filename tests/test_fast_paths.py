"""Fast paths (bf16 + channels_last, torch.compile) against the fp32 eager reference."""
import numpy as np
import pytest

from vidstyle.stylizer import Stylizer, Target, load_stylizer

# Stated tolerance: mean absolute difference in 8-bit levels over the frame, and
# the share of pixels off by more than 16 levels (bf16 keeps 8 mantissa bits).
MEAN_TOL, OUTLIER_SHARE = 3.0, 0.01


@pytest.fixture(scope="module")
def frames():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:48, 0:64]
    base = np.stack([xx * 4, yy * 5, (xx + yy) * 2], -1) % 256
    return np.clip(base + rng.normal(0, 8, (2, 48, 64, 3)), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def target(trained_stylizer):
    import torch

    style = torch.rand(3, 48, 48, generator=torch.Generator().manual_seed(0))
    return Target(trained_stylizer.style_stats(style))


def close_enough(a, b):
    diff = np.abs(a.astype(int) - b.astype(int))
    return diff.mean() < MEAN_TOL and (diff > 16).mean() < OUTLIER_SHARE


@pytest.mark.parametrize("model", ["full", "lite"])
def test_bf16_channels_last_matches_fp32(encoder, frames, target, model):
    # Runs on CPUs without bf16 units too (emulated: slow, but the same numerics).
    def run(precision):
        stylizer = load_stylizer(model, device="cpu", precision=precision, encoder=encoder)
        return stylizer.stylize_frames(frames, target)

    fp32, bf16 = run("fp32"), run("bf16")
    assert close_enough(bf16, fp32)


def test_compiled_model_matches_eager(encoder, frames, target):
    from vidstyle.decoder import Decoder

    decoder = Decoder.load()
    eager = Stylizer(decoder, "cpu", "fp32", encoder=encoder)
    compiled = Stylizer(decoder, "cpu", "fp32", encoder=encoder, compile=True)
    out = compiled.stylize_frames(frames[:1], target)
    assert compiled.compiled  # it ran compiled, not through the eager fallback
    assert close_enough(out, eager.stylize_frames(frames[:1], target))
