"""The live feed sent out as a network stream (`webcam --stream-out URL`), received here."""
import re
import socket
import threading
import time

import av
import numpy as np
import pytest

from conftest import free_port
from test_cli import assert_one_line_error
from test_virtual_camera import webcam
from vidstyle.errors import VidstyleError
from vidstyle.stream_out import StreamOut, stream_format


class Receiver:
    """A TCP server taking one connection and keeping all it is sent (an MPEG-TS stream)."""

    def __init__(self, tmp_path):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.url = f"tcp://127.0.0.1:{self.server.getsockname()[1]}"
        self.path = tmp_path / "received.ts"
        self.data = bytearray()
        self.thread = threading.Thread(target=self._take, daemon=True)
        self.thread.start()

    def _take(self):
        connection, _ = self.server.accept()
        with connection:
            while chunk := connection.recv(65536):
                self.data.extend(chunk)

    def frames(self):
        self.thread.join(timeout=10)
        self.server.close()
        self.path.write_bytes(bytes(self.data))
        with av.open(str(self.path)) as c:
            return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def test_frames_shown_arrive_as_a_stream_with_their_timing(tmp_path):
    receiver = Receiver(tmp_path)
    out = StreamOut(receiver.url, 64, 48, fps=25)
    for i in range(20):
        assert out.show(np.full((48, 64, 3), 10 * i, np.uint8), ["12 FPS"]) == -1
        time.sleep(0.02)
    out.close()
    frames = receiver.frames()
    assert out.frames_sent + out.dropped == 20 and len(frames) == out.frames_sent >= 10
    assert frames[0].shape == (48, 64, 3)
    assert abs(int(frames[-1].mean()) - 190) < 8  # the last frame shown is the last one sent


def test_a_busy_encoder_drops_the_oldest_frame_not_the_feed(tmp_path, monkeypatch):
    release = threading.Event()
    original = StreamOut._run

    def held_run(self):
        release.wait(10)
        original(self)

    monkeypatch.setattr(StreamOut, "_run", held_run)
    receiver = Receiver(tmp_path)
    out = StreamOut(receiver.url, 64, 48)
    t0 = time.monotonic()
    for i in range(5):
        out.show(np.full((48, 64, 3), 50 * i, np.uint8), [])
    assert time.monotonic() - t0 < 1 and out.dropped == 4  # show() never waited
    release.set()
    deadline = time.monotonic() + 10
    while out.frames_sent < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    out.close()
    frames = receiver.frames()
    assert len(frames) == 1 and abs(int(frames[0].mean()) - 200) < 8  # the newest one went out


def test_closing_sends_the_frame_a_slow_encoder_had_not_taken_up_yet(tmp_path, monkeypatch):
    original = StreamOut._run

    def slow_start(self):  # as on a loaded CPU: the encoder thread starts late
        time.sleep(0.5)
        original(self)

    monkeypatch.setattr(StreamOut, "_run", slow_start)
    receiver = Receiver(tmp_path)
    out = StreamOut(receiver.url, 64, 48)
    out.show(np.full((48, 64, 3), 120, np.uint8), [])
    out.close()
    frames = receiver.frames()
    assert out.frames_sent == 1 and len(frames) == 1 and abs(int(frames[0].mean()) - 120) < 8


def test_closing_after_the_sender_stopped_on_an_error_does_not_wait(tmp_path, monkeypatch):
    def failed_run(self):  # as when the server went away: the sender ends, a frame stays queued
        self.error = VidstyleError("streaming stopped")

    monkeypatch.setattr(StreamOut, "_run", failed_run)
    receiver = Receiver(tmp_path)
    out = StreamOut(receiver.url, 64, 48)
    out._thread.join()
    out._queue.put_nowait((np.zeros((48, 64, 3), np.uint8), 0))
    t0 = time.monotonic()
    out.close()
    assert time.monotonic() - t0 < 0.5  # (it waited 2 s for room in the queue)


def test_an_unexpected_failure_of_the_sender_is_said_as_itself_at_once(tmp_path, monkeypatch):
    import vidstyle.stream_out

    def broken_fit(*args):
        raise ValueError("bad frame shape")

    monkeypatch.setattr(vidstyle.stream_out, "fit_to", broken_fit)
    receiver = Receiver(tmp_path)
    out = StreamOut(receiver.url, 64, 48)
    out.show(np.zeros((48, 64, 3), np.uint8), [])
    out._thread.join(timeout=5)
    # (not "stalled", 10 s later)
    with pytest.raises(VidstyleError, match="failed: ValueError: bad frame shape"):
        out.show(np.zeros((48, 64, 3), np.uint8), [])
    out.close()


def test_streams_that_cannot_be_sent_to_are_one_clear_error():
    with pytest.raises(VidstyleError, match=r"cannot stream to rtmp://me:\*\*\*@127.0.0.1"):
        StreamOut(f"rtmp://me:secret@127.0.0.1:{free_port()}/live/key", 64, 48)
    with pytest.raises(VidstyleError, match="sends to rtmp://"):
        StreamOut("http://127.0.0.1/feed", 64, 48)


