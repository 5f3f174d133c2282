"""Reading and writing still images as tensors (RGB, float in [0, 1], (3, H, W))."""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import VidstyleError
from .inputs import VIDEO_SUFFIXES

MIN_SIDE = 16  # smaller images carry no usable style/content statistics


def _ignore_large_photo_warning() -> None:
    """Pillow warns (several lines) from 89 megapixels on, against files from the web; a
    camera's own 100 MP photo is a fair input here (its error, over 179 MP, stays). A
    filter, not catch_warnings, which swaps every filter and is not thread-safe; checked at
    each load, as a program's (or pytest's) catch_warnings may have dropped it since, and
    added only when missing: adding one resets every warning registry."""
    if not any(action == "ignore" and category is Image.DecompressionBombWarning
               for action, _, category, _, _ in warnings.filters):
        warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def load_image(path: str | Path, min_side: int = MIN_SIDE, needed_side: int | None = None) -> torch.Tensor:
    """Load any common image as RGB float (3, H, W) in [0, 1].

    Grayscale, palette, RGBA (composited on white), CMYK and 16-bit images are
    converted rather than refused; EXIF rotation is applied. `needed_side`: the caller
    scales the picture down to this shorter side anyway (a style image), so a large one
    is decoded reduced, to no less than twice that (a 100 MP scan took 6 GB whole).
    """
    path = Path(path)
    if not path.is_file():
        raise VidstyleError(f"image not found: {path}")
    _ignore_large_photo_warning()
    try:
        with Image.open(path) as img:
            if needed_side is not None:
                img = _reduced(img, 2 * needed_side)
            img = ImageOps.exif_transpose(img)
            arr = _to_rgb_array(img)
    except Image.DecompressionBombError as exc:
        limit = 2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6
        raise VidstyleError(f"image {path} is too large to read (over {limit:.0f} megapixels); "
                            "scale it down first") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise VidstyleError(f"cannot read image {path}: {exc}") from exc
    if min(arr.shape[:2]) < min_side:
        raise VidstyleError(
            f"image {path} is {arr.shape[1]}x{arr.shape[0]}; it needs at least {min_side} px per side")
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous()


