"""Temporal steadiness: carry the previous stylized frame along the video's motion.

AdaIN stylizes every frame on its own, so strokes that should stay on an object
shimmer from frame to frame ("boiling"), even on a still scene. `FlowBlend` keeps
the last output, moves it with the optical flow of the *input* frames (OpenCV's
DIS flow, computed at low resolution) and blends it into the new output where the
warp explains the input well. Where it does not (occlusions, a scene cut, fast
motion the flow misses) the new frame shows as it is, so nothing is smeared across
edges. The blend is recursive: with strength s, a frame's own stylization weighs
1 - s, the motion-compensated past s.

Plain numpy/OpenCV on the host, in frame order: 12-23 ms per 640x360 frame on two
cores (benchmarks/RESULTS.md).
"""
from __future__ import annotations

import functools

import cv2
import numpy as np

from .errors import VidstyleError

FLOW_WIDTH = 320  # pixels across the frame at which the flow is computed
TOLERANCE = 12.0  # grey levels (0..255) of input warp error at which the past is dropped
MAX_GAIN = 2.0  # at most this much contrast is given back to a detail band of the blend
DETAIL_LEVELS = 3  # pyramid bands whose contrast is restored: 1-2, 2-4 and 4-8 pixel detail


def backward_flow(gray: np.ndarray, previous_gray: np.ndarray, dis) -> np.ndarray:
    """For every pixel of `gray`, the (dx, dy) to where it was in `previous_gray`."""
    return dis.calc(gray, previous_gray, None)


@functools.lru_cache(maxsize=8)
def _pixel_grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Every pixel's (x, y), built once per frame size: a stream reuses it for every frame."""
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    xs.flags.writeable = ys.flags.writeable = False
    return xs, ys


def sample_grid(flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Absolute sampling coordinates (map_x, map_y) for cv2.remap from a displacement field."""
    xs, ys = _pixel_grid(*flow.shape[:2])
    return xs + flow[..., 0], ys + flow[..., 1]


def warp(image: np.ndarray, map_x: np.ndarray, map_y: np.ndarray) -> np.ndarray:
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def trust(gray: np.ndarray, warped_previous: np.ndarray, map_x: np.ndarray, map_y: np.ndarray,
          tolerance: float = TOLERANCE) -> np.ndarray:
    """Per-pixel weight in 0..1 for the warped past: 1 where the warped previous input
    matches this input, falling to 0 at `tolerance` grey levels of error or outside the
    previous frame. The error is blurred a little so that single noisy pixels do not
    punch holes."""
    h, w = gray.shape
    error = cv2.absdiff(gray, warped_previous).astype(np.float32)
    error = cv2.GaussianBlur(error, (5, 5), 0)
    weight = np.clip(1.0 - error / tolerance, 0.0, 1.0)
    outside = (map_x < 0) | (map_x > w - 1) | (map_y < 0) | (map_y > h - 1)
    weight[outside] = 0.0
    return weight


def warp_error(first: np.ndarray, second: np.ndarray, flow: np.ndarray, valid: np.ndarray) -> float:
    """The usual temporal-consistency measure: mean absolute difference (0..255) between
    `first` and `second` pulled back along `flow` (defined on `first`: where each of its
    pixels went), over the pixels where `valid` is true (not occluded)."""
    map_x, map_y = sample_grid(flow.astype(np.float32))
    pulled = warp(second, map_x, map_y).astype(np.float32)
    diff = np.abs(first.astype(np.float32) - pulled)
    if diff.ndim == 3:
        diff = diff.mean(axis=2)
    return float(diff[valid].mean())


class FlowBlend:
    """Steadies a stream of stylized frames; call it once per frame, in order.

    `strength` in 0..1 (0 returns every frame unchanged). The input frames may have any
    size; the flow is computed at `flow_width` pixels across and scaled to the output.
    """

    def __init__(self, strength: float = 0.5, flow_width: int = FLOW_WIDTH, tolerance: float = TOLERANCE,
                 preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM):
        if not 0.0 <= strength <= 1.0:
            raise VidstyleError(f"--steady must be between 0 and 1, not {strength:g}")
        self.strength = float(strength)
        self.flow_width = flow_width
        self.tolerance = tolerance
        self._dis = cv2.DISOpticalFlow_create(preset)
        self.reset()

    def reset(self) -> None:
        """Forget the past (a new clip, another style): the next frame shows as it is."""
        self._previous_gray: np.ndarray | None = None
        self._previous_out: np.ndarray | None = None

    def _small_gray(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        width = min(self.flow_width, w)
        height = max(8, round(h * width / w))
        gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
        return cv2.resize(gray, (width, height), interpolation=cv2.INTER_AREA)

    def __call__(self, input_rgb: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        """The steadied version of `stylized` (uint8 HxWx3), the output for `input_rgb`."""
        if self.strength == 0.0:
            return stylized
        gray = self._small_gray(input_rgb)
        previous_gray, previous_out = self._previous_gray, self._previous_out
        out = stylized
        if previous_gray is not None and previous_gray.shape == gray.shape \
                and previous_out.shape == stylized.shape:
            flow = backward_flow(gray, previous_gray, self._dis)
            map_x, map_y = sample_grid(flow)
            weight = self.strength * trust(gray, warp(previous_gray, map_x, map_y), map_x, map_y,
                                           self.tolerance)
            out = self._blend(stylized, previous_out, flow, weight)
        self._previous_gray, self._previous_out = gray, out
        return out

    @staticmethod
    def _blend(stylized: np.ndarray, previous_out: np.ndarray, flow: np.ndarray,
               weight: np.ndarray) -> np.ndarray:
        """Warp the previous output with `flow` (scaled to its size), mix it in by `weight`
        and give the mix back the new frame's contrast of detail."""
        h, w = stylized.shape[:2]
        fh, fw = flow.shape[:2]
        big = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR)
        big[..., 0] *= w / fw
        big[..., 1] *= h / fh
        warped = warp(previous_out, *sample_grid(big))
        past = cv2.resize(weight, (w, h), interpolation=cv2.INTER_LINEAR)
        mixed = cv2.blendLinear(np.ascontiguousarray(stylized), warped, 1.0 - past, past)
        return _restore_detail(mixed.astype(np.float32), stylized.astype(np.float32))


