"""Numbered image sequences (render and VFX output, frame dumps) named the way ffmpeg names them.

`frames/shot_%04d.png` stands for shot_0001.png, shot_0002.png, ... : one printf-style
number in the file name, `%d` or `%0Nd`. FFmpeg's image2 demuxer reads such a sequence
as a video at a frame rate the user gives; this module finds its first number and its
length, and refuses one with a gap (image2 would stop at the gap without a word).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from .errors import VidstyleError
from .inputs import IMAGE_SUFFIXES, SEQUENCE_ONLY_SUFFIXES

DEFAULT_FRAME_RATE = Fraction(25)  # ffmpeg's for image sequences
_NUMBER = re.compile(r"%(0\d+)?d")  # the frame number's placeholder


def names_numbered_frames(path: str | Path) -> bool:
    """Whether `path`'s name holds one %d / %0Nd, as an image sequence's does (whatever its type)."""
    return len(_NUMBER.findall(Path(path).name)) == 1


def is_sequence(path: str | Path) -> bool:
    """Whether `path` names an image sequence: one %d / %0Nd in an image file's name."""
    path = Path(path)
    return (len(_NUMBER.findall(path.name)) == 1 and "%" not in _NUMBER.sub("", path.name)
            and path.suffix.lower() in IMAGE_SUFFIXES | SEQUENCE_ONLY_SUFFIXES)


@dataclass(frozen=True)
class ImageSequence:
    pattern: Path
    first: int  # the first frame's number
    count: int  # frames, numbered first .. first + count - 1

    @classmethod
    def find(cls, pattern: str | Path) -> "ImageSequence":
        """The sequence's files on disk; an error where there are none or a number is missing."""
        pattern = Path(pattern)
        if not pattern.parent.is_dir():
            raise VidstyleError(f"image sequence not found: no folder {pattern.parent}")
        files = _numbered_files(pattern)
        numbers = [number for number, _ in files]
        if not numbers:
            raise VidstyleError(f"no files match the image sequence {pattern}")
        # An empty frame (a render that failed) lost the frame after it too, unnamed.
        empty = [f.name for _, f in files if f.stat().st_size == 0]
        if empty:
            raise VidstyleError(f"image sequence {pattern} has an empty file: {empty[0]}"
                                + (f" (and {len(empty) - 1} more)" if len(empty) > 1 else ""))
        missing = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))
        if missing:
            raise VidstyleError(f"image sequence {pattern} has a gap: {pattern.name % missing[0]} is missing "
                                f"({len(missing)} missing between {pattern.name % numbers[0]} and "
                                f"{pattern.name % numbers[-1]})")
        return cls(pattern, numbers[0], len(numbers))

    def demuxer_options(self, frame_rate: Fraction) -> dict[str, str]:
        """The image2 demuxer's options for this sequence at `frame_rate`."""
        return {"framerate": str(frame_rate), "start_number": str(self.first)}


def _numbered_files(pattern: Path) -> list[tuple[int, Path]]:
    """(number, file) of the files the pattern names, by number (`%04d` takes shot_0007.png,
    not shot_7.png)."""
    if not pattern.parent.is_dir():
        return []
    head, tail = _NUMBER.split(pattern.name, maxsplit=1)[0::2]
    numbered = re.compile(re.escape(head) + r"(\d+)" + re.escape(tail) + r"\Z")
    return sorted((int(m.group(1)), f) for f in pattern.parent.iterdir()
                  if (m := numbered.match(f.name)) and f.name == pattern.name % int(m.group(1)))


def sequence_files(pattern: str | Path) -> list[Path]:
    """The files on disk that the pattern names, by number."""
    return [f for _, f in _numbered_files(Path(pattern))]


def sequence_stem(pattern: str | Path) -> str:
    """A name for a sequence's output: `shot_%04d.png` -> `shot` (its folder's name where
    the file name is only the number)."""
    pattern = Path(pattern)
    stem = _NUMBER.sub("", Path(pattern.name).stem).strip("_-. ")
    return stem or pattern.resolve().parent.name or "sequence"


def pattern_for(image: str | Path) -> Path:
    """The sequence pattern an image's name suggests: `f/shot_0001.png` -> `f/shot_%04d.png`
    (its last run of digits; left as it is where it has none)."""
    image = Path(image)
    runs = list(re.finditer(r"\d+", image.stem))
    if not runs:
        return image
    last = runs[-1]
    width = len(last.group())
    number = f"%0{width}d" if width > 1 and last.group().startswith("0") else "%d"
    return image.with_name(image.stem[:last.start()] + number + image.stem[last.end():] + image.suffix)


# The fastest a sequence is read at: high-speed cameras' 960-1000 FPS. Faster made MP4 files
# whose frames had no usable times (nothing decoded), reported as written.
MAX_FRAME_RATE = 1000


def parse_frame_rate(text: str) -> Fraction:
    """`24`, `29.97` or `30000/1001` -> a positive Fraction; ValueError otherwise. A decimal
    that rounds an NTSC rate (23.976 or 23.98, 29.97, 59.94, 119.88) is that rate, N x
    1000/1001, as editors and cameras mean it (ffmpeg takes 29.97 as 2997/100: a file of
    another rate than the project's, whose timecode cannot be counted exactly)."""
    rate = Fraction(text).limit_denominator(100000)
    if rate <= 0:
        raise ValueError(f"a frame rate must be positive, not {text}")
    ntsc = Fraction(round(rate * Fraction(1001, 1000)) * 1000, 1001)
    if "." in text and rate.denominator > 1 and abs(rate - ntsc) < Fraction(1, 200):
        return ntsc
    return rate


def check_frame_rate(rate: Fraction) -> None:
    """VidstyleError for a sequence's frame rate past MAX_FRAME_RATE (or not positive)."""
    if not 0 < rate <= MAX_FRAME_RATE:
        raise VidstyleError(f"the frame rate must be above 0 and at most {MAX_FRAME_RATE} FPS, "
                            f"got {float(rate):g}")
