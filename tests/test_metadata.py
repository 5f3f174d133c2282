"""An output keeps its input's tags (title, dates, comments) and start timecode."""
from fractions import Fraction

import av
import numpy as np
import pytest

from conftest import frames_rgb
from test_resume import plan
from vidstyle.bench import random_target
from vidstyle.pipeline import convert_video
from vidstyle.metadata import timecode_later
from vidstyle.sources import Segment

TAGS = {"title": "Harbour at dawn", "creation_time": "2020-01-02T03:04:05.000000Z", "comment": "take 3"}


@pytest.fixture(scope="module")
def target(stylizer):
    return random_target(stylizer)


def write_tagged(path, n=25, rate=25, timecode="01:00:00:00"):
    """A clip with a title, a date and a comment, and a start timecode."""
    with av.open(str(path), "w") as c:
        c.metadata.update(TAGS)
        v = c.add_stream("libx264", rate=rate)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        v.metadata["timecode"] = timecode
        for i, image in enumerate(frames_rgb(n, 64, 48)):
            f = av.VideoFrame.from_ndarray(image, format="rgb24")
            f.pts, f.time_base = i, 1 / Fraction(rate)
            c.mux(v.encode(f))
        c.mux(v.encode(None))
    return path


def tags_and_timecode(path):
    with av.open(str(path)) as c:
        tags = {key.lower(): value for key, value in c.metadata.items()}
        timecodes = {value for stream in c.streams for key, value in stream.metadata.items()
                     if key.lower() == "timecode"}
        return tags, timecodes, [s.type for s in c.streams]


def test_timecodes_move_on_by_frames_and_drop_frame_ones_only_stay():
    assert timecode_later("01:00:00:00", 65.5, Fraction(25)) == "01:01:05:13"
    # A cut between frames starts at the next one (its first frame), one on a frame at that one.
    assert [timecode_later("01:00:00:00", s, Fraction(25)) for s in (0.41, 0.45, 0.4, 0.4004)] == \
        ["01:00:00:11", "01:00:00:12", "01:00:00:10", "01:00:00:11"]
    # 29.97 FPS: 300 frames, counted at 30 a second
    assert timecode_later("10:00:00:00", 10, Fraction(30000, 1001)) == "10:00:10:00"
    assert timecode_later("23:59:59:24", 1 / 25, Fraction(25)) == "00:00:00:00"  # round at midnight
    assert timecode_later("01:00:00;00", 0, Fraction(30000, 1001)) == "01:00:00;00"
    # Drop-frame counting skips numbers; a rate far from a whole number has no count.
    assert timecode_later("01:00:00;00", 10, Fraction(30000, 1001)) is None
    assert timecode_later("01:00:00:00", 1, Fraction(12000, 1001) * 2 + Fraction(1, 3)) is None


@pytest.mark.parametrize("suffix", [".mov", ".mp4", ".mkv"])
def test_the_tags_and_timecode_go_with_the_picture(tmp_path, stylizer, target, suffix):
    clip = write_tagged(tmp_path / "take3.mov")
    out = tmp_path / f"out{suffix}"
    convert_video(clip, out, stylizer, target)
    tags, timecodes, kinds = tags_and_timecode(out)
    assert {key: tags.get(key) for key in TAGS} == TAGS
    assert timecodes == {"01:00:00:00"} and "lavf" not in tags.get("comment", "").lower()
    if suffix != ".mkv":
        assert "data" in kinds  # the tmcd track an editor reads


