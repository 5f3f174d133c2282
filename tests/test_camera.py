"""The webcam path with a fake capture device and a fake display."""
import threading
import time

import numpy as np
import pytest
import torch

from conftest import FakeCapture, FakeDisplay
from vidstyle.adain import StyleStats
from vidstyle.errors import VidstyleError
from vidstyle.live import LiveControls, LiveRecorder, run_live
from vidstyle.sources import CameraSource
from vidstyle.style_cache import StyleCache
from vidstyle.stylizer import Target


def test_camera_source_keeps_only_the_newest_frame():
    cam = CameraSource(FakeCapture(fps=1000)).start()
    try:
        first = cam.read()
        time.sleep(0.1)  # a slow consumer: many frames arrive meanwhile
        newest = cam.read()
        assert first is not None and newest is not None
        assert cam.dropped > 10
        assert newest.image[0, 0, 1] != first.image[0, 0, 1]
        assert newest.image[0, 0, 2] == 255  # BGR -> RGB
    finally:
        cam.close()


def test_camera_unplugged_mid_stream_stops_cleanly(stylizer):
    target = stylizer_target(stylizer)
    # A first call sets the model up (slow on a loaded machine): not while the camera runs.
    stylizer.stylize_frames(np.zeros((1, 32, 40, 3), np.uint8), target)
    cap = FakeCapture(fps=30, unplug_after=30)
    cam = CameraSource(cap, max_failures=3).start()
    stats = run_live(cam, stylizer, lambda frames: target, FakeDisplay(), warmup_frames=1)
    cam.close()
    assert stats.ended_by_camera
    assert 1 <= stats.frames <= 30


def stylizer_target(stylizer):
    from vidstyle.stylizer import Target

    return Target(stylizer.style_stats(torch.rand(3, 32, 32)))


def test_live_loop_stylizes_reports_fps_and_quits_on_q(stylizer):
    cam = CameraSource(FakeCapture()).start()
    display = FakeDisplay(keys=[-1] * 6 + [ord("q")])
    target = stylizer_target(stylizer)
    stats = run_live(cam, stylizer, lambda frames: target, display, warmup_frames=2)
    cam.close()
    assert len(display.shown) == 7
    assert display.shown[0].shape == (32, 40, 3)
    assert stats.frames == 5 and stats.fps > 0
    assert stats.latency_ms(50) > 0
    assert "FPS" in display.overlays[-1][0]


class SlowIdentityStylizer:
    """Returns each frame as it is after a random delay, noting which thread ran it."""

    device, compiled, work_size = torch.device("cpu"), False, None

    def __init__(self):
        self.rng = np.random.default_rng(0)
        self.threads = set()

    def stylize_frames(self, batch, target, size=None):
        self.threads.add(threading.current_thread().name)
        time.sleep(self.rng.uniform(0.001, 0.02))
        return batch.copy()


def test_two_live_workers_show_frames_in_the_order_they_were_grabbed():
    cam = CameraSource(FakeCapture()).start()  # 200 FPS: frame numbers stay below 256
    display, fake = FakeDisplay(), SlowIdentityStylizer()
    stats = run_live(cam, fake, lambda frames: None, display, warmup_frames=2, max_frames=20, workers=2)
    cam.close()
    numbers = [int(img[0, 0, 1]) for img in display.shown]
    assert len(numbers) == 20 and stats.frames == 18
    assert numbers == sorted(numbers) and len(set(numbers)) == 20  # in grab order, none twice
    assert len(fake.threads) == 2


class PixelCostStylizer:
    """Takes time in proportion to the pixels it works on, as a frame model does."""

    device, compiled = torch.device("cpu"), False

    def __init__(self, seconds_at_240=0.05):
        self.work_size, self.seconds_at_240 = None, seconds_at_240

    def stylize_frames(self, batch, target, size=None):
        side = min(batch.shape[1:3])
        work = min(side, self.work_size or side)
        time.sleep(self.seconds_at_240 * (work / 240) ** 2)
        return batch.copy()


def test_live_fps_lowers_the_working_size_until_the_model_keeps_up():
    cam = CameraSource(FakeCapture(w=320, h=240)).start()
    display, fake = FakeDisplay(), PixelCostStylizer(seconds_at_240=0.05)  # 20 FPS at full size
    stats = run_live(cam, fake, lambda frames: None, display, warmup_frames=2, max_frames=60, fps=40)
    cam.close()
    assert stats.work_sizes[0] == 240
    # 40 FPS needs half the pixels: a shorter side of ~170
    assert 150 <= stats.work_sizes[-1] <= 190
    assert all(img.shape == (240, 320, 3) for img in display.shown)  # frames keep their size
    assert any("model at" in line for line in display.overlays[-1])
    assert fake.work_size is None  # the stylizer is given back as it came


class SlowDisplay(FakeDisplay):
    def show(self, rgb, overlay):
        time.sleep(0.010)  # drawing, the overlay, a recording: the loop's own work
        return super().show(rgb, overlay)


def test_live_fps_budgets_the_loops_own_work_too():
    cam = CameraSource(FakeCapture(w=320, h=240)).start()
    fake = PixelCostStylizer(seconds_at_240=0.05)
    stats = run_live(cam, fake, lambda frames: None, SlowDisplay(), warmup_frames=2, max_frames=60, fps=40)
    cam.close()
    # 25 ms a frame, 10 of them drawing: the model gets ~15 ms, a shorter side of ~130
    # (~170 if the model had the whole 25 ms)
    assert 100 <= stats.work_sizes[-1] <= 150  # low end: slack for sleeps that overrun on a busy CI
    assert len(stats.shown_at) == 60 and stats.recent_fps(20) > 0


def test_without_fps_the_working_size_is_left_alone():
    cam = CameraSource(FakeCapture(w=320, h=240)).start()
    fake = PixelCostStylizer(seconds_at_240=0.01)
    stats = run_live(cam, fake, lambda frames: None, FakeDisplay(), warmup_frames=2, max_frames=10)
    cam.close()
    assert stats.work_sizes == [] and fake.work_size is None


def make_styles(tmp_path, n=3):
    from PIL import Image

    paths = []
    for i in range(n):
        img = np.random.default_rng(i).integers(0, 256, (24, 24, 3), dtype=np.uint8)
        p = tmp_path / f"style{i}.png"
        Image.fromarray(img).save(p)
        paths.append(p)
    return paths


