"""--fade-in / --fade-out: from the input picture to the style and back."""
from fractions import Fraction

import av
import numpy as np
import pytest

from conftest import write_clip
from vidstyle.bench import random_target
from vidstyle.errors import VidstyleError
from vidstyle.fades import Fades, fade_factor
from vidstyle.pipeline import convert_video


def test_the_fade_weight_rises_holds_and_falls():
    assert fade_factor(0.0, 2.0, 1.0, 10.0) == 0.0
    assert fade_factor(1.0, 2.0, 1.0, 10.0) == pytest.approx(0.5)
    assert fade_factor(5.0, 2.0, 1.0, 10.0) == 1.0
    assert fade_factor(9.5, 2.0, 1.0, 10.0) == pytest.approx(0.5)
    assert fade_factor(10.0, 2.0, 1.0, 10.0) == 0.0
    assert fade_factor(0.5, 2.0, 2.0, 1.0) == pytest.approx(0.25)  # fades longer than the video overlap
    assert fade_factor(3.0, 0.0, 0.0, None) == 1.0
    fades = Fades(1.0, 0.0, Fraction(4), None)  # 4 FPS: frame i stands for [i, i+1) / 4 s
    assert [fades.weight(i) for i in range(5)] == pytest.approx([0.125, 0.375, 0.625, 0.875, 1.0])


def test_bad_fades_are_refused():
    with pytest.raises(VidstyleError, match="--fade-in must be 0 or more"):
        Fades(-1.0, 0.0, Fraction(24), 5.0)
    with pytest.raises(VidstyleError, match="--fade-out needs the video's duration"):
        Fades(0.0, 1.0, Fraction(24), None)
    assert not Fades(0.0, 0.0, Fraction(24), None)


def frames_of(path):
    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)]).astype(np.int16)


def test_a_converted_clip_starts_and_ends_on_the_input_picture(tmp_path, stylizer, monkeypatch):
    clip = write_clip(tmp_path / "clip.mp4", n=24, fps=24)  # 1 s
    alphas = []
    real = stylizer.stylize_frames

    def spy(frames, target, size=None):
        alphas.append(target.alpha)
        return real(frames, target, size)

    monkeypatch.setattr(stylizer, "stylize_frames", spy)
    target = random_target(stylizer)
    convert_video(clip, tmp_path / "out.mp4", stylizer, target, crf=0, workers=1, fade_in=0.5, fade_out=0.25)
    assert alphas[0] == pytest.approx(0.5 / 24 / 0.5)  # frame 0 stands for its first 1/24 s
    assert alphas[12:18] == [1.0] * 6 and alphas[-1] == pytest.approx(0.5 / 24 / 0.25)
    assert all(a < b for a, b in zip(alphas[:12], alphas[1:12]))  # rising, then falling at the end
    assert all(a > b for a, b in zip(alphas[18:], alphas[19:]))
    out, inp = frames_of(tmp_path / "out.mp4"), frames_of(clip)
    diff = np.abs(out - inp).mean(axis=(1, 2, 3))
    # The random test decoder's pictures are far from the input: a frame's distance
    # from its input shows how much of the stylized picture it holds.
    assert diff[0] < 0.1 * diff[15] and diff[-1] < 0.2 * diff[15]
    assert diff[6] == pytest.approx(diff[15] * (6.5 / 12), rel=0.25)  # halfway through the fade-in


def test_fades_on_the_command_line(capsys, clip, style_png, tmp_path):
    from test_cli import run

    code, out, err = run(capsys, "convert", clip, "-s", style_png, "--model", "tiny", "--fade-in", 0.2,
                         "--fade-out", 0.2, "-o", tmp_path / "o.mp4")
    assert code == 0, err
    assert (tmp_path / "o.mp4").exists()
    with pytest.raises(SystemExit) as exc:
        run(capsys, "convert", clip, "-s", style_png, "--fade-in", -1, "-o", tmp_path / "p.mp4")
    assert exc.value.code == 2
