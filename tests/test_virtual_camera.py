"""--virtual-cam: the live feed sent through pyvirtualcam, here to a fake backend."""
import platform
import sys

import numpy as np
import pytest

from conftest import FakeCapture, FakeDisplay
from vidstyle.errors import VidstyleError
from vidstyle.live import Displays, run_live
from vidstyle.sources import CameraSource
from vidstyle.virtual_camera import VirtualCamera

pyvirtualcam = pytest.importorskip("pyvirtualcam")


class FakeBackend:
    """A pyvirtualcam backend (its documented interface) that keeps what it was sent."""

    opened: list = []
    on_send = None  # a test's hook, called with the frame count before each frame

    def __init__(self, *, width, height, fps, fourcc, device, **kw):
        if device == "/dev/busy":
            raise RuntimeError("Device /dev/busy is busy.")
        self.width, self.height, self.fps, self.name = width, height, fps, device or "/dev/video7"
        self.frames, self.closed = [], False
        FakeBackend.opened.append(self)

    def send(self, frame):
        if FakeBackend.on_send:
            FakeBackend.on_send(len(self.frames))
        self.frames.append(frame.reshape(self.height, self.width, 3).copy())

    def device(self):
        return self.name

    def native_fourcc(self):
        return None

    def close(self):
        self.closed = True


@pytest.fixture
def fake_backend(monkeypatch):
    """pyvirtualcam with our fake as its only backend (no v4l2loopback or OBS needed)."""
    import pyvirtualcam.camera

    monkeypatch.setattr(pyvirtualcam.camera, "BACKENDS", {"fake": FakeBackend})
    monkeypatch.setattr(FakeBackend, "opened", [])
    monkeypatch.setattr(FakeBackend, "on_send", None)
    return FakeBackend


def test_frames_arrive_as_sent_and_odd_sizes_lose_a_column(fake_backend):
    cam = VirtualCamera(41, 30, fps=15)
    assert (cam.width, cam.height, cam.device) == (40, 30, "/dev/video7")
    backend = fake_backend.opened[0]
    assert (backend.width, backend.height, backend.fps) == (40, 30, 15)
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (30, 41, 3), dtype=np.uint8)
    assert cam.show(frame, ["12.0 FPS"]) == -1
    np.testing.assert_array_equal(backend.frames[0], frame[:, :40])  # RGB order kept, no overlay drawn
    cam.show(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8), [])  # the camera changed size
    assert backend.frames[1].shape == (30, 40, 3) and cam.frames_sent == 2
    cam.close()
    assert backend.closed


def test_a_device_that_cannot_open_is_one_clear_error(fake_backend):
    with pytest.raises(VidstyleError) as exc:
        VirtualCamera(64, 48, device="/dev/busy")
    message = str(exc.value)
    assert "cannot open virtual camera /dev/busy (" in message and "busy" in message
    assert "\n" not in message


@pytest.mark.skipif(platform.system() != "Linux", reason="the v4l2loopback backend is Linux's")
def test_the_real_backend_says_how_to_set_up_v4l2loopback():
    with pytest.raises(VidstyleError) as exc:
        VirtualCamera(64, 48, device="/dev/vidstyle-no-such-device")
    assert "does not exist" in str(exc.value) and "modprobe v4l2loopback" in str(exc.value)


def test_missing_pyvirtualcam_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyvirtualcam", None)  # import fails as if not installed
    with pytest.raises(VidstyleError, match="pip install pyvirtualcam"):
        VirtualCamera(64, 48)


def test_live_loop_feeds_preview_and_virtual_camera_the_same_frames(fake_backend, stylizer):
    from test_camera import stylizer_target

    virtual, preview = VirtualCamera(40, 32), FakeDisplay(keys=[-1] * 5 + [ord("q")])
    target = stylizer_target(stylizer)
    with CameraSource(FakeCapture()) as camera:
        run_live(camera, stylizer, lambda frames: target, Displays(preview, virtual), warmup_frames=1)
    sent = fake_backend.opened[0].frames
    assert len(sent) == len(preview.shown) == 6  # the preview's q stopped both
    for shown, got in zip(preview.shown, sent):
        np.testing.assert_array_equal(shown, got)


