"""Remote control of the live loop over OSC (Open Sound Control), the protocol VJ
software, lighting desks and tablet controllers (TouchOSC, Open Stage Control,
Resolume, Max, QLab) speak.

Messages arrive on a UDP server thread and are queued; the frame loop carries
them out between frames (`RemoteKeys`), so the live controls are only ever
changed by one thread. Addresses (all under /vidstyle):

    /style N     style number N (1 = the first, as the overlay counts)
    /next /prev  the next or previous style
    /alpha A     content-style trade-off, 0..1 (a fader)
    /style_size N  the styles taken at shorter side N pixels, 64..2048 (how busy the texture is)
    /color /mirror /fullscreen /overlay /snapshot /record /quit
                 what the keys c, m, f, h, s, r and q do

Buttons send 1 when pressed and 0 when released: a 0 (or False) is ignored, so a
press acts once. An argument-less message acts too.
"""
from __future__ import annotations

import collections
import math
import threading
from typing import Any

import numpy as np

from .errors import VidstyleError

PREFIX = "/vidstyle/"
KEYS = {"next": "n", "prev": "p", "color": "c", "mirror": "m", "fullscreen": "f", "overlay": "h",
        "snapshot": "s", "record": "r", "quit": "q"}
ADDRESSES = ("style", "alpha", "style_size", *KEYS)


def parse_listen_address(text: str) -> tuple[str, int]:
    """'9000' -> ('0.0.0.0', 9000) (every network interface); '127.0.0.1:9000' -> as given;
    an IPv6 host in brackets: '[::1]:9000' -> ('::1', 9000)."""
    host, _, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not 0 < number < 65536:
        raise VidstyleError(f"--osc takes a port (9000) or HOST:PORT (127.0.0.1:9000), got {text!r}")
    return host or "0.0.0.0", number


def _host_port(host: str, port: int) -> str:
    """'host:port', an IPv6 host in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class ActionQueue:
    """Actions from a remote control, queued on its thread and taken by the frame loop in
    order: ("key", char), ("style", number from 1), ("alpha", value) or ("note", text) for
    a message that could not be used. `received` counts the messages."""

    def __init__(self):
        self._actions: collections.deque = collections.deque(maxlen=256)
        self.received = 0

    def take(self) -> list:
        """The actions received since the last call, oldest first."""
        out = []
        while self._actions:
            out.append(self._actions.popleft())
        return out


class OscRemote(ActionQueue):
    """A UDP server for /vidstyle/... messages, queued as actions (ActionQueue)."""

    def __init__(self, host: str = "0.0.0.0", port: int = 9000):
        from pythonosc.dispatcher import Dispatcher
        from pythonosc.osc_server import BlockingOSCUDPServer

        super().__init__()
        dispatcher = Dispatcher()
        # (one handler for all: python-osc calls every mapped address an OSC pattern matches)
        dispatcher.set_default_handler(self._on_message)
        try:
            # One thread for all messages: they are queued in the order they came.
            self._server = BlockingOSCUDPServer((host, port), dispatcher)
        except OSError as exc:
            raise VidstyleError(f"cannot listen for OSC on {_host_port(host, port)}: "
                                f"{exc.strerror or exc}") from None
        self.host, self.port = host, self._server.server_address[1]
        self.address = _host_port(host, self.port)  # (for messages)
        self._thread = threading.Thread(target=self._server.serve_forever, name="vidstyle-osc", daemon=True)
        self._thread.start()

    def _on_message(self, address: str, *args: Any) -> None:
        self.received += 1
        name = address[len(PREFIX):] if address.startswith(PREFIX) else None
        if name not in ADDRESSES:
            self._actions.append(("note", f"OSC: unknown address {address}"))
            return
        if name in KEYS:
            if not args or _pressed(args[0]):
                self._actions.append(("key", KEYS[name]))
            return
        value = args[0] if args else None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self._actions.append(("note", f"OSC: {address} needs a number"))
            return
        self._actions.append((name, value))

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _pressed(value) -> bool:
    """A button's press (1, True, any non-zero number, a string) rather than its release (0)."""
    return not isinstance(value, (bool, int, float)) or bool(value)


class RemoteKeys:
    """The live loop's display, with OSC messages turned into the keys and settings they
    stand for: `show()` applies queued style and alpha settings to `controls`
    (vidstyle.live.LiveControls) and, when no key was pressed, returns the next queued
    key. Everything else goes to the display as it is."""

    def __init__(self, display, remote: OscRemote, controls):
        self._display, self._remote, self._controls = display, remote, controls
        self._pending: collections.deque = collections.deque()

    def show(self, rgb: np.ndarray, overlay: list[str]) -> int:
        self._pending.extend(self._remote.take())
        key = self._display.show(rgb, overlay)
        # In the order they came: settings up to the first key; that key goes to the loop
        # (one per frame, as a key press would) unless one was pressed on the window, and
        # what came after it waits for the next frame.
        while self._pending:
            kind, value = self._pending[0]
            if kind == "key":
                if key < 0:
                    self._pending.popleft()
                    key = ord(value)
                break
            self._pending.popleft()
            if kind == "style":
                self._controls.select(round(value) - 1)
            elif kind == "alpha":
                self._controls.set_alpha(float(value))
            elif kind == "style_size":
                self._controls.set_style_size(float(value))
            else:
                self._controls.messages.append(value)
        return key

    def __getattr__(self, name):  # toggle_mirror, toggle_fullscreen, toggle_overlay, close
        return getattr(self._display, name)
