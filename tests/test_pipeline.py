from fractions import Fraction
from itertools import pairwise

import av
import numpy as np
import pytest
from PIL import Image

from conftest import LANGUAGES, damage_packets, frames_rgb, write_clip, write_lagged_clip
from vidstyle.adain import StyleStats
from vidstyle.errors import VidstyleError
from vidstyle.pipeline import convert_video, output_size
from vidstyle.sources import Segment, VideoFileSource
from vidstyle.stylizer import Target
from vidstyle.subtitle_tracks import can_convert_text
from vidstyle.outputs import partial_path


@pytest.fixture(scope="module")
def target(stylizer) -> Target:
    rng = np.random.default_rng(0)
    import torch

    return Target(stylizer.style_stats(torch.from_numpy(rng.random((3, 48, 48), dtype=np.float32))))


def video_pts(path):
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return [f.pts for f in c.decode(s)], s.time_base, (s.codec_context.width, s.codec_context.height)


def audio_packets(path):
    with av.open(str(path)) as c:
        if not c.streams.audio:
            return []
        return [(p.pts, p.dts, bytes(p)) for p in c.demux(c.streams.audio[0]) if p.size]


@pytest.mark.parametrize("suffix", [".mp4", ".ts", ".mkv"])
def test_a_file_whose_clock_starts_late_gives_an_output_from_0_in_step(tmp_path, stylizer, target, suffix):
    clip = write_clip(tmp_path / f"late{suffix}", n=12, start_s=100)  # (.ts: at 101.4 s)
    with av.open(str(clip)) as c:
        assert c.streams.video[0].start_time * c.streams.video[0].time_base >= 100
    out = tmp_path / "out.mp4"
    convert_video(clip, out, stylizer, target)
    with av.open(str(out)) as c:  # no 100 s of nothing before the first frame (an empty edit)
        video = [float(f.pts * f.time_base) for f in c.decode(video=0)]
        assert c.duration / 1e6 < 1.0
    with av.open(str(out)) as c:
        sound = [float(p.pts * p.time_base) for p in c.demux(audio=0) if p.size]
    assert len(video) == 12 and video[0] == pytest.approx(0, abs=0.002)
    with VideoFileSource(clip) as source:  # (Matroska lists 100.5 s: from 0 to its end)
        assert source.info.duration == pytest.approx(0.5, abs=0.05)
    assert video[-1] == pytest.approx(11 / 24, abs=0.002)
    assert abs(sound[0]) < 0.05  # the sound moved back as much: still under its picture


def sound_onset(path) -> float:
    """Seconds from the first picture to the first loud sample."""
    with av.open(str(path)) as c:
        first_picture = min(float(f.pts * f.time_base) for f in c.decode(video=0))
    with av.open(str(path)) as c:
        for f in c.decode(audio=0):
            scale = 32767 if f.format.name == "s16" else 1
            x = np.abs(f.to_ndarray().astype(np.float32)).reshape(-1) / scale
            loud = np.nonzero(x > 0.1)[0]
            if len(loud):
                return float(f.pts * f.time_base) + loud[0] / f.sample_rate - first_picture
    raise AssertionError("no sound")


def write_camera_clip(path, sound: np.ndarray, first_frame: int = 0):
    """Two seconds of 25 FPS picture from frame number `first_frame` and 48 kHz mono PCM
    sound (int16 samples) from 0, as a camera records them, in Matroska."""
    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=25)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        a = c.add_stream("pcm_s16le", rate=48000)
        a.layout = "mono"
        for s in range(0, len(sound), 1024):
            f = av.AudioFrame.from_ndarray(sound[None, s:s + 1024], format="s16", layout="mono")
            f.sample_rate, f.pts = 48000, s
            c.mux(a.encode(f))
        c.mux(a.encode(None))
        for i, image in enumerate(frames_rgb(50, 64, 48)):
            f = av.VideoFrame.from_ndarray(image, format="rgb24")
            f.pts, f.time_base = first_frame + i, Fraction(1, 25)
            c.mux(v.encode(f))
        c.mux(v.encode(None))
    return path


@pytest.mark.parametrize("out_name", ["out.mp4", "out.webm"])
def test_sound_that_leads_the_picture_stays_in_step_when_re_encoded(tmp_path, stylizer, target, out_name):
    """A capture whose sound starts 1 s before its first picture, a tone 0.5 s after it:
    camera PCM goes to AAC in MP4, to Opus in WebM, both re-encoded from their own times."""
    t = np.arange(48000 * 3) / 48000
    tone = (np.where(t >= 1.5, 0.5 * np.sin(2 * np.pi * 440 * t), 0) * 32767).astype(np.int16)
    src = write_camera_clip(tmp_path / "lead.mkv", tone, first_frame=25)
    assert sound_onset(src) == pytest.approx(0.5, abs=0.005)
    out = tmp_path / out_name
    report = convert_video(src, out, stylizer, target, codec="vp9" if out_name.endswith(".webm") else "h264")
    assert report.audio.startswith("re-encoded")
    assert sound_onset(out) == pytest.approx(0.5, abs=0.03)  # (it came 1 s late)


@pytest.mark.parametrize("out_name", ["out.mp4", "out.webm"])
def test_re_encoded_sound_from_the_files_start_keeps_its_time(tmp_path, stylizer, target, out_name):
    """Given no times from 0, the encoder's priming samples (AAC's 1,024, Opus's 312) played
    as sound: everything 21 ms (7 ms) late, found by an editor lining a shot up by ear."""
    clicks = np.zeros(48000 * 2, np.int16)
    clicks[24000:24000 + 200] = 30000  # (at 0.5 s)
    src = write_camera_clip(tmp_path / "camera.mkv", clicks)
    out = tmp_path / out_name
    report = convert_video(src, out, stylizer, target, codec="vp9" if out_name.endswith(".webm") else "h264")
    assert report.audio.startswith("re-encoded")
    assert sound_onset(out) == pytest.approx(0.5, abs=0.002)


