"""--steady: the previous output carried along the motion and blended into the next."""
import time

import cv2
import numpy as np
import pytest
import torch

from conftest import FakeDisplay, write_clip
from vidstyle.errors import VidstyleError
from vidstyle.pipeline import convert_video
from vidstyle.sources import CameraSource
from vidstyle.stylizer import Target
from vidstyle.temporal import FlowBlend, warp_error


def texture(h=96, w=128, seed=0, contrast=1.0) -> np.ndarray:
    """A smooth random RGB pattern: something optical flow can follow."""
    rng = np.random.default_rng(seed)
    smooth = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (0, 0), 2.5)
    return np.clip((smooth.astype(np.float32) - 128) * contrast + 128, 0, 255).astype(np.uint8)


def detail(image: np.ndarray) -> float:
    x = image.astype(np.float32)
    return float(np.abs(x - cv2.GaussianBlur(x, (0, 0), 2)).mean())


def shimmer(image: np.ndarray, rng, amount=12) -> np.ndarray:
    """A stand-in for a stylization that boils: the image plus fresh noise every frame."""
    return np.clip(image + rng.normal(0, amount, image.shape), 0, 255).astype(np.uint8)


def shift_flow(h, w, dx) -> np.ndarray:
    """Forward flow of a scene moving dx pixels to the right per frame."""
    flow = np.zeros((h, w, 2), np.float32)
    flow[..., 0] = dx
    return flow


def test_off_and_first_frame_pass_through_unchanged():
    frame = texture()
    off = FlowBlend(0.0)
    out = frame[::-1].copy()
    assert off(frame, out) is out
    assert np.array_equal(FlowBlend(0.7)(frame, out), out)


@pytest.mark.parametrize("strength", [-0.1, 1.5])
def test_strength_outside_0_to_1_is_refused(strength):
    with pytest.raises(VidstyleError, match="between 0 and 1"):
        FlowBlend(strength)


def test_warp_error_is_zero_along_the_true_motion():
    scene = texture(96, 160)
    a, b = scene[:, 8:136], scene[:, 5:133]  # the picture moves 3 px to the right
    valid = np.zeros(a.shape[:2], bool)
    valid[:, 8:-8] = True
    assert warp_error(a, b, shift_flow(96, 128, 3.0), valid) < 0.5
    assert warp_error(a, b, shift_flow(96, 128, 0.0), valid) > 5


def test_moving_scene_shimmers_less_and_stays_true_to_each_frame():
    scene, rng = texture(96, 200), np.random.default_rng(1)
    inputs = [np.ascontiguousarray(scene[:, 60 - 2 * t:188 - 2 * t]) for t in range(12)]
    stylized = [shimmer(x, rng) for x in inputs]
    blend = FlowBlend(0.7)
    steady = [blend(x, s) for x, s in zip(inputs, stylized)]
    valid = np.zeros((96, 128), bool)
    valid[8:-8, 8:-16] = True
    flow = shift_flow(96, 128, 2.0)
    raw_error = np.mean([warp_error(stylized[t], stylized[t + 1], flow, valid) for t in range(4, 11)])
    steady_error = np.mean([warp_error(steady[t], steady[t + 1], flow, valid) for t in range(4, 11)])
    assert steady_error < 0.6 * raw_error
    # Closer to the noise-free picture than each frame's own output, not dragged elsewhere.
    assert np.abs(steady[-1][8:-8, 8:-16].astype(float) - inputs[-1][8:-8, 8:-16]).mean() < \
        np.abs(stylized[-1][8:-8, 8:-16].astype(float) - inputs[-1][8:-8, 8:-16]).mean()


