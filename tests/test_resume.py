"""A conversion stopped part way keeps its part; the same conversion goes on from there."""
import json
import os
import signal
import time
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from conftest import LANGUAGES, write_clip, write_grey_levels, write_lagged_clip
from vidstyle.bench import random_target
from vidstyle.cli.main import main
from vidstyle.errors import VidstyleError
from vidstyle.pipeline import convert_video
from vidstyle.resume import StoppedPart, join_parts, plan_resume, stopped_paths
from vidstyle.sources import Segment

KEY = {"settings": {"alpha": 1.0}}


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    """2 s at 24 FPS with B-frames and AAC sound, keyframes every 8 frames (so a resumed
    run's seek lands inside)."""
    return write_clip(tmp_path_factory.mktemp("resume") / "in.mp4", n=48, keyframe_every=8, bframes=2)


@pytest.fixture(scope="module")
def target(stylizer):
    return random_target(stylizer)


def stop_after(index):
    """convert_video's on_frame: a Ctrl-C once frame `index` is written."""
    def on_frame(i, image):
        if i == index:
            raise KeyboardInterrupt

    return on_frame


def plan(output, key=KEY, **kwargs):
    resumable = plan_resume(output, key, **kwargs)
    resumable.keep_after_s = 0  # keep whatever was made (the default waits a minute)
    return resumable


def convert(clip, out, stylizer, target, **kwargs):
    return convert_video(clip, out, stylizer, target, workers=1, **kwargs)


def stopped(clip, out, stylizer, target, at, **kwargs) -> StoppedPart:
    with pytest.raises(KeyboardInterrupt) as stop:
        convert(clip, out, stylizer, target, on_frame=stop_after(at), resumable=plan(out), **kwargs)
    return stop.value.kept_part


def contents(path):
    """(frame times, frames as float arrays, audio packet (start, size)) of a video file."""
    with av.open(str(path)) as c:
        frames = [(float(f.pts * f.time_base), f.to_ndarray(format="rgb24").astype(np.float32))
                  for f in c.decode(video=0)]
    with av.open(str(path)) as c:
        sound = [(float(p.pts * p.time_base), p.size) for p in c.demux(audio=0) if p.pts is not None] \
            if c.streams.audio else []
    return [t for t, _ in frames], [f for _, f in frames], sound


def assert_same_video(resumed, reference, sound_copied=True):
    times, frames, sound = contents(resumed)
    ref_times, ref_frames, ref_sound = contents(reference)
    assert times == pytest.approx(ref_times, abs=1.5e-3)  # (Matroska counts milliseconds)
    # Encoded in other groups of pictures: the same frames to within the encoder's rounding.
    assert max(np.abs(a - b).mean() for a, b in zip(frames, ref_frames)) < 1.0
    if sound_copied:
        assert [size for _, size in sound] == [size for _, size in ref_sound]  # each packet once
        assert [t for t, _ in sound] == pytest.approx([t for t, _ in ref_sound], abs=1.5e-3)
    else:  # re-encoded in two runs: at the join, less than half a packet twice or missing
        starts = [t for t, _ in sound]
        steps = [b - a for a, b in zip(starts, starts[1:])]
        assert min(steps) > 0.01 and max(steps) < 0.03  # Opus: 20 ms packets
        assert starts[0] == ref_sound[0][0] and starts[-1] == pytest.approx(ref_sound[-1][0], abs=0.04)


def test_a_stop_keeps_the_part_written_and_the_same_conversion_goes_on(tmp_path, long_clip, stylizer,
                                                                      target):
    reference = convert(long_clip, tmp_path / "ref.mp4", stylizer, target)
    out = tmp_path / "out.mp4"
    part = stopped(long_clip, out, stylizer, target, at=20)
    assert part.frames == 21 and part.last_input_s == pytest.approx(20 / 24, abs=1.5e-3)
    assert not out.exists() and part.video.is_file() and part.record.is_file()
    assert len(contents(part.video)[0]) == 21  # a finished file: it plays as it is

    resumable = plan(out)
    assert resumable.previous == part
    report = convert(long_clip, out, stylizer, target, resumable=resumable)
    assert report.frames == 27 and report.resumed == part
    assert_same_video(out, reference.output)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4", "ref.mp4"]


def test_a_resumed_run_stopped_again_keeps_one_part_of_both(tmp_path, long_clip, stylizer, target):
    reference = convert(long_clip, tmp_path / "ref.mp4", stylizer, target)
    out = tmp_path / "out.mp4"
    stopped(long_clip, out, stylizer, target, at=9)
    part = stopped(long_clip, out, stylizer, target, at=14)
    assert part.frames == 25 and len(contents(part.video)[0]) == 25
    convert(long_clip, out, stylizer, target, resumable=plan(out))
    assert_same_video(out, reference.output)


