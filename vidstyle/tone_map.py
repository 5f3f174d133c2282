"""HDR (PQ, HLG) frames tone-mapped to SDR BT.709, so a painting's colours mean the same.

The style image is an SDR picture; an HDR frame stylized in its own coding comes out
with colours that match neither. So HDR frames, decoded at 16 bits per channel, go to
display light in nits (PQ's EOTF; HLG's inverse OETF and its OOTF at 1,000 nits), to
BT.709 primaries (negative, out-of-gamut parts clipped), through the BT.2390 EETF
down to SDR reference white (203 nits, BT.2408), and to 8-bit BT.1886 code values.

The EETF acts on each pixel's largest channel and scales all three by the same
factor, so hues hold and highlights roll off instead of clipping; light below its
knee (~90 nits for a 1,000 nit source) keeps its level. Math only, numpy, no IO.
"""
from __future__ import annotations

import sys

import numpy as np

from .side_data import frame_side_data
from .video_colors import ARIB_STD_B67, BT470BG, BT709, BT2020_NCL, SMPTE170M, SMPTE2084

HDR_MODES = ("sdr", "keep")  # what becomes of HDR video: tone-mapped to SDR, or kept in its coding
SDR_WHITE_NITS = 203.0  # BT.2408's HDR reference white, shown as SDR white
HLG_PEAK_NITS = 1000.0  # HLG's nominal display peak (BT.2100), which fixes its OOTF gamma at 1.2
DEFAULT_PQ_PEAK_NITS = 1000.0  # PQ files that do not say their brightest pixel (MaxCLL)
MIN_PEAK_NITS = 250  # a MaxCLL below this is taken as a mistake (the default peak is used)
_SCALE_STEPS = 4096  # the EETF's gain table over 0..peak nits (the gain is 1 below the knee)
_DISPLAY_GAMMA = 2.4  # BT.1886: how SDR displays turn code values into light

# PQ (SMPTE ST 2084) constants.
_M1, _M2 = 2610 / 16384, 2523 / 4096 * 128
_C1, _C2, _C3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
# HLG (ARIB STD-B67, BT.2100) constants.
_HLG_A = 0.17883277
_HLG_B = 1 - 4 * _HLG_A
_HLG_C = 0.5 - _HLG_A * np.log(4 * _HLG_A)

# CIE xy of the red, green and blue primaries and of white, per AVColorPrimaries code.
_D65 = (0.3127, 0.3290)
_PRIMARIES = {
    BT709: ((0.640, 0.330), (0.300, 0.600), (0.150, 0.060), _D65),
    BT470BG: ((0.640, 0.330), (0.290, 0.600), (0.150, 0.060), _D65),
    SMPTE170M: ((0.630, 0.340), (0.310, 0.595), (0.155, 0.070), _D65),
    BT2020_NCL: ((0.708, 0.292), (0.170, 0.797), (0.131, 0.046), _D65),
    12: ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060), _D65),  # SMPTE EG 432 (Display P3)
}


def pq_to_nits(signal: np.ndarray) -> np.ndarray:
    """PQ's EOTF: signal 0..1 -> display light in nits (0..10,000)."""
    p = np.power(np.clip(signal, 0, 1), 1 / _M2)
    return 10000 * np.power(np.maximum(p - _C1, 0) / (_C2 - _C3 * p), 1 / _M1)


def nits_to_pq(nits: np.ndarray) -> np.ndarray:
    """PQ's inverse EOTF: nits -> signal 0..1."""
    y = np.power(np.clip(np.asarray(nits, dtype=np.float64) / 10000, 0, 1), _M1)
    return np.power((_C1 + _C2 * y) / (1 + _C3 * y), _M2)


def hlg_to_scene_light(signal: np.ndarray) -> np.ndarray:
    """HLG's inverse OETF: signal 0..1 -> scene light 0..1."""
    e = np.clip(signal, 0, 1)
    low = e * e / 3
    high = (np.exp((np.maximum(e, 0.5) - _HLG_C) / _HLG_A) + _HLG_B) / 12
    return np.where(e <= 0.5, low, high)


def rgb_to_rgb_matrix(source: int, target: int = BT709) -> np.ndarray:
    """The 3x3 matrix taking linear RGB in `source` primaries to `target` primaries
    (unknown primaries are taken as BT.2020, which HDR video uses)."""
    return np.linalg.inv(_rgb_to_xyz(target)) @ _rgb_to_xyz(source)


def _rgb_to_xyz(primaries: int) -> np.ndarray:
    red, green, blue, white = _PRIMARIES.get(primaries, _PRIMARIES[BT2020_NCL])
    xyz = np.array([[x / y, 1.0, (1 - x - y) / y] for x, y in (red, green, blue)]).T
    wx, wy = white
    scale = np.linalg.solve(xyz, np.array([wx / wy, 1.0, (1 - wx - wy) / wy]))
    return xyz * scale


