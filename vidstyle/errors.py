"""The one exception type the library raises for problems a user can fix."""


class VidstyleError(Exception):
    """A user-facing problem (bad input, missing weights, no camera...).

    The message is a single line meant to be shown as is; the CLI prints it and
    exits non-zero instead of showing a traceback.
    """


class StyleWorkStopped(BaseException):
    """A style's encoding given up part way (Stylizer.stop_style_work: a live feed closing).
    Not an error, and not an Exception: the handlers that note a style that failed let it
    through to the worker thread's end."""


def reason(exc: BaseException) -> str:
    """An OS or FFmpeg error's own words ("Connection refused"), without errno and file name."""
    return getattr(exc, "strerror", None) or str(exc)
