"""Render the README figures from the bundled samples and the shipped decoder.

    python scripts/make_figures.py   # writes docs/result.png, docs/controls.png and docs/style_size.jpg
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from vidstyle.adain import StyleStats
from vidstyle.color import ColorKeeper
from vidstyle.style_cache import style_image
from vidstyle.evaluate import fit_tile
from vidstyle.images import load_image, save_image
from vidstyle.stills import stylize_image
from vidstyle.stylizer import Stylizer, Target

ROOT = Path(__file__).resolve().parent.parent
TILE = 256
STYLE_SIZES = (96, 192, 384, 768)


def row(tiles: list[torch.Tensor], pad: int = 4) -> torch.Tensor:
    out = torch.ones(3, TILE + 2 * pad, len(tiles) * (TILE + pad) + pad)
    for i, t in enumerate(tiles):
        t = fit_tile(t, TILE)
        out[:, pad:pad + TILE, pad + i * (TILE + pad):pad + i * (TILE + pad) + TILE] = t
    return out


def main() -> None:
    st = Stylizer()
    content = load_image(ROOT / "samples" / "landscape.png")
    names = ["strokes", "mosaic", "waves"]
    styles = [style_image(ROOT / "samples" / "styles" / f"{n}.png") for n in names]
    stats = [st.style_stats(s) for s in styles]
    out_dir = ROOT / "docs"
    out_dir.mkdir(exist_ok=True)

    results = [stylize_image(content, st, Target(s)) for s in stats]
    save_image(torch.cat([row([content] + results[:1] + results[1:]),
                          row([torch.ones(3, 8, 8)] + styles)], 1), out_dir / "result.png")

    alphas = [stylize_image(content, st, Target(stats[0], alpha=a)) for a in (0.0, 0.25, 0.5, 0.75, 1.0)]
    blends = [stylize_image(content, st, Target(StyleStats.combine(stats[:2], [1 - w, w])))
              for w in (0.0, 0.25, 0.5, 0.75, 1.0)]
    frame = (content * 255).round().byte().permute(1, 2, 0).numpy()[None]
    kept = ColorKeeper([styles[0]], [1.0], "match", st.style_stats).stats_for(frame)
    lum = ColorKeeper([styles[0]], [1.0], "luminance", st.style_stats).stats_for(frame)
    h, w = content.shape[1:]
    mask = torch.zeros(1, 1, h, w)
    mask[..., : w // 2] = 1.0
    mask_img = mask[0].expand(3, -1, -1)
    colour_and_mask = [
        results[0],
        stylize_image(content, st, Target(kept)),
        stylize_image(content, st, Target(lum, luminance_only=True)),
        mask_img,
        stylize_image(content, st, Target(stats[0], mask=mask, stats_b=stats[2])),
    ]
    save_image(torch.cat([row(alphas), row(blends), row(colour_and_mask)], 1), out_dir / "controls.png")

    # --style-size: each style's statistics taken at shorter side 96 .. 768 (the samples are 384).
    strips = []
    for name in ("strokes", "mosaic"):
        strip = []
        for size in STYLE_SIZES:
            stats_at_size = st.style_stats(style_image(ROOT / "samples" / "styles" / f"{name}.png", size))
            strip += [torch.ones(3, h, 4), stylize_image(content, st, Target(stats_at_size))]
        gap = torch.ones(3, 4, len(STYLE_SIZES) * (w + 4) + 4)
        strips += [gap, torch.cat(strip + [torch.ones(3, h, 4)], 2)]
    sizes = torch.cat(strips + [strips[0]], 1)
    Image.fromarray((sizes * 255).round().byte().permute(1, 2, 0).numpy()).save(
        out_dir / "style_size.jpg", quality=88)
    print("wrote", out_dir / "result.png", out_dir / "controls.png", "and", out_dir / "style_size.jpg")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