def style_folder(tmp_path, n=3):
    """A folder of `n` style images (make_styles), for the webcam's style switching."""
    folder = tmp_path / "styles"
    folder.mkdir()
    make_styles(folder, n=n)
    return folder


def snapshot_and_record(controls, folder, frames: int) -> list:
    """Press s after a frame, then r, `frames` frames, r; close. The recordings in `folder`."""
    frame = np.zeros((32, 40, 3), np.uint8)
    controls.on_frame(frame)
    controls.on_key(ord("s"))
    assert len(controls.snapshots) == 1 and controls.snapshots[0].exists()
    controls.on_key(ord("r"))
    for _ in range(frames):
        controls.on_frame(frame)
    controls.on_key(ord("r"))
    controls.close()  # the recording is finished in the background: wait for it
    return list(folder.glob("*.mp4"))


def test_live_controls_switch_style_alpha_snapshot_and_record(tmp_path, stylizer):
    cache = StyleCache(stylizer.style_stats, tmp_path / "cache")
    styles = make_styles(tmp_path)
    controls = LiveControls(cache, styles, alpha=1.0, snapshot_dir=tmp_path / "shots",
                            recorder_factory=lambda: LiveRecorder(tmp_path / "rec", rate=30))
    controls._worker.join(timeout=30)
    first = controls.target()
    controls.on_key(ord("n"))
    second = controls.target()
    assert not torch.equal(first.stats.mean, second.stats.mean)
    assert controls.overlay()[0].startswith("2/3 style1")
    controls.on_key(ord("p"))
    controls.on_key(ord("p"))
    assert controls.index == 2
    controls.on_key(ord("-"))
    controls.on_key(ord("-"))
    assert controls.target().alpha == pytest.approx(0.8)
    for _ in range(20):
        controls.on_key(ord("+"))
    assert controls.target().alpha == 1.0
    recordings = snapshot_and_record(controls, tmp_path / "rec", frames=5)
    assert controls.messages[-1].startswith("saved vidstyle-")
    assert len(recordings) == 1
    import av

    with av.open(str(recordings[0])) as c:
        assert sum(1 for _ in c.decode(video=0)) == 5
    assert cache.computed == 3


def test_number_keys_pick_a_style_and_a_transition_fades_it_in(tmp_path, stylizer):
    now = [0.0]
    cache = StyleCache(stylizer.style_stats, tmp_path / "cache")
    controls = LiveControls(cache, make_styles(tmp_path), transition=1.0, clock=lambda: now[0])
    controls._worker.join(timeout=30)
    s0, s1, s2 = (cache.stats_for_path(p) for p in controls.styles)
    assert controls.target().stats is s0
    controls.on_key(ord("9"))  # there is no ninth style: nothing happens
    assert controls.index == 0
    controls.on_key(ord("3"))
    assert controls.index == 2
    assert torch.equal(controls.target().stats.mean, s0.mean)  # the fade starts where the screen was
    now[0] = 0.25
    quarter = controls.target().stats
    torch.testing.assert_close(quarter.mean, 0.75 * s0.mean + 0.25 * s2.mean)
    torch.testing.assert_close(quarter.std, 0.75 * s0.std + 0.25 * s2.std)
    controls.on_key(ord("2"))  # switched again mid-fade: from the mix on screen to style 2
    now[0] = 0.75
    torch.testing.assert_close(controls.target().stats.mean, quarter.mean)
    now[0] = 1.25
    torch.testing.assert_close(controls.target().stats.mean, 0.5 * quarter.mean + 0.5 * s1.mean)
    now[0] = 1.76
    assert controls.target().stats is s1
    cut = LiveControls(cache, controls.styles)  # the default: a cut
    cut._worker.join(timeout=30)
    cut.target()
    cut.on_key(ord("2"))
    assert cut.target().stats is s1


def test_switching_to_an_uncached_style_does_not_block(tmp_path, stylizer):
    release = threading.Event()

    class SlowCache:
        style_size = None

        def __init__(self):
            self.calls = 0

        def stats_for_path(self, path):
            self.calls += 1
            if self.calls > 1:
                release.wait(10)
            return stylizer_target(stylizer).stats

    controls = LiveControls(SlowCache(), make_styles(tmp_path, 2))
    controls.on_key(ord("n"))
    t0 = time.perf_counter()
    target = controls.target()  # style 1 still loading: keeps style 0, immediately
    assert time.perf_counter() - t0 < 0.5
    assert "loading" in " ".join(controls.overlay())
    release.set()
    controls._worker.join(timeout=10)
    assert controls.target().stats is not target.stats  # now style 1


def test_camera_that_raises_ends_the_loop_cleanly(stylizer):
    class Exploding(FakeCapture):
        def read(self):
            if self.count >= 5:
                raise RuntimeError("device vanished")
            return super().read()

    cam = CameraSource(Exploding(fps=30)).start()
    target = stylizer_target(stylizer)
    stats = run_live(cam, stylizer, lambda frames: target, FakeDisplay(), warmup_frames=1)
    cam.close()
    assert stats.ended_by_camera and cam.ended
    assert isinstance(cam.error, RuntimeError)


def test_recordings_never_overwrite_each_other(tmp_path):
    frame = np.zeros((16, 16, 3), np.uint8)
    paths = []
    for _ in range(2):  # same second: the second gets _2
        rec = LiveRecorder(tmp_path, rate=30)
        rec.write(frame)
        paths.append(rec.finish())
    assert paths[0] != paths[1] and all(p.exists() for p in paths)
    assert LiveRecorder(tmp_path).finish() is None  # nothing written: nothing claimed
    with pytest.raises(VidstyleError, match="too small"):
        LiveRecorder(tmp_path / "small").write(np.zeros((1, 1, 3), np.uint8))
    assert list((tmp_path / "small").iterdir()) == []  # the claimed name is let go


def recording_window(on_tenth_frame):
    """A preview window class that presses 'r' on the third frame shown and calls
    `on_tenth_frame` (a Ctrl-C, a kill) on the tenth."""
    class Window(FakeDisplay):
        def __init__(self):
            super().__init__(keys=[-1, -1, ord("r")])

        def show(self, rgb, overlay):
            if len(self.shown) == 10:
                on_tenth_frame()
            return super().show(rgb, overlay)

    return Window


