"""OpenCV is imported before PyAV wherever a window may open: with `av` imported first,
OpenCV's first window hangs for good (seen under Xvfb in session 25: cv2.imshow never
returned; the other way round, even with PyAV decoding before the window, it ran)."""
import os
import subprocess
import sys

import pytest

RECORD_IMPORTS = """
import importlib.abc, sys
seen = []
class Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name in ("av", "cv2") and name not in seen:
            seen.append(name)
        return None
sys.meta_path.insert(0, Hook())
from vidstyle.cli.main import main
try:
    main(sys.argv[1:])
finally:
    print("imported", *seen, file=sys.stderr)
"""


@pytest.mark.parametrize("command", [
    ["webcam", "--camera", "{clip}", "--style", "{style}", "--model", "tiny"],
    ["webcam", "--camera", "{clip}", "-s", "{style}", "-s", "{style}", "--mask", "{clip}", "--model", "tiny"],
    ["convert", "{clip}", "--style", "{style}", "--preview", "--model", "tiny", "-o", "{out}"],
])
def test_opencv_comes_before_pyav(clip, style_png, tmp_path, command):
    argv = [a.format(clip=clip, style=style_png, out=tmp_path / "out.mp4") for a in command]
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run([sys.executable, "-c", RECORD_IMPORTS, *argv], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300)
    imported = next(line for line in done.stderr.splitlines() if line.startswith("imported")).split()[1:]
    assert imported[:1] == ["cv2"], done.stderr  # (with no display the window is refused after)
