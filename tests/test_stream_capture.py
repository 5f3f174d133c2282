"""A network stream as the live feed (`webcam --camera rtsp://...`), served here over HTTP."""
import functools
import http.server
import socket
import threading
import time
from types import SimpleNamespace

import av
import numpy as np
import pytest
import torch

from conftest import free_port, write_clip
from test_cli import assert_one_line_error
import test_virtual_camera
from test_virtual_camera import webcam
from vidstyle.errors import VidstyleError
from vidstyle.sources import CameraSource, VideoFileSource
from vidstyle.stream_capture import StreamCapture, is_stream_url, redact

fake_backend = test_virtual_camera.fake_backend  # the fixture: pyvirtualcam with a fake backend
N = 10


class StallingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files; /stall/NAME sends the first half of NAME, then nothing (a sender that hangs)."""

    def do_GET(self):
        if self.path.startswith("/flaky/"):  # served, then refused twice, then served again
            self.server.flaky_requests += 1
            if self.server.flaky_requests in (2, 3):
                return self.send_error(503)
            self.path = self.path[len("/flaky"):]
        if not self.path.startswith("/stall/"):
            return super().do_GET()
        data = (self.server.folder / self.path[len("/stall/"):]).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[:len(data) // 2])
        self.wfile.flush()
        time.sleep(3)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("served")
    write_clip(folder / "clip.ts", n=N, w=40, h=32, fps=25)
    with av.open(str(folder / "sound.ts"), "w") as out:  # audio only
        a = out.add_stream("aac", rate=22050)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 22050, 0
        out.mux(a.encode(frame))
        out.mux(a.encode(None))
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(StallingHandler, directory=str(folder)))
    httpd.folder = folder
    httpd.flaky_requests = 0
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{httpd.server_address[1]}", folder=folder, httpd=httpd)
    httpd.shutdown()


def test_a_stream_gives_every_frame_it_sends_then_ends_cleanly(server):
    url, folder = server.url, server.folder
    capture = StreamCapture(f"{url}/clip.ts")
    images = []
    while (got := capture.read())[0]:
        images.append(got[1])
    capture.release()
    assert capture.finished and capture.error is None and capture.read() == (False, None)
    with VideoFileSource(folder / "clip.ts") as source:  # the same pictures as the file, decoded
        assert [np.array_equal(a, f.image) for a, f in zip(images, source)] == [True] * N
    assert len(images) == N


def test_a_sender_that_hangs_ends_the_feed_after_the_timeout(server):
    url = server.url
    capture = StreamCapture(f"{url}/stall/clip.ts", timeout=0.5)
    t0 = time.monotonic()
    while capture.read()[0]:
        pass
    assert capture.finished and capture.error and time.monotonic() - t0 < 8  # (3 s: the server's end)


def read_frames(capture, n):
    images = []
    while len(images) < n and (got := capture.read())[0]:
        images.append(got[1])
    return images


def test_a_stream_that_drops_is_opened_again_until_it_is_back(server):
    url = server.url
    capture = StreamCapture(f"{url}/flaky/clip.ts", reconnect=True, retry_s=0.05)
    first = read_frames(capture, N)
    again = read_frames(capture, N)  # the stream ended: two refused tries, then it plays again
    assert len(first) == len(again) == N and np.array_equal(first[0], again[0])
    assert capture.reconnects == 1 and not capture.reconnecting and capture.status is None
    assert server.httpd.flaky_requests == 4
    capture.release()


def test_release_stops_a_reconnecting_read_at_once(server):
    url = server.url
    capture = StreamCapture(f"{url}/clip.ts", reconnect=True, retry_s=30)
    read_frames(capture, N)
    capture.url = f"{url}/gone.ts"  # from now on every try fails (404)
    result = []
    reader = threading.Thread(target=lambda: result.append(capture.read()))
    reader.start()
    deadline = time.monotonic() + 5
    while not (capture.status or "").endswith("try 2") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "stream lost" in capture.status and capture.reconnecting  # waiting 30 s for the next try
    t0 = time.monotonic()
    capture.release()
    reader.join(timeout=5)
    assert result == [(False, None)] and time.monotonic() - t0 < 5 and capture._container is None  # not 30 s


def test_streams_that_cannot_be_opened_are_one_clear_error(server):
    url = server.url
    with pytest.raises(VidstyleError, match="cannot open the stream rtsp://me:\\*\\*\\*@127.0.0.1"):
        StreamCapture(f"rtsp://me:secret@127.0.0.1:{free_port()}/live", timeout=2)
    with pytest.raises(VidstyleError, match="has no video"):
        StreamCapture(f"{url}/sound.ts")
    # Waiting for a sender that never comes says so (FFmpeg's words: "Immediate exit requested").
    for listening in (f"tcp://127.0.0.1:{free_port()}?listen", f"udp://@:{free_port()}"):
        with pytest.raises(VidstyleError, match="no sender within 0.5 s \\(start the sender within"):
            StreamCapture(listening, timeout=0.5)


def test_stream_urls_and_their_passwords():
    assert is_stream_url("rtsp://cam/1") and is_stream_url("udp://@:1234") and is_stream_url("http://a/b")
    assert not is_stream_url("clip.mp4") and not is_stream_url("/dev/video0") and not is_stream_url(0)
    assert redact("rtsp://admin:hunter2@10.0.0.5:554/s1") == "rtsp://admin:***@10.0.0.5:554/s1"
    assert redact("http://10.0.0.5:8080/video") == "http://10.0.0.5:8080/video"
    assert redact("rtsp://admin:p@ss@cam:554/s1") == "rtsp://admin:***@cam:554/s1"  # an @ in it
    assert redact("http://cam/snap.cgi?user=me&pwd=x&res=hd") == "http://cam/snap.cgi?user=me&pwd=***&res=hd"
    assert redact("rtmp://live.twitch.tv/app/live_1234_SECRET") == "rtmp://live.twitch.tv/app/***"
    assert redact("rtmp://127.0.0.1/live") == "rtmp://127.0.0.1/live"  # an app, no key
    assert redact("rtsp://[fe80::1/stream") == "rtsp://***"  # unparsable: no traceback
    assert redact("udp://") == "udp://" and redact("rtmp:///live/key") == "rtmp:///live/***"  # (no host)


def test_camera_source_keeps_the_newest_frame_of_a_stream(server):
    url = server.url
    with CameraSource(StreamCapture(f"{url}/clip.ts")) as source:
        while not source.ended:
            time.sleep(0.01)
        assert source.grabbed == N


def test_webcam_stylizes_a_stream_and_says_when_it_ended(capsys, fake_backend, server, style_png):
    url = server.url
    code, out, err = webcam(capsys, "--camera", f"{url}/clip.ts", "-s", style_png, "--model", "tiny",
                            "--size", 32, "--fps", 0, "--virtual-cam", "--no-preview")
    assert code == 0, err
    # (The served clip can be over before the model has loaded: frames are checked below,
    # where the stream plays until stopped.)
    assert f"the stream {url}/clip.ts ended; stopped cleanly" in out and "stream frames skipped" in out


@pytest.mark.parametrize("argv, message", [
    (["--capture-size", "640x480"], "a stream comes at its sender's size"),
    (["--loop"], "--loop starts a video file again"),
])
def test_webcam_stream_options_that_do_not_apply_are_one_line(capsys, monkeypatch, server, style_png,
                                                              argv, message):
    import vidstyle.cli.webcam

    def no_model(args):
        raise AssertionError("the model loaded before the error")

    monkeypatch.setattr(vidstyle.cli.webcam, "build_stylizer", no_model)
    url = server.url
    code, _, err = webcam(capsys, "--camera", f"{url}/clip.ts", *argv, "-s", style_png, "--virtual-cam",
                          "--no-preview")
    assert_one_line_error(code, err, message)


class AwayCapture:
    """A capture that sends a few frames, then goes away and keeps trying (as a stream
    reconnecting does): its read waits until released."""

    rgb, reconnect, times_out_itself = True, True, True

    def __init__(self, frames=3):
        self.left, self.status = frames, None
        self.released = threading.Event()

    def read(self):
        if self.left:
            self.left -= 1
            time.sleep(0.01)
            return True, np.full((32, 40, 3), 50 * self.left, np.uint8)
        self.status = "stream lost (ended): reconnecting, try 2"
        self.released.wait()
        return False, None

    def release(self):
        self.released.set()


def test_the_live_loop_holds_the_last_picture_and_its_keys_while_a_stream_is_away(stylizer):
    from conftest import FakeDisplay
    from vidstyle.live import run_live
    from vidstyle.stylizer import Target

    class Display(FakeDisplay):
        def show(self, rgb, overlay):
            super().show(rgb, overlay)
            return ord("q") if sum("reconnecting" in " ".join(o) for o in self.overlays) >= 3 else -1

    display = Display()
    target = Target(stylizer.style_stats(torch.rand(3, 32, 32)))
    with CameraSource(AwayCapture()) as camera:
        stats = run_live(camera, stylizer, lambda frames: target, display, warmup_frames=1)
    assert not stats.ended_by_camera  # q ended it, not the wait
    away = ["reconnecting" in " ".join(o) for o in display.overlays]
    real = len(display.shown) - sum(away)  # the camera's frames (a slow model may skip some)
    assert 1 <= real <= 3 and away == [False] * real + [True] * 3
    assert all(rgb is display.shown[real - 1] for rgb in display.shown[real:])  # the last picture, again
    assert stats.frames == real - 1  # only the camera's frames count (after one warm-up frame)


def test_webcam_reconnects_a_stream_until_stopped(capsys, fake_backend, server, style_png):
    from pythonosc.udp_client import SimpleUDPClient
    port, done = free_port(socket.SOCK_DGRAM), threading.Event()

    def stop_later():  # the served clip ends every 10 frames; reconnecting replays it
        time.sleep(1.5)
        while not done.wait(0.2):
            SimpleUDPClient("127.0.0.1", port).send_message("/vidstyle/quit", 1)

    thread = threading.Thread(target=stop_later, daemon=True)
    thread.start()
    try:
        code, out, err = webcam(capsys, "--camera", f"{server.url}/clip.ts", "--reconnect", "-s", style_png,
                                "--model", "tiny", "--size", 32, "--fps", 0, "--virtual-cam", "--no-preview",
                                "--osc", f"127.0.0.1:{port}")
    finally:
        done.set()
        thread.join()
    assert code == 0, err
    assert "reconnected" in out and "ended; stopped cleanly" not in out
    sent = fake_backend.opened[0].frames
    assert len(sent) >= 1 and sent[0].shape == (32, 40, 3) and sent[0].std() > 0


def test_reconnect_is_for_streams(capsys, fake_backend, fake_camera, style_png):
    code, _, err = webcam(capsys, "--reconnect", "-s", style_png, "--virtual-cam", "--no-preview")
    assert_one_line_error(code, err, "--reconnect opens a network stream again")


class StallingCapture:
    """Sends two frames, is silent for 1.5 s, then says it has ended (as a stream whose own
    read timed out does)."""

    rgb, times_out_itself = True, True

    def __init__(self):
        self.sent, self.finished, self.error = 0, False, None

    def read(self):
        if self.sent < 2:
            self.sent += 1
            return True, np.full((32, 40, 3), 60, np.uint8)
        time.sleep(1.5)
        self.finished, self.error = True, "Connection timed out"
        return False, None

    def release(self):
        pass


def test_the_live_loop_waits_for_a_stream_to_time_out_by_itself(monkeypatch, stylizer):
    import vidstyle.live
    from conftest import FakeDisplay
    from vidstyle.live import run_live
    from vidstyle.stylizer import Target

    monkeypatch.setattr(vidstyle.live, "SILENT_CAMERA_S", 0.3)  # a camera's silence would end it
    display = FakeDisplay()
    target = Target(stylizer.style_stats(torch.rand(3, 32, 32)))
    with CameraSource(StallingCapture()) as camera:
        stats = run_live(camera, stylizer, lambda frames: target, display, warmup_frames=1)
    assert stats.ended_by_camera and camera._cap.error == "Connection timed out"
    said = [" ".join(o) for o in display.overlays]
    assert any("waiting for frames..." in line for line in said)  # after a second of silence
    held = next(i for i in range(1, len(said)) if display.shown[i] is display.shown[i - 1])
    assert "waiting" not in said[held]  # not at once (0.25 s in): a slow sender's gap between frames


def test_keys_work_while_a_stream_is_away_before_its_first_frame(stylizer):
    from conftest import FakeDisplay
    from vidstyle.live import run_live
    from vidstyle.stylizer import Target

    class Display(FakeDisplay):
        def show(self, rgb, overlay):
            super().show(rgb, overlay)
            return ord("q") if any("reconnecting" in line for line in overlay) else -1

    display = Display()
    target = Target(stylizer.style_stats(torch.rand(3, 32, 32)))
    with CameraSource(AwayCapture(frames=0)) as camera:
        stats = run_live(camera, stylizer, lambda frames: target, display, warmup_frames=1)
    assert not stats.ended_by_camera and stats.frames == 0  # q stopped it
    assert display.shown and not display.shown[-1].any()  # a black picture meanwhile
