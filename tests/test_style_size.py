"""--style-size: the scale at which a style image's statistics are taken (its texture's scale)."""
import time

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


def until(condition, seconds=20.0):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_the_webcam_keys_step_the_style_size_and_the_new_statistics_replace_the_old(tmp_path, stylizer):
    from vidstyle.live import LiveControls

    styles = [style_file(tmp_path / f"s{i}.png", 700 + 10 * i, 600) for i in range(3)]  # taken at 512
    cache = StyleCache(stylizer.style_stats, tmp_path / "cache")
    now = [0.0]
    controls = LiveControls(cache, styles, transition=1.0, clock=lambda: now[0])
    controls._worker.join(timeout=30)
    before = controls.target().stats
    controls.on_key(ord("["))  # 512 -> 384
    assert "style size 384..." in controls.overlay()
    at_384 = cache.at_size(384)
    assert until(lambda: controls.style_size == 384)
    assert torch.equal(controls.target().stats.mean, before.mean)  # a fade starts where the screen was
    now[0] = 2.0
    assert torch.equal(controls.target().stats.std, at_384.stats_for_path(styles[0]).std)
    assert "size 384" in controls.overlay()[0]
    controls.on_key(ord("3"))  # the other styles are made at the new size too

    def faded_into_the_third():
        controls.target()
        now[0] += 2.0  # (a fade takes a second)
        return controls.target().stats.std.equal(at_384.stats_for_path(styles[2]).std)

    assert until(faded_into_the_third)
    for _ in range(3):
        controls.on_key(ord("]"))
    assert until(lambda: controls.style_size == 1024)
    controls.on_key(ord("]"))  # the last step: stays
    controls.set_style_size(10)  # a remote's value: held to 64
    assert until(lambda: controls.style_size == 64)
    controls.on_key(ord("["))  # none smaller: stays
    controls.set_style_size(float("nan"))
    assert controls._pending_size == 64
    controls.close()


def test_the_steps_start_from_the_size_a_small_style_is_taken_at(tmp_path, stylizer):
    from vidstyle.live import LiveControls

    cache = StyleCache(stylizer.style_stats, tmp_path / "cache")
    controls = LiveControls(cache, [style_file(tmp_path / "small.png", 300, 200)])  # taken at 200
    controls.on_key(ord("["))
    assert "style size 192..." in controls.overlay()
    controls.close()
    controls = LiveControls(cache, [style_file(tmp_path / "small.png", 300, 200)])
    controls.on_key(ord("]"))
    assert "style size 256..." in controls.overlay()
    controls.close()


def test_a_size_asked_for_and_given_back_leaves_no_style_loading(tmp_path, stylizer):
    import threading

    from vidstyle.live import LiveControls

    gate = threading.Event()

    class GatedEncode(Encoded):
        def __call__(self, image):
            if min(image.shape[1:]) == 128:
                gate.wait(20)  # the size worker holds here until let go
            else:
                time.sleep(0.05)
            return super().__call__(image)

    styles = [style_file(tmp_path / f"s{i}.png", 64 + i, 64) for i in range(4)]
    controls = LiveControls(StyleCache(GatedEncode(stylizer), tmp_path / "cache", style_size=64), styles)
    controls.set_style_size(128)
    controls._worker.join(20)  # the first styles' preparation, done or given up for the new size
    controls.set_style_size(64)  # back to the size the styles are taken at, before the swap
    gate.set()
    assert until(lambda: controls._resizing is None)
    assert until(lambda: len(controls._stats) == 4)
    controls.close()


def test_a_fixed_blend_says_its_style_size_stays(tmp_path, stylizer):
    from vidstyle.live import LiveControls

    cache = StyleCache(stylizer.style_stats, tmp_path / "cache")
    controls = LiveControls(cache, [style_file(tmp_path / "s.png", 64, 64)],
                            fixed=(lambda frames: None, "a blend of 2 styles"))
    controls.on_key(ord("]"))
    assert "a blend of 2 styles stays as given" in controls.messages[-1]
    controls.close()


def test_osc_sets_the_style_size(tmp_path, stylizer):
    from pythonosc.udp_client import SimpleUDPClient

    from vidstyle.live import LiveControls
    from vidstyle.osc_control import OscRemote, RemoteKeys

    class Display:
        def show(self, rgb, overlay):
            return -1

    controls = LiveControls(StyleCache(stylizer.style_stats, tmp_path / "cache"),
                            [style_file(tmp_path / "s.png", 64, 64)])
    remote = OscRemote("127.0.0.1", 0)
    try:
        keys = RemoteKeys(Display(), remote, controls)
        SimpleUDPClient("127.0.0.1", remote.port).send_message("/vidstyle/style_size", 200)
        assert until(lambda: remote.received == 1, 5)
        keys.show(None, [])
        assert until(lambda: controls.style_size == 200)
    finally:
        remote.close()
        controls.close()


def test_kept_colours_are_remade_at_the_new_size(tmp_path, stylizer):
    from vidstyle.live import LiveControls

    encode = Encoded(stylizer)
    style = style_file(tmp_path / "s.png", 300, 200)
    controls = LiveControls(StyleCache(encode, tmp_path / "cache"), [style], encode=encode, color="match")
    frames = np.random.default_rng(0).integers(0, 256, (1, 32, 32, 3), dtype=np.uint8)

    def colours_at(size):
        controls.target(frames)
        key = (0, "match")
        return key in controls._keepers and controls._color_stats.get(key) is not None and \
            sum(1 for s in encode.sizes if min(s) == size) >= 2  # the plain statistics and the kept colours'

    assert until(lambda: colours_at(200))
    controls.set_style_size(128)
    assert until(lambda: colours_at(128))
    controls.close()


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_a_large_style_is_read_reduced_and_upright_and_gives_the_same_picture(tmp_path, suffix):
    from vidstyle.images import load_image
    from vidstyle.style_cache import style_image

    # Smooth, so that reading it at a quarter and scaling it down agree closely.
    yy, xx = np.mgrid[0:1200, 0:2000]
    array = np.stack([xx % 256, yy % 200, (xx + yy) // 16 % 256], -1).astype(np.uint8)
    image = Image.fromarray(array)
    exif = image.getexif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise
    path = tmp_path / f"scan{suffix}"
    image.save(path, exif=exif, **({"quality": 95} if suffix == ".jpg" else {}))
    whole = load_image(path)
    assert whole.shape == (3, 2000, 1200)  # upright
    read = load_image(path, needed_side=256)
    assert read.shape == (3, 1000, 600)  # (a factor of 2 leaves the shorter side at least 2 x 256)
    from vidstyle.images import resize_shorter

    diff = (style_image(path, 256) - resize_shorter(whole, 256)).abs()
    assert float(diff.mean()) < 0.005  # (seen: 0.0007 and 0.0015, a third of a grey level)
    assert style_image(path).shape == (3, 853, 512)
