"""A MIDI controller steering the webcam (`webcam --midi`), through a fake port."""
import pytest

from conftest import FakeDisplay
from test_camera import style_folder
from test_cli import assert_one_line_error, run
from vidstyle.errors import VidstyleError

mido = pytest.importorskip("mido")

from vidstyle.midi_control import MidiRemote, actions_for  # noqa: E402


def test_pads_program_changes_and_a_fader_map_to_styles_and_alpha():
    M = mido.Message
    assert actions_for(M("note_on", note=36, velocity=100)) == [("style", 1)]
    assert actions_for(M("note_on", note=39, velocity=1)) == [("style", 4)]
    assert actions_for(M("note_on", note=39, velocity=0)) == []  # a release
    assert actions_for(M("note_off", note=39)) == []
    assert actions_for(M("note_on", note=30, velocity=90))[0][0] == "note"  # below the first style
    assert actions_for(M("note_on", note=60, velocity=90), base_note=60) == [("style", 1)]
    assert actions_for(M("program_change", program=2)) == [("style", 3)]
    assert actions_for(M("control_change", control=1, value=127)) == [("alpha", 1.0)]
    assert actions_for(M("control_change", control=7, value=0), alpha_cc=7) == [("alpha", 0.0)]
    assert actions_for(M("control_change", control=7, value=64)) == []  # not the alpha controller
    assert actions_for(M("control_change", control=21, value=0), size_cc=21) == [("style_size", 96)]
    assert actions_for(M("control_change", control=21, value=127), size_cc=21) == [("style_size", 1024)]
    assert actions_for(M("control_change", control=21, value=91), size_cc=21) == [("style_size", 512)]
    assert actions_for(M("clock")) == []


class FakePort:
    opened = []

    def __init__(self, name, callback):
        self.name, self.callback, self.closed = name, callback, False
        FakePort.opened.append(self)

    def close(self):
        self.closed = True


@pytest.fixture
def ports(monkeypatch):
    FakePort.opened = []
    names = ["Midi Through:Midi Through Port-0 14:0", "LPD8:LPD8 MIDI 1 20:0"]
    monkeypatch.setattr(mido, "get_input_names", lambda: list(names))
    monkeypatch.setattr(mido, "open_input", lambda name, callback=None: FakePort(name, callback))
    return names


def test_a_port_is_picked_by_part_of_its_name_and_its_messages_queued(ports):
    remote = MidiRemote("lpd8", alpha_cc=1)
    assert remote.name == ports[1]
    port = FakePort.opened[0]
    for message in (mido.Message("note_on", note=37, velocity=80), mido.Message("active_sensing"),
                    mido.Message("control_change", control=1, value=0)):
        port.callback(message)
    assert remote.take() == [("style", 2), ("alpha", 0.0)] and remote.received == 3
    remote.close()
    assert port.closed
    assert MidiRemote().name == ports[0]  # none named: the first


def test_missing_ports_and_midi_systems_are_one_clear_error(ports, monkeypatch):
    with pytest.raises(VidstyleError, match="no MIDI input named 'nanoKONTROL'.*LPD8"):
        MidiRemote("nanoKONTROL")

    def no_alsa():
        raise SystemError("MidiInAlsa::initialize: error creating ALSA sequencer client object.")

    monkeypatch.setattr(mido, "get_input_names", no_alsa)
    with pytest.raises(VidstyleError, match="no MIDI system to read from"):
        MidiRemote()


@pytest.mark.frames(100000)  # a feed that only the window's q ends
def test_webcam_takes_its_style_and_alpha_from_the_controller(capsys, monkeypatch, tmp_path, fake_camera,
                                                             ports):
    import vidstyle.live

    folder = style_folder(tmp_path)

    class Window(FakeDisplay):
        def show(self, rgb, overlay):
            super().show(rgb, overlay)
            if len(self.shown) == 3:  # a pad and the fader, as a player would
                port = FakePort.opened[0]
                port.callback(mido.Message("note_on", note=37, velocity=100))
                port.callback(mido.Message("control_change", control=7, value=64))
                port.callback(mido.Message("control_change", control=21, value=0))
            if any(line.startswith("2/3 style1  alpha 0.5  size 96") for line in overlay):
                return ord("q")
            if len(self.shown) > 3000:
                raise AssertionError(f"the controller's settings never showed: {overlay}")
            return -1

    monkeypatch.setattr(vidstyle.live, "PreviewWindow", Window)
    code, out, err = run(capsys, "webcam", "-s", folder, "--model", "tiny", "--size", 32, "--fps", 0,
                         "--midi", "LPD8", "--midi-alpha-cc", "7", "--midi-size-cc", "21")
    assert code == 0, err
    assert "MIDI input 'LPD8:LPD8 MIDI 1 20:0'" in out and "CC 21 the style size" in out
    assert "3 MIDI messages received" in out


def test_webcam_without_the_controller_is_one_line_before_the_model_loads(capsys, monkeypatch, fake_camera,
                                                                         ports, style_png):
    import vidstyle.cli.webcam

    monkeypatch.setattr(vidstyle.cli.webcam, "build_stylizer", lambda args: pytest.fail("model loaded"))
    code, _, err = run(capsys, "webcam", "-s", style_png, "--midi", "APC", "--no-preview", "--stream-out",
                       "udp://127.0.0.1:9")
    assert_one_line_error(code, err, "no MIDI input named 'APC'")


@pytest.mark.parametrize("argv, fragment", [
    (["--midi-alpha-cc", "7"], "add --midi"),
    (["--midi-size-cc", "7"], "add --midi"),
    (["--midi", "--midi-size-cc", "1"], "the alpha's controller too"),
    (["--midi", "--midi-base-note", "200"], "MIDI numbers run from 0 to 127"),
])
def test_midi_options_are_checked(capsys, monkeypatch, fake_camera, ports, style_png, argv, fragment):
    import vidstyle.cli.webcam

    monkeypatch.setattr(vidstyle.cli.webcam, "build_stylizer", lambda args: pytest.fail("model loaded"))
    try:
        code, _, err = run(capsys, "webcam", "-s", style_png, *argv, "--no-preview", "--stream-out",
                           "udp://127.0.0.1:9")
    except SystemExit as exc:  # argparse's usage error
        code, err = exc.code, capsys.readouterr().err
    assert code != 0 and fragment in err