@pytest.mark.frames(3000)  # more than the test needs: Ctrl-C ends it
@pytest.mark.parametrize("signals", [["INT"], ["INT", "INT"], ["TERM"]])
def test_signals_while_a_recording_finishes(capsys, monkeypatch, request, tmp_path, fake_camera, style_png,
                                            signals):
    import signal

    import av

    import vidstyle.live
    import vidstyle.sinks
    from test_cli import run

    def ctrl_c():
        raise KeyboardInterrupt

    Window = recording_window(ctrl_c)

    real_close = vidstyle.sinks.VideoFileSink.close

    def close_with_signals(sink):  # the user presses Ctrl-C again (or kill) while the file is finished
        for name in signals:
            signal.raise_signal(getattr(signal, f"SIG{name}"))
        real_close(sink)

    monkeypatch.setattr(vidstyle.live, "PreviewWindow", Window)
    monkeypatch.setattr(vidstyle.sinks.VideoFileSink, "close", close_with_signals)
    # Ctrl-C as in a terminal, even where the suite runs in the background (nohup ignores SIGINT)
    sigint_before = signal.signal(signal.SIGINT, signal.default_int_handler)
    request.addfinalizer(lambda: signal.signal(signal.SIGINT, sigint_before))
    sigterm_before = signal.getsignal(signal.SIGTERM)
    code, out, err = run(capsys, "webcam", "-s", style_png, "--model", "tiny", "--size", 32, "--fps", 0,
                         "--save-dir", tmp_path / "rec")
    files = list((tmp_path / "rec").iterdir())
    if signals == ["INT", "INT"]:  # asked twice more to stop: the unfinished file is removed
        assert "finishing the recording; Ctrl-C again gives it up" in err
        assert code == 130 and files == []
    else:  # held back: the recording is finished and kept
        assert code == (0 if signals == ["INT"] else 143), err
        assert ("finishing the recording; Ctrl-C again gives it up" if signals == ["INT"]
                else "terminated: finishing the recording first") in err
        assert len(files) == 1 and files[0].suffix == ".mp4"
        with av.open(str(files[0])) as c:
            assert sum(1 for _ in c.decode(video=0)) >= 5
        assert " frames, " in out and f"recording: {files[0]}" in out  # the summary still comes
        if signals == ["TERM"]:
            assert "stopped (terminated)" in out and err.rstrip().endswith("error: terminated")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.getsignal(signal.SIGTERM) is sigterm_before


@pytest.mark.frames(3000)
@pytest.mark.parametrize("name, exit_code", [("SIGTERM", 143), ("SIGHUP", 129)])
def test_sigterm_during_the_feed_keeps_the_recording_and_exits_143(capsys, monkeypatch, tmp_path, fake_camera,
                                                                    style_png, request, name, exit_code):
    """SIGTERM (a service manager), SIGHUP (the terminal closed): 143 and 129."""
    import signal

    import vidstyle.live
    from test_cli import run

    signum = getattr(signal, name)
    before = signal.signal(signum, signal.SIG_DFL)  # (not ignored, as under nohup)
    request.addfinalizer(lambda: signal.signal(signum, before))
    Window = recording_window(lambda: signal.raise_signal(signum))

    monkeypatch.setattr(vidstyle.live, "PreviewWindow", Window)
    code, out, err = run(capsys, "webcam", "-s", style_png, "--model", "tiny", "--size", 32, "--fps", 0,
                         "--save-dir", tmp_path / "rec")
    assert code == exit_code and "stopped (terminated)" in out and "frames," in out
    assert [f.suffix for f in (tmp_path / "rec").iterdir()] == [".mp4"]


def test_a_recording_interrupted_while_finishing_is_gone_and_finishes_only_once(tmp_path, monkeypatch):
    import vidstyle.sinks

    rec = LiveRecorder(tmp_path, rate=30)
    rec.write(np.zeros((16, 16, 3), np.uint8))

    def interrupted(sink):
        raise KeyboardInterrupt

    monkeypatch.setattr(vidstyle.sinks.VideoFileSink, "close", interrupted)
    with pytest.raises(KeyboardInterrupt):
        rec.finish()
    assert list(tmp_path.iterdir()) == []  # no half-written file, hidden or not
    assert rec.finish() is None  # the cleanup calling it again finds nothing left to do


def slow_sink_close(monkeypatch, release: threading.Event):
    """VideoFileSink.close waits for `release` (or a cancel) first: an encoder still draining."""
    import vidstyle.sinks

    real_close = vidstyle.sinks.VideoFileSink.close

    def close(sink):
        deadline = time.monotonic() + 10  # a test that fails must not hang
        while not (release.is_set() or sink._aborted.is_set()) and time.monotonic() < deadline:
            time.sleep(0.01)
        real_close(sink)

    monkeypatch.setattr(vidstyle.sinks.VideoFileSink, "close", close)


def test_stopping_a_recording_does_not_stall_the_feed(tmp_path, stylizer, monkeypatch):
    import av

    release = threading.Event()
    slow_sink_close(monkeypatch, release)
    cache = StyleCache(stylizer.style_stats, tmp_path / "cache")
    controls = LiveControls(cache, make_styles(tmp_path, n=1),
                            recorder_factory=lambda: LiveRecorder(tmp_path / "rec", rate=30))
    frame = np.zeros((32, 40, 3), np.uint8)
    controls.on_key(ord("r"))
    for _ in range(4):
        controls.on_frame(frame)
    controls.on_key(ord("r"))  # returns while the file is still being finished
    assert controls.finishing_recordings and controls.recorder is None
    assert any(line.startswith("saving vidstyle-") for line in controls.overlay())
    controls.on_key(ord("r"))  # a new recording in the same second gets a name of its own
    controls.on_frame(frame)
    controls.on_key(ord("r"))
    release.set()
    controls.close()
    assert not controls.finishing_recordings
    assert not any(line.startswith("saving") for line in controls.overlay())
    recordings = sorted((tmp_path / "rec").iterdir())
    assert [p.suffix for p in recordings] == [".mp4", ".mp4"]  # and no hidden partial file
    with av.open(str(recordings[0])) as c:
        counts = [sum(1 for _ in c.decode(video=0))]
    with av.open(str(recordings[1])) as c:
        counts.append(sum(1 for _ in c.decode(video=0)))
    assert sorted(counts) == [1, 4]


