"""A network stream as the live feed (`webcam --camera rtsp://...`), served here over HTTP."""
import functools
import http.server
import socket
import threading
import time

import av
import numpy as np
import pytest

from conftest import write_clip
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
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", folder
    httpd.shutdown()


def test_a_stream_gives_every_frame_it_sends_then_ends_cleanly(server):
    url, folder = server
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
    url, _ = server
    capture = StreamCapture(f"{url}/stall/clip.ts", timeout=0.5)
    t0 = time.monotonic()
    while capture.read()[0]:
        pass
    assert capture.finished and capture.error and time.monotonic() - t0 < 2.5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_streams_that_cannot_be_opened_are_one_clear_error(server):
    url, _ = server
    with pytest.raises(VidstyleError, match="cannot open the stream rtsp://me:\\*\\*\\*@127.0.0.1"):
        StreamCapture(f"rtsp://me:secret@127.0.0.1:{free_port()}/live", timeout=2)
    with pytest.raises(VidstyleError, match="has no video"):
        StreamCapture(f"{url}/sound.ts")


def test_stream_urls_and_their_passwords():
    assert is_stream_url("rtsp://cam/1") and is_stream_url("udp://@:1234") and is_stream_url("http://a/b")
    assert not is_stream_url("clip.mp4") and not is_stream_url("/dev/video0") and not is_stream_url(0)
    assert redact("rtsp://admin:hunter2@10.0.0.5:554/s1") == "rtsp://admin:***@10.0.0.5:554/s1"
    assert redact("http://10.0.0.5:8080/video") == "http://10.0.0.5:8080/video"


def test_camera_source_keeps_the_newest_frame_of_a_stream(server):
    url, _ = server
    with CameraSource(StreamCapture(f"{url}/clip.ts")) as source:
        while not source.ended:
            time.sleep(0.01)
        assert source.grabbed == N


def test_webcam_stylizes_a_stream_and_says_when_it_ended(capsys, fake_backend, server, style_png):
    url, _ = server
    code, out, err = webcam(capsys, "--camera", f"{url}/clip.ts", "-s", style_png, "--model", "tiny",
                            "--size", 32, "--fps", 0, "--virtual-cam", "--no-preview")
    assert code == 0, err
    sent = fake_backend.opened[0].frames
    assert len(sent) >= 1 and sent[0].shape == (32, 40, 3)
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
    url, _ = server
    code, _, err = webcam(capsys, "--camera", f"{url}/clip.ts", *argv, "-s", style_png, "--virtual-cam",
                          "--no-preview")
    assert_one_line_error(code, err, message)
