"""Expanding the user's input paths (files and folders) into files."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .errors import VidstyleError


def files_in(folder: Path, suffixes: set[str]) -> list[Path]:
    """Files under `folder` (recursively) whose extension is in `suffixes`, sorted."""
    return sorted(f for f in folder.rglob("*") if f.is_file() and f.suffix.lower() in suffixes)


def expand_files(paths: Sequence[str | Path], suffixes: set[str], what: str) -> tuple[list[Path], bool]:
    """Files named directly, plus the matching files of named folders (sorted).

    Returns (files, whether any folder was named). `what` names the kind in errors.
    """
    out: list[Path] = []
    any_folder = False
    for p in map(Path, paths):
        if p.is_dir():
            any_folder = True
            found = files_in(p, suffixes)
            if not found:
                raise VidstyleError(f"no {what} files in folder {p}")
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise VidstyleError(f"{what} not found: {p}")
    return out, any_folder
