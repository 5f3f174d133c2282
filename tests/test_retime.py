"""MPEG-TS files joined end to end: their clock restarts at each join (vidstyle.retime)."""
from fractions import Fraction
from types import SimpleNamespace

import av
import numpy as np
import pytest
import torch

from conftest import write_clip
from vidstyle.pipeline import convert_video
from vidstyle.retime import Retimer
from vidstyle.sources import VideoFileSource
from vidstyle.stylizer import Target

FPS = 24
N = 12
TB = Fraction(1, 90000)


def packet(stream: int, ts: int, duration: int = 3750):
    return SimpleNamespace(pts=ts, dts=ts, duration=duration, time_base=TB,
                           stream=SimpleNamespace(index=stream))


def test_a_steady_clock_is_left_alone():
    retimer = Retimer()
    packets = [packet(0, 126000 + i * 3750) for i in range(20)]
    for p in packets:
        retimer.fix(p)
    assert [p.pts for p in packets] == [126000 + i * 3750 for i in range(20)]
    assert retimer.jumps == 0


def test_a_restarted_clock_goes_on_from_where_the_last_part_ended_for_every_stream():
    retimer = Retimer()
    first = [packet(0, 126000 + i * 3750) for i in range(10)]  # 1.4 s on, 10 frames
    for p in first:
        retimer.fix(p)
    audio = packet(1, 126000 + 9 * 3750, duration=1920)
    retimer.fix(audio)
    again = [packet(0, 126000 + i * 3750) for i in range(3)]  # the next part starts at 1.4 s again
    late_audio = packet(1, 126000)
    retimer.fix(again[0])
    retimer.fix(late_audio)
    for p in again[1:]:
        retimer.fix(p)
    assert retimer.jumps == 1
    assert [p.pts for p in again] == [126000 + i * 3750 for i in range(10, 13)]
    assert late_audio.pts == again[0].pts  # one offset for all streams: the part keeps its sync


def test_a_late_packet_of_the_last_part_keeps_its_place_after_the_next_part_began():
    # MPEG-TS demuxing can hand on the next part's first audio before this part's last frame.
    retimer = Retimer()
    for i in range(4):
        retimer.fix(packet(0, i * 3750))
        retimer.fix(packet(1, i * 3750))
    retimer.fix(new_audio := packet(1, 0))
    retimer.fix(late_video := packet(0, 4 * 3750))
    retimer.fix(new_video := packet(0, 0))
    assert retimer.jumps == 1
    assert late_video.pts == 4 * 3750  # still the first part's
    assert new_audio.pts == 4 * 3750  # after what was shown so far
    # The video cannot start at the audio's place without going back in time: it alone is
    # moved on by that much (a frame of sync lost), never backwards.
    assert new_video.pts == 5 * 3750



def test_a_forward_jump_of_more_than_ten_seconds_is_closed_but_a_shorter_gap_kept():
    retimer = Retimer()
    a, gap, far = packet(0, 0), packet(0, 3750 + 90000 * 5), packet(0, 3750 + 90000 * 5 + 90000 * 60)
    for p in (a, gap, far):
        retimer.fix(p)
    assert gap.pts == 3750 + 90000 * 5  # a pause in the recording stays a pause
    assert far.pts == gap.pts + 3750 and retimer.jumps == 1


def test_after_a_reset_the_timeline_starts_over():
    retimer = Retimer()
    for ts in (90000, 93750, 0):
        retimer.fix(last := packet(0, ts))
    assert retimer.jumps == 1 and last.pts == 97500
    retimer.reset()
    retimer.fix(p := packet(0, 0))
    assert p.pts == 0


@pytest.fixture(scope="module", params=[0, 2], ids=["no-b-frames", "b-frames"])
def joined(tmp_path_factory, request):
    """Two MPEG-TS clips with audio joined byte for byte, as `cat a.ts b.ts > joined.ts` does
    (with B-frames too: their decode times run ahead of what they show)."""
    folder = tmp_path_factory.mktemp("ts")
    part = write_clip(folder / "part.ts", n=N, fps=FPS, bframes=request.param)
    path = folder / "joined.ts"
    path.write_bytes(part.read_bytes() * 2)
    return part, path


