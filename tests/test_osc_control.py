"""Remote control of the webcam over OSC (`webcam --osc 9000`)."""
import logging
import socket
import threading
import time

import pytest
from pythonosc.udp_client import SimpleUDPClient

from conftest import FakeDisplay, free_port
from test_camera import make_styles
from test_cli import assert_one_line_error
import test_virtual_camera
from test_virtual_camera import webcam
from vidstyle.errors import VidstyleError
from vidstyle.live import LiveControls
from vidstyle.osc_control import OscRemote, RemoteKeys, parse_listen_address
from vidstyle.style_cache import StyleCache

fake_backend = test_virtual_camera.fake_backend  # the fixture: pyvirtualcam with a fake backend


def test_listen_addresses():
    assert parse_listen_address("9000") == ("0.0.0.0", 9000)
    assert parse_listen_address("127.0.0.1:9001") == ("127.0.0.1", 9001)
    assert parse_listen_address("[::1]:9002") == ("::1", 9002)  # (IPv6: "Name or service not known")
    for bad in ("", "osc", "0", "70000", "host:"):
        with pytest.raises(VidstyleError, match="--osc takes a port"):
            parse_listen_address(bad)


def received(remote, count, timeout=5.0):
    deadline = time.monotonic() + timeout
    while remote.received < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return remote.take()


@pytest.fixture
def remote():
    remote = OscRemote("127.0.0.1", 0)  # any free port
    yield remote
    remote.close()


def test_messages_become_actions_in_the_order_they_came(remote, caplog):
    caplog.set_level(logging.DEBUG)
    client = SimpleUDPClient("127.0.0.1", remote.port)
    client.send_message("/vidstyle/alpha", 0.25)
    client.send_message("/vidstyle/next", 1.0)  # a button pressed...
    client.send_message("/vidstyle/next", 0.0)  # ... and released: once
    client.send_message("/vidstyle/snapshot", [])  # no argument: acts
    client.send_message("/vidstyle/style", 3)
    client.send_message("/vidstyle/zoom", 2)
    client.send_message("/vidstyle/alpha", "high")
    assert received(remote, 7) == [
        ("alpha", pytest.approx(0.25)), ("key", "n"), ("key", "s"), ("style", 3),
        ("note", "OSC: unknown address /vidstyle/zoom"), ("note", "OSC: /vidstyle/alpha needs a number")]
    # python-osc logs each message on the root logger at debug level: -v leaves its lines out
    from vidstyle.cli.main import not_python_osc_chatter

    chatter = [r for r in caplog.records if "No handler matched" in r.getMessage()]
    assert chatter and not any(not_python_osc_chatter(r) for r in chatter)
    assert all(not_python_osc_chatter(r) for r in caplog.records if r not in chatter)


def test_an_osc_address_pattern_is_one_message(remote):
    """Each address mapped, a pattern (/vidstyle/*) was carried out once per address matched."""
    client = SimpleUDPClient("127.0.0.1", remote.port)
    client.send_message("/vidstyle/*", 1)
    client.send_message("/vidstyle/alpha", 0.5)
    assert received(remote, 2) == [("note", "OSC: unknown address /vidstyle/*"), ("alpha", 0.5)]
    time.sleep(0.2)
    assert remote.received == 2


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_an_ipv6_listener_takes_messages():
    remote = OscRemote("::1", 0)  # (any free port)
    try:
        assert remote.address == f"[::1]:{remote.port}"
        SimpleUDPClient("::1", remote.port).send_message("/vidstyle/alpha", 0.5)
        assert received(remote, 1) == [("alpha", 0.5)]
    finally:
        remote.close()


def test_a_port_in_use_is_one_clear_error(remote):
    with pytest.raises(VidstyleError, match=f"cannot listen for OSC on 127.0.0.1:{remote.port}"):
        OscRemote("127.0.0.1", remote.port)