def test_ctrl_c_stops_the_loop_with_its_numbers(stylizer):
    from test_camera import stylizer_target

    class InterruptedDisplay(FakeDisplay):
        def show(self, rgb, overlay):
            if len(self.shown) == 6:
                raise KeyboardInterrupt
            return super().show(rgb, overlay)

    target = stylizer_target(stylizer)
    with CameraSource(FakeCapture()) as camera:
        stats = run_live(camera, stylizer, lambda frames: target, InterruptedDisplay(), warmup_frames=1)
    assert stats.interrupted and stats.frames == 5 and stats.fps > 0


def webcam(capsys, *argv):
    from test_cli import run  # the CLI tests' runner: (exit code, stdout, stderr)

    return run(capsys, "webcam", *argv)


def test_without_a_window_the_notes_go_to_stderr_from_the_first(capsys, fake_backend, fake_camera, tmp_path,
                                                                  style_png):
    """A broken first image of a style folder is noted while the controls are built: that note
    was lost (the echo was set after)."""
    import shutil

    folder = tmp_path / "styles"
    folder.mkdir()
    (folder / "a_broken.png").write_text("not a picture")
    shutil.copy(style_png, folder / "b.png")
    code, out, err = webcam(capsys, "-s", folder, "--model", "tiny", "--size", 32, "--fps", 0,
                            "--virtual-cam", "--no-preview")
    assert code == 0, err
    assert "vidstyle: cannot use a_broken.png" in err


def test_webcam_with_no_window_streams_to_the_virtual_camera(capsys, fake_backend, fake_camera, style_png):
    code, out, err = webcam(capsys, "-s", style_png, "--model", "tiny", "--size", 32, "--fps", 0,
                            "--virtual-cam", "--no-preview")
    assert code == 0, err
    sent = fake_backend.opened[0].frames
    assert 1 <= len(sent) <= 11 and sent[0].shape == (32, 40, 3)  # the first frame only sized it
    assert sent[0].std() > 0  # a picture, not a blank frame
    assert "virtual camera /dev/video7: 40x32; Ctrl-C stops" in out
    assert f"{len(sent)} frames sent to virtual camera /dev/video7" in out
    assert "camera stopped sending frames" in out and fake_backend.opened[0].closed
    assert fake_camera[0].released


def test_webcam_virtual_cam_problems_are_one_line_before_the_model_loads(capsys, monkeypatch, fake_camera,
                                                                         style_png):
    import vidstyle.cli.webcam

    def no_model(args):
        raise AssertionError("the model loaded before the error")

    monkeypatch.setattr(vidstyle.cli.webcam, "build_stylizer", no_model)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code, _, err = webcam(capsys, "-s", style_png, "--no-preview")
    assert code != 0 and err.count("\n") == 1 and "--no-preview needs --virtual-cam" in err
    code, _, err = webcam(capsys, "-s", style_png, "--virtual-cam")
    assert code != 0 and err.count("\n") == 1 and "no display" in err and "--no-preview runs without" in err
    monkeypatch.setitem(sys.modules, "pyvirtualcam", None)
    code, _, err = webcam(capsys, "-s", style_png, "--virtual-cam", "--no-preview")
    assert code != 0 and err.count("\n") == 1 and "pip install pyvirtualcam" in err
    assert len(fake_camera) == 2 and all(c.released for c in fake_camera)  # the first error needs none


@pytest.mark.frames(3000)  # more than the test needs: only Ctrl-C ends it
def test_ctrl_c_stops_a_windowless_feed_with_its_summary(capsys, fake_backend, fake_camera, style_png):
    def interrupt(sent):
        if sent == 4:
            raise KeyboardInterrupt

    fake_backend.on_send = staticmethod(interrupt)
    code, out, err = webcam(capsys, "-s", style_png, "--model", "tiny", "--size", 32, "--fps", 0,
                            "--virtual-cam", "--no-preview")
    assert code == 0, err
    assert "stopped (Ctrl-C)" in out and "4 frames sent to virtual camera" in out
    assert fake_backend.opened[0].closed and fake_camera[0].released


@pytest.mark.frames(3000)
def test_a_virtual_camera_failing_mid_stream_is_one_error_line(capsys, fake_backend, fake_camera, style_png):
    def fail(sent):
        if sent == 2:
            raise RuntimeError("write failed")

    fake_backend.on_send = staticmethod(fail)
    code, _, err = webcam(capsys, "-s", style_png, "--model", "tiny", "--size", 32, "--fps", 0,
                          "--virtual-cam", "--no-preview")
    assert code != 0 and err.count("\n") == 1
    assert "virtual camera /dev/video7 stopped taking frames (write failed)" in err
    assert fake_backend.opened[0].closed and fake_camera[0].released