@pytest.mark.parametrize("batch, workers", [(1, 1), (1, 2), (5, 2)])
def test_every_frame_timestamp_and_audio_packet_survive(clip, tmp_path, stylizer, target, batch, workers):
    out = tmp_path / "out.mp4"
    seen = []
    report = convert_video(clip, out, stylizer, target, batch=batch, workers=workers,
                           on_progress=lambda done, total, fps: seen.append(done))
    in_pts, in_tb, in_size = video_pts(clip)
    out_pts, out_tb, out_size = video_pts(out)
    assert report.frames == len(in_pts) == len(out_pts) == 12
    assert [p * in_tb for p in in_pts] == [p * out_tb for p in out_pts]
    assert out_size == in_size
    assert audio_packets(out) == audio_packets(clip) and len(audio_packets(clip)) > 5
    assert report.audio == "copied"
    assert seen[-1] == 12 and seen == sorted(seen)
    assert not partial_path(out).exists()


def decoded_frames(path) -> np.ndarray:
    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def test_two_workers_write_the_same_frames_in_the_same_order_as_one(clip, tmp_path, trained_stylizer, target):
    outs = {}
    for workers in (1, 2):
        outs[workers] = tmp_path / f"w{workers}.mp4"
        report = convert_video(clip, outs[workers], trained_stylizer, target, workers=workers, crf=0)
        assert report.workers == workers
    one, two = decoded_frames(outs[1]), decoded_frames(outs[2])
    assert one.shape == two.shape and one.shape[0] == 12
    # Frames differ from each other; a worker's thread count may move a pixel by a level or two.
    assert np.abs(one[1:].astype(int) - one[:-1]).mean() > 5
    assert np.abs(one.astype(int) - two).max() <= 3


def test_variable_frame_rate_timestamps_are_kept(tmp_path, stylizer, target):
    clip = write_clip(tmp_path / "vfr.mp4", n=6, audio=False, pts_step=3)
    out = tmp_path / "out.mp4"
    convert_video(clip, out, stylizer, target)
    in_pts, in_tb, _ = video_pts(clip)
    out_pts, out_tb, _ = video_pts(out)
    assert [p * in_tb for p in in_pts] == [p * out_tb for p in out_pts]


def write_mkv(path, rate, ticks):
    """A Matroska clip (timed in whole milliseconds) of frames at `ticks` / `rate` seconds."""
    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=rate)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        for tick, image in zip(ticks, frames_rgb(len(ticks), 64, 48)):
            f = av.VideoFrame.from_ndarray(image, format="rgb24")
            f.pts, f.time_base = tick, 1 / Fraction(rate)
            c.mux(v.encode(f))
        c.mux(v.encode(None))
    return path


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv"])
def test_a_steady_rate_timed_in_milliseconds_comes_out_steady(tmp_path, stylizer, target, suffix):
    ntsc = Fraction(30000, 1001)  # 33.37 ms a frame: stored as 33 and 34 ms steps (OBS records .mkv)
    clip = write_mkv(tmp_path / "obs.mkv", ntsc, range(10))
    with av.open(str(clip)) as c:
        times = [f.pts * f.time_base for f in c.decode(video=0)]
    steps = {round(float(b - a) * 1000) for a, b in pairwise(times)}
    assert steps == {33, 34}
    out = tmp_path / f"out{suffix}"
    convert_video(clip, out, stylizer, target)
    pts, tb, _ = video_pts(out)
    assert [p * tb for p in pts] == pytest.approx([i / ntsc for i in range(10)], abs=1e-3 if suffix == ".mkv"
                                                  else 1e-9)  # (Matroska rounds to ms again)
    if suffix != ".mkv":
        with av.open(str(out)) as c:
            assert c.streams.video[0].average_rate == ntsc


def test_a_59_94_rate_timed_in_milliseconds_comes_out_at_its_standard_rate(tmp_path, stylizer, target):
    rate = Fraction(60000, 1001)  # (FFmpeg guesses it from the milliseconds as 19001/317)
    clip = write_mkv(tmp_path / "sixty.mkv", rate, range(12))
    convert_video(clip, tmp_path / "out.mp4", stylizer, target)
    pts, tb, _ = video_pts(tmp_path / "out.mp4")
    assert [p * tb for p in pts] == [i / rate for i in range(12)]
    with av.open(str(tmp_path / "out.mp4")) as c:
        assert c.streams.video[0].average_rate == rate


def test_a_variable_rate_timed_in_milliseconds_keeps_its_times(tmp_path, stylizer, target):
    ticks = [*range(6), *range(6, 18, 3)]  # at 29.97 FPS, then at a third of it
    clip = write_mkv(tmp_path / "vfr.mkv", Fraction(30000, 1001), ticks)
    with av.open(str(clip)) as c:
        times = [f.pts * f.time_base for f in c.decode(video=0)]
    convert_video(clip, tmp_path / "out.mp4", stylizer, target)
    pts, tb, _ = video_pts(tmp_path / "out.mp4")
    assert [p * tb for p in pts] == pytest.approx(times, abs=1e-3)


def test_a_video_with_transparency_is_said_to_lose_it(tmp_path, stylizer, target, caplog):
    clip = tmp_path / "lower_third.mov"
    with av.open(str(clip), "w") as c:  # PNG frames with an alpha channel, as motion graphics are sent
        v = c.add_stream("png", rate=25)
        v.width, v.height, v.pix_fmt = 32, 32, "rgba"
        for i in range(3):
            f = av.VideoFrame.from_ndarray(np.zeros((32, 32, 4), np.uint8), format="rgba")
            f.pts, f.time_base = i, Fraction(1, 25)
            c.mux(v.encode(f))
        c.mux(v.encode(None))
    assert convert_video(clip, tmp_path / "out.mp4", stylizer, target).frames == 3
    assert "lower_third.mov has transparency, which the output does not keep" in caplog.text
    caplog.clear()
    convert_video(write_clip(tmp_path / "plain.mp4", n=2), tmp_path / "plain_out.mp4", stylizer, target)
    gif = tmp_path / "opaque.gif"  # (FFmpeg decodes every GIF with an alpha channel)
    frames = [Image.fromarray(f) for f in frames_rgb(3, 32, 32)]
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100)
    convert_video(gif, tmp_path / "gif_out.mp4", stylizer, target)
    assert "transparency" not in caplog.text