def test_remote_keys_set_the_live_controls_between_frames(tmp_path, stylizer, remote):
    controls = LiveControls(StyleCache(stylizer.style_stats, tmp_path / "cache"), make_styles(tmp_path, 3))
    display = FakeDisplay(keys=[-1, -1, ord("p")])
    keys = RemoteKeys(display, remote, controls)
    client = SimpleUDPClient("127.0.0.1", remote.port)
    client.send_message("/vidstyle/style", 3)
    client.send_message("/vidstyle/alpha", 1.7)  # held to 0..1
    client.send_message("/vidstyle/mirror", 1)
    client.send_message("/vidstyle/style", 7)  # there is no seventh
    deadline = time.monotonic() + 5
    while remote.received < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert keys.show(None, []) == ord("m")  # a display key: the loop mirrors the preview
    assert controls.index == 2 and controls.alpha == 1.0
    assert not controls.messages  # what came after the key waits for the next frame
    client.send_message("/vidstyle/alpha", 0.4)
    client.send_message("/vidstyle/quit", 1)
    deadline = time.monotonic() + 5
    while remote.received < 6 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert keys.show(None, []) == ord("q") and controls.alpha == 0.4
    assert "there is no style 7 (1-3)" in controls.overlay()[-1]
    assert keys.show(None, []) == ord("p")  # a key pressed on the window still comes through
    assert keys.close == display.close  # the rest is the display's
    controls.close()


def test_keys_and_settings_take_effect_in_the_order_they_came(tmp_path, stylizer, remote):
    controls = LiveControls(StyleCache(stylizer.style_stats, tmp_path / "cache"), make_styles(tmp_path, 3))
    keys = RemoteKeys(FakeDisplay(), remote, controls)
    client = SimpleUDPClient("127.0.0.1", remote.port)
    for address, value in (("/vidstyle/next", 1), ("/vidstyle/next", 1), ("/vidstyle/style", 1.2),
                           ("/vidstyle/style", float("nan")), ("/vidstyle/alpha", float("inf"))):
        client.send_message(address, value)
    deadline = time.monotonic() + 5
    while remote.received < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    for _ in range(4):  # the live loop: a frame, then the key it got
        key = keys.show(None, [])
        if key >= 0:
            controls.on_key(key)
    assert controls.index == 0 and controls.alpha == 1.0  # next, next, then style 1 (1.2 rounded)
    assert "OSC: /vidstyle/alpha needs a number" in controls.overlay()[-1]
    controls.close()


@pytest.mark.frames(100000)  # a feed that only a message ends
def test_webcam_is_stopped_and_steered_over_osc(capsys, fake_backend, fake_camera, style_png):
    port = free_port(socket.SOCK_DGRAM)
    done = threading.Event()

    def controller():  # keeps sending until the feed has listened and stopped
        client = SimpleUDPClient("127.0.0.1", port)
        while not done.wait(0.2):
            client.send_message("/vidstyle/alpha", 0.5)
            client.send_message("/vidstyle/zoom", 2)
            client.send_message("/vidstyle/quit", 1)

    thread = threading.Thread(target=controller, daemon=True)
    thread.start()
    try:
        code, out, err = webcam(capsys, "-s", style_png, "--model", "tiny", "--size", 32, "--fps", 0,
                                "--virtual-cam", "--no-preview", "--osc", f"127.0.0.1:{port}")
    finally:
        done.set()
        thread.join()
    assert code == 0, err
    assert f"listening for OSC on 127.0.0.1:{port}" in out and "OSC messages received" in out
    # With no window, the overlay's notes are said on stderr.
    assert "vidstyle: OSC: unknown address /vidstyle/zoom" in err
    assert fake_camera[0].count < 100000


def test_webcam_refuses_an_osc_port_in_use_before_the_model_loads(capsys, monkeypatch, fake_backend,
                                                                  fake_camera, remote, style_png):
    import vidstyle.cli.webcam

    def no_model(args):
        raise AssertionError("the model loaded before the error")

    monkeypatch.setattr(vidstyle.cli.webcam, "build_stylizer", no_model)
    code, _, err = webcam(capsys, "-s", style_png, "--virtual-cam", "--no-preview",
                          "--osc", f"127.0.0.1:{remote.port}")
    assert_one_line_error(code, err, "cannot listen for OSC")