def frame_times(path):
    with VideoFileSource(path) as source:
        audio = []
        source.on_audio_packet = lambda p: audio.append(float(p.pts * p.time_base))
        frames = list(source)
        restarts = source.clock_restarts
    return [float(f.pts * f.time_base) for f in frames], audio, restarts


def test_the_parts_of_a_joined_file_play_one_after_another(joined):
    part, path = joined
    one, one_audio, restarts = frame_times(part)
    assert restarts == 0 and len(one) == N
    with av.open(str(part)) as c:  # a single part keeps its own timestamps, moved back to start at 0
        start = c.streams.video[0].start_time
        assert start > 0 and one == [float((f.pts - start) * f.time_base) for f in c.decode(video=0)]
    times, audio, restarts = frame_times(path)
    assert restarts == 1 and len(times) == 2 * N
    assert np.allclose(times[:N], one)
    # The second part follows the first, with at most a few ms of gap at the join...
    shift = times[N] - one[0]
    assert np.allclose(times[N:], np.array(one) + shift, atol=1e-4)
    assert 1 / FPS - 1e-4 <= times[N] - times[N - 1] < 1 / FPS + 0.02
    # ... and its sound moves with its pictures: the same shift, so they stay in sync
    # (within the few ms its sound may be moved on where it overlapped the last part's).
    assert len(audio) == 2 * len(one_audio) and all(np.diff(audio) > 0)
    assert np.allclose(audio[len(one_audio):], np.array(one_audio) + shift, atol=0.015)


def test_converting_a_joined_file_keeps_every_frame_and_the_sound(joined, tmp_path, stylizer):
    _, path = joined
    target = Target(stylizer.style_stats(torch.rand(3, 32, 32)))
    out = tmp_path / "out.mp4"
    report = convert_video(path, out, stylizer, target)
    assert report.frames == 2 * N and report.clock_restarts == 1 and report.audio == "copied"
    with av.open(str(out)) as c:
        times = [f.time for f in c.decode(video=0)]
        assert len(times) == 2 * N and all(1 / FPS - 1e-3 < d < 1 / FPS + 0.02 for d in np.diff(times))
    with av.open(str(out)) as c:
        audio_end = max(float((p.pts + p.duration) * p.time_base) for p in c.demux(audio=0) if p.size)
    assert abs(audio_end - 2 * N / FPS) < 0.15


def test_cli_says_the_input_was_joined(capsys, joined, style_png, tmp_path):
    from vidstyle.cli.main import main

    _, path = joined
    code = main(["convert", str(path), "-s", str(style_png), "--model", "tiny",
                 "-o", str(tmp_path / "o.mp4")])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert f"{2 * N} frames" in stdout and "from 2 parts joined end to end" in stdout


def test_a_part_of_a_joined_file_is_cut_from_its_one_timeline(joined):
    from vidstyle.sources import Segment

    _, path = joined
    with VideoFileSource(path) as source:
        every = list(source)
        assert abs(source.video_seconds() - 2 * N / FPS) < 1e-3  # both parts (a fade-out's end)
    start = (N + 3) / FPS  # in the second part, past the one part's duration FFmpeg lists
    with VideoFileSource(path, segment=Segment(start, 6 / FPS)) as source:
        assert abs(source.info.duration - 2 * N / FPS) < 1e-3
        part = list(source)
    assert len(part) == 6
    assert all(np.array_equal(a.image, b.image) for a, b in zip(part, every[N + 3:]))
    # the cut starts at 0, but for the few ms the join may leave where the sound ran longer
    assert 0 <= float(part[0].pts * part[0].time_base) < 0.02


def test_a_fade_out_on_a_joined_file_ends_on_its_last_part(joined, tmp_path, stylizer):
    _, path = joined
    target = Target(stylizer.style_stats(torch.rand(3, 32, 32)))
    plain = tmp_path / "plain.mp4"
    faded = tmp_path / "faded.mp4"
    convert_video(path, plain, stylizer, target)
    convert_video(path, faded, stylizer, target, fade_out=4 / FPS)

    def frames(p):
        with av.open(str(p)) as c:
            return [f.to_ndarray(format="rgb24").astype(int) for f in c.decode(video=0)]

    same = [np.abs(a - b).mean() < 1 for a, b in zip(frames(plain), frames(faded))]
    assert same[:2 * N - 5] == [True] * (2 * N - 5) and not any(same[-3:])  # only the last frames fade
