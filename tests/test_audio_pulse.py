"""The style breathing with the soundtrack (`convert --audio-pulse S`)."""
from fractions import Fraction

import av
import numpy as np
import pytest
import torch

from conftest import frames_rgb, write_clip
from test_cli import assert_one_line_error, run
from test_style_schedule import decoded, styled_like
from vidstyle.audio_pulse import HOP_S, AudioPulse, _envelope, loudness_envelope
from vidstyle.errors import VidstyleError
from vidstyle.pipeline import convert_video
from vidstyle.stylizer import Target

FPS, N, RATE = 24, 24, 22050


def quiet_then_loud(path, n=N):
    """n frames at 24 FPS whose sound is silent for the first half and a loud tone after."""
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=FPS)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        a = out.add_stream("aac", rate=RATE)
        a.layout = "mono"
        for i, img in enumerate(frames_rgb(n, 64, 48)):
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            f.pts, f.time_base = i, Fraction(1, FPS)
            out.mux(v.encode(f))
        out.mux(v.encode(None))
        t = np.arange(int(RATE * n / FPS)) / RATE
        sound = np.where(t >= n / FPS / 2, 0.5 * np.sin(2 * np.pi * 330 * t), 0.0).astype(np.float32)
        for s in range(0, len(sound) - 1023, 1024):
            af = av.AudioFrame.from_ndarray(sound[None, s:s + 1024], format="fltp", layout="mono")
            af.sample_rate, af.pts = RATE, s
            out.mux(a.encode(af))
        out.mux(a.encode(None))
    return path


def test_the_envelope_rises_at_once_and_falls_back_slowly():
    rate = 8000
    t = np.arange(rate * 2) / rate
    beat = np.where((t >= 0.5) & (t < 0.6), np.sin(2 * np.pi * 200 * t), 0.001 * np.sin(2 * np.pi * 50 * t))
    env = _envelope(beat, rate)
    at = lambda s: env[round(s / HOP_S)]  # noqa: E731
    assert at(0.3) < 0.05 and at(0.53) > 0.9  # quiet, then the beat within 30 ms
    assert 0.3 < at(0.7) < at(0.65) < 0.95 and at(1.5) < 0.05  # a slow fall back to quiet


def test_a_track_fed_in_chunks_measures_as_it_does_whole():
    from vidstyle.audio_pulse import PowerMeter

    samples = np.random.default_rng(0).standard_normal(16000 * 3 + 123)
    chunked, whole = PowerMeter(16000), PowerMeter(16000)
    for i in range(0, len(samples), 1000):
        chunked.feed(samples[i:i + 1000])
    whole.feed(samples)
    a, b = chunked.finish(), whole.finish()
    assert len(a) == len(b) == 301 and np.allclose(a, b)


def test_a_flat_track_leaves_alpha_alone():
    assert np.all(_envelope(np.full(8000, 0.3), 8000) == 1.0)
    assert np.all(_envelope(np.zeros(8000), 8000) == 1.0)


def test_pulse_scales_each_frames_alpha_also_a_fades():
    pulse = AudioPulse(0.5, 0.0, np.array([0.0, 1.0, 0.5]))
    assert [pulse.weight(t) for t in (0.0, HOP_S, 2 * HOP_S, 9.0)] == [0.5, 1.0, 0.75, 0.75]
    fixed = pulse.targets(lambda i, frames: Target(None, alpha=0.8), lambda i: i * HOP_S)
    assert fixed(0, np.zeros((3, 1))).alpha == pytest.approx((0.4, 0.8, 0.6))
    faded = pulse.targets(lambda i, frames: Target(None, alpha=(0.0, 1.0)), lambda i: i * HOP_S)
    assert faded(1, np.zeros((2, 1))).alpha == pytest.approx((0.0, 0.75))
    with pytest.raises(VidstyleError, match="between 0 and 1"):
        AudioPulse(1.5, 0.0, np.ones(3))


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return quiet_then_loud(tmp_path_factory.mktemp("pulse") / "clip.mp4")


def test_the_envelope_of_a_file_follows_its_sound(clip):
    first, env = loudness_envelope(clip)
    times = first + np.arange(len(env)) * HOP_S
    assert env[(times > 0.05) & (times < 0.45)].max() < 0.05
    assert env[(times > 0.55) & (times < 0.95)].min() > 0.9


def test_converting_with_a_full_pulse_has_no_style_in_silence_and_all_of_it_when_loud(
        trained_stylizer, clip, tmp_path):
    stats = trained_stylizer.style_stats(torch.rand(3, 48, 48, generator=torch.Generator().manual_seed(1)))
    plain, styled, pulsed = (tmp_path / f"{name}.mp4" for name in ("plain", "styled", "pulsed"))
    convert_video(clip, plain, trained_stylizer, Target(stats, alpha=0.0))
    convert_video(clip, styled, trained_stylizer, Target(stats))
    report = convert_video(clip, pulsed, trained_stylizer, Target(stats), batch=4, audio_pulse=1.0)
    assert report.frames == N and report.audio == "copied"
    like = styled_like(decoded(pulsed), decoded(plain), decoded(styled))
    assert like[:11] == ["a"] * 11 and like[13:] == ["b"] * 11  # (the frames at the onset left out)


def test_cli_pulse_needs_a_soundtrack(capsys, tmp_path, style_png, monkeypatch):
    import vidstyle.stylizer

    monkeypatch.setattr(vidstyle.stylizer, "load_stylizer", lambda *a, **k: pytest.fail("model loaded"))
    silent = write_clip(tmp_path / "silent.mp4", audio=False)
    code, _, err = run(capsys, "convert", silent, "-s", style_png, "--audio-pulse", "0.5",
                       "-o", tmp_path / "o.mp4")
    assert_one_line_error(code, err, "has no audio")
    assert not (tmp_path / "o.mp4").exists()


def test_cli_converts_with_a_pulse(capsys, clip, style_png, tmp_path):
    code, out, err = run(capsys, "convert", clip, "-s", style_png, "--audio-pulse", "0.4", "--model", "tiny",
                         "-o", tmp_path / "o.mp4")
    assert code == 0, err
    assert f"{N} frames" in out
    with pytest.raises(SystemExit):
        run(capsys, "convert", clip, "-s", style_png, "--audio-pulse", "2", "-o", tmp_path / "p.mp4")
