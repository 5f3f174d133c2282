"""Expanding the user's input paths (files and folders) into files."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .errors import VidstyleError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
# Read as image sequences only (through FFmpeg, not Pillow): DPX, the film and VFX plate format.
SEQUENCE_ONLY_SUFFIXES = {".dpx"}
MAX_FRAME_SIZE = 4320  # an 8K picture's shorter side: the largest output size asked for
MAX_FRAME_LONG_SIDE = 7680  # ... and its longer side
# What a folder of videos is scanned for: the common containers and phone/camcorder ones,
# and animated GIFs and WebPs (is_video_file: a still one is an image).
VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mpg", ".mpeg", ".ts", ".flv", ".wmv",
                  ".3gp", ".3g2", ".mts", ".m2ts", ".ogv", ".mxf", ".vob", ".gif", ".webp"}
ANIMATED_IMAGE_SUFFIXES = {".gif", ".webp"}  # videos when animated, else images


def file_signature(path: Path) -> tuple:
    """What tells a file's versions apart without reading it: its resolved name, size and
    modification time."""
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


def is_video_container(path: str | Path) -> bool:
    """A video by its name alone (.mp4, .mkv, ...): not a GIF or WebP, which may be stills."""
    suffix = Path(path).suffix.lower()
    return suffix in VIDEO_SUFFIXES and suffix not in ANIMATED_IMAGE_SUFFIXES


def is_video_file(path: str | Path) -> bool:
    """A video by its name; a GIF or WebP only when animated (a still one is an image)."""
    suffix = Path(path).suffix.lower()
    if suffix not in ANIMATED_IMAGE_SUFFIXES:
        return is_video_container(path)
    from PIL import Image

    try:
        with Image.open(path) as img:
            return bool(getattr(img, "is_animated", False))
    except (OSError, ValueError, SyntaxError):
        # (unreadable: read as what the type mostly holds, which says what is wrong)
        return suffix == ".gif"


def _hidden(path: Path, folder: Path) -> bool:
    """Hidden below `folder`: macOS's `._name` companions on USB drives, `.Trash`, and
    vidstyle's own `.name.partial` files of a run still writing."""
    return any(part.startswith(".") for part in path.relative_to(folder).parts)


def files_in(folder: Path, suffixes: set[str], exclude: Path | None = None) -> list[Path]:
    """Files under `folder` (recursively) whose extension is in `suffixes`, sorted; hidden
    files and folders are left out, and so is everything under `exclude` (an output
    folder inside the input folder: a second run must not stylize the first's outputs)."""
    skip = exclude.resolve() if exclude is not None else None
    if skip is not None and folder.resolve() not in skip.parents:  # `-o .` holds the input folder
        skip = None
    return sorted(f for f in folder.rglob("*")
                  if f.suffix.lower() in suffixes and not _hidden(f, folder) and f.is_file()
                  and not (skip is not None and skip in f.resolve().parents)
                  and (f.suffix.lower() not in ANIMATED_IMAGE_SUFFIXES or is_video_file(f)))


def expand_files(paths: Sequence[str | Path], suffixes: set[str], what: str,
                 exclude: Path | None = None, once: bool = False,
                 sequences: bool = False) -> tuple[list[Path], bool]:
    """Files named directly, plus the matching files of named folders (sorted; see files_in
    for what a folder's scan leaves out, `exclude` included).

    With `once`, a file named twice (also through a link, or directly and through its
    folder) is kept once: inputs to convert, where a second pass would only write the same
    output under another name. Styles keep repeats, as each takes its own --weights entry.
    With `sequences`, a path like `frames/shot_%04d.png` names an image sequence
    (vidstyle.sequences), checked here and kept as one input.
    Returns (files, whether any folder was named). `what` names the kind in errors.
    """
    from .sequences import ImageSequence, is_sequence, names_numbered_frames, pattern_for
    out: list[Path] = []
    seen: set[Path] = set()
    any_folder = False
    for p in map(Path, paths):
        if p.is_dir():
            any_folder = True
            found = files_in(p, suffixes, exclude)
            frames = IMAGE_SUFFIXES | SEQUENCE_ONLY_SUFFIXES
            images = [] if found or not sequences else files_in(p, frames, exclude)
            if images:
                raise VidstyleError(f"no {what} files in folder {p}, only images: for an image sequence, "
                                    f"name it as {pattern_for(images[0])}")
            if not found:
                raise VidstyleError(f"no {what} files in folder {p}")
        elif p.is_file():
            found = [p]
        elif is_sequence(p):
            if not sequences:
                raise VidstyleError(f"{what} not found: {p} (a name like this stands for an image "
                                    "sequence, which 'vidstyle convert' takes)")
            ImageSequence.find(p)  # none there, or a gap: said now, before any work
            found = [p]
        elif str(p) == "-":
            raise VidstyleError(f"{what} - would be the standard input, which is not read (files are "
                                "read out of order): save it to a file and name that")
        elif names_numbered_frames(p) and sequences:
            kinds = ", ".join(sorted(IMAGE_SUFFIXES | SEQUENCE_ONLY_SUFFIXES))
            raise VidstyleError(f"{p}: image sequences are read from {kinds} files, "
                                f"not {p.suffix or 'files without a suffix'}")
        else:
            raise VidstyleError(f"{what} not found: {p}")
        for f in found:
            if not once or f.resolve() not in seen:
                seen.add(f.resolve())
                out.append(f)
    return out, any_folder