def test_an_interrupted_close_gives_up_recordings_still_being_finished(tmp_path, stylizer, monkeypatch):
    slow_sink_close(monkeypatch, threading.Event())  # never released: only a cancel ends it
    cache = StyleCache(stylizer.style_stats, tmp_path / "cache")
    controls = LiveControls(cache, make_styles(tmp_path, n=1),
                            recorder_factory=lambda: LiveRecorder(tmp_path / "rec", rate=30))
    controls.on_key(ord("r"))
    controls.on_frame(np.zeros((32, 40, 3), np.uint8))
    controls.on_key(ord("r"))
    real_wait = LiveRecorder.wait
    calls = []

    def ctrl_c_while_waiting(recorder):  # the user gives up: Ctrl-C during close()'s wait
        calls.append(recorder)
        if len(calls) == 1:
            raise KeyboardInterrupt
        real_wait(recorder)

    monkeypatch.setattr(LiveRecorder, "wait", ctrl_c_while_waiting)
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        controls.close()
    assert time.monotonic() - t0 < 5  # the encoder was stopped, not waited for (10 s)
    assert list((tmp_path / "rec").iterdir()) == []  # neither a final nor a hidden partial file
    assert not controls.finishing_recordings


def test_a_failed_save_is_raised_at_close_after_the_others_are_saved(tmp_path, stylizer, monkeypatch):
    import vidstyle.sinks

    real_close = vidstyle.sinks.VideoFileSink.close
    closed = []

    def first_fails(sink):  # the first recording's encoder fails (a full disk, say)
        closed.append(sink)
        if len(closed) == 1:
            sink.abort()
            raise VidstyleError("encoding failed: no space left on device")
        real_close(sink)

    monkeypatch.setattr(vidstyle.sinks.VideoFileSink, "close", first_fails)
    cache = StyleCache(stylizer.style_stats, tmp_path / "cache")
    controls = LiveControls(cache, make_styles(tmp_path, n=1),
                            recorder_factory=lambda: LiveRecorder(tmp_path / "rec", rate=30))
    frame = np.zeros((32, 40, 3), np.uint8)
    for _ in range(2):  # two recordings, both stopped with r
        controls.on_key(ord("r"))
        controls.on_frame(frame)
        controls.on_key(ord("r"))
    with pytest.raises(VidstyleError, match="no space left"):
        controls.close()
    assert [p.suffix for p in (tmp_path / "rec").iterdir()] == [".mp4"]  # the healthy one is kept
    assert controls.recordings == list((tmp_path / "rec").iterdir())


@pytest.mark.frames(3000)
def test_webcam_lists_what_was_saved_and_then_the_failure(capsys, monkeypatch, tmp_path, fake_camera,
                                                           style_png):
    import vidstyle.live
    import vidstyle.sinks
    from test_cli import assert_one_line_error, run

    real_close = vidstyle.sinks.VideoFileSink.close
    closed = []

    def second_fails(sink):  # the recording still open at q hits a full disk
        closed.append(sink)
        if len(closed) == 2:
            sink.abort()
            raise VidstyleError("encoding failed: no space left on device")
        real_close(sink)

    class Window(FakeDisplay):  # r, r (saved), r (open at q), q
        def __init__(self):
            super().__init__(keys=[-1, ord("r"), -1, ord("r"), -1, ord("r"), -1, ord("q")])

    monkeypatch.setattr(vidstyle.sinks.VideoFileSink, "close", second_fails)
    monkeypatch.setattr(vidstyle.live, "PreviewWindow", Window)
    code, out, err = run(capsys, "webcam", "-s", style_png, "--model", "tiny", "--size", 32, "--fps", 0,
                         "--save-dir", tmp_path / "rec")
    assert_one_line_error(code, err, "no space left on device")
    saved = list((tmp_path / "rec").iterdir())
    assert len(saved) == 1 and f"recording: {saved[0]}" in out and "frames," in out  # the summary too


def test_a_feed_that_fails_still_says_that_its_recording_failed(capsys, monkeypatch, tmp_path, fake_camera,
                                                                  style_png):
    import vidstyle.live
    import vidstyle.sinks
    from test_cli import run

    def feed_that_breaks(camera, stylizer, target, display, on_key=None, on_frame=None, **kwargs):
        on_key(ord("r"))
        on_frame(np.zeros((32, 32, 3), np.uint8))
        raise VidstyleError("the model failed")

    def full_disk(sink):
        sink.abort()
        raise VidstyleError("encoding failed: no space left on device")

    monkeypatch.setattr(vidstyle.live, "run_live", feed_that_breaks)
    monkeypatch.setattr(vidstyle.live, "PreviewWindow", FakeDisplay)
    monkeypatch.setattr(vidstyle.sinks.VideoFileSink, "close", full_disk)
    code, out, err = run(capsys, "webcam", "-s", style_png, "--model", "tiny", "--size", 32, "--fps", 0,
                         "--save-dir", tmp_path / "rec")
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1 and len(lines) == 2 and "Traceback" not in err
    assert "no space left on device" in lines[0] and "the model failed" in lines[1]
    assert list((tmp_path / "rec").iterdir()) == []


def test_an_unwritable_save_folder_is_a_message_not_the_end_of_the_feed(tmp_path, stylizer):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    cache = StyleCache(stylizer.style_stats, tmp_path / "cache")
    controls = LiveControls(cache, make_styles(tmp_path, n=1), snapshot_dir=blocker / "shots",
                            recorder_factory=lambda: LiveRecorder(blocker / "rec", rate=30))
    controls.on_frame(np.zeros((32, 40, 3), np.uint8))
    controls.on_key(ord("r"))
    assert controls.recorder is None
    assert controls.messages[-1].startswith("cannot record: cannot create folder")
    controls.on_key(ord("s"))
    assert controls.snapshots == [] and controls.messages[-1].startswith("cannot save a snapshot")
    with pytest.raises(VidstyleError, match="cannot create folder"):  # said again at the end
        controls.close()


def test_a_recording_whose_name_was_taken_meanwhile_moves_to_the_next_one(tmp_path):
    rec = LiveRecorder(tmp_path, rate=30)
    rec.write(np.zeros((16, 16, 3), np.uint8))
    rec.path.write_bytes(b"another program's file")  # e.g. a second webcam session
    taken = rec.path
    saved = rec.finish()
    assert saved != taken and saved.name.endswith("_2.mp4") and saved.exists()
    assert taken.read_bytes() == b"another program's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([taken.name, saved.name])