def test_size_option_resizes_and_odd_sizes_become_even(tmp_path, stylizer, target):
    clip = write_clip(tmp_path / "c.mp4", n=3, w=64, h=48, audio=False)
    out = tmp_path / "small.mp4"
    report = convert_video(clip, out, stylizer, target, size=33)
    assert (report.width, report.height) == output_size(64, 48, 33) == (44, 32)
    assert video_pts(out)[2] == (44, 32)
    assert output_size(65, 49, None) == (64, 48)


def test_existing_output_is_refused_and_kept(clip, tmp_path, stylizer, target):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"precious")
    with pytest.raises(VidstyleError, match="exists"):
        convert_video(clip, out, stylizer, target)
    assert out.read_bytes() == b"precious"
    convert_video(clip, out, stylizer, target, overwrite=True)
    assert len(video_pts(out)[0]) == 12


def test_output_equal_to_input_is_refused(clip, stylizer, target):
    before = clip.read_bytes()
    with pytest.raises(VidstyleError, match="is the input"):
        convert_video(clip, clip, stylizer, target, overwrite=True)
    assert clip.read_bytes() == before


def test_interrupt_leaves_no_file_under_the_final_name(clip, tmp_path, stylizer, target, monkeypatch):
    calls = {"n": 0}
    real = stylizer.stylize_frames

    def flaky(frames, tgt, size=None):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(frames, tgt, size)

    monkeypatch.setattr(stylizer, "stylize_frames", flaky)
    out = tmp_path / "out.mp4"
    with pytest.raises(KeyboardInterrupt):
        convert_video(clip, out, stylizer, target)
    assert not out.exists() and not partial_path(out).exists()
    assert list(tmp_path.iterdir()) == [clip]


def test_video_without_frames_is_an_error(tmp_path, stylizer, target):
    empty = tmp_path / "empty.mp4"
    with av.open(str(empty), "w") as c:
        s = c.add_stream("libx264", rate=24)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
    out = tmp_path / "out.mp4"
    with pytest.raises(VidstyleError):
        convert_video(empty, out, stylizer, target)
    assert not out.exists() and not partial_path(out).exists()


def test_audio_only_file_is_an_error(tmp_path, stylizer, target):
    path = tmp_path / "audio.m4a"
    with av.open(str(path), "w") as c:
        a = c.add_stream("aac", rate=22050)
        a.layout = "mono"
        f = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        f.sample_rate, f.pts = 22050, 0
        c.mux(a.encode(f))
        c.mux(a.encode(None))
    with pytest.raises(VidstyleError, match="no video stream"):
        convert_video(path, tmp_path / "o.mp4", stylizer, target)


