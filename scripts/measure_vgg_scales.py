"""Measure the raw VGG-19's mean activation at relu1_1..relu4_1 on training images.

The results are vidstyle.encoder.FEATURE_SCALES. Usage:
    python scripts/measure_vgg_scales.py ../shared/data/train/content ../shared/data/train/style
"""
import random
import sys
from pathlib import Path

import torch

from vidstyle.encoder import Encoder
from vidstyle.images import load_image, resize_shorter


def main(dirs: list[str], per_dir: int = 150) -> None:
    torch.manual_seed(0)
    random.seed(0)
    enc = Encoder(balanced=False)
    sums, n = torch.zeros(4, dtype=torch.float64), 0
    for d in dirs:
        files = sorted(p for p in Path(d).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        for path in random.sample(files, min(per_dir, len(files))):
            img = resize_shorter(load_image(path), 256)[None]
            with torch.no_grad():
                taps = enc(img, all_taps=True)
            sums += torch.tensor([t.mean().item() for t in taps], dtype=torch.float64)
            n += 1
    print("FEATURE_SCALES =", tuple(round(v, 2) for v in (sums / n).tolist()), f"# {n} images")


if __name__ == "__main__":
    main(sys.argv[1:])