@pytest.mark.frames(3000)
def test_quitting_while_a_stopped_recording_is_saved_waits_for_it(capsys, monkeypatch, tmp_path, fake_camera,
                                                                   style_png):
    import vidstyle.live
    from test_cli import run

    shown = []

    class Window(FakeDisplay):  # r on the 3rd frame, r on the 6th, then q at once
        def __init__(self):
            super().__init__(keys=[-1, -1, ord("r"), -1, -1, ord("r"), ord("q")])

        def show(self, rgb, overlay):
            shown.append(overlay)
            key = super().show(rgb, overlay)
            if key == ord("q"):
                threading.Timer(0.3, release.set).start()  # the encoder drains on after q
            return key

    release = threading.Event()
    slow_sink_close(monkeypatch, release)
    monkeypatch.setattr(vidstyle.live, "PreviewWindow", Window)
    code, out, err = run(capsys, "webcam", "-s", style_png, "--model", "tiny", "--size", 32, "--fps", 0,
                         "--save-dir", tmp_path / "rec")
    assert code == 0, err
    assert any(line.startswith("saving vidstyle-") for line in shown[-1])  # the q frame: still saving
    files = list((tmp_path / "rec").iterdir())
    assert [f.suffix for f in files] == [".mp4"] and f"recording: {files[0]}" in out


def test_a_name_whose_partial_file_exists_is_taken(tmp_path):
    from vidstyle.live import unique_path
    from vidstyle.outputs import partial_path

    partial_path(tmp_path / "rec.mp4").touch()  # a recording being finished
    assert unique_path(tmp_path, "rec", ".mp4") == tmp_path / "rec_2.mp4"


def test_a_style_folder_watch_reports_new_images_once_they_hold_still(tmp_path):
    from PIL import Image

    from vidstyle.styles import StyleFolderWatch, expand_styles

    folder = style_folder(tmp_path, n=2)
    now = [0.0]
    watch = StyleFolderWatch([folder, make_styles(tmp_path, n=1)[0]], expand_styles([folder]), every=2.0,
                             clock=lambda: now[0])
    assert watch.poll() == []
    new = folder / "sub" / "late.png"
    new.parent.mkdir()
    Image.new("RGB", (24, 24), (200, 10, 10)).save(new)
    (folder / "notes.txt").write_text("not an image")
    now[0] = 1.0
    assert watch.poll() == []  # not due yet
    now[0] = 3.0
    assert watch.poll() == []  # seen once: it may still be being copied in
    with open(new, "ab") as fh:  # it was: it grew
        fh.write(b"\0" * 10)
    now[0] = 5.0
    assert watch.poll() == []
    now[0] = 7.0
    assert watch.poll() == [new]
    now[0] = 9.0
    assert watch.poll() == []  # reported once
    shots = folder / "shots"
    shots.mkdir()
    watch = StyleFolderWatch([folder], expand_styles([folder]), ignore=[shots])
    Image.new("RGB", (24, 24)).save(shots / "vidstyle-snapshot.png")
    assert watch.scan() == [] and watch.scan() == []  # the webcam's own snapshots are no styles
    Image.new("RGB", (24, 24)).save(shots / "painting.png")  # (--save-dir is the style folder)
    assert watch.scan() == [] and watch.scan() == [shots / "painting.png"]  # another image is one
    import shutil

    shutil.rmtree(folder)
    assert watch.scan() == []  # a folder that went away is no error


def test_styles_added_to_the_folder_join_the_live_styles(tmp_path, stylizer):
    from PIL import Image

    from vidstyle.styles import StyleFolderWatch

    folder = tmp_path / "styles"
    folder.mkdir()
    styles = make_styles(folder, n=2)
    now = [0.0]
    cache = StyleCache(stylizer.style_stats, tmp_path / "cache")
    watch = StyleFolderWatch([folder], styles, every=1.0, clock=lambda: now[0])
    controls = LiveControls(cache, styles, watch=watch)
    frame = np.zeros((16, 16, 3), np.uint8)
    Image.fromarray(np.random.default_rng(5).integers(0, 256, (24, 24, 3), dtype=np.uint8)).save(
        folder / "zz_new.png")
    deadline = time.monotonic() + 30
    while len(controls.styles) < 3:  # two looks (the file held still), each in the background
        assert time.monotonic() < deadline
        now[0] += 1.0
        controls.on_frame(frame)
        time.sleep(0.01)
    assert [p.name for p in controls.styles] == ["style0.png", "style1.png", "zz_new.png"]
    assert "new style: 3 zz_new" in controls.overlay()
    controls.on_key(ord("3"))
    while controls.overlay()[0].startswith("1/3"):  # until its statistics are ready
        controls.target()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert controls.overlay()[0].startswith("3/3 zz_new")
    assert torch.equal(controls.target().stats.mean, cache.stats_for_path(folder / "zz_new.png").mean)


@pytest.mark.frames(3000)
def test_webcam_picks_up_a_style_copied_into_its_folder(capsys, monkeypatch, tmp_path, fake_camera):
    from PIL import Image

    import vidstyle.live
    import vidstyle.styles
    from test_cli import run

    folder = tmp_path / "styles"
    folder.mkdir()
    make_styles(folder, n=2)

    class Window(FakeDisplay):
        def show(self, rgb, overlay):
            if len(self.shown) == 3:
                Image.new("RGB", (24, 24), (0, 90, 200)).save(folder / "zz_added.png")
            if any("new style: 3 zz_added" in line for line in overlay):
                return ord("q")
            if len(self.shown) > 2000:
                raise AssertionError("the new style never showed up")
            return super().show(rgb, overlay)

    monkeypatch.setattr(vidstyle.styles, "WATCH_EVERY_S", 0.0)
    monkeypatch.setattr(vidstyle.live, "PreviewWindow", Window)
    code, out, err = run(capsys, "webcam", "-s", folder, "--model", "tiny", "--size", 32, "--fps", 0)
    assert code == 0, err


