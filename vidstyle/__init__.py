"""vidstyle: real-time AdaIN style transfer for video, webcams and images.

The short way in is `vidstyle.StyleTransfer` (vidstyle.api). It is imported on first use:
importing the package itself loads nothing heavy, and keeps OpenCV ahead of PyAV for the
command line's windows (tests/test_import_order.py).
"""
from .errors import VidstyleError

__all__ = ["StyleTransfer", "VidstyleError"]


def __getattr__(name: str):
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("vidstyle")
        except PackageNotFoundError:  # (run from a source tree that was never installed)
            return "unknown (not installed)"
    if name == "StyleTransfer":
        from .api import StyleTransfer

        return StyleTransfer
    raise AttributeError(f"module 'vidstyle' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), "StyleTransfer", "__version__"])
