"""The live feed as a camera other programs can open (OBS, Zoom, Meet, a browser).

pyvirtualcam does the work: v4l2loopback on Linux, OBS's virtual camera on Windows
and macOS. It is an optional dependency (`pip install pyvirtualcam`, or the
`virtualcam` extra), so it is imported only here, when a virtual camera is asked for.

`VirtualCamera` has the live loop's display interface (`show(rgb, overlay) -> key`,
`close()`), so it can stand in for the preview window.
It sends the stylized frame without the overlay: viewers of a stream should not see
the FPS counter. `vidstyle.live.Displays` runs it beside the preview window.
"""
from __future__ import annotations

import platform

import numpy as np

from .errors import VidstyleError

SETUP_HINTS = {
    "Linux": "load the v4l2loopback module first, e.g. "
             "'sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label=vidstyle'",
    "Windows": "install OBS Studio (26 or later), which brings the virtual camera",
    "Darwin": "install OBS Studio (26.1 or later) and start its virtual camera once",
}


def even_size(width: int, height: int) -> tuple[int, int]:
    """The size a frame is sent at: camera pixel formats (YUYV, I420) pair up pixels, so an
    odd last column or row is dropped."""
    return max(2, width - width % 2), max(2, height - height % 2)


def fit_to(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """A frame at a fixed output size: an odd last row or column dropped, or resized where
    the camera changed its resolution mid-stream."""
    h, w = rgb.shape[:2]
    if (w, h) != (width, height):
        if even_size(w, h) == (width, height):
            rgb = rgb[:height, :width]
        else:
            import cv2

            rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb)


class VirtualCamera:
    """A virtual camera of a fixed size; frames of another size are cropped or resized to it.

    `device` names one (e.g. /dev/video10 on Linux); None takes the first free one.
    """

    def __init__(self, width: int, height: int, fps: float = 30.0, device: str | None = None):
        try:
            import pyvirtualcam
        except ImportError:
            raise VidstyleError("--virtual-cam needs the pyvirtualcam package: "
                                "pip install pyvirtualcam") from None
        self.width, self.height = even_size(width, height)
        try:
            self._camera = pyvirtualcam.Camera(self.width, self.height, fps, device=device)
        except (RuntimeError, ValueError, OSError) as exc:
            raise VidstyleError(self._explain(exc, device)) from None
        self.device = self._camera.device
        self.frames_sent = 0

    @staticmethod
    def _explain(exc: Exception, device: str | None) -> str:
        # pyvirtualcam reports one line per backend it tried; the first names the problem.
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        where = f"virtual camera {device}" if device else "a virtual camera"
        hint = SETUP_HINTS.get(platform.system(), "see pyvirtualcam's documentation")
        return f"cannot open {where} ({reason}); {hint}"

    def show(self, rgb: np.ndarray, overlay: list[str]) -> int:
        try:
            self._camera.send(fit_to(rgb, self.width, self.height))
        except (RuntimeError, OSError) as exc:  # e.g. the loopback device was removed
            raise VidstyleError(f"virtual camera {self.device} stopped taking frames ({exc})") from None
        self.frames_sent += 1
        return -1

    def close(self) -> None:
        self._camera.close()

