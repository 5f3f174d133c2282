"""The Python API's arguments checked as the command line's parser checks its options: each
bad value is one VidstyleError line, not a TypeError deep inside (vidstyle.api)."""
from __future__ import annotations

import math
import os

from .errors import VidstyleError
from .inputs import MAX_FRAME_SIZE
from .stylizer import MIN_SIDE


def _number(value) -> float | None:
    """`value` as a float if it is a number (numpy's too), else None: never a bool (True is
    not 1 here) or a string (float("5") would take it)."""
    if isinstance(value, (bool, str)) or type(value).__name__ == "bool_":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _whole(value) -> int | None:
    """`value` as an int if it is a whole number (3, np.int64(3), 3.0), else None."""
    number = _number(value)
    return int(number) if number is not None and math.isfinite(number) and number.is_integer() else None


def checked_alpha(alpha) -> float:
    value = _number(alpha)
    if value is None:
        raise VidstyleError(f"alpha must be a number from 0 to 1, got {alpha!r}")
    if not 0.0 <= value <= 1.0:
        raise VidstyleError(f"alpha must be between 0 and 1, got {alpha}")
    return value


def checked_size(size) -> int | None:
    """The output's shorter side: None (the input's) or 16 to 8K's (a typo such as 5000 for
    500 would take minutes and the machine's memory), as the command line's --size."""
    if size is None:
        return None
    whole = _whole(size)
    if whole is None or not MIN_SIDE <= whole <= MAX_FRAME_SIZE:
        raise VidstyleError(f"size is the output's shorter side, a whole number from {MIN_SIDE} to "
                            f"{MAX_FRAME_SIZE} pixels (8K's), got {size!r}")
    return whole


def checked_batch(batch) -> int | None:
    """Frames per model call, or None for the device's default."""
    if batch is None:
        return None
    whole = _whole(batch)
    if whole is None or whole < 1:
        raise VidstyleError(f"batch must be at least 1 (frames per model call, a whole number), "
                            f"got {batch!r}")
    return whole


def seconds(name: str, value) -> float:
    """A time in seconds as a float; whether it is in range is its user's to say (Segment)."""
    number = _number(value)
    if number is None:
        raise VidstyleError(f"{name} is in seconds, a number, got {value!r}")
    return number


def checked_path(name: str, path):
    """A file's name (str or any os.PathLike), or None; an array or image given instead is
    refused with a line, not pathlib's TypeError."""
    if path is None or isinstance(path, (str, os.PathLike)):
        return path
    raise VidstyleError(f"{name} must be a file's path (str or Path), got {type(path).__name__}"
                        + ("; only styles may be arrays or images" if name == "mask" else ""))


def checked_weights(weights) -> list[float] | None:
    """One blend weight per style (e.g. [2, 1], an array, any iterable of numbers), or None
    (or empty) for equal ones."""
    if weights is None:
        return None
    wrong = VidstyleError(f"weights are one number of at least 0 per style, e.g. [2, 1], got {weights!r}")
    if isinstance(weights, (str, bytes)):
        raise wrong
    try:
        numbers = [_number(w) for w in weights]
    except TypeError:  # (not iterable: a single number, a 0-d array)
        raise wrong from None
    if any(n is None or not math.isfinite(n) or n < 0 for n in numbers):
        raise wrong
    return numbers or None


def checked_side(name: str, value) -> int | None:
    """A shorter side in pixels (work_size, style_size), or None; its range is its user's
    to check."""
    if value is None:
        return None
    whole = _whole(value)
    if whole is None:
        raise VidstyleError(f"{name} is a shorter side in pixels, a whole number, got {value!r}")
    return whole


# convert()'s options that are numbers, and what each is (the rest are names or callbacks)
_NUMBER_OPTIONS = {"steady": "a strength from 0 to 1", "fade_in": "in seconds", "fade_out": "in seconds",
                   "audio_pulse": "a strength from 0 to 1"}
_WHOLE_OPTIONS = {"crf": "the encoder's quality, lower is better", "workers": "frames run at once"}


def check_convert_options(options: dict) -> None:
    """convert()'s options of the wrong kind (a string for a number, a number for a
    callback) as one line, before the conversion starts; whole numbers made ints."""
    for name, what in _NUMBER_OPTIONS.items():
        if options.get(name) is not None and _number(options[name]) is None:
            raise VidstyleError(f"{name} is a number ({what}), got {options[name]!r}")
    for name, what in _WHOLE_OPTIONS.items():
        if options.get(name) is not None:
            whole = _whole(options[name])
            if whole is None:
                raise VidstyleError(f"{name} is a whole number ({what}), got {options[name]!r}")
            options[name] = whole
    for name in ("on_progress", "on_frame"):
        if options.get(name) is not None and not callable(options[name]):
            raise VidstyleError(f"{name} is a function to call (or None), got {options[name]!r}")