def _bands(image: np.ndarray, levels: int) -> list[np.ndarray]:
    """Laplacian pyramid: up to `levels` detail bands, finest first, then the coarse rest."""
    bands = []
    for _ in range(levels):
        h, w = image.shape[:2]
        if min(h, w) < 16:
            break
        down = cv2.pyrDown(image)
        bands.append(cv2.subtract(image, cv2.pyrUp(down, dstsize=(w, h))))
        image = down
    return bands + [image]


def _restore_detail(mixed: np.ndarray, new: np.ndarray) -> np.ndarray:
    """`mixed` with each detail band's local energy raised (never lowered) to `new`'s.

    Blending two stroke patterns that do not line up exactly lowers their contrast at every
    scale, from fine hatching to the style's large blobs: the picture looks washed out and
    the style weaker. Where the two agree (a still scene) every gain is 1, so nothing is
    sharpened over time."""
    mixed_bands, new_bands = _bands(mixed, DETAIL_LEVELS), _bands(new, DETAIL_LEVELS)
    out = mixed_bands[-1]
    for m, n in zip(reversed(mixed_bands[:-1]), reversed(new_bands[:-1])):
        h, w = m.shape[:2]
        ratio = (_energy_map(n) + 1.0) / (_energy_map(m) + 1.0)
        gain = np.clip(cv2.resize(np.sqrt(ratio), (w, h), interpolation=cv2.INTER_LINEAR), 1.0, MAX_GAIN)
        out = cv2.add(cv2.pyrUp(out, dstsize=(w, h)), cv2.multiply(m, cv2.merge([gain, gain, gain])))
    return cv2.add(out, 0.0, dtype=cv2.CV_8U)  # rounds and saturates to 0..255


def _energy_map(detail: np.ndarray) -> np.ndarray:
    """Local mean of the squared detail, summed over the colour channels, at 1/4 size
    (a smooth map: cheap there)."""
    h, w = detail.shape[:2]
    small = cv2.resize(cv2.multiply(detail, detail), (max(1, w // 4), max(1, h // 4)),
                       interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(small.sum(axis=2), (0, 0), 1.0)
