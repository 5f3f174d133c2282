"""HDR (PQ, HLG) video tone-mapped to SDR BT.709: the curves, the frames and the command."""
from types import SimpleNamespace

import av
import numpy as np
import pytest

from test_cli import run as run_cli
from test_video_colors import stream_tags
from vidstyle.sources import VideoFileSource
from vidstyle.tone_map import (SDR_WHITE_NITS, ToneMapper, bt2390_eetf, hlg_to_scene_light, max_content_light,
                               nits_to_pq, pq_to_nits, rgb_to_rgb_matrix)
from vidstyle.video_colors import ARIB_STD_B67, BT709, BT2020_NCL, RANGE_LIMITED, SDR_BT709, SMPTE2084


def sdr_code(nits: float) -> float:
    """The 8-bit BT.1886 code of SDR light (SDR white = 203 nits)."""
    return 255 * (nits / SDR_WHITE_NITS) ** (1 / 2.4)


def grey16(signal: float, shape=(2, 2)) -> np.ndarray:
    return np.full((*shape, 3), round(signal * 65535), np.uint16)


def write_hdr(path, rgb_signal: np.ndarray, transfer: int, frames=2):
    """A 10-bit BT.2020 clip whose RGB signal (0..1, the transfer's coding) is given."""
    h, w = rgb_signal.shape[:2]
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=10)  # (10-bit libx265 corrupts the heap in PyAV 18.1)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p10le"
        s.options = {"crf": "0"}
        cc = s.codec_context
        cc.colorspace, cc.color_primaries, cc.color_trc, cc.color_range = (BT2020_NCL, BT2020_NCL,
                                                                           transfer, RANGE_LIMITED)
        rgb16 = np.round(rgb_signal * 65535).astype(np.uint16)
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(rgb16, format="rgb48le").reformat(
                format="yuv420p10le", dst_colorspace=9, dst_color_range=RANGE_LIMITED)
            frame.pts = i
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def test_pq_curves_round_trip_and_hit_their_reference_points():
    nits = np.array([0.01, 1, 100, 203, 1000, 10000])
    assert np.allclose(pq_to_nits(nits_to_pq(nits)), nits, rtol=1e-6)
    assert nits_to_pq(10000) == pytest.approx(1.0)
    assert nits_to_pq(100) == pytest.approx(0.508, abs=1e-3)  # BT.2100's table
    assert hlg_to_scene_light(np.array([0.5, 1.0])) == pytest.approx([1 / 12, 1.0], abs=1e-6)


def test_bt2390_keeps_light_below_its_knee_and_rolls_highlights_off_to_the_target():
    levels = np.linspace(0, 1000, 2001)
    out = bt2390_eetf(levels, 1000, SDR_WHITE_NITS)
    assert np.all(np.diff(out) >= 0)  # brighter stays brighter
    assert out.max() == pytest.approx(SDR_WHITE_NITS, rel=1e-3) and out[-1] <= SDR_WHITE_NITS
    assert np.allclose(out[levels <= 80], levels[levels <= 80])  # shadows and mid-tones untouched
    assert out[levels == 500][0] < out[-1] - 2  # highlights below the peak stay apart from white
    assert np.allclose(bt2390_eetf(levels, 150, SDR_WHITE_NITS), levels.clip(max=203))  # nothing to compress


def test_gamut_matrices_keep_white_and_bt2020_takes_bt2087s_coefficients():
    assert np.allclose(rgb_to_rgb_matrix(BT709), np.eye(3))
    to709 = rgb_to_rgb_matrix(BT2020_NCL)
    assert np.allclose(to709.sum(axis=1), 1)  # white stays white
    assert np.allclose(to709[0], [1.6605, -0.5876, -0.0728], atol=2e-3)


def test_pq_greys_map_to_the_sdr_codes_of_their_light():
    tm = ToneMapper(SMPTE2084)
    for nits, expected in ((0, 0), (20, sdr_code(20)), (60, sdr_code(60)), (1000, 255)):
        code = tm(grey16(float(nits_to_pq(nits))))
        assert np.all(np.abs(code.astype(int) - expected) <= 1), (nits, code[0, 0], expected)
    # Reference white comes out bright but below white; 500 nits between it and white.
    white, bright = tm(grey16(float(nits_to_pq(203))))[0, 0, 0], tm(grey16(float(nits_to_pq(500))))[0, 0, 0]
    assert 215 < white < bright < 255


def test_hlg_reference_white_comes_out_as_pq_reference_white_does():
    hlg, pq = ToneMapper(ARIB_STD_B67), ToneMapper(SMPTE2084)
    hlg_white = hlg(grey16(0.75))  # BT.2408: HLG's 75% signal is 203 nits on a 1,000 nit display
    assert np.abs(hlg_white.astype(int) - pq(grey16(float(nits_to_pq(203)))).astype(int)).max() <= 2


