"""Numbered image sequences (shot_%04d.png) read as video: found, checked, timed, converted."""
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from conftest import write_clip
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
    assert parse_frame_rate("24") == 24 and parse_frame_rate("12.5") == Fraction(25, 2)
    # NTSC rates as editors type them (ffmpeg's 2997/100 is another rate than the camera's)
    for typed, frames in (("23.976", 24), ("23.98", 24), ("29.97", 30), ("59.94", 60), ("119.88", 120)):
        assert parse_frame_rate(typed) == Fraction(frames * 1000, 1001), typed
    assert parse_frame_rate("29.9") == Fraction(299, 10) and parse_frame_rate("24.0") == 24
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
    (tmp_path / "shot_0010.png").write_bytes(b"")  # (a render that failed: it cost the next frame too)
    (tmp_path / "shot_0011.png").write_bytes(b"")
    with pytest.raises(VidstyleError, match=r"has an empty file: shot_0010.png \(and 1 more\)"):
        ImageSequence.find(tmp_path / "shot_%04d.png")


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


@pytest.mark.parametrize("pix_fmt", ["rgb48le", "gbrp10le"])  # 16-bit and 10-bit DPX
def test_a_dpx_sequence_reads_as_its_png_twin(tmp_path, pix_fmt):
    from conftest import frames_rgb

    (tmp_path / "png").mkdir(), (tmp_path / "dpx").mkdir()
    with av.open(str(tmp_path / "dpx" / "plate.%04d.dpx"), "w", format="image2",
                 options={"start_number": "1001"}) as out:
        stream = out.add_stream("dpx", rate=24)
        stream.width, stream.height, stream.pix_fmt = 48, 32, pix_fmt
        for i, rgb in enumerate(frames_rgb(4, 48, 32)):
            Image.fromarray(rgb).save(tmp_path / "png" / f"plate.{1001 + i}.png")
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=pix_fmt)
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    assert is_sequence(tmp_path / "dpx" / "plate.%04d.dpx")
    with VideoFileSource(tmp_path / "dpx" / "plate.%04d.dpx", frame_rate=Fraction(24)) as source:
        dpx = [f.image for f in source]
    with VideoFileSource(tmp_path / "png" / "plate.%04d.png", frame_rate=Fraction(24)) as source:
        png = [f.image for f in source]
    assert len(dpx) == 4 and all(np.array_equal(a, b) for a, b in zip(dpx, png))


def test_a_sequence_of_a_type_not_read_is_named_as_such(capsys, tmp_path, style_png):
    (tmp_path / "plate.0001.exr").write_bytes(b"")
    code, _, err = run_cli(capsys, "convert", tmp_path / "plate.%04d.exr", "-s", style_png,
                           "-o", tmp_path / "o.mp4")
    assert_one_line_error(code, err, "image sequences are read from .bmp, .dpx", "not .exr")


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
    code, _, err = run_cli(capsys, "image", renders / "shot_%04d.png", "-s", style_png, "-o", tmp_path / "o/")
    assert_one_line_error(code, err, "not found", "image sequence, which 'vidstyle convert' takes")
    with pytest.raises(SystemExit):
        run_cli(capsys, "convert", renders / "shot_%04d.png", "-s", style_png, "-o", out, "--frame-rate", "0")
    assert "not a frame rate: '0'" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # (at 10,000 the MP4 said 5 frames and played none)
        run_cli(capsys, "convert", renders / "shot_%04d.png", "-s", style_png, "-o", out, "--frame-rate", "10000")
    assert "the frame rate must be above 0 and at most 1000 FPS, got 10000" in capsys.readouterr().err
    whole = write_sequence(tmp_path / "whole", first=1, count=3) / "shot_%04d.png"
    with pytest.raises(VidstyleError, match="at most 1000 FPS"):  # (the API's convert too)
        VideoFileSource(whole, frame_rate=Fraction(1001))
    with VideoFileSource(whole, frame_rate=Fraction(1000)) as source:
        assert source.info.rate == 1000


def test_an_output_pattern_naming_the_input_frames_otherwise_is_refused(capsys, tmp_path, style_png):
    renders = write_sequence(tmp_path / "renders", first=1, count=3, name="a_{}.png")
    before = {p.name: p.read_bytes() for p in renders.iterdir()}
    for overwrite in ([], ["--overwrite"]):  # (%d and %01d name the same files)
        code, _, err = run_cli(capsys, "convert", renders / "a_%d.png", "-s", style_png, "--model", "tiny",
                               "-o", renders / "a_%01d.png", *overwrite)
        assert_one_line_error(code, err, "is the input; choose another")
    from vidstyle.pipeline import convert_video

    with pytest.raises(VidstyleError, match="is the input"):  # the library's own check, before the model
        convert_video(renders / "a_%d.png", renders / "a_%01d.png", None, None, overwrite=True)
    assert {p.name: p.read_bytes() for p in renders.iterdir()} == before


def test_a_sequence_out_keeps_the_inputs_numbers_and_leaves_nothing_hidden(capsys, tmp_path, style_png):
    pattern = write_sequence(tmp_path / "renders", first=1001, count=6) / "shot_%04d.png"
    out = tmp_path / "styled" / "wave_%04d.png"
    code, text, err = run_cli(capsys, "convert", pattern, "-s", style_png, "-o", out)
    assert code == 0, err
    assert f"{out}: 6 frames 48x32" in text
    assert sorted(p.name for p in out.parent.iterdir()) == [f"wave_{n}.png" for n in range(1001, 1007)]
    assert np.asarray(Image.open(out.parent / "wave_1001.png")).shape == (32, 48, 3)


