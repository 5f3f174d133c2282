"""Output codecs: H.264 (default), H.265, ProRes and VP9 (default for .webm), and the early refusals."""
import av
import numpy as np
import pytest

from conftest import write_clip
from test_cli import assert_one_line_error, run
from vidstyle.bench import random_target
from vidstyle.errors import VidstyleError
from vidstyle.pipeline import convert_video
from vidstyle.sinks import check_container, check_encoding


def decoded(path):
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        info = (v.codec_context.name, v.codec_context.pix_fmt, v.codec_tag, len(c.streams.audio))
        frames = [f.to_ndarray(format="rgb24").astype(np.int16) for f in c.decode(video=0)]
    return info, frames


@pytest.mark.parametrize("codec, suffix, expected, audio_as", [
    ("h265", ".mp4", ("hevc", "yuv420p", "hvc1"), "copied"),
    ("h265", ".mkv", ("hevc", "yuv420p", None), "copied"),
    ("prores", ".mov", ("prores", "yuv422p10le", "apch"), "copied"),
    ("vp9", ".webm", ("vp9", "yuv420p", None), "re-encoded to Opus"),  # WebM holds no AAC
])
def test_each_codec_keeps_every_frame_the_audio_and_the_picture(tmp_path, trained_stylizer, codec, suffix,
                                                                expected, audio_as, capfd):
    clip = write_clip(tmp_path / "clip.mp4", n=10)
    stylizer = trained_stylizer  # real pictures: a random decoder's are near black
    target = random_target(stylizer)
    crf = None if codec == "prores" else 8  # near lossless: what is left is the conversions' error
    report = convert_video(clip, tmp_path / f"out{suffix}", stylizer, target, codec=codec, crf=crf)
    (name, pix_fmt, tag, audio), frames = decoded(tmp_path / f"out{suffix}")
    assert (name, pix_fmt) == expected[:2] and (expected[2] is None or tag == expected[2])
    assert report.frames == len(frames) == 10 and audio == 1
    assert report.audio == audio_as
    # What the model made of the input's frames, in memory: a colour matrix or range
    # mistake on the way to the file (or back) would show here.
    _, inputs = decoded(clip)
    expected_frames = stylizer.stylize_frames(np.stack(inputs).astype(np.uint8), target).astype(np.int16)
    diff = np.abs(np.stack(frames) - expected_frames).mean()
    assert diff < 4, diff  # 10 with the output's range mixed up
    assert "x265 [info]" not in capfd.readouterr().err  # libx265 is told to keep quiet


def test_settings_a_codec_does_not_have_and_containers_that_cannot_hold_it(tmp_path):
    with pytest.raises(VidstyleError, match="ProRes has no crf or preset"):
        check_encoding(20, None, "prores")
    with pytest.raises(VidstyleError, match="ProRes has no crf or preset"):
        check_encoding(None, "fast", "prores")
    with pytest.raises(VidstyleError, match="unknown codec"):
        check_encoding(None, None, "av1")
    check_encoding(None, None, "h265")
    check_encoding(63, "ultrafast", "vp9")  # VP9's crf scale goes to 63
    with pytest.raises(VidstyleError, match="crf must be between 0 and 51 for H.264, got 63"):
        check_encoding(63, None, "h264")
    for suffix in (".mp4", ".mov"):
        with pytest.raises(VidstyleError, match=r"VP9 goes in \.webm or \.mkv files"):
            check_container(tmp_path / f"o{suffix}", "vp9")
    check_container(tmp_path / "o.webm", "vp9")
    with pytest.raises(VidstyleError, match=r"ProRes goes in \.mov or \.mkv files, not \.mp4"):
        check_container(tmp_path / "o.mp4", "prores")
    for suffix in (".webm", ".mxf", ".mpg"):  # refused by the muxer, or accepted and broken later
        with pytest.raises(VidstyleError, match=r"H\.265 goes in \.mp4, \.mkv or \.mov"):
            check_container(tmp_path / f"o{suffix}", "h265")
    with pytest.raises(VidstyleError, match=r"a \.webm file cannot hold H\.264 video"):
        check_container(tmp_path / "o.webm", "h264")
    check_container(tmp_path / "o.MKV", "h265")
    check_container(tmp_path / "o.mov", "prores")
    assert list(tmp_path.iterdir()) == []  # checking writes nothing
    existing = tmp_path / "kept.mp4"
    existing.write_bytes(b"someone's video")
    check_container(existing, "h264")
    assert existing.read_bytes() == b"someone's video"  # not even to a file that exists