class FakeCv2:
    """The few cv2 calls PreviewWindow makes, recording what imshow was given."""

    FONT_HERSHEY_SIMPLEX = LINE_AA = WINDOW_NORMAL = WND_PROP_VISIBLE = 0
    WINDOW_KEEPRATIO, WND_PROP_FULLSCREEN, WINDOW_FULLSCREEN = 16, 17, 1
    error = RuntimeError

    def __init__(self):
        self.shown = []
        self.texts = []
        self.properties = []

    def namedWindow(self, *args):
        pass

    def putText(self, image, text, *args):
        self.texts.append(text)

    def getTextSize(self, text, font, scale, thickness):
        return (round(len(text) * 10 * scale), 12), 4

    def setWindowProperty(self, title, prop, value):
        self.properties.append((prop, value))

    def imshow(self, title, bgr):
        self.shown.append(bgr.copy())

    def waitKey(self, ms):
        return -1

    def getWindowProperty(self, *args):
        return 1

    def destroyWindow(self, title):
        pass


def half_dark_frame():
    """RGB, left half black: mirrored, the dark half is on the right."""
    rgb = np.full((8, 12, 3), 200, np.uint8)
    rgb[:, :6] = 0
    rgb[..., 0] = 255  # red, to see the RGB -> BGR order kept
    return rgb


def test_a_mirrored_preview_shows_the_picture_flipped_and_a_toggle_undoes_it(monkeypatch):
    import sys

    from vidstyle.live import Displays, PreviewWindow

    cv2 = FakeCv2()
    monkeypatch.setitem(sys.modules, "cv2", cv2)
    monkeypatch.setenv("DISPLAY", ":0")
    window = PreviewWindow()
    window.mirror = True
    virtual = FakeDisplay()  # a virtual camera: no toggle_mirror, keeps the camera's view
    displays = Displays(window, virtual)
    rgb = half_dark_frame()
    displays.show(rgb, [])
    displays.toggle_mirror()
    displays.show(rgb, [])
    mirrored, plain = cv2.shown
    assert mirrored[:, 6:, 1].max() == 0 and mirrored[:, :6, 1].min() == 200
    assert plain[:, :6, 1].max() == 0 and plain[:, 6:, 1].min() == 200
    assert (mirrored[..., 2] == 255).all()  # BGR for OpenCV
    assert all(np.array_equal(f, rgb) for f in virtual.shown) and not window.mirror


def test_fullscreen_and_the_overlay_toggle_in_the_preview_window(monkeypatch):
    import sys

    from vidstyle.live import Displays, PreviewWindow

    cv2 = FakeCv2()
    monkeypatch.setitem(sys.modules, "cv2", cv2)
    monkeypatch.setenv("DISPLAY", ":0")
    window = PreviewWindow()
    displays = Displays(window, FakeDisplay())  # a virtual camera has neither: left alone
    frame = np.zeros((120, 200, 3), np.uint8)
    displays.show(frame, ["12.0 FPS", "REC"])
    assert cv2.texts == ["12.0 FPS"] * 9 + ["REC"] * 9  # outlined: 8 times one pixel off, then white
    displays.toggle_overlay()
    displays.toggle_fullscreen()
    displays.show(frame, ["12.0 FPS", "REC"])
    assert len(cv2.texts) == 18 and window.fullscreen  # no text this time
    displays.toggle_fullscreen()
    assert cv2.properties == [(cv2.WND_PROP_FULLSCREEN, cv2.WINDOW_FULLSCREEN),
                              (cv2.WND_PROP_FULLSCREEN, cv2.WINDOW_NORMAL)] and not window.fullscreen


class MirrorableDisplay(FakeDisplay):
    mirror = False
    fullscreen = False
    show_overlay = True

    def toggle_mirror(self):
        self.mirror = not self.mirror

    def set_fullscreen(self, on):
        self.fullscreen = on

    def toggle_fullscreen(self):
        self.fullscreen = not self.fullscreen

    def toggle_overlay(self):
        self.show_overlay = not self.show_overlay


def test_the_m_f_and_h_keys_go_to_the_display_and_no_further():
    cam = CameraSource(FakeCapture()).start()
    display = MirrorableDisplay(keys=[-1, ord("m"), -1, ord("m"), ord("m"), ord("f"), ord("h"), ord("x"),
                                      ord("q")])
    keys = []
    try:
        run_live(cam, SlowIdentityStylizer(), lambda frames: None, display, warmup_frames=1,
                 on_key=lambda key: keys.append(key) or True)
    finally:
        cam.close()
    assert display.mirror and display.fullscreen and not display.show_overlay
    assert keys == [ord("x")]  # the controls' keys still reach them


def test_webcam_mirror_fullscreen_and_no_overlay_options(capsys, monkeypatch, fake_camera, style_png):
    import vidstyle.live
    from test_cli import run

    windows = []

    def window():
        windows.append(MirrorableDisplay(keys=[-1, -1, ord("q")]))
        return windows[-1]

    monkeypatch.setattr(vidstyle.live, "PreviewWindow", window)
    code, out, err = run(capsys, "webcam", "-s", style_png, "--model", "tiny", "--size", 32, "--fps", 0,
                         "--mirror")
    assert code == 0, err
    assert len(windows) == 1 and windows[0].mirror
    assert not windows[0].fullscreen and windows[0].show_overlay
    code, out, err = run(capsys, "webcam", "-s", style_png, "--model", "tiny", "--size", 32, "--fps", 0,
                         "--fullscreen", "--no-overlay")
    assert code == 0, err
    assert windows[-1].fullscreen and not windows[-1].show_overlay and not windows[-1].mirror
    code, out, err = run(capsys, "webcam", "-s", style_png, "--fullscreen", "--no-preview", "--virtual-cam")
    from test_cli import assert_one_line_error

    assert_one_line_error(code, err, "--fullscreen is for the preview window")


def test_a_fixed_blend_still_takes_snapshots_and_records_and_says_why_style_keys_do_nothing(tmp_path,
                                                                                             stylizer):
    cache = StyleCache(stylizer.style_stats, tmp_path / "cache")
    styles = make_styles(tmp_path, n=2)
    blend = StyleStats.combine([cache.stats_for_path(p) for p in styles], [0.7, 0.3])
    fixed_target = Target(blend, 0.8)
    controls = LiveControls(cache, styles, alpha=0.8, snapshot_dir=tmp_path / "shots",
                            recorder_factory=lambda: LiveRecorder(tmp_path / "rec", rate=30),
                            fixed=(lambda frames: fixed_target, "a blend by --weights"))
    for key in "n3+c":
        controls.on_key(ord(key))
        assert controls.target() is fixed_target
        assert controls.messages[-1].startswith("a blend by --weights stays as given")
    assert controls.overlay()[0] == "style0 + style1  alpha 0.8"
    assert len(snapshot_and_record(controls, tmp_path / "rec", frames=3)) == 1


