"""Numbered image sequences (shot_%04d.png) read as video: found, checked, timed, converted."""
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from test_cli import assert_one_line_error
from test_cli import run as run_cli
from vidstyle.errors import VidstyleError
from vidstyle.sequences import ImageSequence, is_sequence, parse_frame_rate, pattern_for, sequence_stem
from vidstyle.sources import Segment, VideoFileSource


def write_sequence(folder, first=7, count=30, name="shot_{:04d}.png", size=(48, 32)):
    """Frames whose grey level says their number (n * 5 % 256), so order and cuts can be read back."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(first, first + count):
        Image.fromarray(np.full((size[1], size[0], 3), n * 5 % 256, np.uint8)).save(folder / name.format(n))
    return folder


def test_patterns_are_recognised_and_suggested():
    assert is_sequence("renders/shot_%04d.png") and is_sequence("f%d.JPG")
    assert not is_sequence("shot_%04d.mp4") and not is_sequence("shot_0001.png")
    assert not is_sequence("100%_%04d.png") and not is_sequence("a_%d_%d.png")
    assert pattern_for("f/shot_0001.png").as_posix() == "f/shot_%04d.png"
    assert pattern_for("f/take2_17.png").as_posix() == "f/take2_%d.png"
    assert sequence_stem("renders/shot_%04d.png") == "shot"
    assert sequence_stem("renders/%04d.png") == "renders"


def test_frame_rates_parse_like_ffmpegs():
    assert parse_frame_rate("24") == 24 and parse_frame_rate("29.97") == Fraction(2997, 100)
    assert parse_frame_rate("30000/1001") == Fraction(30000, 1001)
    for bad in ("0", "-5", "fast"):
        with pytest.raises(ValueError):
            parse_frame_rate(bad)


def test_a_sequence_is_found_from_its_first_number_and_a_gap_is_refused(tmp_path):
    write_sequence(tmp_path, first=7, count=30)
    (tmp_path / "shot_12.png").write_bytes(b"")  # not %04d: not part of it
    seq = ImageSequence.find(tmp_path / "shot_%04d.png")
    assert (seq.first, seq.count) == (7, 30)
    (tmp_path / "shot_0010.png").unlink()
    with pytest.raises(VidstyleError, match="gap: shot_0010.png is missing"):
        ImageSequence.find(tmp_path / "shot_%04d.png")
    with pytest.raises(VidstyleError, match="no files match"):
        ImageSequence.find(tmp_path / "take_%04d.png")


def test_a_sequence_decodes_in_order_at_the_frame_rate_given(tmp_path):
    # Starting at 7: ffmpeg's image2 only looks for a first number up to 4 by itself.
    pattern = write_sequence(tmp_path, first=7, count=30) / "shot_%04d.png"
    with VideoFileSource(pattern, frame_rate=Fraction(24)) as source:
        assert source.info.frames == 30 and source.info.rate == 24 and source.expected_frames == 30
        frames = list(source)
    assert [int(f.image[0, 0, 0]) for f in frames] == [n * 5 % 256 for n in range(7, 37)]
    assert [float(f.pts * f.time_base) for f in frames[:3]] == pytest.approx([0, 1 / 24, 2 / 24])
    with VideoFileSource(pattern) as source:
        assert source.info.rate == 25  # ffmpeg's default for sequences


def test_a_part_of_a_sequence_is_cut_on_the_right_frame(tmp_path):
    pattern = write_sequence(tmp_path, first=1, count=30) / "shot_%04d.png"
    with VideoFileSource(pattern, frame_rate=Fraction(24), segment=Segment(0.5, 0.25)) as source:
        frames = list(source)
    assert [int(f.image[0, 0, 0]) for f in frames] == [n * 5 for n in range(13, 19)]  # frames 12..17 of 0..
    assert frames[0].pts == 0


def test_convert_a_sequence_into_a_folder(capsys, tmp_path, style_png):
    pattern = write_sequence(tmp_path / "renders", first=1, count=12) / "shot_%04d.png"
    code, text, err = run_cli(capsys, "convert", pattern, "-s", style_png, "-o", tmp_path / "out/",
                              "--frame-rate", "30000/1001")
    assert code == 0, err
    out = tmp_path / "out" / "shot.mp4"
    assert f"{out}: 12 frames 48x32" in text
    with av.open(str(out)) as c:
        stream = c.streams.video[0]
        assert stream.average_rate == Fraction(30000, 1001)
        assert sum(1 for _ in c.decode(video=0)) == 12


def test_sequence_mistakes_are_one_line_each(capsys, tmp_path, style_png, clip):
    renders = write_sequence(tmp_path / "renders", first=1, count=5)
    out = tmp_path / "o.mp4"
    code, _, err = run_cli(capsys, "convert", renders, "-s", style_png, "-o", out)
    assert_one_line_error(code, err, "only images", f"name it as {renders / 'shot_%04d.png'}")
    (renders / "shot_0003.png").unlink()
    code, _, err = run_cli(capsys, "convert", renders / "shot_%04d.png", "-s", style_png, "-o", out)
    assert_one_line_error(code, err, "has a gap: shot_0003.png is missing")
    code, _, err = run_cli(capsys, "convert", clip, "-s", style_png, "-o", out, "--frame-rate", "24")
    assert_one_line_error(code, err, "--frame-rate is for image-sequence inputs")
    assert not out.exists()
    with pytest.raises(SystemExit):
        run_cli(capsys, "convert", renders / "shot_%04d.png", "-s", style_png, "-o", out, "--frame-rate", "0")
    assert "not a frame rate: '0'" in capsys.readouterr().err
