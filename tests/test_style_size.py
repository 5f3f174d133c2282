"""--style-size: the scale at which a style image's statistics are taken (its texture's scale)."""
import numpy as np
import pytest
import torch
from PIL import Image

from vidstyle.cli.main import main
from vidstyle.controls import Controls, target_source
from vidstyle.errors import VidstyleError
from vidstyle.style_cache import StyleCache


def style_file(path, w, h):
    Image.fromarray(np.random.default_rng(w).integers(0, 256, (h, w, 3), dtype=np.uint8)).save(path)
    return path


class Encoded:
    """A stand-in for Stylizer.style_stats that notes the size of each image it encodes."""

    def __init__(self, stylizer):
        self.stylizer, self.sizes = stylizer, []

    def __call__(self, image):
        self.sizes.append(tuple(image.shape[1:]))
        return self.stylizer.style_stats(image)


def test_styles_come_down_to_512_by_default_and_to_any_size_asked(tmp_path, stylizer):
    big, small = style_file(tmp_path / "big.png", 1000, 800), style_file(tmp_path / "small.png", 300, 200)
    encode = Encoded(stylizer)
    default = StyleCache(encode, tmp_path / "cache")
    default.stats_for_path(big), default.stats_for_path(small)
    assert encode.sizes == [(512, 640), (200, 300)]  # a small style is kept as it is
    encode.sizes.clear()
    asked = StyleCache(encode, tmp_path / "cache", style_size=256)
    chunky = asked.stats_for_path(big)
    asked.stats_for_path(small)
    assert encode.sizes == [(256, 320), (256, 384)]  # scaled up too: the scale asked for
    assert not torch.equal(chunky.std, default.stats_for_path(big).std)
    # The disk cache keeps each size apart.
    assert StyleCache(encode, tmp_path / "cache", style_size=512).stats_for_path(small) is not None
    assert encode.sizes[-1] == (512, 768)
    again = StyleCache(encode, tmp_path / "cache")
    again.stats_for_path(big)
    assert again.computed == 0


def test_kept_colours_use_the_style_at_the_size_asked(tmp_path, stylizer):
    style = style_file(tmp_path / "s.png", 300, 200)
    encode = Encoded(stylizer)
    cache = StyleCache(encode, tmp_path / "cache", style_size=128)
    target_for, close = target_source(Controls([style], color="luminance"), cache, encode)
    target_for(0, np.zeros((1, 32, 32, 3), np.uint8))
    close()
    assert encode.sizes and all(min(size) == 128 for size in encode.sizes)


def test_a_style_size_out_of_range_is_refused(tmp_path, stylizer, capsys, style_png):
    with pytest.raises(VidstyleError, match="64 to 2048"):
        StyleCache(stylizer.style_stats, tmp_path, style_size=32)
    with pytest.raises(SystemExit) as exit_:
        main(["image", str(style_png), "--style", str(style_png), "--style-size", "32",
              "-o", str(tmp_path / "o.png")])
    assert exit_.value.code == 2 and "a style size is 64 to 2048 pixels, got 32" in capsys.readouterr().err


def test_the_style_size_changes_the_picture(tmp_path, capsys, style_png, monkeypatch):
    monkeypatch.setenv("VIDSTYLE_CACHE", str(tmp_path / "cache"))
    content = style_file(tmp_path / "content.png", 64, 48)
    style = style_file(tmp_path / "style.png", 200, 160)
    outputs = {}
    for size in ("64", "512", None):
        out = tmp_path / f"out_{size}.png"
        extra = ["--style-size", size] if size else []
        assert main(["image", str(content), "--style", str(style), "--model", "tiny", "-o", str(out),
                     *extra]) == 0, capsys.readouterr().err
        outputs[size] = np.asarray(Image.open(out), np.float32)
    assert np.abs(outputs["64"] - outputs["512"]).mean() > 1.0
    assert np.abs(outputs[None] - outputs["512"]).mean() > 1.0  # 512 scales the 160 px style up