@pytest.mark.frames(3000)  # more than the test needs: q ends it
def test_webcam_with_a_weighted_blend_records_and_snapshots(capsys, monkeypatch, tmp_path, fake_camera,
                                                           style_png):
    import vidstyle.live
    from test_cli import run

    other = make_styles(tmp_path, n=1)[0]

    class Window(FakeDisplay):  # n (does nothing: a fixed blend), s, r, r, q
        def __init__(self):
            super().__init__(keys=[-1, ord("n"), ord("s"), ord("r"), -1, -1, ord("r"), -1, ord("q")])

    monkeypatch.setattr(vidstyle.live, "PreviewWindow", Window)
    code, out, err = run(capsys, "webcam", "-s", style_png, "-s", other, "--weights", 0.6, 0.4,
                         "--model", "tiny", "--size", 32, "--fps", 0, "--save-dir", tmp_path / "rec")
    assert code == 0, err
    saved = sorted(p.suffix for p in (tmp_path / "rec").glob("*"))
    assert saved == [".mp4", ".png"], out + err


def test_cycle_brings_on_the_next_style_by_itself_and_a_hand_switch_restarts_the_wait(tmp_path, stylizer):
    now = [0.0]
    cache = StyleCache(stylizer.style_stats, tmp_path / "cache")
    controls = LiveControls(cache, make_styles(tmp_path), cycle=10.0, clock=lambda: now[0])
    frame = np.zeros((8, 8, 3), np.uint8)
    seen = []
    for t in (0.0, 9.9, 10.0, 12.0):
        now[0] = t
        controls.on_frame(frame)
        seen.append(controls.index)
    assert seen == [0, 0, 1, 1]
    controls.on_key(ord("n"))  # by hand at 12 s: the next change comes 10 s later
    for t in (12.0, 21.9, 22.0, 32.0):
        now[0] = t
        controls.on_frame(frame)
        seen.append(controls.index)
    assert seen[4:] == [2, 2, 0, 1]  # and round again from the last to the first
    controls.close()


@pytest.mark.parametrize("styles, fragment", [
    (["{0}"], "name a folder of styles"),
    (["{0}", "{1}"], "several style files (a blend) stays fixed"),
])
def test_cycle_needs_a_folder_of_styles(capsys, monkeypatch, tmp_path, fake_camera, styles, fragment):
    import vidstyle.cli.webcam
    from test_cli import assert_one_line_error, run

    monkeypatch.setattr(vidstyle.cli.webcam, "build_stylizer", lambda args: pytest.fail("model loaded"))
    paths = make_styles(tmp_path, 2)
    argv = [a for s in styles for a in ("-s", s.format(*paths))]
    code, _, err = run(capsys, "webcam", *argv, "--cycle", "5")
    assert_one_line_error(code, err, fragment)


@pytest.mark.frames(100000)
def test_webcam_cycles_through_a_style_folder(capsys, monkeypatch, tmp_path, fake_camera):
    import vidstyle.live
    from test_cli import run

    folder = style_folder(tmp_path)

    class Window(FakeDisplay):
        def show(self, rgb, overlay):
            super().show(rgb, overlay)
            seen = {o[1].split()[1] for o in self.overlays if len(o) > 1 and "/3 " in o[1]}
            if len(seen) == 3:
                return ord("q")
            if len(self.shown) > 3000:
                raise AssertionError(f"the styles shown were only {seen}")
            return -1

    monkeypatch.setattr(vidstyle.live, "PreviewWindow", Window)
    code, out, err = run(capsys, "webcam", "-s", folder, "--model", "tiny", "--size", 32, "--fps", 0,
                         "--cycle", "0.05")
    assert code == 0, err



def test_close_waits_for_the_styles_and_colours_being_encoded(tmp_path):
    """A thread still inside torch when Python exits aborts the process (exit 134,
    "terminate called without an active exception": seen under Xvfb quitting with q while
    a folder's styles or the colour-kept statistics were being encoded)."""
    from PIL import Image

    styles = []
    for i in range(4):
        styles.append(tmp_path / f"s{i}.png")
        noise = np.random.default_rng(i).random((40, 40, 3)) * 255
        Image.fromarray(noise.astype(np.uint8)).save(styles[-1])

    def slow_encode(image):
        time.sleep(0.3)
        return StyleStats(torch.zeros(1, 512, 1, 1), torch.ones(1, 512, 1, 1))

    cache = StyleCache(slow_encode, tmp_path / "cache")
    controls = LiveControls(cache, styles, encode=slow_encode)
    controls.on_key(ord("c"))  # colours kept: another encode in the background
    controls.target(np.zeros((1, 32, 32, 3), np.uint8))
    controls.close()  # q at once, with styles still being encoded
    busy = [t.name for t in threading.enumerate() if t.name in ("vidstyle-styles", "vidstyle-colors")]
    assert busy == []


def grey_styles(folder, n: int) -> list:
    from PIL import Image

    styles = [folder / f"s{i}.png" for i in range(n)]
    for i, path in enumerate(styles):
        Image.fromarray(np.full((40, 40, 3), 60 * i, np.uint8)).save(path)
    return styles


def slow_encode(image):
    """A style encoding that takes a while, as a large one does on a CPU."""
    time.sleep(0.5)
    return StyleStats(torch.zeros(1, 512, 1, 1), torch.ones(1, 512, 1, 1))


