"""Converting part of a video: --start / --duration / --end."""
import argparse

import av
import numpy as np
import pytest
import torch

from conftest import write_clip
from vidstyle.controls import MaskVideo
from vidstyle.errors import VidstyleError
from vidstyle.pipeline import convert_video
from vidstyle.sources import Segment, VideoFileSource
from vidstyle.stylizer import Target

FPS = 24


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    """2 s at 24 FPS with a keyframe every 8 frames, so a seek lands inside the clip."""
    return write_clip(tmp_path_factory.mktemp("seg") / "long.mp4", n=48, fps=FPS, keyframe_every=8)


@pytest.fixture(scope="module")
def target(stylizer) -> Target:
    rng = np.random.default_rng(0)
    return Target(stylizer.style_stats(torch.from_numpy(rng.random((3, 48, 48), dtype=np.float32))))


def all_frames(path):
    with VideoFileSource(path) as source:
        return list(source)


def audio_packets(path):
    with av.open(str(path)) as c:
        return [(float(p.pts * p.time_base), bytes(p)) for p in c.demux(c.streams.audio[0]) if p.size]


@pytest.mark.parametrize("start, duration, first, count", [
    (0.5, 0.5, 12, 12),    # after a keyframe (frame 8): frames 8-11 are decoded and dropped
    (1 / 3, None, 8, 40),  # on a keyframe, to the end
    (0.0, 0.25, 0, 6),     # from the beginning
    (1.9, 5.0, 46, 2),     # runs past the end: what there is
])
def test_a_segment_yields_exactly_its_frames_with_timestamps_from_zero(long_clip, start, duration,
                                                                      first, count):
    every = all_frames(long_clip)
    with VideoFileSource(long_clip, segment=Segment(start, duration)) as source:
        assert source.expected_frames == count
        frames = list(source)
    assert len(frames) == count
    for got, want in zip(frames, every[first:first + count]):
        assert np.array_equal(got.image, want.image)  # the same pictures, not neighbours
        assert got.pts == want.pts - round(start / want.time_base)
    # The shift is rounded to the stream's time base: within one tick.
    assert abs(float(frames[0].pts * frames[0].time_base) - (first / FPS - start)) <= frames[0].time_base


@pytest.fixture(scope="module", params=["mp4", "ts", "mkv"])
def b_frame_clip(request, tmp_path_factory):
    """3 s with B-frames and a keyframe every 12 frames; MPEG-TS seeks by decode time and
    lands past the keyframe asked for, and its timestamps do not start at 0."""
    path = tmp_path_factory.mktemp("bseg") / f"b.{request.param}"
    return write_clip(path, n=72, fps=FPS, keyframe_every=12, bframes=2)


@pytest.mark.parametrize("start", [1 / FPS, 0.5, 11 / FPS, 1.51, 2.9])
def test_segments_of_files_with_b_frames_hold_exactly_their_frames(b_frame_clip, start):
    with av.open(str(b_frame_clip)) as c:  # B-frames: packets come out of display order
        pts = [p.pts for p in c.demux(video=0) if p.pts is not None]
    assert pts != sorted(pts)
    every = all_frames(b_frame_clip)
    origin = float(every[0].pts * every[0].time_base)
    wanted = [f for f in every if start - 1e-6 <= float(f.pts * f.time_base) - origin < start + 0.5 - 1e-6]
    with VideoFileSource(b_frame_clip, segment=Segment(start, 0.5)) as source:
        got = list(source)
    assert len(got) == len(wanted) > 0
    assert all(np.array_equal(g.image, w.image) for g, w in zip(got, wanted))


def test_a_segment_hands_on_each_of_its_audio_packets_once(b_frame_clip):
    """Also where the seek is tried again further back (MPEG-TS): no packet twice."""
    with av.open(str(b_frame_clip)) as c:
        origin = float(c.streams.video[0].start_time * c.streams.video[0].time_base)
    wanted = [(t - origin - 1.51, data) for t, data in audio_packets(b_frame_clip)
              if 1.51 <= t - origin < 2.01]
    got = []
    source = VideoFileSource(b_frame_clip, segment=Segment(1.51, 0.5))
    source.on_audio_packet = lambda p: got.append((float(p.pts * p.time_base), bytes(p)))
    with source:
        assert len(list(source)) == 12
    assert [d for _, d in got] == [d for _, d in wanted] and len(got) > 5
    assert np.allclose([t for t, _ in got], [t for t, _ in wanted], atol=1e-4)