def test_a_stop_as_a_frame_is_handed_to_the_encoder_counts_it_once(tmp_path, long_clip, stylizer, target,
                                                                    monkeypatch):
    from vidstyle.sinks import VideoFileSink

    reference = convert(long_clip, tmp_path / "ref.mp4", stylizer, target)
    out = tmp_path / "out.mp4"
    write, written = VideoFileSink.write, []

    def write_then_ctrl_c(self, image, pts):  # the Ctrl-C arrives the moment frame 10 is queued
        write(self, image, pts)
        written.append(pts)
        if len(written) == 10:  # (sent to the process, as a terminal does: any thread may take it)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)

    monkeypatch.setattr(VideoFileSink, "write", write_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt) as stop:
        convert(long_clip, out, stylizer, target, resumable=plan(out))
    part = stop.value.kept_part
    assert part.frames == 10 and part.last_input_s == pytest.approx(9 / 24, abs=1.5e-3)
    monkeypatch.setattr(VideoFileSink, "write", write)
    convert(long_clip, out, stylizer, target, resumable=plan(out))
    assert_same_video(out, reference.output)  # (frame 9 twice made it 49 frames)


def test_a_second_ctrl_c_while_the_part_is_finished_stops_the_encoder(tmp_path, long_clip, stylizer, target,
                                                                      monkeypatch):
    import threading

    from vidstyle.sinks import VideoFileSink

    def ctrl_c(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(VideoFileSink, "close", ctrl_c)  # the second Ctrl-C, as the part is closed
    out = tmp_path / "out.mp4"
    with pytest.raises(KeyboardInterrupt) as stop:
        convert(long_clip, out, stylizer, target, on_frame=stop_after(5), resumable=plan(out))
    assert getattr(stop.value, "kept_part", None) is None
    for _ in range(50):  # the encoder thread is told to stop, and does
        if not any(t.name == "vidstyle-encode" for t in threading.enumerate()):
            break
        time.sleep(0.05)
    assert not any(t.name == "vidstyle-encode" for t in threading.enumerate())
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_steady_rate_timed_in_milliseconds_stays_on_its_grid_across_a_join(tmp_path, stylizer, target):
    from test_pipeline import write_mkv

    ntsc = Fraction(30000, 1001)  # stored as 33 and 34 ms steps; each part goes back on the grid
    clip = write_mkv(tmp_path / "obs.mkv", ntsc, range(48))
    out = tmp_path / "out.mp4"
    stopped(clip, out, stylizer, target, at=14)
    stopped(clip, out, stylizer, target, at=15)  # (the resumed run stopped again: its part joined too)
    convert(clip, out, stylizer, target, resumable=plan(out))
    with av.open(str(out)) as c:
        times = [f.pts * f.time_base for f in c.decode(video=0)]
        assert c.streams.video[0].average_rate == ntsc
    assert times == [i / ntsc for i in range(48)]


@pytest.mark.parametrize("name,codec", [("out.mkv", "h265"), ("out.webm", "vp9"), ("out.mov", "prores")])
def test_parts_join_in_every_container_and_codec(tmp_path, long_clip, stylizer, target, name, codec):
    reference = convert(long_clip, tmp_path / f"ref{name[3:]}", stylizer, target, codec=codec)
    out = tmp_path / name
    stopped(long_clip, out, stylizer, target, at=17, codec=codec)
    convert(long_clip, out, stylizer, target, resumable=plan(out), codec=codec)
    assert_same_video(out, reference.output, sound_copied=codec != "vp9")  # (WebM: AAC becomes Opus)


def test_a_part_of_the_input_with_fades_goes_on_on_the_whole_outputs_time(tmp_path, long_clip, stylizer,
                                                                         target):
    # Lossless, so that the encoder's look-ahead (a different future in each part) changes nothing.
    cut = dict(segment=Segment(0.25, 1.5), fade_in=0.5, fade_out=0.5, crf=0)
    reference = convert(long_clip, tmp_path / "ref.mp4", stylizer, target, **cut)
    out = tmp_path / "out.mp4"
    part = stopped(long_clip, out, stylizer, target, at=7, **cut)  # inside the fade-in
    assert part.start == 0.25 and part.last_input_s == pytest.approx(0.25 + 7 / 24, abs=1.5e-3)
    convert(long_clip, out, stylizer, target, resumable=plan(out), **cut)
    assert_same_video(out, reference.output)  # (a fade restarted at the join: 88)


def test_a_mask_video_at_half_the_frame_rate_stays_in_step_across_a_stop(tmp_path, long_clip,
                                                                          trained_stylizer):
    """The resumed run starts inside a mask frame that began before the join. (The shipped
    decoder: the random one's frames are too dark for the mask to show.)"""
    stylizer = trained_stylizer
    from vidstyle.controls import Controls, target_source
    from vidstyle.resume import rest_of
    from vidstyle.style_cache import StyleCache

    mask = write_grey_levels(tmp_path / "mask.mp4", [255 * (j % 2) for j in range(24)], 12)
    styles = []
    for i, colour in enumerate([(200, 40, 40), (30, 60, 200)]):
        styles.append(tmp_path / f"s{i}.png")
        noise = np.random.default_rng(i).normal(0, 60, (32, 32, 3))
        Image.fromarray(np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8)).save(styles[-1])
    cache = StyleCache(stylizer.style_stats, tmp_path / "cache")

    def masked(segment=None):
        return target_source(Controls(styles, mask=mask), cache, stylizer.style_stats, segment)

    lossless = dict(crf=0)
    target_for, close = masked()
    reference = convert(long_clip, tmp_path / "ref.mp4", stylizer, target_for, **lossless)
    close()
    out = tmp_path / "out.mp4"
    target_for, close = masked()
    with pytest.raises(KeyboardInterrupt) as stop:  # after frame 20: the join is inside mask frame 10
        convert(long_clip, out, stylizer, target_for, on_frame=stop_after(20), resumable=plan(out), crf=0)
    close()
    resumable = plan(out)
    target_for, close = masked(rest_of(None, stop.value.kept_part))
    convert(long_clip, out, stylizer, target_for, resumable=resumable, **lossless)
    close(finished=True)
    assert_same_video(out, reference.output)


