"""Animated GIF outputs: every frame, its timing, colours close to the frame, no audio."""
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from conftest import frames_rgb, write_clip
from test_cli import assert_one_line_error
from test_cli import run as run_cli
from vidstyle.gif_sink import GifSink, is_gif


def decode(path):
    with av.open(str(path)) as c:
        return [(f.to_ndarray(format="rgb24"), float(f.pts * f.time_base)) for f in c.decode(video=0)]


def test_gif_frames_keep_their_times_and_colours(tmp_path):
    frames = frames_rgb(6, 40, 30)
    sink = GifSink(tmp_path / "a.gif", 40, 30, Fraction(25), Fraction(1, 1000))
    for i, image in enumerate(frames):
        sink.write(image, [0, 40, 80, 200, 240, 240][i])  # ms; a late frame and a repeated time
    sink.close()
    decoded = decode(tmp_path / "a.gif")
    assert len(decoded) == 6
    assert [t for _, t in decoded] == pytest.approx([0, 0.04, 0.08, 0.2, 0.24, 0.25])  # never two alike
    for (image, _), original in zip(decoded, frames):  # 256 colours a frame: close, not exact
        assert np.abs(image.astype(int) - original).mean() < 12
    assert is_gif("x/A.GIF") and not is_gif("a.mp4")


def test_an_aborted_gif_is_closed_for_removal(tmp_path):
    sink = GifSink(tmp_path / "a.gif", 16, 16, Fraction(25), Fraction(1, 25))
    sink.write(np.zeros((16, 16, 3), np.uint8), 0)
    sink.abort()
    assert sink._thread.is_alive() is False


def test_convert_to_gif_says_the_audio_is_left_out(capsys, tmp_path, style_png):
    clip = write_clip(tmp_path / "a.mp4", n=6, audio=True)
    out = tmp_path / "loop.gif"
    code, text, err = run_cli(capsys, "convert", clip, "-s", style_png, "-o", out)
    assert code == 0, err
    assert f"{out}: 6 frames 64x48" in text and "audio left out (a GIF holds none)" in text
    assert len(decode(out)) == 6
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no partial file left
    code, _, err = run_cli(capsys, "convert", clip, "-s", style_png, "-o", out, "--overwrite", "--crf", "9")
    assert_one_line_error(code, err, "is an animated GIF")


def test_a_folder_of_clips_takes_its_animated_gifs_too(capsys, tmp_path, style_png):
    clips = tmp_path / "clips"
    clips.mkdir()
    write_clip(clips / "a.mp4", n=6, audio=False)
    sink = GifSink(clips / "Loop.GIF", 40, 30, Fraction(25), Fraction(1, 1000))
    for i, image in enumerate(frames_rgb(4, 40, 30)):
        sink.write(image, 40 * i)
    sink.close()
    logo = np.zeros((30, 40), np.uint8)  # a still GIF (a logo, an icon) is an image, not a clip
    Image.fromarray(logo, "P").save(clips / "logo.gif", transparency=0)
    code, text, err = run_cli(capsys, "convert", clips, "-s", style_png, "-o", tmp_path / "out/")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["Loop.mp4", "a.mp4"]
    assert len(decode(tmp_path / "out" / "Loop.mp4")) == 4
    code, _, err = run_cli(capsys, "image", clips / "logo.gif", "-s", style_png, "--at", "1",
                           "-o", tmp_path / "logo.png")
    assert_one_line_error(code, err, "--at picks a frame of a video input")
    code, _, err = run_cli(capsys, "image", clips / "logo.gif", "-s", style_png, "-o", tmp_path / "logo.png")
    assert code == 0, err
    assert Image.open(tmp_path / "logo.png").mode == "RGBA"  # its transparency kept