def _reduced(img: Image.Image, shorter: int) -> Image.Image:
    """`img` decoded at a whole fraction of its size whose shorter side is still at least
    `shorter`: JPEGs by DCT scaling (1/2 to 1/8, never decoded whole), others by a box
    reduce after decoding (modes Pillow cannot reduce, e.g. palettes, stay whole)."""
    factor = min(img.size) // shorter
    if factor < 2:
        return img
    if img.format == "JPEG":
        img.draft(img.mode, (img.width // factor, img.height // factor))
        factor = min(img.size) // shorter  # what DCT scaling left to do
    if factor >= 2:
        try:
            return img.reduce(factor)
        except ValueError:
            pass
    return img


def pil_to_tensor(img: Image.Image) -> torch.Tensor:
    """A PIL image as RGB float (3, H, W) in [0, 1], converted as load_image converts files."""
    return torch.from_numpy(_to_rgb_array(img)).permute(2, 0, 1).contiguous()


def pil_to_rgb8(img: Image.Image) -> np.ndarray:
    """A PIL image as (H, W, 3) uint8 RGB, converted as load_image converts files (16-bit and
    float pictures scaled, transparency on white), not by Pillow's convert("RGB"), which
    clips 16-bit values to white and floats in [0, 1] to black."""
    if img.mode == "RGB":
        return np.asarray(img)
    return np.rint(_to_rgb_array(img) * 255.0).astype(np.uint8)


def _to_rgb_array(img: Image.Image) -> np.ndarray:
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.nan_to_num(np.asarray(img, dtype=np.float32))
        if img.mode.startswith("I;16"):  # 16-bit by its mode, however dark the picture
            a = a / 65535.0
        elif img.mode == "I":  # 32-bit integers: 16-bit values where any passes 255, else 8-bit
            a = a / (65535.0 if a.max(initial=0) > 255 else 255.0)
        # (mode F: floats in [0, 1], as numpy pictures are; a resize's overshoot is clipped)
        return np.repeat(np.clip(a, 0, 1)[..., None], 3, axis=2)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    rgb = img.convert("RGB")
    return np.asarray(rgb, dtype=np.float32) / 255.0


def shorter_side_dims(h: int, w: int, size: int | None) -> tuple[int, int]:
    """(H, W) after scaling so the shorter side is `size` (None keeps them)."""
    if not size:
        return h, w
    scale = size / min(h, w)
    return max(1, round(h * scale)), max(1, round(w * scale))


def resize_shorter(img: torch.Tensor, size: int | None) -> torch.Tensor:
    """Resize (…, H, W) so the shorter side is `size` (None keeps it)."""
    if not size:
        return img
    return resize_to(img, *shorter_side_dims(*img.shape[-2:], size))


def resize_longer(img: torch.Tensor, size: int | None) -> torch.Tensor:
    """Resize (…, H, W) so the longer side is `size`."""
    if not size:
        return img
    h, w = img.shape[-2:]
    scale = size / max(h, w)
    return resize_to(img, max(1, round(h * scale)), max(1, round(w * scale)))


def resize_to(img: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Antialiased bilinear resize of (3, H, W) or (N, 3, H, W)."""
    if tuple(img.shape[-2:]) == (h, w):
        return img
    batched = img if img.dim() == 4 else img[None]
    out = torch.nn.functional.interpolate(batched.float(), size=(h, w), mode="bilinear",
                                          antialias=True, align_corners=False)
    return out if img.dim() == 4 else out[0]


def check_image_output(path: str | Path) -> None:
    """Refuse an output name whose extension Pillow cannot write as RGB, before any work:
    one pixel is saved in memory (Pillow registers writers, e.g. .h5 and .grib, that need
    plugins or other modes)."""
    suffix = Path(path).suffix.lower()
    fmt = Image.registered_extensions().get(suffix)
    try:
        Image.new("RGB", (1, 1)).save(io.BytesIO(), format=fmt)
        return
    except (OSError, ValueError, KeyError, TypeError):
        pass
    video = " (for a video: vidstyle convert)" if suffix in VIDEO_SUFFIXES else ""
    raise VidstyleError(f"cannot write an image as {path}: give it an image extension such as "
                        f".png or .jpg{video}")


ALPHA_SUFFIXES = {".png", ".webp", ".tif", ".tiff"}  # outputs that keep a transparency channel


def load_alpha(path: str | Path) -> torch.Tensor | None:
    """An image's transparency as (1, H, W) float in [0, 1] (EXIF rotation applied), or None
    where it has none or is opaque throughout. (load_image composites such images on white.)"""
    try:
        with Image.open(path) as img:
            if not (img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)):
                return None
            alpha = np.asarray(ImageOps.exif_transpose(img).convert("RGBA").getchannel("A"))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None  # (load_image has said what is wrong with the file)
    if alpha.min() == 255:
        return None
    return torch.from_numpy(alpha.astype(np.float32) / 255)[None]


EXIF_SOFTWARE = 0x0131  # the EXIF tag naming the program that made a file


def save_image(img: torch.Tensor, path: str | Path, alpha: torch.Tensor | None = None,
               software: str | None = None) -> None:
    """Save RGB float (3, H, W) in [0, 1]; the format follows the file extension. `alpha`
    (1, H', W') is scaled to the picture and kept where the file type holds transparency;
    `software` goes into the file's EXIF Software tag where the type holds EXIF (not BMP)."""
    arr = (img.detach().float().clamp(0, 1) * 255).round().byte().permute(1, 2, 0).cpu().numpy()
    if alpha is not None and Path(path).suffix.lower() in ALPHA_SUFFIXES:
        a = resize_to(alpha.float(), *arr.shape[:2]).clamp(0, 1).mul(255).round().byte()[0].numpy()
        arr = np.dstack([arr, a])
    options = {}
    if software is not None and Path(path).suffix.lower() != ".bmp":
        exif = Image.Exif()
        exif[EXIF_SOFTWARE] = software
        options["exif"] = exif
    try:
        Image.fromarray(arr).save(path, **options)
    except (OSError, ValueError, KeyError) as exc:
        raise VidstyleError(f"cannot write image {path}: {exc}") from exc


def image_software(path: str | Path) -> str | None:
    """The EXIF Software tag of an image file, or None (none, or not a readable image)."""
    try:
        with Image.open(path) as im:
            return im.getexif().get(EXIF_SOFTWARE)
    except (OSError, ValueError, SyntaxError):
        return None