@pytest.mark.parametrize("url, fragment", [
    ("udp://127.0.0.1:99999", "udp://127.0.0.1:99999: the port must be a number from 1 to 65535"),  # (not 34463)
    ("udp://127.0.0.1", "udp://127.0.0.1 needs a port from 1 to 65535 (e.g. udp://127.0.0.1:5000)"),
    ("tcp://127.0.0.1:0", "needs a port"),
    ("udp://", "udp:// names no host to send to"),
    ("rtmp:///live/key", "names no host"),
    ("udp://127.0.0.1:abc", "the port must be a number"),
])
def test_a_url_without_a_host_or_a_usable_port_is_refused(url, fragment):
    with pytest.raises(VidstyleError, match=re.escape(fragment)):
        stream_format(url)


def test_urls_ffmpeg_sends_to_are_taken():
    assert stream_format("udp://127.0.0.1:5000?pkt_size=1316") == "mpegts"
    assert stream_format("tcp://[::1]:5000") == "mpegts"
    assert stream_format("tcp://:5000?listen=1") == "mpegts"  # (a server for a player to connect to)
    assert stream_format("rtmp://live.twitch.tv/app/live_123") == "flv"  # (RTMP's own port: 1935)


@pytest.mark.frames(60)  # (two or three frames of MPEG-TS were too few for PyAV to open)
def test_webcam_streams_without_a_window(capsys, fake_camera, tmp_path, style_png):
    receiver = Receiver(tmp_path)
    code, out, err = webcam(capsys, "-s", style_png, "--model", "tiny", "--size", 32, "--fps", 0,
                            "--stream-out", receiver.url, "--no-preview")
    assert code == 0, err
    assert f"streaming to {receiver.url}: 40x32 H.264" in out and "frames streamed to" in out
    frames = receiver.frames()
    assert len(frames) >= 1 and frames[0].shape == (32, 40, 3)


@pytest.mark.frames(1000)  # (the camera outlasts the stream)
def test_a_stream_that_breaks_off_ends_the_feed_with_its_summary_then_one_error(capsys, monkeypatch,
                                                                                fake_camera, tmp_path,
                                                                                style_png):
    receiver = Receiver(tmp_path)
    shown, calls = StreamOut.show, []

    def breaking_show(self, rgb, overlay):
        calls.append(1)
        if len(calls) == 2:
            raise VidstyleError(f"streaming to {self.name} stopped (Broken pipe)")
        return shown(self, rgb, overlay)

    monkeypatch.setattr(StreamOut, "show", breaking_show)
    code, out, err = webcam(capsys, "-s", style_png, "--model", "tiny", "--size", 32, "--fps", 0,
                            "--stream-out", receiver.url, "--no-preview", "--save-dir", tmp_path)
    # (the summary was left out: the frames and files saved went unsaid)
    assert "FPS (tiny model on cpu)" in out and "1 frames streamed to" in out
    assert "camera stopped sending" not in out and len(calls) == 2
    assert_one_line_error(code, err, f"streaming to {receiver.url} stopped (Broken pipe)")


@pytest.mark.parametrize("url, fragment", [
    ("http://127.0.0.1/feed", "--stream-out sends to"),
    ("tcp://127.0.0.1:{port}", "cannot stream to tcp://127.0.0.1"),
])
def test_webcam_stream_out_problems_are_one_line_before_the_model_loads(capsys, monkeypatch, fake_camera,
                                                                        style_png, url, fragment):
    import vidstyle.cli.webcam

    monkeypatch.setattr(vidstyle.cli.webcam, "build_stylizer", lambda args: pytest.fail("model loaded"))
    code, _, err = webcam(capsys, "-s", style_png, "--stream-out", url.format(port=free_port()),
                          "--no-preview")
    assert_one_line_error(code, err, fragment)


def test_a_receiver_that_stops_reading_ends_the_feed_with_one_line_and_close_does_not_hang(
        tmp_path, monkeypatch):
    import vidstyle.stream_out

    monkeypatch.setattr(vidstyle.stream_out, "STALL_S", 0.5)
    stuck = threading.Event()

    def stuck_run(self):  # a send that never returns, as on a full socket nobody reads
        self._queue.get()
        self._sending_since = time.perf_counter()
        stuck.wait(30)

    monkeypatch.setattr(StreamOut, "_run", stuck_run)
    receiver = Receiver(tmp_path)
    out = StreamOut(receiver.url, 64, 48)
    out.show(np.zeros((48, 64, 3), np.uint8), [])
    time.sleep(0.8)
    with pytest.raises(VidstyleError, match="stalled: nothing could be sent for 0.5 s"):
        out.show(np.zeros((48, 64, 3), np.uint8), [])
    t0 = time.monotonic()
    out.close()
    assert time.monotonic() - t0 < 3
    stuck.set()
