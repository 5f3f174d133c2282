"""Turning the user's style choice (one or several images, with weights) into a Target."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .adain import StyleStats
from .errors import VidstyleError
from .style_cache import StyleCache
from .stylizer import Target
from .train_data import list_images


def expand_styles(paths: Sequence[str | Path]) -> list[Path]:
    """Style files, with folders expanded to the images they hold (sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = list_images(p)
            if not found:
                raise VidstyleError(f"no style images in folder {p}")
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise VidstyleError(f"style image not found: {p}")
    return out


def normalise_weights(weights: Sequence[float] | None, count: int) -> list[float]:
    if not weights:
        return [1.0 / count] * count
    if len(weights) != count:
        raise VidstyleError(f"{len(weights)} weights given for {count} styles; give one per style")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise VidstyleError("style weights must be non-negative and not all zero")
    total = float(sum(weights))
    return [w / total for w in weights]


def mix_target(cache: StyleCache, paths: Sequence[Path], weights: Sequence[float] | None = None,
               alpha: float = 1.0) -> Target:
    """One Target from several styles: the weighted mean of their statistics.

    AdaIN is affine in (mean, std), so this equals decoding the weighted sum of
    the per-style AdaIN targets (the paper's style interpolation).
    """
    if not 0.0 <= alpha <= 1.0:
        raise VidstyleError(f"--alpha must be between 0 and 1, got {alpha}")
    w = normalise_weights(weights, len(paths))
    stats = [cache.stats_for_path(p) for p in paths]
    return Target(stats[0] if len(stats) == 1 else StyleStats.combine(stats, w), alpha)
