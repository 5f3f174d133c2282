"""A contact sheet: rows of named pictures in one image, to compare styles at a glance
(`vidstyle image --each --sheet`)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from .images import load_image
from .outputs import atomic_output, check_output

LABEL_PX = 22  # the strip under each picture holding its name
GAP_PX = 6
# Written into each sheet, so that a sheet lying among the styles or photos it shows is told
# apart from them when it is made again (and a painting or photo is never taken for it).
SHEET_SOFTWARE = "vidstyle contact sheet"


def is_contact_sheet(path: str | Path) -> bool:
    """Whether the file is a sheet made by contact_sheet (a BMP sheet cannot say so)."""
    from .images import image_software

    return image_software(path) == SHEET_SOFTWARE


def _cell(picture, height: int, label: str) -> np.ndarray:
    """The picture (an image file, or RGB float (3, H, W) in [0, 1]) at `height` (its shape
    kept) over a white strip with `label`."""
    import cv2
    import torch

    image = picture if isinstance(picture, torch.Tensor) else load_image(Path(picture))
    rgb = (image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    width = max(1, round(rgb.shape[1] * height / rgb.shape[0]))
    picture = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
    strip = np.full((LABEL_PX, width, 3), 255, np.uint8)
    text = label
    while text and cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)[0][0] > width - 4:
        text = text[:-1]  # cut to the picture's width
    cv2.putText(strip, text, (2, LABEL_PX - 7), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([picture, strip])


def contact_sheet(rows: Sequence[Sequence[tuple[str, Path]]], output: str | Path, height: int = 200,
                  columns: int = 6, overwrite: bool = False) -> Path:
    """Write `rows` of (label, image file or RGB tensor) as one image, each picture `height` pixels high,
    the rows left-aligned on white; a row of more than `columns` pictures goes on over
    several lines. The file appears only once written (atomic_output)."""
    from .images import save_image
    import torch

    output = Path(output)
    check_output(None, output, overwrite)
    built = []
    gap = np.full((height + LABEL_PX, GAP_PX, 3), 255, np.uint8)
    for row in rows:
        cells = [_cell(picture, height, label) for label, picture in row]
        for start in range(0, len(cells), columns):
            line = cells[start:start + columns]
            built.append(np.concatenate([x for cell in line for x in (cell, gap)][:-1], axis=1))
    width = max(r.shape[1] for r in built)
    sheet = np.full((len(built) * (height + LABEL_PX + GAP_PX) - GAP_PX, width, 3), 255, np.uint8)
    for i, r in enumerate(built):
        top = i * (height + LABEL_PX + GAP_PX)
        sheet[top:top + r.shape[0], :r.shape[1]] = r
    with atomic_output(output, overwrite) as tmp:
        save_image(torch.from_numpy(sheet).permute(2, 0, 1).float() / 255, tmp, software=SHEET_SOFTWARE)
    return output
