"""A look at a conversion while it runs (`convert --preview`)."""
import time

import av
import numpy as np
import pytest

from conftest import FakeDisplay
from test_cli import assert_one_line_error, run
from vidstyle.convert_preview import ConvertPreview


class Window(FakeDisplay):
    windows = []

    def __init__(self, title="", keys=()):
        super().__init__(keys)
        self.closed = False
        Window.windows.append(self)

    def close(self):
        self.closed = True


def test_at_most_a_dozen_frames_a_second_and_q_closes_only_the_window():
    now = [0.0]
    window = Window(keys=[-1, -1, ord("q")])
    preview = ConvertPreview(window, fps=10, clock=lambda: now[0])
    frame = np.zeros((8, 8, 3), np.uint8)
    for t in (0.0, 0.05, 0.1, 0.12, 0.2, 0.3, 0.4):
        now[0] = t
        preview.show(frame, ["x"])
    assert len(window.shown) == 3 and window.closed and not preview.open  # 0, 0.1, 0.2: then q
    preview.show(frame, ["x"])  # after q: nothing more, nothing raised
    assert len(window.shown) == 3


@pytest.mark.parametrize("keys", [(), (ord("q"),)])
def test_convert_previews_its_frames_and_goes_on_when_the_window_is_closed(capsys, monkeypatch, clip,
                                                                          style_png, tmp_path, keys):
    import vidstyle.live

    Window.windows = []
    monkeypatch.setattr(vidstyle.live, "PreviewWindow", lambda title: Window(title, keys))
    monkeypatch.setattr(ConvertPreview.__init__, "__defaults__", (1e6, time.monotonic))  # every frame
    out = tmp_path / "o.mp4"
    code, stdout, err = run(capsys, "convert", clip, "-s", style_png, "--model", "tiny", "--preview",
                            "-o", out)
    assert code == 0, err
    window = Window.windows[0]
    assert window.shown and window.overlays[0] == ["clip.mp4  frame 1"] and window.closed
    assert window.shown[0].shape == (48, 64, 3)
    assert len(window.shown) == (1 if keys else 12)  # q on the first frame: nothing shown after it
    with av.open(str(out)) as c:
        assert c.streams.video[0].frames == 12  # all of it, whether the window stayed or not


def test_convert_preview_without_a_display_is_one_line(capsys, monkeypatch, clip, style_png, tmp_path):
    import vidstyle.stylizer

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(vidstyle.stylizer, "load_stylizer", lambda *a, **k: pytest.fail("model loaded"))
    code, _, err = run(capsys, "convert", clip, "-s", style_png, "--preview", "-o", tmp_path / "o.mp4")
    assert_one_line_error(code, err, "no display available")
