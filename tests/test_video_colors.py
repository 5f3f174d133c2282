"""YUV matrices, ranges and colour tags: decoded the way players read them, encoded and tagged."""
from fractions import Fraction
from types import SimpleNamespace

import av
import numpy as np
import pytest

from test_cli import run as run_cli
from vidstyle.sinks import VideoFileSink
from vidstyle.sources import VideoFileSource
from vidstyle.video_colors import (ARIB_STD_B67, BT470BG, BT709, BT2020_NCL, RANGE_FULL, RANGE_LIMITED,
                                   SMPTE170M, SMPTE2084, VideoColors)

BARS = np.array([(200, 40, 40), (40, 200, 40), (40, 40, 200)], np.uint8)


def colour_bars(w: int, h: int) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    for i, colour in enumerate(BARS):
        img[:, i * w // 3:(i + 1) * w // 3] = colour
    return img


def bar_centres(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    return np.stack([img[h // 2, (2 * i + 1) * w // 6] for i in range(3)]).astype(int)


def stream_tags(path):
    with av.open(str(path)) as c:
        cc = c.streams.video[0].codec_context
        return cc.colorspace, cc.color_range, cc.color_primaries, cc.color_trc


def write_bars(path, w, h, colors=None):
    sink = VideoFileSink(path, w, h, Fraction(24), Fraction(1, 24), crf=0, colors=colors)
    for i in range(2):
        sink.write(colour_bars(w, h), i)
    sink.close()
    return path


def decode_first(path, sws_matrix=None) -> np.ndarray:
    """The first frame as RGB: by the stream's own tags, or by the given swscale matrix."""
    with av.open(str(path)) as c:
        frame = next(c.decode(video=0))
        return frame.reformat(format="rgb24", src_colorspace=sws_matrix).to_ndarray()


def test_untagged_streams_are_read_as_players_read_them():
    def ctx(height, **tags):
        base = dict(height=height, colorspace=2, color_range=0, color_primaries=2, color_trc=2,
                    pix_fmt="yuv420p")
        return SimpleNamespace(**{**base, **tags})

    assert VideoColors.of_stream(ctx(1080)) == VideoColors(BT709, RANGE_LIMITED, BT709, BT709)
    assert VideoColors.of_stream(ctx(720)).matrix == BT709
    assert VideoColors.of_stream(ctx(480)) == VideoColors(SMPTE170M, RANGE_LIMITED, SMPTE170M, SMPTE170M)
    tagged = VideoColors.of_stream(ctx(1080, colorspace=BT470BG, color_primaries=BT470BG))
    assert (tagged.matrix, tagged.primaries, tagged.transfer) == (BT470BG, BT470BG, BT709)
    assert VideoColors.of_stream(ctx(480, color_range=RANGE_FULL)).range == RANGE_FULL
    assert VideoColors.of_stream(ctx(480, pix_fmt="yuvj420p")).range == RANGE_FULL


def test_hd_output_is_bt709_and_tagged_so_players_need_not_guess(tmp_path):
    path = write_bars(tmp_path / "hd.mp4", 1280, 720)
    assert stream_tags(path) == (BT709, RANGE_LIMITED, BT709, BT709)
    as_tagged = bar_centres(decode_first(path))
    assert np.abs(as_tagged - BARS).max() <= 3
    # Read with BT.601 instead, the greens move by far more: the matrix really is BT.709.
    assert np.abs(bar_centres(decode_first(path, sws_matrix=5)) - BARS).max() > 10


def test_sd_output_is_bt601_and_tagged(tmp_path):
    path = write_bars(tmp_path / "sd.mp4", 64, 48)
    assert stream_tags(path) == (SMPTE170M, RANGE_LIMITED, SMPTE170M, SMPTE170M)
    assert np.abs(bar_centres(decode_first(path)) - BARS).max() <= 3


def test_full_range_input_decodes_to_the_right_rgb(tmp_path):
    path = tmp_path / "full.mp4"
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=24)
        v.width, v.height, v.pix_fmt = 96, 48, "yuv420p"
        v.options = {"crf": "0"}
        VideoColors(SMPTE170M, RANGE_FULL, SMPTE170M, SMPTE170M).tag(v.codec_context)
        for i in range(2):
            rgb = av.VideoFrame.from_ndarray(colour_bars(96, 48), format="rgb24")
            yuv = rgb.reformat(format="yuv420p", dst_colorspace=5, dst_color_range=RANGE_FULL)
            yuv.pts = i
            out.mux(v.encode(yuv))
        out.mux(v.encode(None))
    with VideoFileSource(path) as src:
        assert src.info.colors.range == RANGE_FULL
        first = next(iter(src)).image
    assert np.abs(bar_centres(first) - BARS).max() <= 3


def test_output_keeps_the_inputs_matrix_and_tags(tmp_path):
    colors = VideoColors(BT709, RANGE_FULL, BT709, BT709)
    path = write_bars(tmp_path / "sd709.mp4", 64, 48, colors=colors)
    assert stream_tags(path) == (BT709, RANGE_LIMITED, BT709, BT709)  # range: always limited out
    with VideoFileSource(path) as src:
        assert src.info.colors == VideoColors(BT709, RANGE_LIMITED, BT709, BT709)
        assert np.abs(bar_centres(next(iter(src)).image) - BARS).max() <= 3


def test_untagged_hd_input_is_decoded_as_bt709(tmp_path):
    path = tmp_path / "untagged.mp4"
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=24)
        v.width, v.height, v.pix_fmt = 1280, 720, "yuv420p"
        v.options = {"crf": "0", "preset": "ultrafast"}
        rgb = av.VideoFrame.from_ndarray(colour_bars(1280, 720), format="rgb24")
        yuv = rgb.reformat(format="yuv420p", dst_colorspace=1, dst_color_range=RANGE_LIMITED)
        yuv.colorspace, yuv.color_range, yuv.pts = 2, 0, 0  # no tags: the player has to guess
        out.mux(v.encode(yuv))
        out.mux(v.encode(None))
    assert stream_tags(path)[0] == 2
    with VideoFileSource(path) as src:
        assert np.abs(bar_centres(next(iter(src)).image) - BARS).max() <= 3


@pytest.mark.parametrize("transfer, name", [(SMPTE2084, "PQ"), (ARIB_STD_B67, "HLG")])
def test_hdr_kept_keeps_its_tags_and_the_summary_says_it_was_not_tone_mapped(
        capsys, tmp_path, style_png, transfer, name):
    hdr = VideoColors(BT2020_NCL, RANGE_LIMITED, BT2020_NCL, transfer)
    src = write_bars(tmp_path / "hdr.mp4", 64, 48, colors=hdr)
    with av.open(str(src)) as c:
        assert VideoColors.of_stream(c.streams.video[0].codec_context).hdr == name
    code, _, err = run_cli(capsys, "convert", src, "-s", style_png, "-o", tmp_path / "out.mp4",
                           "--hdr", "keep")
    assert code == 0, err
    assert f"vidstyle: warning: {src}: HDR video ({name}) is stylized in its HDR coding, without tone" in err
    assert stream_tags(tmp_path / "out.mp4") == (BT2020_NCL, RANGE_LIMITED, BT2020_NCL, transfer)


def test_sdr_input_gets_no_hdr_warning(capsys, tmp_path, style_png):
    src = write_bars(tmp_path / "sdr.mp4", 64, 48)
    code, _, err = run_cli(capsys, "convert", src, "-s", style_png, "-o", tmp_path / "out.mp4")
    assert code == 0 and "HDR" not in err, err