def test_a_part_stopped_after_its_last_frame_is_the_output(tmp_path, long_clip, stylizer, target):
    out = tmp_path / "out.mp4"
    part = stopped(long_clip, out, stylizer, target, at=47)
    assert part.frames == 48
    report = convert(long_clip, out, stylizer, target, resumable=plan(out))
    assert report.frames == 0 and report.resumed == part and (report.width, report.height) == (64, 48)
    assert len(contents(out)[0]) == 48 and sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]
    assert report.subtitles == ""
    # (the summary said nothing of the part's subtitle tracks)
    from test_pipeline import LINES

    clip = write_clip(tmp_path / "in.mkv", n=24, keyframe_every=8, subtitles=LINES)
    stopped(clip, tmp_path / "subs.mkv", stylizer, target, at=23)
    report = convert(clip, tmp_path / "subs.mkv", stylizer, target, resumable=plan(tmp_path / "subs.mkv"))
    assert report.frames == 0 and report.subtitles == "1 subtitle track kept"


def test_a_whole_part_that_cannot_be_put_in_place_is_kept_for_the_next_run(tmp_path, long_clip, stylizer,
                                                                          target, monkeypatch):
    import vidstyle.outputs

    out = tmp_path / "out.mp4"
    part = stopped(long_clip, out, stylizer, target, at=47)
    move = vidstyle.outputs.move_unless_taken

    def not_permitted(tmp, output):  # (an output name another user holds, say)
        raise PermissionError(1, "Operation not permitted", str(output))

    monkeypatch.setattr(vidstyle.outputs, "move_unless_taken", not_permitted)
    with pytest.raises(VidstyleError, match="Operation not permitted"):
        convert(long_clip, out, stylizer, target, resumable=plan(out))
    assert part.video.is_file() and part.record.is_file()  # the stopped run's work is not lost
    monkeypatch.setattr(vidstyle.outputs, "move_unless_taken", move)
    assert convert(long_clip, out, stylizer, target, resumable=plan(out)).resumed == part
    assert len(contents(out)[0]) == 48


def sequence_frames(folder):
    import cv2

    return {p.name: cv2.imread(str(p)).astype(np.float32) for p in sorted(folder.glob("f_*.png"))}



def test_an_image_sequence_keeps_its_frames_and_goes_on_numbering(tmp_path, long_clip, stylizer, target):
    reference = tmp_path / "ref"
    reference.mkdir()
    convert(long_clip, reference / "f_%04d.png", stylizer, target)
    out = tmp_path / "out" / "f_%04d.png"
    part = stopped(long_clip, out, stylizer, target, at=20)
    assert part.frames == 21 and part.video.is_dir() and len(list(part.video.iterdir())) == 21
    assert not list(out.parent.glob("f_*.png"))  # nothing under the output's names yet
    part = stopped(long_clip, out, stylizer, target, at=9)  # stopped again: one folder of both
    assert part.frames == 31 and len(list(part.video.iterdir())) == 31
    report = convert(long_clip, out, stylizer, target, resumable=plan(out))
    assert report.frames == 17 and report.resumed.frames == 31
    made, expected = sequence_frames(out.parent), sequence_frames(reference)
    assert list(made) == list(expected) == [f"f_{i:04d}.png" for i in range(1, 49)]
    assert all(np.abs(made[name] - expected[name]).max() == 0 for name in made)  # PNG: the very same
    assert sorted(p.name for p in out.parent.iterdir()) == list(made)  # no hidden folder or record left