def test_still_scene_keeps_its_fine_detail_frame_after_frame():
    # Blending two stroke patterns lowers their contrast; the restored detail must match the
    # new frame's, with no sharpening that builds up over a long still shot.
    scene, rng = texture(), np.random.default_rng(2)
    stylized = [shimmer(scene, rng, amount=6) for _ in range(40)]
    blend = FlowBlend(0.7)
    steady = [blend(scene, s) for s in stylized]
    assert 0.85 < detail(steady[-1]) / np.mean([detail(s) for s in stylized]) < 1.15
    flicker = lambda frames: np.mean([np.abs(frames[i].astype(float) - frames[i - 1]).mean()  # noqa: E731
                                      for i in range(20, 40)])
    assert flicker(steady) < 0.5 * flicker(stylized)


def test_a_scene_cut_shows_the_new_frame_as_it_is():
    blend = FlowBlend(0.9)
    first, second = texture(seed=3, contrast=6), texture(seed=4, contrast=6)
    before = blend(first, shimmer(first, np.random.default_rng(0)))
    out_for_cut = texture(seed=5, contrast=6)
    out = blend(second, out_for_cut)
    # The flow finds a few chance matches between two random textures; 0.9 of the past
    # everywhere would put the cut frame ~0.9 of the way back to the old picture.
    moved = np.abs(out.astype(int) - out_for_cut).mean()
    assert moved < 0.1 * np.abs(before.astype(int) - out_for_cut).mean()


def test_output_size_may_differ_from_the_input_size():
    blend = FlowBlend(0.5)
    small, big = texture(48, 64), cv2.resize(texture(48, 64), (128, 96))
    for _ in range(3):
        out = blend(small, big)
    assert out.shape == big.shape and np.abs(out.astype(int) - big).mean() < 2


def test_convert_with_steady_keeps_every_frame_and_is_steadier(tmp_path, trained_stylizer):
    clip = tmp_path / "in.mp4"
    write_clip(clip, n=12, w=64, h=48)
    style = torch.rand(3, 48, 48, generator=torch.Generator().manual_seed(0))
    target = Target(trained_stylizer.style_stats(style))
    import av

    outputs = {}
    for steady in (0.0, 0.8):
        out = tmp_path / f"s{steady}.mp4"
        report = convert_video(clip, out, trained_stylizer, target, crf=0, steady=steady, workers=2)
        assert report.frames == 12 and len(report.steady_times) == (12 if steady else 0)
        with av.open(str(out)) as c:
            outputs[steady] = np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])
    assert outputs[0.0].shape == outputs[0.8].shape == (12, 48, 64, 3)
    assert not np.array_equal(outputs[0.0][1:], outputs[0.8][1:])
    change = {k: np.abs(np.diff(v.astype(float), axis=0)).mean() for k, v in outputs.items()}
    assert change[0.8] < change[0.0]


class StillCapture:
    """A camera looking at a still scene: the same frame, with sensor noise."""

    def __init__(self):
        self.rng, self.scene = np.random.default_rng(0), texture(48, 64)

    def read(self):
        time.sleep(0.005)
        return True, shimmer(self.scene, self.rng, amount=3)

    def release(self):
        pass


class ShimmeringStylizer:
    """Returns each frame with fresh noise, as a boiling stylization would."""

    device, compiled, work_size = torch.device("cpu"), False, None

    def __init__(self):
        self.rng = np.random.default_rng(1)

    def stylize_frames(self, batch, target, size=None):
        return np.stack([shimmer(frame, self.rng) for frame in batch])


@pytest.mark.parametrize("steady", [0.0, 0.8])
def test_webcam_with_steady_shimmers_less(steady, monkeypatch):
    from vidstyle import live

    monkeypatch.setattr(live, "tunes_threads", lambda stylizer: False)
    display = FakeDisplay()
    with CameraSource(StillCapture()) as camera:
        stats = live.run_live(camera, ShimmeringStylizer(), lambda frames: None, display,
                              max_frames=25, warmup_frames=1, steady=steady)
    assert stats.frames == 24 and len(display.shown) == 25
    change = np.mean([np.abs(display.shown[i].astype(float) - display.shown[i - 1]).mean()
                      for i in range(10, 25)])
    # The stylizer adds noise of sigma 12 (mean change ~13.5 between frames) on top of the camera's.
    assert (change < 7) if steady else (change > 11)