def test_a_saturated_bt2020_red_stays_red_and_hue_holds_in_highlights():
    tm = ToneMapper(SMPTE2084)
    red = np.zeros((1, 1, 3))
    red[..., 0] = nits_to_pq(150)
    r, g, b = tm(np.round(red * 65535).astype(np.uint16))[0, 0].astype(int)
    assert r > 150 and g == 0 and b == 0  # BT.2020 red lies outside BT.709: clipped, not shifted to pink
    orange = np.array([300.0, 150, 40])  # nits, BT.2020: a highlight over the curve's knee
    out = tm(np.round(nits_to_pq(orange) * 65535).astype(np.uint16)[None, None])[0, 0]
    light = (out / 255) ** 2.4
    expected = rgb_to_rgb_matrix(BT2020_NCL) @ orange
    assert light[0] < 1 and light[0] < expected[0] / SDR_WHITE_NITS  # rolled off, not clipped
    # All three channels scaled by one gain: their ratios (the hue) hold.
    assert light[1:] / light[0] == pytest.approx(expected[1:] / expected[0], rel=0.06)


def test_a_higher_peak_keeps_more_headroom():
    one_k, four_k = ToneMapper(SMPTE2084, peak_nits=1000), ToneMapper(SMPTE2084, peak_nits=4000)
    grey = grey16(float(nits_to_pq(1000)))
    assert one_k(grey)[0, 0, 0] == 255 and four_k(grey)[0, 0, 0] < 253
    with pytest.raises(ValueError):
        ToneMapper(BT709)


def test_hdr_video_frames_are_tone_mapped_by_default_and_kept_on_request(tmp_path):
    src = write_hdr(tmp_path / "pq.mp4", np.full((32, 48, 3), nits_to_pq(60)), SMPTE2084)
    with VideoFileSource(src) as source:
        assert source.tone_maps and source.frame_colors == SDR_BT709
        frames = [f.image for f in source]
    assert len(frames) == 2 and frames[0].dtype == np.uint8
    assert np.abs(frames[0].astype(int) - sdr_code(60)).max() <= 3
    assert source.peak_nits == 1000  # x264 writes no MaxCLL: PQ's default peak
    with VideoFileSource(src, hdr="keep") as source:
        assert not source.tone_maps and source.frame_colors.hdr == "PQ"
        kept = next(iter(source)).image
    assert np.abs(kept.astype(int) - 255 * nits_to_pq(60)).max() <= 3  # the PQ code itself
    with pytest.raises(Exception, match="hdr must be one of sdr, keep"):
        VideoFileSource(src, hdr="tonemap")


class SideData:
    def __init__(self, kind, payload: bytes):
        self.type, self._payload = kind, payload

    def __bytes__(self):
        return self._payload


def test_maxcll_is_read_from_the_frames_content_light_metadata():
    # (A real file with MaxCLL needs 10-bit libx265, which corrupts the heap in PyAV 18.1's
    # wheels; checked by hand: its 4000 nits were read back.)
    kinds = av.sidedata.sidedata.Type
    light = np.array([4000, 400], np.uint32).tobytes()  # AVContentLightMetadata: MaxCLL, MaxFALL
    frame = SimpleNamespace(side_data=[SideData(kinds.SEI_UNREGISTERED, b"x264"),
                                       SideData(kinds.CONTENT_LIGHT_LEVEL, light)])
    assert max_content_light(frame) == 4000
    assert max_content_light(SimpleNamespace(side_data=[])) is None
    zero = SimpleNamespace(side_data=[SideData(kinds.CONTENT_LIGHT_LEVEL, bytes(8))])
    assert max_content_light(zero) is None  # an unset MaxCLL: the default peak


def test_convert_tone_maps_hdr_to_tagged_sdr_and_says_so(capsys, tmp_path, style_png):
    src = write_hdr(tmp_path / "hlg.mp4", np.full((48, 64, 3), 0.5), ARIB_STD_B67)
    out = tmp_path / "out.mp4"
    code, text, err = run_cli(capsys, "convert", src, "-s", style_png, "-o", out)
    assert code == 0, err
    assert "tone-mapped from HLG (1000 nits) to SDR" in text and "HDR" not in err
    assert stream_tags(out) == (BT709, RANGE_LIMITED, BT709, BT709)
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.pix_fmt == "yuv420p"


@pytest.mark.parametrize("as_mapping", [True, False])
def test_max_content_light_is_read_from_either_pyav_side_data_shape(as_mapping):
    """PyAV 18.1.1 gives a frame's side data as a mapping by type, 18.1.0 as a list."""
    import sys

    kind = av.sidedata.sidedata.Type.CONTENT_LIGHT_LEVEL

    class Entry:
        type = kind

        def __bytes__(self):  # AVContentLightMetadata: MaxCLL, MaxFALL (unsigned ints)
            return (1000).to_bytes(4, sys.byteorder) + (400).to_bytes(4, sys.byteorder)

    frame = SimpleNamespace(side_data={kind: Entry()} if as_mapping else [Entry()])
    assert max_content_light(frame) == 1000.0
    assert max_content_light(SimpleNamespace(side_data={} if as_mapping else [])) is None