def test_inputs_timed_in_whole_frames_lose_no_frame_at_a_stop(tmp_path, stylizer, target):
    """Image sequences and AVI count time in frames: a part's end must not skip the next one."""
    frames = tmp_path / "in"
    frames.mkdir()
    from PIL import Image

    from conftest import frames_rgb

    for i, image in enumerate(frames_rgb(12, 64, 48), start=1001):
        Image.fromarray(image).save(frames / f"s_{i:04d}.png")
    pattern = frames / "s_%04d.png"
    reference = tmp_path / "ref"
    reference.mkdir()
    convert(pattern, reference / "f_%04d.png", stylizer, target)
    out = tmp_path / "out" / "f_%04d.png"
    stopped(pattern, out, stylizer, target, at=3)
    stopped(pattern, out, stylizer, target, at=2)
    convert(pattern, out, stylizer, target, resumable=plan(out))
    made, expected = sequence_frames(out.parent), sequence_frames(reference)
    assert list(made) == list(expected) == [f"f_{i:04d}.png" for i in range(1001, 1013)]
    assert all(np.abs(made[name] - expected[name]).max() == 0 for name in made)

    avi = write_clip(tmp_path / "in.avi", n=24, audio=False)
    reference = convert(avi, tmp_path / "ref.mp4", stylizer, target)
    stopped(avi, tmp_path / "out.mp4", stylizer, target, at=10)
    convert(avi, tmp_path / "out.mp4", stylizer, target, resumable=plan(tmp_path / "out.mp4"))
    assert_same_video(tmp_path / "out.mp4", reference.output)


@pytest.mark.parametrize("where", ["while converting", "writing the last frame"])
def test_an_error_after_taking_a_sequence_part_on_gives_it_back(tmp_path, long_clip, stylizer, target,
                                                               monkeypatch, where):
    import vidstyle.sequence_sink

    out = tmp_path / "out" / "f_%04d.png"
    stopped(long_clip, out, stylizer, target, at=10)

    def fails(i, image):
        if i == 3:
            raise VidstyleError("the disk is full")

    if where == "writing the last frame":  # (the writer's error comes out of close())
        real = vidstyle.sequence_sink.cv2.imwrite
        monkeypatch.setattr(vidstyle.sequence_sink.cv2, "imwrite",
                            lambda name, *a: not name.endswith("f_0048.png") and real(name, *a))
        fails = None
    with pytest.raises(VidstyleError):
        convert(long_clip, out, stylizer, target, resumable=plan(out), on_frame=fails)
    monkeypatch.undo()
    part = StoppedPart.of_output(out)
    assert part.frames == 11 and part.video.is_dir()  # (frames past the 11th are dropped when taken on)
    convert(long_clip, out, stylizer, target, resumable=plan(out))
    assert len(sequence_frames(out.parent)) == 48


def test_a_sequence_part_stopped_after_its_last_frame_is_the_output(tmp_path, long_clip, stylizer, target):
    out = tmp_path / "out" / "f_%04d.png"
    stopped(long_clip, out, stylizer, target, at=47)
    report = convert(long_clip, out, stylizer, target, resumable=plan(out))
    assert report.frames == 0 and (report.width, report.height) == (64, 48)
    assert len(sequence_frames(out.parent)) == 48 and StoppedPart.of_output(out) is None


def test_a_short_run_stopped_leaves_nothing(tmp_path, long_clip, stylizer, target):
    out = tmp_path / "out.mp4"
    with pytest.raises(KeyboardInterrupt) as stop:
        convert(long_clip, out, stylizer, target, on_frame=stop_after(5), resumable=plan_resume(out, KEY))
    assert not hasattr(stop.value, "kept_part")
    assert list(tmp_path.iterdir()) == []


def test_other_settings_start_over_and_the_stale_part_goes_at_the_end(tmp_path, long_clip, stylizer, target):
    out = tmp_path / "out.mp4"
    stopped(long_clip, out, stylizer, target, at=10)
    other = plan(out, {"settings": {"alpha": 0.5}})
    assert other.previous is None and other.stale is not None
    report = convert(long_clip, out, stylizer, target, resumable=other)
    assert report.frames == 48 and report.resumed is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]
    stopped(long_clip, tmp_path / "again.mp4", stylizer, target, at=10)
    assert plan(tmp_path / "again.mp4", fresh=True).stale is not None  # --no-resume


def test_an_unusable_part_is_removed_by_the_next_result(tmp_path, long_clip, stylizer, target):
    out = tmp_path / "out.mp4"
    assert StoppedPart.of_output(out) is None
    video, record = stopped_paths(out)
    video.write_bytes(b"x")
    record.write_text("{not json")
    assert StoppedPart.of_output(out).key is None
    record.write_text(json.dumps({"version": 0, "frames": 3, "start": 0, "last_input_s": 1, "key": {}}))
    resumable = plan(out)
    assert resumable.previous is None and resumable.stale.key is None  # another version's record
    convert(long_clip, out, stylizer, target, resumable=resumable)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_outputs_differing_in_suffix_keep_parts_of_their_own(tmp_path, long_clip, stylizer, target):
    stopped(long_clip, tmp_path / "x.mp4", stylizer, target, at=9)
    stopped(long_clip, tmp_path / "x.mkv", stylizer, target, at=29)
    assert StoppedPart.of_output(tmp_path / "x.mp4").frames == 10
    assert StoppedPart.of_output(tmp_path / "x.mkv").frames == 30