def test_a_ctrl_c_while_close_waits_for_the_workers_finds_the_recording_saved(tmp_path, monkeypatch):
    """The recording is finished before the style workers are waited for, so a Ctrl-C in
    that wait leaves no partial file (it left one when the workers came first)."""
    styles = grey_styles(tmp_path, 3)
    controls = LiveControls(StyleCache(slow_encode, tmp_path / "cache"), styles,
                            recorder_factory=lambda: LiveRecorder(tmp_path / "rec", rate=30))
    controls.on_key(ord("r"))
    controls.on_frame(np.zeros((32, 40, 3), np.uint8))
    real_join = threading.Thread.join

    def ctrl_c_in_the_wait(thread, timeout=None):  # the user presses Ctrl-C again
        if thread.name == "vidstyle-styles":
            raise KeyboardInterrupt
        return real_join(thread, timeout)

    monkeypatch.setattr(threading.Thread, "join", ctrl_c_in_the_wait)
    with pytest.raises(KeyboardInterrupt):
        controls.close()
    monkeypatch.undo()
    saved = [p.name for p in (tmp_path / "rec").iterdir()]
    assert len(saved) == 1 and not saved[0].startswith(".")  # the recording, finished
    controls._worker.join()


def test_ctrl_c_while_close_waits_for_a_style_still_waits_for_it(tmp_path, monkeypatch):
    """Pressed twice while quitting, Ctrl-C ended the process with a style worker inside torch:
    exit 134 instead of 130. The wait goes on, then the interruption is passed on."""
    controls = LiveControls(StyleCache(slow_encode, tmp_path / "cache"), grey_styles(tmp_path, 2))
    assert controls.preparing_styles
    real_join, presses = threading.Thread.join, []

    def ctrl_c_once(thread, timeout=None):
        if thread.name == "vidstyle-styles" and not presses:
            presses.append(1)
            raise KeyboardInterrupt
        return real_join(thread, timeout)

    monkeypatch.setattr(threading.Thread, "join", ctrl_c_once)
    with pytest.raises(KeyboardInterrupt):
        controls.close()
    assert presses and not controls.preparing_styles
    assert [t for t in threading.enumerate() if t.name == "vidstyle-styles"] == []


def test_a_style_being_encoded_stops_within_a_layer_when_the_work_is_given_up(encoder, random_decoder):
    """Quitting waited up to a minute for a 2048 px style being encoded at a knob's new size."""
    from vidstyle.errors import StyleWorkStopped
    from vidstyle.stylizer import Stylizer

    stylizer = Stylizer(random_decoder, device="cpu", encoder=encoder)  # (its own: it stays stopped)
    image = torch.rand(3, 64, 64)
    expected = stylizer.style_stats(image)
    assert torch.allclose(expected.mean, StyleStats.from_features(encoder(image[None])).mean, atol=1e-5)
    layers, run = stylizer._style_encoder.layers, []

    def stopped_after_three():  # the feed closing while the fourth layer is due
        for i, layer in enumerate(layers()):
            if i == 3:
                stylizer.stop_style_work()
            run.append(layer)
            yield layer

    stylizer._style_encoder.layers = stopped_after_three
    with pytest.raises(StyleWorkStopped):
        stylizer.style_stats(image)
    assert len(run) == 4 < len(list(layers()))  # (the layer it was stopped before never ran)
    stylizer._style_encoder.layers = layers
    with pytest.raises(StyleWorkStopped):  # and later ones do not start
        stylizer.style_stats(image)


def test_close_gives_up_the_style_being_encoded_instead_of_waiting(tmp_path):
    stop = threading.Event()

    def huge_encode(image):  # a style too large for this machine (5 s), stoppable between layers
        if stop.wait(5):
            from vidstyle.errors import StyleWorkStopped

            raise StyleWorkStopped
        return slow_encode(image)

    controls = LiveControls(StyleCache(slow_encode, tmp_path / "cache"), grey_styles(tmp_path, 2),
                            stop_style_work=stop.set)
    controls._worker.join()
    controls._cache._encode = huge_encode  # (the new size's cache is made with this one's encode)
    controls.set_style_size(2048)
    time.sleep(0.1)
    assert controls.preparing_styles
    t0 = time.monotonic()
    controls.close()
    assert time.monotonic() - t0 < 2 and not controls.preparing_styles
    assert not any(t.name.startswith("vidstyle-style") for t in threading.enumerate())


def test_a_broken_first_image_in_a_style_folder_is_skipped_not_fatal(tmp_path, stylizer):
    folder = tmp_path / "styles"
    folder.mkdir()
    (folder / "a_broken.jpg").write_text("not a picture")
    styles = [folder / "a_broken.jpg", *make_styles(folder, n=2)]
    controls = LiveControls(StyleCache(stylizer.style_stats, tmp_path / "cache"), styles)
    assert controls.index == 1 and controls.unusable_styles == [folder / "a_broken.jpg"]
    assert "cannot use a_broken.jpg" in controls.messages[-1]
    controls.target(np.zeros((1, 16, 16, 3), np.uint8))
    controls.close()
    (folder / "style0.png").write_text("broken too")
    (folder / "style1.png").write_text("and this")
    with pytest.raises(VidstyleError, match="a_broken.jpg"):  # none usable: the first one's error
        LiveControls(StyleCache(stylizer.style_stats, tmp_path / "cache2"), styles)


def test_overlay_lines_stay_inside_the_picture_and_keep_their_outline_under_the_letters():
    import cv2

    from vidstyle.live import draw_lines

    picture = np.full((120, 240, 3), 128, np.uint8)
    draw_lines(picture, ["alpha 0.7  size 512  colours kept (match), and more words past the edge"])
    white = np.argwhere(picture.min(axis=2) > 230)
    assert len(white) and white[:, 1].max() < 240 - 5  # cut short (with ...) before the edge
    # Each white pixel sits next to dark outline pixels (drawn thicker, the outline drifted
    # right of the letters along the line, 23 px by its end).
    dark = cv2.dilate((picture.max(axis=2) < 40).astype(np.uint8), np.ones((3, 3), np.uint8))
    assert dark[white[:, 0], white[:, 1]].mean() > 0.95


def test_overlay_notes_go_after_a_few_seconds_and_two_show_at_once():
    from vidstyle.live import Messages

    now = [0.0]
    notes = Messages(lambda: now[0])
    notes.append("there is no style 7")
    now[0] = 0.5
    notes.append("saved vidstyle-1.png")
    assert notes.current() == ["there is no style 7", "saved vidstyle-1.png"]
    assert notes[-1] == "saved vidstyle-1.png"
    now[0] = 6.2
    assert notes.current() == ["saved vidstyle-1.png"]
    now[0] = 7.0
    assert notes.current() == [] and len(notes) == 2  # (kept for the record, not shown)
