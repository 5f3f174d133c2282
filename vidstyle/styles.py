"""Finding the user's style images and checking blend weights."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .errors import VidstyleError
from .inputs import expand_files
from .train_data import IMAGE_SUFFIXES


def expand_styles(paths: Sequence[str | Path]) -> list[Path]:
    """Style files, with folders expanded to the images they hold (sorted)."""
    return expand_files(paths, IMAGE_SUFFIXES, "style image")[0]


def normalise_weights(weights: Sequence[float] | None, count: int) -> list[float]:
    if not weights:
        return [1.0 / count] * count
    if len(weights) != count:
        raise VidstyleError(f"{len(weights)} weights given for {count} styles; give one per style")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise VidstyleError("style weights must be non-negative and not all zero")
    total = float(sum(weights))
    return [w / total for w in weights]

