"""Interlaced input (TV, DV, camcorders) is deinterlaced before it is stylized, so moving
edges reach the model whole instead of as combs of alternate lines."""
import av
import numpy as np
import pytest

from test_cli import run as run_cli
from vidstyle.deinterlace import Deinterlacer
from vidstyle.errors import VidstyleError
from vidstyle.pipeline import convert_video
from vidstyle.sources import VideoFileSource
from vidstyle.stylizer import Target

N, W, H = 8, 96, 64


def fields_clip(path, flagged: bool = True, top_first: bool = True):
    """Frames whose two fields were 'shot' at different moments: a white bar that moves
    8 px from the first field to the second, as a camera's fields do (the top field is
    the even lines). `flagged`: encoded as interlaced (with that field order), else as
    progressive frames with the combs in."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        order = "tff=1" if top_first else "bff=1"
        stream.options = {"preset": "ultrafast", "crf": "8",
                          **({"x264-params": f"interlaced=1:{order}"} if flagged else {})}
        for i in range(N):
            img = np.zeros((H, W, 3), np.uint8)
            for later, lines in enumerate((0, 1) if top_first else (1, 0)):
                x = (2 * i + later) * 8 % (W - 24)
                img[lines::2, x:x + 24] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def comb(image) -> float:
    """How much each line differs from the mean of its neighbours: high for interlacing combs."""
    g = image.astype(np.float32).mean(axis=2)
    return float(np.abs(g[1:-1] - (g[:-2] + g[2:]) / 2).mean())


def decode(path, mode):
    with VideoFileSource(path, deinterlace=mode) as source:
        frames = list(source)
    return source, frames


def test_flagged_interlaced_frames_are_rebuilt_with_their_timestamps(tmp_path):
    path = fields_clip(tmp_path / "fields.mp4")
    plain, as_is = decode(path, "off")
    source, rebuilt = decode(path, "auto")
    assert plain.deinterlaced_frames == 0 and source.deinterlaced_frames == N
    assert [f.pts for f in rebuilt] == [f.pts for f in as_is] == [512 * i for i in range(N)]
    assert all(f.time_base == as_is[0].time_base for f in rebuilt)
    assert min(comb(f.image) for f in as_is) > 40  # the combs are there without the filter
    assert max(comb(f.image) for f in rebuilt) < 5  # (the first frame, with no neighbour: 2.7)
    # The picture stays: the bar is where the first field had it.
    assert rebuilt[2].image[:, 32:56].mean() > 200 and rebuilt[2].image[:, 56:].mean() < 30


@pytest.mark.parametrize("top_first", [True, False])
def test_the_first_field_in_time_is_the_one_kept(tmp_path, top_first):
    _, rebuilt = decode(fields_clip(tmp_path / "fields.mp4", top_first=top_first), "auto")
    for i, frame in enumerate(rebuilt):
        columns = np.nonzero(frame.image[..., 0].mean(axis=0) > 128)[0]
        first = 2 * i * 8 % (W - 24)  # the bar's place in the first field
        assert (columns.min(), columns.max()) == (first, first + 23), i


def test_progressive_flags_are_trusted_unless_told(tmp_path):
    path = fields_clip(tmp_path / "combed.mp4", flagged=False)
    auto_source, auto = decode(path, "auto")
    on_source, on = decode(path, "on")
    assert auto_source.deinterlaced_frames == 0 and min(comb(f.image) for f in auto) > 40
    assert on_source.deinterlaced_frames == N and max(comb(f.image) for f in on) < 5
    assert len(on) == N


def test_progressive_video_passes_through_untouched(tmp_path, clip):
    _, as_is = decode(clip, "off")
    source, auto = decode(clip, "auto")
    assert source.deinterlaced_frames == 0
    assert all(np.array_equal(a.image, b.image) for a, b in zip(as_is, auto, strict=True))


def test_a_segment_of_interlaced_video_keeps_every_frame(tmp_path):
    from vidstyle.sources import Segment

    path = fields_clip(tmp_path / "fields.mp4")
    with VideoFileSource(path, segment=Segment(0.12, 0.12)) as source:
        frames = list(source)
    assert len(frames) == 3 and max(comb(f.image) for f in frames) < 5


def test_an_unknown_mode_is_refused():
    with pytest.raises(VidstyleError, match="--deinterlace must be one of auto, on, off"):
        Deinterlacer(None, "yes")


def test_a_converted_interlaced_clip_is_stylized_from_whole_frames(tmp_path, stylizer):
    import torch

    src = fields_clip(tmp_path / "fields.mp4")
    target = Target(stylizer.style_stats(torch.rand(3, 48, 48, generator=torch.Generator().manual_seed(0))))
    report = convert_video(src, tmp_path / "out.mp4", stylizer, target, deinterlace="auto")
    assert report.frames == N and report.deinterlaced_frames == N
    with av.open(str(tmp_path / "out.mp4")) as c:
        assert [f.pts for f in c.decode(video=0)] == [512 * i for i in range(N)]


def test_the_summary_says_when_it_deinterlaced(capsys, tmp_path, style_png):
    src = fields_clip(tmp_path / "fields.mp4")
    code, out, err = run_cli(capsys, "convert", src, "-s", style_png, "-o", tmp_path / "a.mp4")
    assert code == 0, err
    assert f"{N} frames {W}x{H} deinterlaced," in out
    code, out, err = run_cli(capsys, "convert", src, "-s", style_png, "-o", tmp_path / "b.mp4",
                             "--deinterlace", "off")
    assert code == 0, err
    assert f"{N} frames {W}x{H}," in out and "deinterlaced" not in out
