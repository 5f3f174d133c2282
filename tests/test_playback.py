"""A video file played as a live feed (`webcam --camera FILE`): real-time pacing, looping, the CLI."""
import time

import numpy as np
import pytest

from conftest import frames_rgb, write_clip
from test_cli import assert_one_line_error
import test_virtual_camera
from test_virtual_camera import webcam
from vidstyle.errors import VidstyleError
from vidstyle.playback import MAX_LAG_S, PlaybackCapture
from vidstyle.sources import CameraSource

fake_backend = test_virtual_camera.fake_backend  # the fixture: pyvirtualcam with a fake backend


class FakeClock:
    """A clock that only moves when slept on (or moved by hand): pacing without waiting."""

    def __init__(self):
        self.now = 100.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def nearest(image, written) -> int:
    """The index of the written frame closest to a decoded one (H.264 blurs the clip's noise)."""
    return int(np.argmin([np.abs(image.astype(int) - w).mean() for w in written]))


def read_all(capture, limit=1000):
    times, images = [], []
    for _ in range(limit):
        ok, image = capture.read()
        if not ok:
            break
        times.append(capture._clock())
        images.append(image)
    return times, images


def test_frames_come_at_their_timestamps_then_the_clip_ends(tmp_path):
    clip = write_clip(tmp_path / "c.mp4", n=10, fps=25, audio=False)
    clock = FakeClock()
    capture = PlaybackCapture(clip, clock=clock, sleep=clock.sleep)
    times, images = read_all(capture)
    capture.release()
    assert len(images) == 10 and capture.finished and capture.loops == 0
    assert np.allclose(np.diff(times), 1 / 25, atol=1e-6)  # one frame time apart, from the first
    assert [nearest(img, frames_rgb(10, 64, 48)) for img in images] == list(range(10))  # in order


def test_a_looped_clip_starts_again_one_frame_time_after_its_last_frame(tmp_path):
    clip = write_clip(tmp_path / "c.mp4", n=6, fps=20, audio=False)
    clock = FakeClock()
    capture = PlaybackCapture(clip, loop=True, clock=clock, sleep=clock.sleep)
    times, images = read_all(capture, limit=20)
    assert len(images) == 20 and not capture.finished and capture.loops == 3
    capture.release()
    assert np.allclose(np.diff(times), 1 / 20, atol=1e-6)  # no jump or pause at the seams
    assert np.array_equal(images[0], images[6]) and np.array_equal(images[5], images[11])


def test_a_stall_restarts_the_clock_instead_of_racing_through_frames(tmp_path):
    clip = write_clip(tmp_path / "c.mp4", n=8, fps=10, audio=False)
    clock = FakeClock()
    capture = PlaybackCapture(clip, clock=clock, sleep=clock.sleep)
    capture.read()
    capture.read()
    clock.now += MAX_LAG_S + 1.0  # the machine stalled for a while
    capture.read()  # late: returned at once, and the clock restarts from it
    clock.slept.clear()
    capture.read()
    capture.release()
    assert clock.slept == [pytest.approx(0.1)]  # the next frame a frame time later, not at once


def test_camera_source_plays_a_clip_in_real_time_and_ends_with_it(tmp_path):
    clip = write_clip(tmp_path / "c.mp4", n=10, fps=50, audio=False)
    cam = CameraSource(PlaybackCapture(clip)).start()
    start = time.monotonic()
    frames = []
    while (frame := cam.read(timeout=5)) is not None:
        frames.append(frame)
    elapsed = time.monotonic() - start
    cam.close()
    assert cam.ended and cam.grabbed == 10
    assert elapsed >= 9 / 50 - 0.02  # paced: ten frames at 50 FPS take 0.18 s, not decode time
    assert frames[0].image.shape == (48, 64, 3)
    # RGB kept as it is, not swapped as a camera's BGR is.
    assert nearest(frames[0].image, frames_rgb(10, 64, 48)) == 0
    written = frames_rgb(1, 64, 48)[0].astype(int)
    assert np.abs(frames[0].image - written).mean() < np.abs(frames[0].image[..., ::-1] - written).mean()