def test_a_long_title_is_cut_to_what_mpeg_ts_holds(tmp_path, stylizer, target):
    clip = tmp_path / "long.mp4"
    with av.open(str(clip), "w") as c:
        c.metadata["title"] = "港の夜明け" * 18  # 270 bytes of UTF-8
        v = c.add_stream("libx264", rate=25)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        for i, image in enumerate(frames_rgb(3, 64, 48)):
            f = av.VideoFrame.from_ndarray(image, format="rgb24")
            f.pts, f.time_base = i, Fraction(1, 25)
            c.mux(v.encode(f))
        c.mux(v.encode(None))
    convert_video(clip, tmp_path / "out.ts", stylizer, target)  # (it failed: "Cannot allocate memory")
    convert_video(clip, tmp_path / "out.mp4", stylizer, target)
    assert tags_and_timecode(tmp_path / "out.mp4")[0]["title"] == "港の夜明け" * 18  # others keep it whole
    with av.open(str(tmp_path / "out.ts")) as c:
        assert len(list(c.decode(video=0))) == 3
    # Its service table holds the name whole: lengths that add up, the title's first characters.
    provider, name, length = ts_service(tmp_path / "out.ts")
    assert length == 3 + len(provider) + len(name) and provider == b"FFmpeg"
    assert name[:1] == b"\x15" and ("港の夜明け" * 18).startswith(name[1:].decode())


def ts_service(path):
    """(provider, name, descriptor length) of an MPEG-TS file's first service descriptor."""
    data, section = path.read_bytes(), None
    for at in range(0, len(data) - 187, 188):
        packet = data[at:at + 188]
        if ((packet[1] & 0x1F) << 8 | packet[2]) != 0x11:  # (the SDT's packets)
            continue
        if packet[1] & 0x40:  # its first: after the pointer field
            section = packet[5 + packet[4]:]
        elif section is not None:  # (a table longer than a packet goes on in the next)
            section += packet[4:]
        if section is not None and len(section) >= 3 + ((section[1] & 0x0F) << 8 | section[2]):
            descriptor = section[11 + 5:]  # (the table's header, then the service's)
            assert descriptor[0] == 0x48  # a service descriptor
            length, provider_size = descriptor[1], descriptor[3]
            provider = descriptor[4:4 + provider_size]
            name = descriptor[5 + provider_size:5 + provider_size + descriptor[4 + provider_size]]
            return provider, name, length
    raise AssertionError("no service table")


def test_a_cut_starts_at_its_own_timecode_and_a_drop_frame_one_is_left_out(tmp_path, stylizer, target,
                                                                            caplog):
    clip = write_tagged(tmp_path / "take3.mov")
    convert_video(clip, tmp_path / "cut.mov", stylizer, target, segment=Segment(start=0.4))
    assert tags_and_timecode(tmp_path / "cut.mov")[1] == {"01:00:00:10"}
    ntsc = write_tagged(tmp_path / "ntsc.mov", n=12, rate=Fraction(30000, 1001), timecode="01:00:00;00")
    convert_video(ntsc, tmp_path / "whole.mov", stylizer, target)
    assert tags_and_timecode(tmp_path / "whole.mov")[1] == {"01:00:00;00"}
    convert_video(ntsc, tmp_path / "ntsc_cut.mov", stylizer, target, segment=Segment(start=0.1))
    tags, timecodes, _ = tags_and_timecode(tmp_path / "ntsc_cut.mov")
    assert timecodes == set() and tags["title"] == TAGS["title"]
    assert "timecode (01:00:00;00) is left out" in caplog.text


def test_a_stopped_and_resumed_conversion_keeps_them(tmp_path, stylizer, target):
    clip = write_tagged(tmp_path / "take3.mov", n=48)
    out = tmp_path / "out.mov"

    def stop_at_20(i, image):
        if i == 20:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        convert_video(clip, out, stylizer, target, on_frame=stop_at_20, resumable=plan(out))
    report = convert_video(clip, out, stylizer, target, resumable=plan(out))
    assert report.resumed is not None
    tags, timecodes, _ = tags_and_timecode(out)
    assert {key: tags.get(key) for key in TAGS} == TAGS and timecodes == {"01:00:00:00"}
    with av.open(str(out)) as c:
        assert len([f for f in c.decode(video=0)]) == 48 and np.isfinite(c.duration)
