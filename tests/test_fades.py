"""--fade-in / --fade-out: from the input picture to the style and back."""
from dataclasses import replace
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
    fades = Fades(1.0, 0.0, Fraction(4), None)  # 4 FPS, no timestamps: frame i stands for [i, i+1) / 4 s
    assert [fades.weight(i) for i in range(5)] == pytest.approx([0.125, 0.375, 0.625, 0.875, 1.0])


def test_frames_without_timestamps_keep_the_time_scale():
    from types import SimpleNamespace

    def frame(pts):
        return SimpleNamespace(pts=pts, time_base=Fraction(1, 24) if pts is not None else None)

    fades = Fades(1.0, 0.0, Fraction(24), None)
    # Two untimed frames, timed ones from pts 12 (0.5 s: a file whose video starts late),
    # one untimed frame in between: the times go on rising by a frame each.
    frames = [frame(None), frame(None), frame(12), frame(13), frame(None), frame(15)]
    list(fades.timed(frames))
    weights = [fades.weight(i) for i in range(6)]
    assert weights == pytest.approx([(i + 0.5) / 24 for i in range(6)])


def test_bad_fades_are_refused():
    with pytest.raises(VidstyleError, match="--fade-in must be 0 or more"):
        Fades(-1.0, 0.0, Fraction(24), 5.0)
    with pytest.raises(VidstyleError, match="--fade-out needs the video's duration"):
        Fades(0.0, 1.0, Fraction(24), None)
    assert not Fades(0.0, 0.0, Fraction(24), None)


def frames_of(path):
    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)]).astype(np.int16)


def spy_alphas(stylizer, monkeypatch) -> list:
    """The alphas the model gets, one per frame, in order."""
    alphas = []
    real = stylizer.stylize_frames

    def spy(frames, target, size=None):
        alphas.extend(target.alpha if isinstance(target.alpha, tuple) else [target.alpha] * len(frames))
        return real(frames, target, size)

    monkeypatch.setattr(stylizer, "stylize_frames", spy)
    return alphas


def test_a_converted_clip_starts_and_ends_on_the_input_picture(tmp_path, stylizer, monkeypatch):
    clip = write_clip(tmp_path / "clip.mp4", n=24, fps=24)  # 1 s
    alphas = spy_alphas(stylizer, monkeypatch)
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


def test_batches_get_one_alpha_per_frame_and_match_frames_run_alone(tmp_path, stylizer, monkeypatch):
    clip = write_clip(tmp_path / "clip.mp4", n=10, fps=10)
    target = random_target(stylizer)
    alphas = spy_alphas(stylizer, monkeypatch)
    convert_video(clip, tmp_path / "b4.mp4", stylizer, target, workers=1, batch=4, fade_in=1.0)
    assert alphas == pytest.approx([(i + 0.5) / 10 for i in range(10)])  # no steps of 4 frames
    monkeypatch.undo()
    frames = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    both = stylizer.stylize_frames(frames, replace(target, alpha=(0.3, 1.0)))
    alone = [stylizer.stylize_frames(frames[i:i + 1], replace(target, alpha=a))[0]
             for i, a in enumerate((0.3, 1.0))]
    assert np.abs(both.astype(int) - np.stack(alone)).max() <= 1


def write_vfr_clip(path, times, fps_nominal=24, audio_seconds=None):
    """An H.264 clip whose frames are shown at `times` (seconds), optionally with audio
    running to `audio_seconds`."""
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=fps_nominal)
        v.width, v.height, v.pix_fmt = 32, 32, "yuv420p"
        v.time_base = v.codec_context.time_base = Fraction(1, 1000)
        a = None
        if audio_seconds:
            a = out.add_stream("aac", rate=22050)
            a.layout = "mono"
        for i, t in enumerate(times):
            f = av.VideoFrame.from_ndarray(np.full((32, 32, 3), (i * 9) % 256, np.uint8), format="rgb24")
            f.pts, f.time_base = round(t * 1000), Fraction(1, 1000)
            out.mux(v.encode(f))
        out.mux(v.encode(None))
        if a is not None:
            for s in range(0, int(22050 * audio_seconds) - 1024, 1024):
                af = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
                af.sample_rate, af.pts = 22050, s
                out.mux(a.encode(af))
            out.mux(a.encode(None))
    return path


def test_variable_frame_rates_fade_on_time(tmp_path, stylizer, monkeypatch):
    # 12 FPS for 2 s, then 48 FPS for 1 s: counting frames would put the fades far off.
    times = [i / 12 for i in range(24)] + [2 + i / 48 for i in range(48)]
    clip = write_vfr_clip(tmp_path / "vfr.mp4", times)
    alphas = spy_alphas(stylizer, monkeypatch)
    convert_video(clip, tmp_path / "out.mp4", stylizer, random_target(stylizer), workers=1,
                  fade_in=2.0, fade_out=1.0)
    assert len(alphas) == 72
    half = 0.5 / 24  # half a nominal frame
    assert alphas[12] == pytest.approx((1.0 + half) / 2.0, abs=0.01)  # the frame at 1.0 s: halfway in
    assert alphas[24 + 24] == pytest.approx((3.0 - 2.5 - half) / 1.0, abs=0.03)  # 2.5 s: halfway out


def test_the_fade_out_ends_on_the_last_frame_where_the_audio_runs_longer(tmp_path, stylizer, monkeypatch):
    times = [i / 24 for i in range(48)]  # 2 s of video, 3 s of audio, in Matroska (no video duration)
    clip = write_vfr_clip(tmp_path / "long_audio.mkv", times, audio_seconds=3.0)
    alphas = spy_alphas(stylizer, monkeypatch)
    convert_video(clip, tmp_path / "out.mkv", stylizer, random_target(stylizer), workers=1, fade_out=0.5)
    assert alphas[-1] == pytest.approx((0.5 / 24) / 0.5, abs=0.02)  # its last frame, not 1 s early


def test_a_segment_fades_at_its_own_ends(tmp_path, stylizer, monkeypatch):
    from vidstyle.sources import Segment

    clip = write_clip(tmp_path / "clip.mp4", n=48, fps=24)
    alphas = spy_alphas(stylizer, monkeypatch)
    convert_video(clip, tmp_path / "out.mp4", stylizer, random_target(stylizer), workers=1,
                  segment=Segment(0.5, 1.0), fade_in=0.5, fade_out=0.5)
    assert len(alphas) == 24
    assert alphas[0] == pytest.approx(1 / 24) and alphas[-1] == pytest.approx(1 / 24)
    assert max(alphas) == pytest.approx(1.0, abs=0.05)


def test_fades_on_the_command_line(capsys, clip, style_png, tmp_path):
    from test_cli import run

    code, out, err = run(capsys, "convert", clip, "-s", style_png, "--model", "tiny", "--fade-in", 0.2,
                         "--fade-out", 0.2, "-o", tmp_path / "o.mp4")
    assert code == 0, err
    assert (tmp_path / "o.mp4").exists()
    with pytest.raises(SystemExit) as exc:
        run(capsys, "convert", clip, "-s", style_png, "--fade-in", -1, "-o", tmp_path / "p.mp4")
    assert exc.value.code == 2