def test_converting_a_segment_cuts_video_and_audio_together(long_clip, tmp_path, stylizer, target):
    out = tmp_path / "part.mp4"
    seen = []
    report = convert_video(long_clip, out, stylizer, target, segment=Segment(0.5, 0.75),
                           on_progress=lambda done, total, fps: seen.append((done, total)))
    assert report.frames == 18 and seen[-1] == (18, 18)
    with av.open(str(out)) as c:
        times = [f.time for f in c.decode(video=0)]
    assert len(times) == 18 and abs(times[0]) < 1e-6 and abs(times[-1] - 17 / FPS) < 1e-6
    kept = audio_packets(out)
    wanted = [(t - 0.5, data) for t, data in audio_packets(long_clip) if 0.5 <= t < 1.25]
    assert [d for _, d in kept] == [d for _, d in wanted] and len(kept) > 5  # copied, not re-encoded
    # MP4 stores a stream's start offset in an edit list in milliseconds: within 1 ms.
    assert np.allclose([t for t, _ in kept], [t for t, _ in wanted], atol=1e-3)
    assert not report.missing_frames and not report.ended_early


def test_a_start_past_the_end_is_an_error_before_anything_is_written(long_clip, tmp_path, stylizer, target):
    out = tmp_path / "never.mp4"
    with pytest.raises(VidstyleError, match="start"):
        convert_video(long_clip, out, stylizer, target, segment=Segment(2.5))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("start, duration", [(-1, None), (0, 0), (1, -2)])
def test_impossible_segments_are_refused(start, duration):
    with pytest.raises(VidstyleError):
        Segment(start, duration)


def test_a_mask_video_follows_the_same_part_of_its_file(long_clip):
    every = all_frames(long_clip)
    masks = MaskVideo(long_clip, Segment(0.5, 0.25))
    try:
        got = masks.next_masks(6)
    finally:
        masks.close()
    want = torch.stack([torch.from_numpy(f.image).float().mean(-1) / 255 for f in every[12:18]])[:, None]
    assert torch.equal(got, want)


def test_time_values_take_seconds_and_clock_times():
    from vidstyle.cli.common import time_value

    assert time_value("90") == 90 and time_value("2.5") == 2.5
    assert time_value("1:30") == 90 and time_value("1:02:03.5") == 3723.5
    for bad in ("", "1:75", "1.5:10", "-3", "a", "1:2:3:4", "1::2", "inf"):
        with pytest.raises(argparse.ArgumentTypeError):
            time_value(bad)


def test_cli_converts_the_part_asked_for(capsys, long_clip, style_png, tmp_path):
    from vidstyle.cli.main import main

    out = tmp_path / "part.mp4"
    code = main(["convert", str(long_clip), "-s", str(style_png), "--start", "0:00.5", "--end", "1",
                 "-o", str(out)])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert "12 frames" in stdout
    with av.open(str(out)) as c:
        assert c.streams.video[0].frames == 12


@pytest.mark.parametrize("options, fragment", [
    (["--start", "2", "--end", "1"], "must be after --start"),
    (["--start", "9"], "not before its end"),
])
def test_cli_refuses_an_impossible_part_in_one_line(capsys, monkeypatch, long_clip, style_png, tmp_path,
                                                    options, fragment):
    import vidstyle.cli.convert
    from vidstyle.cli.main import main

    def no_model(args):
        raise AssertionError("the model loaded before the part was checked")

    monkeypatch.setattr(vidstyle.cli.convert, "build_stylizer", no_model)

    code = main(["convert", str(long_clip), "-s", str(style_png), *options, "-o", str(tmp_path / "o.mp4")])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code != 0 and len(lines) == 1 and fragment in lines[0], err
    assert not (tmp_path / "o.mp4").exists()
