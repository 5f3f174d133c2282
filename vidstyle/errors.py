"""The one exception type the library raises for problems a user can fix."""


class VidstyleError(Exception):
    """A user-facing problem (bad input, missing weights, no camera...).

    The message is a single line meant to be shown as is; the CLI prints it and
    exits non-zero instead of showing a traceback.
    """


def reason(exc: BaseException) -> str:
    """An OS or FFmpeg error's own words ("Connection refused"), without errno and file name."""
    return getattr(exc, "strerror", None) or str(exc)