def test_a_file_that_is_not_a_video_is_refused_at_once(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(VidstyleError, match="cannot read .* as a video"):
        PlaybackCapture(tmp_path / "notes.txt")
    with pytest.raises(VidstyleError, match="input not found"):
        PlaybackCapture(tmp_path / "missing.mp4")


def test_webcam_plays_a_file_to_the_virtual_camera_and_says_when_it_ended(capsys, fake_backend, tmp_path,
                                                                         style_png):
    clip = write_clip(tmp_path / "clip.mp4", n=8, w=40, h=32, fps=25)
    code, out, err = webcam(capsys, "--camera", clip, "-s", style_png, "--model", "tiny", "--size", 32,
                            "--fps", 0, "--virtual-cam", "--no-preview")
    assert code == 0, err
    sent = fake_backend.opened[0].frames
    # (the first frame sized the virtual camera and is sent too: up to all 8)
    assert 1 <= len(sent) <= 8 and sent[0].shape == (32, 40, 3) and sent[0].std() > 0
    assert "clip.mp4 ended; stopped cleanly" in out and "frames of the clip skipped" in out
    assert "unplugged" not in out


def test_a_clip_that_stops_decoding_is_an_error_not_a_clean_end(capsys, monkeypatch, fake_backend, tmp_path,
                                                                  style_png):
    clip = write_clip(tmp_path / "clip.mp4", n=8, w=40, h=32, fps=25)
    next_frame, taken = PlaybackCapture._next_frame, []

    def failing_after_three(self):
        taken.append(1)
        if len(taken) > 3:
            raise VidstyleError(f"{self.path}: decoding failed (invalid data)")
        return next_frame(self)

    monkeypatch.setattr(PlaybackCapture, "_next_frame", failing_after_three)
    code, out, err = webcam(capsys, "--camera", clip, "-s", style_png, "--model", "tiny", "--size", 32,
                            "--fps", 0, "--virtual-cam", "--no-preview")
    assert code == 1 and "stopped cleanly" not in out and " frames, " in out  # the summary still comes
    assert err.strip().splitlines()[-1] == f"vidstyle: error: the feed stopped: {clip}: decoding failed " \
                                           "(invalid data)"


@pytest.mark.parametrize("argv, message", [
    (["--camera", "{missing}"], "input not found"),
    (["--camera", "{clip}", "--capture-size", "640x480"], "--capture-size is what a camera is asked for"),
    (["--loop"], "--loop starts a video file again"),
    (["--camera", "/dev/video-vidstyle-none"], "no camera at /dev/video-vidstyle-none"),
])
def test_webcam_file_problems_are_one_line(capsys, monkeypatch, tmp_path, style_png, argv, message):
    import vidstyle.cli.webcam

    def no_model(args):
        raise AssertionError("the model loaded before the error")

    monkeypatch.setattr(vidstyle.cli.webcam, "build_stylizer", no_model)
    clip = write_clip(tmp_path / "clip.mp4", n=2, audio=False)
    argv = [a.format(missing=tmp_path / "missing.mp4", clip=clip) for a in argv]
    code, _, err = webcam(capsys, *argv, "-s", style_png, "--virtual-cam", "--no-preview")
    assert_one_line_error(code, err, message)


def test_a_negative_camera_index_is_a_usage_error(capsys, style_png):
    with pytest.raises(SystemExit) as exc:
        webcam(capsys, "--camera", "-1", "-s", style_png)
    assert exc.value.code == 2 and "expected a number >= 0, got -1" in capsys.readouterr().err


def test_a_clip_waiting_to_play_holds_after_its_first_frame_until_play(tmp_path):
    """The webcam opens the clip before the model loads (seconds on a CPU): it starts at its
    start once the feed runs, rather than that many seconds in."""
    import threading

    clip = write_clip(tmp_path / "c.mp4", n=6, audio=False)
    written = frames_rgb(6, 64, 48)
    capture = PlaybackCapture(clip, wait_to_play=True)
    try:
        ok, first = capture.read()
        assert ok and nearest(first, written) == 0
        got = []
        reader = threading.Thread(target=lambda: got.append(capture.read()))
        reader.start()
        reader.join(timeout=0.5)
        assert reader.is_alive() and not got  # held
        capture.play()
        reader.join(timeout=10)
        assert got and got[0][0] and nearest(got[0][1], written) == 1
    finally:
        capture.release()
    held = PlaybackCapture(clip, wait_to_play=True)
    held.read()
    stopper = threading.Timer(0.3, held.release)  # released while held: read() gives up
    stopper.start()
    assert held.read() == (False, None)


def test_play_starts_the_clips_clock_then_and_a_close_before_it_is_quick(tmp_path):
    """Frames due while the model loaded came in a burst (and were skipped) once played; a
    feed closed before play() (the model failed to load) waited 2 s for the grabber."""
    clip = write_clip(tmp_path / "c.mp4", n=6, audio=False)
    clock = FakeClock()
    capture = PlaybackCapture(clip, clock=clock, sleep=clock.sleep, wait_to_play=True)
    try:
        capture.read()
        clock.now += 0.3  # the model loading (under MAX_LAG_S, so no catching up by itself)
        capture.play()
        for _ in range(3):
            capture.read()
        assert clock.slept == pytest.approx([1 / 24, 1 / 24], abs=1e-3)  # paced, not a burst
    finally:
        capture.release()
    held = CameraSource(PlaybackCapture(clip, wait_to_play=True)).start()
    time.sleep(0.3)  # its grabber has the first frame and waits for play()
    started = time.perf_counter()
    held.close()
    assert time.perf_counter() - started < 1.0


def test_the_first_frame_that_sizes_the_outputs_is_shown_too(tmp_path):
    """--virtual-cam and --stream-out size themselves from the feed's first frame: a look,
    so the clip's first frame is still the first the loop stylizes."""
    clip = write_clip(tmp_path / "c.mp4", n=6, audio=False)
    written = frames_rgb(6, 64, 48)
    capture = PlaybackCapture(clip, wait_to_play=True)
    with CameraSource(capture) as camera:
        looked = camera.read(keep=True)
        capture.play()
        first = camera.read()
        assert first is looked and nearest(first.image, written) == 0