def test_sound_stored_behind_the_picture_is_all_there_after_a_join(tmp_path, stylizer, target):
    """A file whose sound lies 1.5 s behind the picture of the same time: a part stopped at
    0.9 s has read sound only to about 0.5 s, so the rest must take it from there."""
    from fractions import Fraction

    from conftest import frames_rgb

    clip = tmp_path / "lagged.mkv"
    with av.open(str(clip), "w", options={"max_interleave_delta": "1"}) as f:
        video = f.add_stream("libx264", rate=24)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        video.options = {"preset": "ultrafast", "bf": "2", "g": "8"}
        sound = f.add_stream("aac", rate=22050)
        sound.layout = "mono"
        tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(3 * 22050) / 22050)).astype(np.float32)
        packets = []
        for s in range(0, len(tone) - 1023, 1024):
            frame = av.AudioFrame.from_ndarray(tone[None, s:s + 1024], format="fltp", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = 22050, s, Fraction(1, 22050)
            packets += sound.encode(frame)
        packets += sound.encode(None)
        for i, image in enumerate(frames_rgb(72, 64, 48)):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = i * 1000 // 24, Fraction(1, 1000)
            f.mux(video.encode(frame))
            while packets and float(packets[0].pts * packets[0].time_base) <= i / 24 - 1.5:
                f.mux(packets.pop(0))
        f.mux(video.encode(None))
        for packet in packets:
            f.mux(packet)
    reference = convert(clip, tmp_path / "ref.mp4", stylizer, target)
    out = tmp_path / "out.mp4"
    stopped(clip, out, stylizer, target, at=21)
    convert(clip, out, stylizer, target, resumable=plan(out))
    assert_same_video(out, reference.output)


def test_every_audio_track_goes_on_after_a_stop_with_its_language(tmp_path, stylizer, target):
    clip = write_clip(tmp_path / "in.mkv", n=48, keyframe_every=8, bframes=2, audio_tracks=2)
    reference = convert(clip, tmp_path / "ref.mkv", stylizer, target)
    out = tmp_path / "out.mkv"
    stopped(clip, out, stylizer, target, at=20)
    report = convert(clip, out, stylizer, target, resumable=plan(out))
    assert report.audio == "copied (2 tracks)"
    assert_same_video(out, reference.output)

    def tracks(path):
        """Per audio track: its language and its packets' (start, size)."""
        with av.open(str(path)) as c:
            languages = [s.metadata.get("language") for s in c.streams.audio]
        packets = []
        for k in range(len(languages)):
            with av.open(str(path)) as c:
                packets.append([(round(float(p.pts * p.time_base), 3), p.size) for p in c.demux(audio=k)
                                if p.pts is not None])
        return languages, packets

    assert tracks(out) == tracks(reference.output)  # each packet of each track once, in its place
    assert tracks(out)[0] == list(LANGUAGES[:2])


def test_a_track_stored_behind_the_others_loses_no_sound_across_a_stop(tmp_path, stylizer, target):
    """The rest's sound began where the first track's ended: a second track stored 1.5 s
    behind it lost 1.5 s at the join (34 of 65 packets)."""
    clip = write_lagged_clip(tmp_path / "lagged.mkv", (0.0, 1.5), {"preset": "ultrafast", "bf": "2", "g": "8"},
                             ms_times=True)
    reference = convert(clip, tmp_path / "ref.mkv", stylizer, target)
    out = tmp_path / "out.mkv"
    stopped(clip, out, stylizer, target, at=21)
    convert(clip, out, stylizer, target, resumable=plan(out))
    for k in (0, 1):
        with av.open(str(out)) as a, av.open(str(reference.output)) as b:
            got, want = ([(round(float(p.pts * p.time_base), 3), p.size) for p in c.demux(audio=k)
                          if p.pts is not None] for c in (a, b))
        assert got == want, k


def test_a_part_stopped_by_the_one_track_version_is_started_over(tmp_path, long_clip, stylizer, target):
    """Joined to one, the second and later tracks lacked all their sound before the stop."""
    out = tmp_path / "out.mp4"
    part = stopped(long_clip, out, stylizer, target, at=20)
    data = json.loads(part.record.read_text())
    part.record.write_text(json.dumps({**data, "version": 1}))
    resumable = plan(out)
    assert resumable.previous is None
    report = convert(long_clip, out, stylizer, target, resumable=resumable)
    assert report.frames == 48 and not part.video.exists() and not part.record.exists()


def test_subtitles_go_on_after_a_stop(tmp_path, stylizer, target):
    from test_pipeline import LINES, subtitle_lines

    clip = write_clip(tmp_path / "in.mkv", n=48, keyframe_every=8, subtitles=LINES)
    out = tmp_path / "out.mkv"
    stopped(clip, out, stylizer, target, at=20)  # (0.83 s: "World" is in the rest)
    report = convert(clip, out, stylizer, target, resumable=plan(out))
    assert report.frames == 27
    assert subtitle_lines(out) == [("fra", [(0.1, "Hello"), (1.0, "World")])]


def test_subtitles_converted_to_mp4_text_go_on_after_a_stop_without_doubled_gaps(tmp_path, stylizer, target):
    """MP4 writes an empty sample between lines itself: the join copied each part's too,
    and the rest's first one (from its start to its first line) came after the first part's
    lines, clearing the screen at once."""
    from test_pipeline import LINES, subtitle_lines

    from vidstyle.subtitle_tracks import can_convert_text

    if not can_convert_text():
        pytest.skip("this PyAV cannot encode subtitles")
    lines = LINES + [(1.6, 1.9, "Again")]
    clip = write_clip(tmp_path / "in.mkv", n=48, keyframe_every=8, subtitles=lines)
    out = tmp_path / "out.mp4"
    stopped(clip, out, stylizer, target, at=20)  # (0.83 s: "World" and "Again" are in the rest)
    report = convert(clip, out, stylizer, target, resumable=plan(out))
    assert report.frames == 27 and report.subtitles == "1 subtitle track converted to MP4 text"
    assert subtitle_lines(out) == [("fra", [(0.1, "Hello"), (1.0, "World"), (1.6, "Again")])]
    with av.open(str(out)) as c:
        samples = [(round(float(p.pts * p.time_base), 3), round(float(p.duration * p.time_base), 3), p.size)
                   for p in c.demux(subtitles=0) if p.size]
    # each line after the one empty sample from the last line's end (or the start)
    assert samples == [(0.0, 0.1, 2), (0.1, 0.5, 7), (0.6, 0.4, 2), (1.0, 0.5, 7), (1.5, 0.1, 2),
                       (1.6, 0.3, 7)], samples


def test_mp4_text_comes_once_across_a_stop_each_ass_event_with_its_own_number(tmp_path, stylizer, target):
    """Each part's ASS converter numbered its events from 0: the join took the rest's copy of a
    line demuxed ahead of the stop for another line, and players (libass) show only one event
    of each number. (Converted lines are numbered by their time now.)"""
    from test_pipeline import subtitle_lines

    from vidstyle.subtitle_tracks import can_convert_text

    if not can_convert_text():
        pytest.skip("this PyAV cannot encode subtitles")
    lines = [(0.2, 0.6, "One"), (0.8, 1.2, "Two"), (1.5, 1.9, "Three")]
    mp4 = tmp_path / "in.mp4"  # (its subtitles MP4 text: converted to ASS in Matroska)
    convert(write_clip(tmp_path / "in.mkv", n=48, keyframe_every=8, subtitles=lines), mp4, stylizer, target)
    for at in (5, 20):
        out = tmp_path / f"out{at}.mkv"
        stopped(mp4, out, stylizer, target, at=at)
        report = convert(mp4, out, stylizer, target, resumable=plan(out))
        assert report.subtitles == "1 subtitle track converted to ASS"
        assert [text for _, text in subtitle_lines(out)[0][1]] == ["One", "Two", "Three"], at
        with av.open(str(out)) as c:
            numbers = [int(bytes(p).split(b",")[0]) for p in c.demux(subtitles=0) if p.size]
        assert numbers == sorted(set(numbers)) and len(numbers) == 3, at  # (each its own, in order)
        # Copied into MP4, the rest's copy of a line came a millisecond after the part's (each
        # part rounds its own times), so it was not known again and came twice.
        out = tmp_path / f"out{at}.mp4"
        stopped(mp4, out, stylizer, target, at=at)
        convert(mp4, out, stylizer, target, resumable=plan(out))
        assert [text for _, text in subtitle_lines(out)[0][1]] == ["One", "Two", "Three"], at


def test_a_line_between_the_stop_and_the_end_of_the_parts_sound_is_kept(tmp_path, stylizer, target):
    """The rest took subtitle lines from where the part's sound ends (its sound runs ahead of
    its last frame), so a line between the two was in neither part."""
    from test_pipeline import subtitle_lines

    lines = [(0.2, 0.6, "One"), (0.8, 1.2, "Two"), (1.5, 1.9, "Three")]
    clip = write_clip(tmp_path / "in.mkv", n=60, fps=30, keyframe_every=8, subtitles=lines)
    out = tmp_path / "out.mkv"
    part = stopped(clip, out, stylizer, target, at=5)
    assert part.record.exists()
    data = json.loads(part.record.read_text())
    # (the case: "Two" after the stop, before the part's sound ends)
    assert data["audio_from"] > 0.8 > data["resume_at"]
    convert(clip, out, stylizer, target, resumable=plan(out))
    assert subtitle_lines(out) == [("fra", [(0.2, "One"), (0.8, "Two"), (1.5, "Three")])]


def test_subtitles_demuxed_ahead_of_a_stop_come_once(tmp_path, stylizer, target):
    """Without sound, the part held the lines demuxed ahead of its last frame, and the rest
    took them again from its start: "Three" twice, at 1.5 and 1.501 s."""
    from test_pipeline import subtitle_lines

    lines = [(0.2, 0.6, "One"), (0.8, 1.2, "Two"), (1.5, 1.9, "Three")]
    clip = write_clip(tmp_path / "in.mkv", n=48, keyframe_every=8, audio=False, subtitles=lines)
    for at in (5, 20):
        out = tmp_path / f"out{at}.mkv"
        stopped(clip, out, stylizer, target, at=at)
        convert(clip, out, stylizer, target, resumable=plan(out))
        assert subtitle_lines(out) == [("fra", [(0.2, "One"), (0.8, "Two"), (1.5, "Three")])], at


def test_a_cut_during_a_line_keeps_it_once_across_a_stop(tmp_path, stylizer, target):
    """The cut's first part holds the rest of the line on screen at its start; the part
    after a stop starts during a line too, which the first part holds whole."""
    from test_pipeline import subtitle_lines

    lines = [(0.1, 0.6, "One"), (0.8, 1.5, "Two")]
    clip = write_clip(tmp_path / "in.mkv", n=48, keyframe_every=8, subtitles=lines)
    out = tmp_path / "out.mkv"
    stopped(clip, out, stylizer, target, at=14, segment=Segment(0.3, 1.5))  # (stops at ~0.9 s, in "Two")
    convert(clip, out, stylizer, target, resumable=plan(out), segment=Segment(0.3, 1.5))
    assert subtitle_lines(out) == [("fra", [(0.0, "One"), (0.5, "Two")])]


def test_joining_refuses_parts_of_other_codecs_and_takes_a_part_without_sound(tmp_path):
    from vidstyle.errors import VidstyleError

    a = write_clip(tmp_path / "a.mkv", audio=True)
    with av.open(str(tmp_path / "b.mkv"), "w") as out:  # MPEG-4 part 2, not H.264
        stream = out.add_stream("mpeg4", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(3):
            frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    with pytest.raises(VidstyleError, match="streams differ"):
        join_parts(a, tmp_path / "b.mkv", tmp_path / "j.mkv", 1 / 24)
    silent = write_clip(tmp_path / "c.mkv", audio=False)  # the first part held all the sound
    join_parts(a, silent, tmp_path / "j.mkv", 1 / 24)
    times, _, sound = contents(tmp_path / "j.mkv")
    assert len(times) == 24 and [size for _, size in sound] == [size for _, size in contents(a)[2]]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("signum, exit_code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_the_command_keeps_a_part_at_sigterm_and_goes_on_when_run_again(capsys, clip, style_png, tmp_path,
                                                                        monkeypatch, signum, exit_code):
    """SIGTERM (kill, a service manager), SIGHUP (the terminal closed, an ssh session dropped)."""
    import vidstyle.resume
    from vidstyle.stylizer import Stylizer

    monkeypatch.setattr(vidstyle.resume, "KEEP_AFTER_S", 0.0)
    real, calls = Stylizer.stylize_frames, {"n": 0}

    def killed_at_fourth_batch(self, frames, target, size=None):
        calls["n"] += 1
        if calls["n"] == 4:
            os.kill(os.getpid(), signum)
            time.sleep(5)  # the handler interrupts this
        return real(self, frames, target, size)

    monkeypatch.setattr(Stylizer, "stylize_frames", killed_at_fourth_batch)
    out = tmp_path / "out.mp4"
    args = ("convert", clip, "--style", style_png, "-o", out, "--model", "tiny", "--workers", "1")
    before = signal.signal(signum, signal.SIG_DFL)  # (not ignored, as under nohup)
    try:
        code, _, err = run(capsys, *args)
    finally:
        signal.signal(signum, before)
    assert code == exit_code and "kept what it made so far, 3 frames (0:00.1 of the input)" in err
    assert not out.exists() and StoppedPart.of_output(out).frames == 3

    code, stdout, err = run(capsys, *args, "--alpha", "0.5")  # other settings: starts over
    assert code == 0 and "starting over (--alpha changed)" in err and "12 frames 64x48" in stdout
    assert StoppedPart.of_output(out) is None


def test_a_stop_in_the_first_minute_says_nothing_was_kept(capsys, clip, style_png, tmp_path, monkeypatch):
    from vidstyle.stylizer import Stylizer

    real, calls = Stylizer.stylize_frames, {"n": 0}

    def ctrl_c_at_fourth_batch(self, frames, target, size=None):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(self, frames, target, size)

    monkeypatch.setattr(Stylizer, "stylize_frames", ctrl_c_at_fourth_batch)
    out = tmp_path / "out.mp4"
    code, _, err = run(capsys, "convert", clip, "--style", style_png, "-o", out, "--model", "tiny",
                       "--workers", "1")
    assert code == 130
    assert err.splitlines() == ["vidstyle: error: interrupted: out.mp4 stopped within its first minute, so "
                                "nothing was kept (a later stop keeps what was made, for the same command "
                                "to go on from)"]
    assert not out.exists() and StoppedPart.of_output(out) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "style.png"]  # no partial file


def test_the_command_goes_on_from_a_part_made_the_same_way(capsys, clip, style_png, tmp_path, monkeypatch):
    import vidstyle.resume

    monkeypatch.setattr(vidstyle.resume, "KEEP_AFTER_S", 0.0)
    monkeypatch.setattr("vidstyle.cli.convert.shows_frames", lambda preview, name: stop_after(4))
    out = tmp_path / "out.mp4"
    args = ("convert", clip, "--style", style_png, "-o", out, "--model", "tiny")
    code, _, err = run(capsys, *args)
    assert code == 130 and "goes on from there" in err and "error" not in err  # a stop, not a failure
    monkeypatch.undo()
    code, stdout, err = run(capsys, *args)
    assert code == 0, err
    assert "going on from the stopped run, which made 5 frames" in err
    assert "12 frames (5 from the stopped run)" in stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "out.mp4", "style.png"]
    with av.open(str(out)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 12

    assert run(capsys, *args[:-2], "-o", tmp_path / "b.mp4")[0] == 0  # (no part: nothing said)


def test_the_key_holds_what_changes_the_output_and_nothing_else(tmp_path, clip, style_png):
    from vidstyle.cli.main import build_parser
    from vidstyle.cli.resume_key import resume_key, what_changed
    from vidstyle.sources import Segment

    def key(*extra, segment=None, model="lite abc", style=style_png):
        argv = ["convert", str(clip), "--style", str(style), "-o", str(tmp_path / "o.mp4"), *extra]
        return resume_key(build_parser().parse_args(argv), clip, segment, model)

    old = key()
    style_png.write_bytes(style_png.read_bytes())  # the same content, touched: still the same
    assert key("--workers", "1", "--batch", "4", "--compile", "--device", "cpu", "--overwrite") == old
    copy = tmp_path / "copy.png"
    copy.write_bytes(style_png.read_bytes())
    assert key(style=copy) == old  # a style by its content, not its name
    assert what_changed(old, key("--steady", "0.5")) == "--steady changed"
    assert what_changed(old, key(model="full def")) == "the model or its weights changed"
    assert what_changed(old, key(segment=Segment(1.0))) == "--start/--end/--duration changed"
    cues = tmp_path / "cues.txt"
    cues.write_text("0:01 copy.png\n")
    with_cues = key("--cues", str(cues))
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(copy)  # the cued image is another now
    assert what_changed(with_cues, key("--cues", str(cues))) == "--cues changed"
    clip.write_bytes(clip.read_bytes() + b"\0")
    assert what_changed(old, key()) == "the input changed"
    assert what_changed(None, old) == "its record cannot be read"


def test_a_resumed_runs_progress_counts_the_whole_output():
    from vidstyle.cli.convert import counting_from

    seen = []
    on_progress = counting_from(30, lambda done, total, fps: seen.append((done, total, fps)))
    on_progress(5, 18, 2.0)
    on_progress(6, 0, 2.0)  # (no count known: none)
    assert seen == [(35, 48, 2.0), (36, 0, 2.0)]


def test_a_stop_in_a_batch_reports_the_files_finished_before_it(capsys, clip, style_png, tmp_path,
                                                                monkeypatch):
    import shutil

    import vidstyle.resume

    monkeypatch.setattr(vidstyle.resume, "KEEP_AFTER_S", 0.0)
    monkeypatch.setattr("vidstyle.cli.convert.shows_frames",
                        lambda preview, name: stop_after(4) if name == "b.mp4" else None)
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("a.mp4", "b.mp4", "c.mp4"):
        shutil.copy(clip, inputs / name)
    (inputs / "0.mp4").write_bytes(b"not a video")
    code, stdout, err = run(capsys, "convert", inputs, "--style", style_png, "-o", tmp_path / "out",
                            "--model", "tiny")
    assert code == 130 and "b.mp4: stopped; kept what it made so far, 5 frames" in err
    assert "1 file(s) failed before the stop" in err
    assert "a.mp4: 12 frames" in stdout and "1 of 4 files converted" in stdout
    made = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert made == [".b.mp4.stopped.json", ".b.mp4.stopped.mp4", "a.mp4"]
