"""Training images held in memory, and random crops/augmentation drawn from them."""
from __future__ import annotations

import logging
from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision.transforms.v2.functional as TF

from .errors import VidstyleError
from .images import load_image, resize_shorter
from .inputs import IMAGE_SUFFIXES, files_in

log = logging.getLogger(__name__)


def list_images(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise VidstyleError(f"not a folder: {folder}")
    return files_in(folder, IMAGE_SUFFIXES)


class ImageBank:
    """All images of a folder as uint8 (3, H, W), shorter side capped at `max_side`.

    Images that fail to load are skipped with a warning, never a crash.
    """

    def __init__(self, folder: str | Path, max_side: int = 512, min_side: int = 64):
        self.images: list[torch.Tensor] = []
        self.names: list[str] = []
        for path in list_images(folder):
            try:
                img = load_image(path, min_side=min_side)
            except VidstyleError as exc:
                log.warning("skipping %s", exc)
                continue
            if min(img.shape[1:]) > max_side:
                img = resize_shorter(img, max_side)
            self.images.append((img * 255).round().to(torch.uint8))
            self.names.append(path.name)
        if not self.images:
            raise VidstyleError(f"no readable images in {folder}")

    def __len__(self) -> int:
        return len(self.images)


def random_crops(bank: ImageBank, n: int, crop: int, gen: torch.Generator,
                 scale_range: tuple[float, float] = (1.0, 2.0)) -> torch.Tensor:
    """n random crops (n, 3, crop, crop) in [0, 1].

    Each image is first resized so its shorter side is crop x U(scale_range):
    the paper's 512 -> 256 crop is a scale of 2; smaller scales show coarser
    detail, so the decoder sees textures at many sizes. Random horizontal flip.
    """
    out = torch.empty(n, 3, crop, crop)
    for i in range(n):
        img = bank.images[int(torch.randint(len(bank), (1,), generator=gen))]
        lo, hi = scale_range
        side = crop * (lo + (hi - lo) * float(torch.rand((), generator=gen)))
        h, w = img.shape[1:]
        s = side / min(h, w)
        size = (max(crop, round(h * s)), max(crop, round(w * s)))
        x = F.interpolate(img[None].float() / 255, size=size, mode="bilinear",
                          antialias=True, align_corners=False)[0]
        top = int(torch.randint(size[0] - crop + 1, (1,), generator=gen))
        left = int(torch.randint(size[1] - crop + 1, (1,), generator=gen))
        x = x[:, top:top + crop, left:left + crop]
        if float(torch.rand((), generator=gen)) < 0.5:
            x = x.flip(-1)
        out[i] = x.clamp(0, 1)
    return out


def jitter_colours(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random brightness, contrast, saturation and hue per image (for style crops).

    Our paintings lean to old masters' browns and greens; shifting their palettes
    exposes the decoder to the saturated colours users bring (Van Gogh, ukiyo-e).
    """
    out = torch.empty_like(x)
    for i in range(x.shape[0]):
        r = torch.rand(4, generator=gen)
        img = TF.adjust_brightness(x[i], 0.8 + 0.4 * float(r[0]))
        img = TF.adjust_contrast(img, 0.8 + 0.4 * float(r[1]))
        img = TF.adjust_saturation(img, 0.7 + 0.8 * float(r[2]))
        img = TF.adjust_hue(img, 0.25 * (float(r[3]) - 0.5))
        out[i] = img.clamp(0, 1)
    return out
