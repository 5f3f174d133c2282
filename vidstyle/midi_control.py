"""Remote control of the live loop from a MIDI controller (`webcam --midi`): pads, keys,
faders and knobs, the hardware VJs play.

mido (with python-rtmidi for the system's ports) is an optional dependency
(`pip install 'vidstyle[midi]'`), imported only here. Messages arrive on mido's
thread and are queued as the same actions as OSC's (vidstyle.osc_control), which
`RemoteKeys` carries out between frames. The mapping:

    a note (a pad or key)  NOTE - base_note + 1 is the style number (base 36, C1:
                           the first pad of most pad controllers)
    program change P       style P + 1 (a controller's preset buttons)
    control change CC      alpha = value / 127, for the one controller number
                           `alpha_cc` (default 1, the modulation wheel; a fader's
                           number on a mixer-style controller); for `size_cc` (if
                           given), the style size, from STYLE_SIZE_STEPS' smallest at 0
                           to its largest at 127
"""
from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

from .errors import VidstyleError
from .osc_control import ActionQueue

INSTALL_HINT = "pip install 'vidstyle[midi]' (mido and python-rtmidi)"


def actions_for(message: Any, alpha_cc: int = 1, base_note: int = 36, size_cc: int | None = None) -> list:
    """The actions (as vidstyle.osc_control.OscRemote.take gives them) one MIDI message stands for."""
    kind = getattr(message, "type", None)
    if kind == "note_on" and message.velocity > 0:  # (note_on at velocity 0 is a release)
        if message.note < base_note:
            return [("note", f"MIDI: note {message.note} is below the first style's ({base_note})")]
        return [("style", message.note - base_note + 1)]
    if kind == "program_change":
        return [("style", message.program + 1)]
    if kind == "control_change" and message.control == alpha_cc:
        return [("alpha", message.value / 127)]
    if kind == "control_change" and message.control == size_cc:
        from .style_cache import STYLE_SIZE_STEPS

        return [("style_size", STYLE_SIZE_STEPS[round(message.value / 127 * (len(STYLE_SIZE_STEPS) - 1))])]
    return []


@contextlib.contextmanager
def _c_stderr_quiet():
    """ALSA's C library prints its own line when there is no sequencer; our error says it."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # no real stderr (captured): nothing to hide
        yield
        return
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


class MidiRemote(ActionQueue):
    """A MIDI input port whose messages are queued as actions (osc_control.ActionQueue).

    `port` picks the input whose name is or contains it (None: the first one).
    """

    def __init__(self, port: str | None = None, alpha_cc: int = 1, base_note: int = 36,
                 size_cc: int | None = None):
        try:
            import mido
        except ImportError:
            raise VidstyleError(f"--midi needs the mido package: {INSTALL_HINT}") from None
        super().__init__()
        self._alpha_cc, self._base_note, self._size_cc = alpha_cc, base_note, size_cc
        try:
            with _c_stderr_quiet():
                names = mido.get_input_names()
        except ImportError:
            raise VidstyleError(f"--midi needs python-rtmidi to reach the ports: {INSTALL_HINT}") from None
        except (OSError, SystemError, RuntimeError) as exc:  # no ALSA sequencer, CoreMIDI, ...
            raise VidstyleError(f"no MIDI system to read from ({str(exc).strip() or type(exc).__name__})") \
                from None
        matching = [n for n in names if port is None or n == port] or \
            [n for n in names if port and port.lower() in n.lower()]
        if not matching:
            found = ", ".join(repr(n) for n in names) or "none"
            raise VidstyleError(f"no MIDI input {'named ' + repr(port) if port else 'found'} "
                                f"(inputs: {found}); plug the controller in, or name one with --midi NAME")
        self.name = matching[0]
        try:
            self._port = mido.open_input(self.name, callback=self._on_message)
        except (OSError, SystemError, RuntimeError) as exc:
            raise VidstyleError(f"cannot open MIDI input {self.name!r} ({exc})") from None

    def _on_message(self, message) -> None:
        self.received += 1
        self._actions.extend(actions_for(message, self._alpha_cc, self._base_note, self._size_cc))

    def close(self) -> None:
        self._port.close()