def test_style_stats_are_used_not_recomputed(clip, tmp_path, stylizer, target, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("style re-encoded during conversion")

    monkeypatch.setattr(stylizer, "style_stats", boom)
    convert_video(clip, tmp_path / "o.mp4", stylizer, target)


def test_different_styles_give_different_outputs(stylizer):
    import torch

    frames = np.random.default_rng(1).integers(0, 256, (1, 32, 40, 3), dtype=np.uint8)
    a = Target(StyleStats(torch.zeros(512), torch.ones(512)))
    b = Target(StyleStats(torch.ones(512) * 3, torch.ones(512) * 2))
    out_a, out_b = stylizer.stylize_frames(frames, a), stylizer.stylize_frames(frames, b)
    assert out_a.shape == out_b.shape == (1, 32, 40, 3) and out_a.dtype == np.uint8
    assert not np.array_equal(out_a, out_b)


def test_frame_rate_is_kept(clip, tmp_path, stylizer, target):
    out = tmp_path / "o.mp4"
    convert_video(clip, out, stylizer, target)
    with av.open(str(clip)) as a, av.open(str(out)) as b:
        assert a.streams.video[0].average_rate == b.streams.video[0].average_rate == Fraction(24)


def clip_with_audio(path, codec, rate: int, layout: str, titles=()):
    """Six frames of H.264 and a quarter second of `codec` audio (a Matroska file holds any);
    `codec` may be a tuple: a track of each, titled as `titles` says."""
    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=24)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        tracks = [c.add_stream(name, rate=rate) for name in ([codec] if isinstance(codec, str) else codec)]
        for a, title in zip(tracks, titles or [None] * len(tracks)):
            a.layout = layout
            if title:
                a.metadata["title"] = title
        for i in range(6):
            f = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 40 * i, np.uint8), format="rgb24")
            f.pts, f.time_base = i, Fraction(1, 24)
            c.mux(v.encode(f))
        c.mux(v.encode(None))
        for a in tracks:
            resample = av.AudioResampler(format=a.codec_context.codec.audio_formats[0].name, layout=layout,
                                         rate=rate)
            tone = (0.3 * np.sin(np.arange(rate // 4) / 10)).astype(np.float32)[None]
            frame = av.AudioFrame.from_ndarray(tone, format="flt", layout="mono")
            frame.sample_rate = rate
            for resampled in resample.resample(frame) + resample.resample(None):
                resampled.pts = None
                c.mux(a.encode(resampled))
            c.mux(a.encode(None))
    return path


@pytest.mark.parametrize("src_name, out_name", [("in.ts", "out.mkv"), ("in.ts", "out.ts"),
                                                ("in.mp4", "out.ts")])
def test_aac_is_copied_between_mpeg_ts_and_other_containers(tmp_path, stylizer, target, src_name, out_name):
    """MPEG-TS carries AAC framed as ADTS, without setup data of its own (it was re-encoded)."""
    clip = write_clip(tmp_path / src_name, n=12)
    report = convert_video(clip, tmp_path / out_name, stylizer, target)
    assert report.audio == "copied"
    with av.open(str(clip)) as c:
        in_packets = [bytes(p) for p in c.demux(audio=0) if p.size]
    with av.open(str(tmp_path / out_name)) as c:
        assert len([p for p in c.demux(audio=0) if p.size]) == len(in_packets)
    with av.open(str(tmp_path / out_name)) as c:
        assert len(list(c.decode(audio=0))) >= len(in_packets) - 2  # (they decode)


@pytest.mark.parametrize("codec, rate, layout, suffix, copied", [
    ("pcm_u8", 8000, "mono", ".mp4", False),  # not an MP4 codec at all
    ("pcm_s16le", 8000, "stereo", ".mp4", False),  # listed for MP4; the muxer refuses stereo at the trailer
    ("pcm_s16le", 8000, "mono", ".mp4", False),  # taken as 'ipcm', which few players play
    ("pcm_s16le", 48000, "stereo", ".mp4", False),  # (a camera's sound)
    ("libopus", 48000, "mono", ".mov", False),  # listed for MOV, refused at the first packet
    ("pcm_s16le", 8000, "stereo", ".mov", True),
    ("pcm_s24le", 48000, "stereo", ".mov", True),
    ("pcm_s16le", 48000, "stereo", ".mkv", True),
    ("libopus", 48000, "mono", ".mp4", True),
    ("pcm_s16le", 48000, "stereo", ".ts", False),  # MPEG-TS took it as unnamed data: no sound
    ("aac", 48000, "stereo", ".ts", True),
    ("aac", 48000, "stereo", ".mxf", False),  # MXF holds PCM only: AAC, tried, failed at the end
])
def test_audio_is_reencoded_when_the_container_cannot_copy_it(tmp_path, stylizer, target, codec, rate,
                                                              layout, suffix, copied, caplog):
    src = clip_with_audio(tmp_path / "in.mkv", codec, rate, layout)
    out = tmp_path / f"out{suffix}"
    report = convert_video(src, out, stylizer, target)
    made = "pcm_s16le" if suffix == ".mxf" else "aac"
    assert report.audio == ("copied" if copied else f"re-encoded to {'PCM' if suffix == '.mxf' else 'AAC'}")
    assert ("PCM sound (pcm_s16le) in .mp4 plays in few players" in caplog.text) == (
        codec.startswith("pcm_s") and suffix == ".mp4")
    assert len(video_pts(out)[0]) == 6
    with av.open(str(src)) as c:
        name = c.streams.audio[0].codec_context.name
    with av.open(str(out)) as c:
        assert c.streams.audio[0].codec_context.name == (name if copied else made)
        assert sum(f.samples for f in c.decode(audio=0)) >= rate // 5


def audio_tracks(path):
    """Per audio track of a file: (codec, language, title, samples, its loudest frequency in Hz)."""
    with av.open(str(path)) as c:
        # (MOV and MP4 read a track's title as "name")
        tracks = [(s.codec_context.name, s.metadata.get("language"), s.metadata.get("title", s.metadata.get("name")),
                   s.rate) for s in c.streams.audio]
    found = []
    for k, (codec, language, title, rate) in enumerate(tracks):
        with av.open(str(path)) as c:
            sound = np.concatenate([f.to_ndarray()[0] for f in c.decode(audio=k)])
        spectrum = np.abs(np.fft.rfft(sound))
        found.append((codec, language, title, len(sound), round(np.argmax(spectrum) * rate / len(sound))))
    return found


@pytest.mark.parametrize("out_name", ["out.mkv", "out.mp4", "out.mov"])
def test_every_audio_track_is_copied_in_its_place_with_its_language(tmp_path, stylizer, target, out_name,
                                                                    caplog):
    src = write_clip(tmp_path / "three.mkv", audio_tracks=3)
    report = convert_video(src, tmp_path / out_name, stylizer, target)
    assert report.audio == "copied (3 tracks)"
    tracks = audio_tracks(tmp_path / out_name)
    assert [(codec, language) for codec, language, *_ in tracks] == [("aac", lang) for lang in LANGUAGES[:3]]
    # Each track's own sound, whole (track k sounds 440 * (k + 1) Hz).
    assert [(samples, hz) for *_, samples, hz in tracks] == [(samples, hz) for *_, samples, hz
                                                             in audio_tracks(src)]
    assert [hz for *_, hz in tracks] == pytest.approx([440, 880, 1320], abs=15)
    assert "left out" not in caplog.text


def test_a_track_the_output_cannot_hold_is_re_encoded_and_the_others_copied(tmp_path, stylizer, target):
    src = clip_with_audio(tmp_path / "mixed.mkv", ("aac", "pcm_s16le"), 48000, "mono",
                          titles=(None, "Commentary"))
    report = convert_video(src, tmp_path / "out.mp4", stylizer, target)  # (MP4 plays no PCM)
    assert report.audio == "copied (1 track) and re-encoded to AAC (1 track)"
    tracks = audio_tracks(tmp_path / "out.mp4")
    assert [(codec, title) for codec, _, title, *_ in tracks] == [("aac", None), ("aac", "Commentary")]
    assert all(samples >= 48000 // 5 for *_, samples, _ in tracks)
    # A file made by the tool is converted again with its tracks' titles (MP4 reads them as "name").
    convert_video(tmp_path / "out.mp4", tmp_path / "again.mkv", stylizer, target)
    assert [title for _, _, title, *_ in audio_tracks(tmp_path / "again.mkv")] == [None, "Commentary"]


def test_a_track_that_can_be_neither_copied_nor_re_encoded_is_left_out_not_fatal(tmp_path, stylizer,
                                                                                  target, caplog):
    """A codec FFmpeg does not know raised an AttributeError; 192 kHz PCM into MP4 made the AAC
    encoder refuse its rate and the whole conversion fail (the first track alone did not)."""
    src = clip_with_audio(tmp_path / "unknown.mkv", ("aac", "pcm_s16le"), 48000, "mono")
    data = src.read_bytes()
    assert data.count(b"A_PCM/INT/LIT") == 1
    src.write_bytes(data.replace(b"A_PCM/INT/LIT", b"A_QQQ/INT/LIT"))  # (a codec id nobody knows)
    report = convert_video(src, tmp_path / "out.mkv", stylizer, target)
    assert report.audio == "copied" and len(audio_tracks(tmp_path / "out.mkv")) == 1
    assert "audio track 2 is of a codec FFmpeg does not know; it is left out" in caplog.text
    high = clip_with_audio(tmp_path / "high.mkv", "pcm_s16le", 192000, "mono")
    report = convert_video(high, tmp_path / "high.mp4", stylizer, target)
    assert report.audio == "re-encoded to AAC"
    with av.open(str(tmp_path / "high.mp4")) as c:
        assert [s.rate for s in c.streams.audio] == [48000]  # (AAC takes at most 96 kHz)


def test_an_audio_track_the_file_lists_but_never_fills_is_left_out_not_fatal(tmp_path, stylizer, target,
                                                                            caplog):
    """An MPEG-TS listing a second AAC track with no packets (no channels, no rate) failed the
    conversion with a traceback ("Invalid layout: 0 channels")."""
    src = tmp_path / "empty_track.ts"
    with av.open(str(src), "w") as out:
        video = out.add_stream("libx264", rate=24)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        sound = out.add_stream("aac", rate=48000)
        out.add_stream("aac", rate=48000)  # (never given a packet)
        sound.layout = "mono"
        for i, image in enumerate(frames_rgb(12, 64, 48)):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 24)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        for start in range(0, 24000, 1024):
            tone = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            tone.sample_rate, tone.pts = 48000, start
            out.mux(sound.encode(tone))
        out.mux(sound.encode(None))
    with av.open(str(src)) as c:
        assert [s.layout.nb_channels for s in c.streams.audio] == [1, 0]
    report = convert_video(src, tmp_path / "out.mkv", stylizer, target)
    assert report.frames == 12 and report.audio == "copied" and len(audio_tracks(tmp_path / "out.mkv")) == 1
    assert "audio track 2 has no channels FFmpeg could find; it is left out" in caplog.text


def test_a_part_of_the_input_keeps_every_tracks_sound_of_that_part(tmp_path, stylizer, target):
    """Three seconds of picture and two tracks of sound, the second stored a second behind the
    picture of its time (as some cameras store it): the part 0.5-1.5 s takes both tracks'
    sound of that time, though the first track passes the part's end a second earlier."""
    src = write_lagged_clip(tmp_path / "lagged.mkv", (0.0, 1.0),  # (each frame's packet at once)
                            {"preset": "ultrafast", "tune": "zerolatency"})
    convert_video(src, tmp_path / "part.mkv", stylizer, target, segment=Segment(0.5, 1.0))
    tracks = audio_tracks(tmp_path / "part.mkv")
    assert [language for _, language, *_ in tracks] == list(LANGUAGES[:2])
    for *_, samples, hz in tracks:  # a second of 22,050 Hz sound, give or take a packet at each end
        assert abs(samples - 22050) <= 2 * 1024
    assert [hz for *_, hz in tracks] == pytest.approx([440, 880], abs=15)


def subtitle_lines(path):
    """(language, [(start s, text)]) of each subtitle track of a file, whatever its codec: the
    lines as decoded (the text after the ASS event's fields; MP4's empty gaps have none)."""
    from av.subtitles.subtitle import SubtitleSet

    with av.open(str(path)) as c:
        languages = [s.metadata.get("language") for s in c.streams.subtitles]
    found = []
    for k, language in enumerate(languages):
        with av.open(str(path)) as c:
            stream, lines = c.streams.subtitles[k], []
            for p in c.demux(stream):
                for item in stream.codec_context.decode(p) if p.size else ():
                    for rect in item if isinstance(item, SubtitleSet) else [item]:  # (older PyAV: sets)
                        text = rect.ass.decode().split(",", 8)[-1]
                        lines.append((round(float(p.pts * p.time_base), 3), text))
            found.append((language, lines))
    return found


LINES = [(0.1, 0.6, "Hello"), (1.0, 1.5, "World")]


def test_subtitles_are_copied_where_the_file_type_holds_them(tmp_path, stylizer, target, caplog):
    src = write_clip(tmp_path / "film.mkv", n=48, subtitles=LINES)
    report = convert_video(src, tmp_path / "out.mkv", stylizer, target)
    assert report.subtitle_tracks == 1 and report.subtitles == "1 subtitle track copied"
    assert subtitle_lines(tmp_path / "out.mkv") == [("fra", [(0.1, "Hello"), (1.0, "World")])]
    with av.open(str(tmp_path / "out.mkv")) as c:
        assert c.streams.subtitles[0].codec_context.name == "srt"
    assert "subtitle" not in caplog.text
    assert report.audio == "copied"  # (the rest as before)
    from vidstyle.cli.convert import summary_lines

    assert "audio copied, 1 subtitle track copied" in summary_lines(report, stylizer, False)[0][0]


@pytest.mark.parametrize("suffix, codec, label", [
    (".mp4", "mov_text", "MP4 text"), (".mov", "mov_text", "MP4 text"), (".webm", "webvtt", "WebVTT")])
def test_text_subtitles_a_file_type_cannot_hold_are_converted_to_one_it_can(tmp_path, stylizer, target,
                                                                           caplog, suffix, codec, label):
    """SubRip from a .mkv was left out of .mp4 and .webm (as were MP4's own subtitles from a
    .mp4 in a .mkv): ffmpeg converts them to the file type's text codec, and so does vidstyle."""
    if not can_convert_text():
        pytest.skip("this PyAV cannot encode subtitles")
    src = write_clip(tmp_path / "film.mkv", n=48, subtitles=LINES)
    out = tmp_path / f"out{suffix}"
    report = convert_video(src, out, stylizer, target, codec="vp9" if suffix == ".webm" else "h264")
    assert report.subtitles == f"1 subtitle track converted to {label}"
    assert subtitle_lines(out) == [("fra", [(0.1, "Hello"), (1.0, "World")])]
    with av.open(str(out)) as c:
        assert c.streams.subtitles[0].codec_context.name == codec
    assert "subtitle" not in caplog.text
    if suffix == ".mp4":  # ... and back: MP4 text into Matroska is ASS, and copied into MP4 again
        report = convert_video(out, tmp_path / "back.mkv", stylizer, target)
        assert report.subtitles == "1 subtitle track converted to ASS"
        (language, lines), = subtitle_lines(tmp_path / "back.mkv")
        # (the picture and sound move on 46 ms with the lines: the AAC's start in the MP4)
        assert [text for _, text in lines] == ["Hello", "World"]
        assert lines[1][0] - lines[0][0] == pytest.approx(0.9)
        report = convert_video(out, tmp_path / "again.mp4", stylizer, target)
        assert report.subtitles == "1 subtitle track copied"
        with av.open(str(tmp_path / "again.mp4")) as c:  # (no empty samples between lines twice)
            sizes = [p.size for p in c.demux(subtitles=0) if p.size]
        assert subtitle_lines(tmp_path / "again.mp4") == [("fra", [(0.1, "Hello"), (1.0, "World")])]
        assert len(sizes) == 4, sizes  # (an empty sample before each line: the muxer's own)


def test_with_a_pyav_that_cannot_convert_subtitles_they_are_left_out_saying_what_would(
        tmp_path, stylizer, target, caplog, monkeypatch):
    import vidstyle.subtitle_tracks

    monkeypatch.setattr(vidstyle.subtitle_tracks, "can_convert_text", lambda: False)
    src = write_clip(tmp_path / "film.mkv", n=12, subtitles=LINES)
    report = convert_video(src, tmp_path / "out.mp4", stylizer, target)
    assert report.subtitle_tracks == 0 and report.subtitles == ""
    assert subtitle_lines(tmp_path / "out.mp4") == []
    assert "(srt) cannot be copied into .mp4; it is left out (PyAV 17 or later converts text ones)" \
        in caplog.text


def mp4_text_samples(path):
    """(start s, length s, text) of each sample of an MP4's text track, empty ones too:
    MP4 times each sample until the next, so overlapping lines pushed later ones back."""
    with av.open(str(path)) as c:
        stream = c.streams.subtitles[0]
        return [(round(float(p.pts * p.time_base), 3), round(float(p.duration * p.time_base), 3),
                 bytes(p)[2:2 + int.from_bytes(bytes(p)[:2], "big")].decode())
                for p in c.demux(stream) if p.size]


def test_overlapping_text_lines_in_mp4_show_together_and_keep_the_later_lines_times(tmp_path, stylizer,
                                                                                    target):
    """A line starting while another shows (two speakers, a sign over dialogue) was written
    whole, and MP4's writer pushed it and every later line back (C at 4.0 s for 3.5 s)."""
    if not can_convert_text():
        pytest.skip("this PyAV cannot encode subtitles")
    lines = [(0.5, 3.0, "A"), (1.0, 2.0, "B"), (3.5, 4.0, "C"), (4.5, 5.0, "D"), (4.5, 5.0, "E")]
    src = write_clip(tmp_path / "film.mkv", n=132, subtitles=lines, audio=False)
    convert_video(src, tmp_path / "out.mp4", stylizer, target)
    texts = [s for s in mp4_text_samples(tmp_path / "out.mp4") if s[2]]
    assert texts == [(0.5, 0.5, "A"), (1.0, 1.0, "A\nB"), (2.0, 1.0, "A"), (3.5, 0.5, "C"),
                     (4.5, 0.5, "D\nE")], texts


def test_text_lines_of_unknown_length_show_until_the_next_line(tmp_path, stylizer, target):
    """Packets with no duration made lines of no length: left out of MP4 text, not shown in
    WebVTT; each now lasts until the next line starts (at most a few seconds)."""
    if not can_convert_text():
        pytest.skip("this PyAV cannot encode subtitles")
    src = write_clip(tmp_path / "film.mkv", n=48, subtitles=LINES)
    lengthless = tmp_path / "lengthless.mkv"
    with av.open(str(src)) as c, av.open(str(lengthless), "w") as out:
        streams = {s.index: out.add_stream_from_template(s) for s in c.streams}
        for packet in c.demux():
            if packet.dts is None:
                continue
            if packet.stream.type == "subtitle":
                packet.duration = 0
            packet.stream = streams[packet.stream.index]
            out.mux(packet)
    with av.open(str(lengthless)) as c:
        assert [p.duration for p in c.demux(subtitles=0) if p.size] == [0, 0]
    convert_video(lengthless, tmp_path / "out.mp4", stylizer, target)
    texts = [s for s in mp4_text_samples(tmp_path / "out.mp4") if s[2]]
    assert texts == [(0.1, 0.9, "Hello"), (1.0, 5.0, "World")]
    convert_video(lengthless, tmp_path / "out.webm", stylizer, target, codec="vp9")
    with av.open(str(tmp_path / "out.webm")) as c:
        cues = [(round(float(p.pts * p.time_base), 3), round(float(p.duration * p.time_base), 3))
                for p in c.demux(subtitles=0) if p.size]
    assert cues == [(0.1, 0.9), (1.0, 5.0)]


def test_more_lines_at_once_than_mp4_text_holds_are_one_warning_not_a_failed_conversion(tmp_path, stylizer,
                                                                                        target, caplog):
    """400 overlapping lines of 200 characters: a span showing them all passes MP4 text's
    64 KB, and the encoder's error ended the conversion."""
    if not can_convert_text():
        pytest.skip("this PyAV cannot encode subtitles")
    lines = [(0.1 + i / 1000, 1.5, f"{i:03d}" + "x" * 197) for i in range(400)]
    src = write_clip(tmp_path / "crowd.mkv", n=48, subtitles=lines, audio=False)
    report = convert_video(src, tmp_path / "out.mp4", stylizer, target)
    assert report.frames == 48
    assert caplog.text.count("could not be converted") == 1  # (said once)
    shown = [text for _, _, text in mp4_text_samples(tmp_path / "out.mp4") if text]
    assert shown[0] == "000" + "x" * 197 and len(shown) > 300  # (the spans that fit are kept)


def test_webvtt_keeps_angle_brackets_and_ampersands(tmp_path, stylizer, target):
    """WebVTT reads < and & as markup: converted unescaped, "I <3 you" showed as "I "."""
    if not can_convert_text():
        pytest.skip("this PyAV cannot encode subtitles")
    lines = [(0.1, 0.6, "I <3 you"), (1.0, 1.5, "Tom & Jerry")]
    src = write_clip(tmp_path / "film.mkv", n=48, subtitles=lines)
    convert_video(src, tmp_path / "out.webm", stylizer, target, codec="vp9")
    assert subtitle_lines(tmp_path / "out.webm") == [("fra", [(0.1, "I <3 you"), (1.0, "Tom & Jerry")])]


def test_several_subtitle_tracks_are_summed_up_by_what_became_of_them():
    from types import SimpleNamespace as Track

    from vidstyle.subtitle_tracks import subtitle_summary

    assert subtitle_summary([]) == ""
    assert subtitle_summary([Track(converted=None)] * 2) == "2 subtitle tracks copied"
    assert subtitle_summary([Track(converted=None), Track(converted="MP4 text"), Track(converted=None)]) == \
        "3 subtitle tracks (2 copied, 1 converted to MP4 text)"


def test_a_part_of_the_input_keeps_the_subtitles_that_start_in_it(tmp_path, stylizer, target):
    src = write_clip(tmp_path / "film.mkv", n=48, subtitles=LINES)
    convert_video(src, tmp_path / "part.mkv", stylizer, target, segment=Segment(0.7, 1.0))
    assert subtitle_lines(tmp_path / "part.mkv") == [("fra", [(0.3, "World")])]
    # Stored after all the picture (with or without sound behind it): demuxing stopped at the
    # cut's end and the line was lost.
    for audio in (False, True):
        late = write_clip(tmp_path / "late.mkv", n=96, subtitles=LINES, stored_in_order=True, audio=audio)
        convert_video(late, tmp_path / "part.mkv", stylizer, target, segment=Segment(0.7, 1.0),
                      overwrite=True)
        assert subtitle_lines(tmp_path / "part.mkv") == [("fra", [(0.3, "World")])], audio


def subtitle_times(path):
    """(start s, length s) of each line of a file's first subtitle track, MP4's gaps left out."""
    with av.open(str(path)) as c:
        return [(round(float(p.pts * p.time_base), 3), round(float(p.duration * p.time_base), 3))
                for p in c.demux(c.streams.subtitles[0]) if p.size and bytes(p) != bytes(2)]


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_a_cut_during_a_line_starts_with_the_rest_of_that_line(tmp_path, stylizer, target, suffix):
    """ffmpeg drops a line that began before the cut: the cut began with the words missing."""
    src = write_clip(tmp_path / "film.mkv", n=48, subtitles=[(0.1, 0.6, "Hello"), (0.8, 1.5, "World")])
    out = tmp_path / f"part{suffix}"
    convert_video(src, out, stylizer, target, segment=Segment(0.3, 1.0))
    assert subtitle_lines(out) == [("fra", [(0.0, "Hello"), (0.5, "World")])]
    assert subtitle_times(out) == [(0.0, 0.3), (0.5, 0.7)]  # (Hello's last 0.3 s)
    # a line over before the cut is not brought back; a stopped part's rest leaves the line
    # on screen at its start to the part before it, which holds it whole
    for segment, lines in ((Segment(0.7, 0.6), [(0.1, "World")]),
                           (Segment(0.3, 1.0, lines_on_screen=False), [(0.5, "World")])):
        convert_video(src, out, stylizer, target, segment=segment, overwrite=True)
        assert subtitle_lines(out) == [("fra", lines)], segment


def test_text_subtitles_are_not_copied_into_mpeg_ts_as_unnamed_data(tmp_path, stylizer, target, caplog):
    """(MPEG-TS carries only DVB's picture subtitles and teletext: text has nowhere to go)"""
    src = write_clip(tmp_path / "film.mkv", n=12, subtitles=LINES)
    report = convert_video(src, tmp_path / "out.ts", stylizer, target)
    assert report.subtitle_tracks == 0
    assert "a subtitle track (srt) cannot be copied into .ts; it is left out" in caplog.text
    with av.open(str(tmp_path / "out.ts")) as c:
        assert [s.type for s in c.streams] == ["video", "audio"]  # (it was a "data" stream)


def test_an_avi_output_has_the_inputs_rate_and_no_empty_frames(clip, tmp_path, stylizer, target):
    report = convert_video(clip, tmp_path / "out.avi", stylizer, target)
    with av.open(str(tmp_path / "out.avi")) as c:
        stream = c.streams.video[0]
        # (it said 600 FPS, one over its time base, with empty slots between the frames)
        assert stream.average_rate == 24 and stream.frames == 12 == report.frames
        assert sum(1 for _ in c.decode(video=0)) == 12 and c.streams.audio


@pytest.mark.parametrize("suffix, first_s", [(".mp4", 0.0), (".ts", 2.0)])
def test_an_avi_output_keeps_a_variable_rates_times_from_its_first_frame(tmp_path, stylizer, target,
                                                                         suffix, first_s):
    """12 frames at 24 FPS, then 8 at 12 (an average of 17): each frame in the slot of its time."""
    ticks = [*range(12), *range(12, 28, 2)]  # in 1/24 s
    src = tmp_path / f"vfr{suffix}"
    with av.open(str(src), "w") as c:
        v = c.add_stream("libx264", rate=24)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        for tick, image in zip(ticks, frames_rgb(len(ticks), 64, 48)):
            f = av.VideoFrame.from_ndarray(image, format="rgb24")
            f.pts, f.time_base = round((first_s + tick / 24) * 90000), Fraction(1, 90000)
            c.mux(v.encode(f))
        c.mux(v.encode(None))
    convert_video(src, tmp_path / "out.avi", stylizer, target)
    with av.open(str(tmp_path / "out.avi")) as c:  # (AVI's slot is the packet's dts)
        times = [float(p.dts * p.time_base) for p in c.demux(video=0) if p.dts is not None]
    assert times == pytest.approx([t / 24 for t in ticks], abs=0.02)


def test_a_failure_while_finishing_is_an_error_not_a_hang(clip, tmp_path, stylizer, target, monkeypatch):
    from vidstyle.sinks import VideoFileSink

    def broken_flush(self):
        raise OSError("disk full")

    monkeypatch.setattr(VideoFileSink, "_flush", broken_flush)
    out = tmp_path / "out.mp4"
    with pytest.raises(VidstyleError, match="disk full"):
        convert_video(clip, out, stylizer, target)
    assert not out.exists() and not partial_path(out).exists()


def test_unknown_output_extension_is_a_clear_error(clip, tmp_path, stylizer, target):
    with pytest.raises(VidstyleError, match="video extension"):
        convert_video(clip, tmp_path / "out.xyz", stylizer, target)
    assert list(tmp_path.iterdir()) == [clip]


def test_model_fps_counts_only_the_overlap_there_was():
    from pathlib import Path

    from vidstyle.pipeline import ConvertReport

    one_batch = ConvertReport(Path("a"), Path("b"), frames=1, workers=2, model_times=[0.5])
    assert one_batch.model_fps == 2.0  # one batch ran alone: no second worker beside it
    many = ConvertReport(Path("a"), Path("b"), frames=4, workers=2, model_times=[0.5] * 4)
    assert many.model_fps == 4.0  # 4 frames x 2 overlapping workers / 2 s of model time


def test_damaged_packets_are_skipped_and_the_rest_converted(tmp_path, stylizer, target):
    clip = write_clip(tmp_path / "damaged.mp4", n=24, audio=False)
    damage_packets(clip, [10, 11])
    report = convert_video(clip, tmp_path / "out.mp4", stylizer, target)
    assert report.damaged_packets == 2
    assert report.listed_frames == 24 and report.frames == 22 and report.missing_frames == 2
    assert len(video_pts(tmp_path / "out.mp4")[0]) == 22


@pytest.mark.parametrize("name", ["out.mp4", "out.mkv", "out.flv"])
@pytest.mark.parametrize("tick", [Fraction(1, 24), Fraction(1, 90000)])  # (MPEG-TS times in 1/90000 s)
def test_a_frame_decoded_out_of_order_is_written_after_the_last(tmp_path, name, tick):
    """A damaged file's decoder gave a late reference frame (times ..., 10752, 9728, 11264):
    the muxer refused the time going back and the conversion failed at that frame. (A tick
    later is a millisecond later in Matroska and FLV: one 1/90000 s later was the same time.)"""
    from vidstyle.sinks import VideoFileSink

    sink = VideoFileSink(tmp_path / name, 64, 48, Fraction(24), tick)
    step = round(1 / (24 * tick))
    for n in (0, 1, 2, 4, 3, 5):
        sink.write(np.full((48, 64, 3), 40 * n, np.uint8), n * step)
    sink.close()
    times = video_pts(tmp_path / name)[0]
    assert len(times) == 6 and times == sorted(times) and len(set(times)) == 6


def test_a_trimmed_mp4_is_not_taken_for_a_file_cut_short(tmp_path, stylizer, target):
    """Packets before the start (an edit list: `ffmpeg -ss 1 -c copy`, a phone's trim) are
    listed in the file but not shown."""
    src = write_clip(tmp_path / "src.mp4", n=36, audio=False)
    with av.open(str(src)) as i, av.open(str(tmp_path / "trimmed.mp4"), "w") as o:
        stream = o.add_stream_from_template(i.streams.video[0])
        shift = round(10 / 24 / i.streams.video[0].time_base)
        for packet in i.demux(video=0):
            if packet.dts is not None:
                packet.pts, packet.dts, packet.stream = packet.pts - shift, packet.dts - shift, stream
                o.mux(packet)
    report = convert_video(tmp_path / "trimmed.mp4", tmp_path / "out.mp4", stylizer, target)
    assert report.frames == 26 and report.listed_frames == 26 and report.missing_frames == 0
    assert convert_video(src, tmp_path / "whole.mp4", stylizer, target).listed_frames == 36


def test_an_intact_file_reports_no_damage(clip, tmp_path, stylizer, target):
    report = convert_video(clip, tmp_path / "out.mp4", stylizer, target)
    assert report.damaged_packets == 0 and report.missing_frames == 0 and report.listed_frames == 12


def test_a_stream_where_nothing_decodes_is_an_error(tmp_path, stylizer, target):
    clip = write_clip(tmp_path / "ruined.mp4", n=30, audio=False)
    damage_packets(clip, range(30))
    with pytest.raises(VidstyleError, match="ruined.mp4"):
        convert_video(clip, tmp_path / "out.mp4", stylizer, target)
    assert not (tmp_path / "out.mp4").exists()


def test_a_cut_short_file_without_a_frame_count_is_noticed_by_its_duration(tmp_path, stylizer, target):
    whole = write_clip(tmp_path / "whole.mkv", n=96, audio=False)  # Matroska lists no frame count
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    report = convert_video(cut, tmp_path / "cut.mp4", stylizer, target)
    assert report.listed_frames == 0 and report.listed_seconds == pytest.approx(4.0, abs=0.1)
    assert report.ended_early and report.decoded_seconds < 3.0
    report = convert_video(whole, tmp_path / "whole.mp4", stylizer, target)
    assert not report.ended_early and report.decoded_seconds == pytest.approx(4.0, abs=0.05)


def test_a_cut_that_the_file_ends_before_is_noticed(tmp_path, stylizer, target):
    """A second asked of a file cut short after 0.12 s of picture said nothing (a cut lists no
    frame count, and a second's shortfall was under the whole file's one-second margin)."""
    whole = write_clip(tmp_path / "whole.mkv", n=48, audio=False)
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 5])  # (its header still lists 2 s)
    report = convert_video(cut, tmp_path / "part.mp4", stylizer, target, segment=Segment(0.0, 1.0))
    assert report.listed_seconds == pytest.approx(1.0) and report.decoded_seconds < 0.7
    assert report.ended_early
    from vidstyle.cli.convert import damage_warning

    assert "of the 1.0 s asked for could be decoded (is the file cut short?)" in damage_warning(report)
    for segment in (Segment(1.0, 1.0), Segment(1.5, 5.0)):  # to the end, and past it: whole
        report = convert_video(whole, tmp_path / "part.mp4", stylizer, target, segment=segment,
                               overwrite=True)
        assert not report.ended_early