def test_cli_refuses_a_codec_mismatch_before_the_model_loads(capsys, clip, style_png, tmp_path, monkeypatch):
    import vidstyle.stylizer

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded before the output was checked")

    monkeypatch.setattr(vidstyle.stylizer, "load_stylizer", no_model)
    cases = [
        (("--codec", "prores", "-o", tmp_path / "o.mp4"), ("ProRes goes in .mov or .mkv",)),
        (("--codec", "prores", "--crf", 10, "-o", tmp_path / "o.mov"), ("no crf or preset",)),
        (("--crf", 60, "-o", tmp_path / "o.mp4"), ("crf must be between 0",)),
        (("-o", tmp_path / "o.apng"), ("cannot hold H.264",)),
        (("--codec", "h264", "-o", tmp_path / "o.webm"), ("a .webm file cannot hold H.264",)),
        (("--codec", "vp9", "-o", tmp_path / "o.mp4"), ("VP9 goes in .webm or .mkv",)),
        (("--crf", 64, "-o", tmp_path / "o.webm"), ("crf must be between 0 and 63 for VP9",)),
    ]
    for extra, fragments in cases:
        code, _, err = run(capsys, "convert", clip, "-s", style_png, *extra)
        assert_one_line_error(code, err, *fragments)


def test_a_folder_of_prores_outputs_is_mov(capsys, tmp_path, style_png):
    clips = tmp_path / "clips"
    clips.mkdir()
    for name in ("a", "b"):
        write_clip(clips / f"{name}.mp4", n=3, w=32, h=32)
    code, out, err = run(capsys, "convert", clips, "-s", style_png, "--model", "tiny", "--codec", "prores",
                         "-o", tmp_path / "out")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.mov", "b.mov"]


def test_a_webm_output_is_vp9_with_opus_audio_unless_told_otherwise(capsys, clip, style_png, tmp_path,
                                                                   caplog):
    code, out, err = run(capsys, "convert", clip, "-s", style_png, "--model", "tiny",
                         "-o", tmp_path / "o.webm")
    assert code == 0, err
    assert "12 frames" in out and "audio re-encoded to Opus" in out
    assert not [r for r in caplog.records if r.levelname == "WARNING"]  # (what a .webm is: not warned of)
    with av.open(str(tmp_path / "o.webm")) as c:
        assert c.streams.video[0].codec_context.name == "vp9"
        assert c.streams.audio[0].codec_context.name == "opus"
        assert len([f for f in c.decode(video=0)]) == 12
    with av.open(str(tmp_path / "o.webm")) as c:
        audio_seconds = sum(f.samples for f in c.decode(audio=0)) / 48000
    with av.open(str(clip)) as c:
        input_seconds = sum(f.samples for f in c.decode(audio=0)) / 22050
    assert abs(audio_seconds - input_seconds) < 0.025, (audio_seconds, input_seconds)  # at 48 kHz now


def test_a_folder_of_vp9_outputs_is_webm(capsys, tmp_path, style_png):
    clips = tmp_path / "clips"
    clips.mkdir()
    for name in ("a", "b"):
        write_clip(clips / f"{name}.mp4", n=3, w=32, h=32, audio=False)
    code, out, err = run(capsys, "convert", clips, "-s", style_png, "--model", "tiny", "--codec", "vp9",
                         "-o", tmp_path / "out")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.webm", "b.webm"]
