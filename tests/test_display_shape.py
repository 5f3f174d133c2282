"""Video shown otherwise than stored: portrait phone clips (landscape frames and a display
matrix) come out upright, and non-square pixels (DV, anamorphic DVD) keep their shape."""
from fractions import Fraction

import av
import numpy as np
import pytest

from vidstyle.pipeline import convert_video
from vidstyle.sources import VideoFileSource
from vidstyle.stylizer import Target


def rotated_clip(path, degrees: int, n: int = 3, w: int = 64, h: int = 48, pixel_aspect=None):
    """Stored frames w x h, black with a white block in the stored top-left corner, and a
    display matrix turning them `degrees` counter-clockwise."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        if degrees:
            stream.set_display_rotation(degrees)
        if pixel_aspect:
            stream.codec_context.sample_aspect_ratio = pixel_aspect
        for _ in range(n):
            img = np.zeros((h, w, 3), np.uint8)
            img[:12, :16] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


# Where the stored top-left corner is seen after the turn (a counter-clockwise quarter
# turn takes the top-left corner to the bottom-left).
CORNERS = {0: ("top", "left"), 90: ("bottom", "left"), 180: ("bottom", "right"), -90: ("top", "right")}


@pytest.mark.parametrize("degrees", sorted(CORNERS))
def test_frames_come_out_upright_with_the_shown_size(tmp_path, degrees):
    path = rotated_clip(tmp_path / f"r{degrees}.mp4", degrees)
    with VideoFileSource(path) as source:
        frames = [f.image for f in source]
    shown = (48, 64) if degrees in (0, 180) else (64, 48)  # (height, width)
    assert (source.info.height, source.info.width) == shown
    assert all(f.shape == (*shown, 3) for f in frames)
    vertical, horizontal = CORNERS[degrees]
    img = frames[0].astype(float)
    rows = slice(0, 8) if vertical == "top" else slice(-8, None)
    cols = slice(0, 8) if horizontal == "left" else slice(-8, None)
    assert img[rows, cols].mean() > 200  # the block is in that corner
    assert img.mean() < 60  # and nowhere much else


def mirrored(path, degrees: int, entry: int):
    """rotated_clip(degrees) with the sign of one entry of its display matrix turned: a
    mirrored matrix, as front cameras and editors' flips store it (PyAV sets only turns)."""
    import struct

    from vidstyle.sources import _display_matrix

    rotated_clip(path, degrees)
    with av.open(str(path)) as c:
        matrix = list(_display_matrix(next(c.decode(video=0))))
    data = path.read_bytes()
    stored = struct.pack(">9i", *matrix)  # (the track header's matrix, big-endian)
    assert data.count(stored) == 1
    matrix[entry] = -matrix[entry]
    path.write_bytes(data.replace(stored, struct.pack(">9i", *matrix)))
    return path


# (turn of the clip, matrix entry whose sign is turned) -> where the stored top-left corner
# is seen and the shown (height, width), as ffmpeg's autorotate shows them.
MIRRORS = {(180, 4): ("top", "right", (48, 64)),  # a left-right mirror (it came out upside down)
           (180, 0): ("bottom", "left", (48, 64)),  # upside down
           (-90, 3): ("top", "left", (64, 48)),  # transposed
           (90, 3): ("bottom", "right", (64, 48))}  # transposed the other way


@pytest.mark.parametrize("degrees, entry", sorted(MIRRORS))
def test_mirrored_frames_come_out_as_players_show_them(tmp_path, degrees, entry):
    with VideoFileSource(mirrored(tmp_path / "m.mp4", degrees, entry)) as source:
        img = next(iter(source)).image.astype(float)
    vertical, horizontal, shown = MIRRORS[degrees, entry]
    assert img.shape[:2] == shown == (source.info.height, source.info.width)
    rows = slice(0, 8) if vertical == "top" else slice(-8, None)
    cols = slice(0, 8) if horizontal == "left" else slice(-8, None)
    assert img[rows, cols].mean() > 200 and img.mean() < 60


def test_a_converted_portrait_clip_is_written_upright_without_a_turn(tmp_path, stylizer):
    src = rotated_clip(tmp_path / "portrait.mp4", -90)  # as a phone held upright stores it
    out = tmp_path / "out.mp4"
    stylize_to_file(src, out, stylizer)
    with av.open(str(out)) as c:
        frame = next(c.decode(video=0))
        assert (frame.width, frame.height) == (48, 64)
        assert frame.rotation == 0  # players must not turn it again


def stylize_to_file(src, out, stylizer, **options):
    import torch

    target = Target(stylizer.style_stats(torch.rand(3, 48, 48, generator=torch.Generator().manual_seed(0))))
    return convert_video(src, out, stylizer, target, **options)


@pytest.mark.parametrize("degrees, shown", [(0, Fraction(32, 27)), (90, Fraction(27, 32))])
def test_non_square_pixels_keep_their_shape(tmp_path, stylizer, degrees, shown):
    src = rotated_clip(tmp_path / "dvd.mp4", degrees, pixel_aspect=Fraction(32, 27))
    with VideoFileSource(src) as source:
        assert source.info.pixel_aspect == shown  # a turned picture turns its pixels too
    out = tmp_path / "out.mp4"
    stylize_to_file(src, out, stylizer)
    with av.open(str(out)) as c:
        assert c.streams.video[0].sample_aspect_ratio == shown


@pytest.mark.parametrize("name", ["out.webm", "out.mkv"])
def test_vp9_which_carries_no_pixel_shape_gets_square_pixels_as_wide_as_shown(tmp_path, stylizer, name):
    src = rotated_clip(tmp_path / "dvd.mp4", 0, pixel_aspect=Fraction(32, 27))  # 64x48 shown as 76x48
    out = tmp_path / name
    report = stylize_to_file(src, out, stylizer, codec="vp9")
    assert (report.width, report.height) == (76, 48)  # the summary line says the file's size
    with av.open(str(out)) as c:
        stream = c.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (76, 48)
        assert stream.sample_aspect_ratio in (None, 0, Fraction(1))


def test_square_pixels_stay_untagged(tmp_path, stylizer):
    src = rotated_clip(tmp_path / "plain.mp4", 0)
    with VideoFileSource(src) as source:
        assert source.info.pixel_aspect == 1
    out = tmp_path / "out.mp4"
    stylize_to_file(src, out, stylizer)
    with av.open(str(out)) as c:
        assert c.streams.video[0].sample_aspect_ratio in (None, 0, Fraction(1))