def test_a_video_into_a_sequence_starts_at_one_and_says_the_audio_is_left_out(capsys, tmp_path, style_png):
    from conftest import write_clip

    clip = write_clip(tmp_path / "a.mp4", n=5, audio=True)
    out = tmp_path / "frames" / "f_%03d.jpg"
    code, text, err = run_cli(capsys, "convert", clip, "-s", style_png, "-o", out)
    assert code == 0, err
    assert "audio left out (an image sequence holds none)" in text
    assert sorted(p.name for p in out.parent.iterdir()) == [f"f_{n:03d}.jpg" for n in range(1, 6)]


def test_a_sequence_at_an_odd_size_is_reported_at_the_size_written(capsys, tmp_path, style_png):
    from PIL import Image

    from conftest import write_clip

    clip = write_clip(tmp_path / "a.mp4", n=3, audio=False)  # 64x48
    out = tmp_path / "frames" / "f_%03d.png"
    code, text, err = run_cli(capsys, "convert", clip, "-s", style_png, "--size", "33", "--model", "tiny",
                              "-o", out)
    assert code == 0, err
    w, h = Image.open(out.parent / "f_001.png").size
    assert h == 33  # an odd height, which a video would lose
    assert f"3 frames {w}x{h}" in text


def test_an_existing_sequence_is_kept_unless_overwrite_which_replaces_it_whole(capsys, tmp_path, style_png):
    out = tmp_path / "frames" / "f_%02d.png"
    write_sequence(out.parent, first=1, count=9, name="f_{:02d}.png")
    renders = write_sequence(tmp_path / "renders", first=1, count=4) / "shot_%04d.png"
    code, _, err = run_cli(capsys, "convert", renders, "-s", style_png, "-o", out)
    assert_one_line_error(code, err, "exists (9 files, f_01.png first); pass --overwrite")
    code, _, err = run_cli(capsys, "convert", renders, "-s", style_png, "-o", out, "--skip-existing")
    assert code == 0 and "skipping 1 input(s)" in err
    assert int(np.asarray(Image.open(out.parent / "f_01.png"))[0, 0, 0]) == 5  # untouched
    code, _, err = run_cli(capsys, "convert", renders, "-s", style_png, "-o", out, "--overwrite")
    assert code == 0, err
    assert sorted(p.name for p in out.parent.iterdir()) == ["f_01.png", "f_02.png", "f_03.png", "f_04.png"]
    code, _, err = run_cli(capsys, "convert", renders, "-s", style_png, "-o", out, "--overwrite",
                           "--crf", "20")
    assert_one_line_error(code, err, "--codec, --crf and --preset are for video outputs")


def test_a_failed_or_stopped_sequence_leaves_no_frames(tmp_path, monkeypatch):
    import cv2

    from vidstyle import sequence_sink
    from vidstyle.sequence_sink import ImageSequenceSink

    frame = np.zeros((16, 16, 3), np.uint8)
    sink = ImageSequenceSink(tmp_path / "a_%03d.png")
    for i in range(3):
        sink.write(frame, i)
    sink.abort()  # Ctrl-C
    assert list(tmp_path.iterdir()) == []
    calls, imwrite = [], cv2.imwrite

    def full_disk(path, image, params):
        calls.append(path)
        return len(calls) < 3 and imwrite(path, image, params)

    monkeypatch.setattr(sequence_sink.cv2, "imwrite", full_disk)
    sink = ImageSequenceSink(tmp_path / "b_%03d.png")
    with pytest.raises(VidstyleError, match="writing b_003.png failed"):
        for i in range(5):
            sink.write(frame, i)
        sink.close()
    sink.abort()
    assert list(tmp_path.iterdir()) == []


def test_a_sequence_another_run_made_meanwhile_is_kept_and_said_to_be_taken(tmp_path):
    from vidstyle.outputs import OutputTaken
    from vidstyle.sequence_sink import ImageSequenceSink

    sink = ImageSequenceSink(tmp_path / "a_%03d.png")
    for i in range(2):
        sink.write(np.zeros((16, 16, 3), np.uint8), i)
    Image.fromarray(np.full((16, 16, 3), 9, np.uint8)).save(tmp_path / "a_001.png")  # (the other run's)
    with pytest.raises(OutputTaken, match="appeared while this run was writing it"):  # (skip-existing skips)
        sink.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_001.png"]
    assert np.asarray(Image.open(tmp_path / "a_001.png")).max() == 9


def test_numbered_frames_of_a_type_not_written_are_named_as_such(capsys, tmp_path):
    """-o f_%04d.exr was answered as a video file that cannot hold H.264."""
    from vidstyle.cli.main import main

    clip = write_clip(tmp_path / "clip.mp4", n=2, audio=False)
    style = tmp_path / "style.png"
    Image.fromarray(np.full((40, 40, 3), 90, np.uint8)).save(style)
    code = main(["convert", str(clip), "-s", str(style), "-o", str(tmp_path / "f_%04d.exr")])
    err = capsys.readouterr().err
    assert code == 1 and "writes image sequences as .png" in err and "not .exr" in err