def bt2390_eetf(nits: np.ndarray, source_peak: float, target_peak: float) -> np.ndarray:
    """BT.2390's EETF: display light up to `source_peak` nits rolled off to at most
    `target_peak`, in PQ space; unchanged below its knee."""
    nits = np.asarray(nits, dtype=np.float64)
    if source_peak <= target_peak:
        return np.minimum(nits, target_peak)
    peak_pq = nits_to_pq(source_peak)
    e1 = np.minimum(nits_to_pq(nits) / peak_pq, 1)
    max_lum = nits_to_pq(target_peak) / peak_pq
    knee = 1.5 * max_lum - 0.5
    t = np.clip((e1 - knee) / (1 - knee), 0, 1)
    spline = ((2 * t**3 - 3 * t**2 + 1) * knee + (t**3 - 2 * t**2 + t) * (1 - knee)
              + (-2 * t**3 + 3 * t**2) * max_lum)
    e2 = np.where(e1 < knee, e1, spline)
    return np.minimum(pq_to_nits(e2 * peak_pq), target_peak)


class ToneMapper:
    """Turns 16-bit RGB frames of an HDR stream into 8-bit SDR BT.709 RGB frames.

    `transfer` is the stream's AVColorTransferCharacteristic (PQ or HLG), `primaries`
    its AVColorPrimaries; `peak_nits` the brightest light to keep apart from white
    (PQ: the file's MaxCLL where it has one; HLG: its nominal 1,000 nits).
    """

    def __init__(self, transfer: int, primaries: int = BT2020_NCL, peak_nits: float | None = None):
        if transfer not in (SMPTE2084, ARIB_STD_B67):
            raise ValueError(f"not an HDR transfer: {transfer}")
        self.transfer = transfer
        self.peak_nits = float(peak_nits or (HLG_PEAK_NITS if transfer == ARIB_STD_B67 else
                                             DEFAULT_PQ_PEAK_NITS))
        codes = np.arange(65536, dtype=np.float64) / 65535
        # 16-bit code -> linear light (nits for PQ; scene light 0..1 for HLG, whose OOTF
        # needs all three channels).
        linear = pq_to_nits(codes) if transfer == SMPTE2084 else hlg_to_scene_light(codes)
        self._to_linear = linear.astype(np.float32)
        self._gamut = rgb_to_rgb_matrix(primaries).T.astype(np.float32)
        self._luma = _rgb_to_xyz(primaries)[1].astype(np.float32)  # luminance: XYZ's Y row
        # The EETF as a gain on the largest channel, tabled over 0..peak nits.
        levels = np.linspace(0, self.peak_nits, _SCALE_STEPS)
        mapped = bt2390_eetf(levels, self.peak_nits, SDR_WHITE_NITS)
        gain = np.divide(mapped, levels, out=np.ones_like(levels), where=levels > 0) / SDR_WHITE_NITS
        self._gain = gain.astype(np.float32)
        self._gain_index_scale = np.float32((_SCALE_STEPS - 1) / self.peak_nits)
        # SDR light 0..1 -> 8-bit code, finely enough tabled for the darks.
        code = 255 * np.power(np.linspace(0, 1, 65536), 1 / _DISPLAY_GAMMA)
        self._to_code = np.round(code).astype(np.uint8)

    def __call__(self, rgb16: np.ndarray) -> np.ndarray:
        """HxWx3 uint16 HDR code values -> HxWx3 uint8 SDR BT.709 code values."""
        light = self._to_linear[rgb16]  # HxWx3 float32
        if self.transfer == ARIB_STD_B67:  # the OOTF: scene light -> nits, gamma on luminance
            luma = light @ self._luma
            light *= (HLG_PEAK_NITS * np.power(np.maximum(luma, 1e-6), 0.2))[..., None]
        light = light @ self._gamut
        np.maximum(light, 0, out=light)  # out of BT.709's gamut: clipped
        # (numpy's max over a last axis of 3 ran 10x slower than two np.maximum calls.)
        brightest = np.maximum(np.maximum(light[..., 0], light[..., 1]), light[..., 2])
        index = np.minimum(brightest * self._gain_index_scale, _SCALE_STEPS - 1).astype(np.int32)
        # Above the peak the last gain leaves the light over 1: clipped to white below.
        np.multiply(light, self._gain[index][..., None], out=light)
        np.minimum(light, 1, out=light)
        light *= 65535
        light += 0.5
        return self._to_code[light.astype(np.int32)]


def max_content_light(frame) -> float | None:
    """The MaxCLL (brightest pixel, nits) a decoded frame's HDR metadata gives, if any."""
    side_data = frame_side_data(frame, "CONTENT_LIGHT_LEVEL")
    if side_data is None:
        return None
    max_cll = int.from_bytes(side_data[:4], sys.byteorder)  # AVContentLightMetadata.MaxCLL
    return float(max_cll) if MIN_PEAK_NITS <= max_cll <= 10000 else None
