"""vidstyle.StyleTransfer, the Python API: the same pictures as the lower-level calls and the CLI."""
import subprocess
import sys

import av
import numpy as np
import pytest
import torch
from PIL import Image

from conftest import frames_rgb
from vidstyle import StyleTransfer, VidstyleError
from vidstyle.adain import StyleStats
from vidstyle.cli.main import main
from vidstyle.controls import Controls, target_source
from vidstyle.stylizer import Target


@pytest.fixture(scope="module")
def st(tmp_path_factory):
    return StyleTransfer(model="tiny", device="cpu", cache_dir=tmp_path_factory.mktemp("styles"))


@pytest.fixture
def second_style(tmp_path):
    path = tmp_path / "second.png"
    Image.fromarray(frames_rgb(1, 48, 40, seed=9)[0]).save(path)
    return path


def decoded(path):
    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def test_importing_vidstyle_loads_nothing_heavy():
    code = ("import sys, vidstyle; print(sorted(m for m in ('torch', 'av', 'cv2') if m in sys.modules), "
            "'StyleTransfer' in dir(vidstyle))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[] True"


def test_stylize_matches_the_stylizer_with_the_cached_statistics(st, style_png):
    frames = frames_rgb(3, 64, 48)
    stats = st.styles.stats_for_path(style_png)
    expected = st.stylizer.stylize_frames(frames, Target(stats, 0.7))
    out = st.stylize(frames, style_png, alpha=0.7, batch=3)
    assert out.shape == frames.shape and out.dtype == np.uint8
    assert np.array_equal(out, expected)
    # One frame in, one frame out; batches of one give the same pictures here.
    single = st.stylize(frames[1], str(style_png), alpha=0.7)
    assert single.shape == frames[1].shape
    assert np.abs(single.astype(int) - expected[1]).max() <= 1
    assert not np.array_equal(st.stylize(frames[1], style_png, alpha=0.0), single)
    assert st.stylize(frames[0], style_png, size=96).shape == (96, 128, 3)


def test_a_style_may_be_an_array_a_pil_image_a_tensor_or_statistics(st, style_png):
    from_file = st.style_stats(style_png)
    array = np.array(Image.open(style_png).convert("RGB"))
    for style in (array, Image.open(style_png), torch.from_numpy(array).permute(2, 0, 1).float() / 255):
        stats = st.style_stats(style)
        assert torch.allclose(stats.mean, from_file.mean, atol=1e-4)
        assert torch.allclose(stats.std, from_file.std, atol=1e-4)
    assert st.style_stats(from_file) is from_file
    frame = frames_rgb(1, 64, 48)[0]
    assert np.abs(st.stylize(frame, array).astype(int) - st.stylize(frame, style_png)).max() <= 1


def test_a_new_style_in_the_same_place_is_used(st, style_png, second_style, tmp_path):
    """Styles are told apart by content: an array reused in place, a file written anew."""
    frame = frames_rgb(1, 64, 48)[0]
    first, second = (np.array(Image.open(p).convert("RGB").resize((40, 40)))
                     for p in (style_png, second_style))
    expected = st.stylize(frame, second)
    array = first.copy()
    st.stylize(frame, array)
    array[:] = second
    assert np.array_equal(st.stylize(frame, array), expected)
    edited = tmp_path / "edited.png"
    edited.write_bytes(style_png.read_bytes())
    for color in (None, "match"):
        edited.write_bytes(style_png.read_bytes())
        before = st.stylize(frame, edited, color=color)
        edited.write_bytes(second_style.read_bytes())
        after = st.stylize(frame, edited, color=color)
        assert np.array_equal(after, st.stylize(frame, second_style, color=color)), color
        assert not np.array_equal(before, after), color


def test_grey_and_rgba_style_arrays_are_read_as_style_files_are(st, tmp_path):
    grey = frames_rgb(1, 48, 40, seed=4)[0][..., 0]
    rgba = np.dstack([frames_rgb(1, 48, 40, seed=5)[0], np.full((40, 48), 128, np.uint8)])
    for array, name in ((grey, "grey.png"), (rgba, "rgba.png")):
        Image.fromarray(array).save(tmp_path / name)
        from_file, from_array = st.style_stats(tmp_path / name), st.style_stats(array)
        assert torch.allclose(from_file.mean, from_array.mean, atol=1e-3), name
        assert torch.allclose(from_file.std, from_array.std, atol=1e-3), name


def test_colour_keeping_takes_each_pictures_colours_or_a_videos_scene(st, style_png):
    first = np.full((48, 64, 3), 120, np.uint8)
    first[:, :32, 0] = 200
    second = first.copy()
    second[..., 2] += 12  # a little bluer: the same scene for a video
    alone = st.stylize(second, style_png, color="match")
    st.stylize(first, style_png, color="match")
    assert np.array_equal(st.stylize(second, style_png, color="match"), alone)  # photos: no memory
    both = st.stylize(np.stack([first, second]), style_png, color="match")
    assert np.array_equal(both[1], alone)
    st.stylize(first, style_png, color="match", video=True)
    followed = st.stylize(second, style_png, color="match", video=True)
    assert not np.array_equal(followed, alone)  # the scene's colours, taken at its first frame
    st.forget_scene()
    assert np.array_equal(st.stylize(second, style_png, color="match", video=True), alone)


def test_read_only_frames_are_taken_without_a_warning(st, style_png, recwarn):
    frame = frames_rgb(1, 64, 48)[0]
    frame.flags.writeable = False  # as np.asarray(PIL image) gives
    st.stylize(frame, style_png, color="match")
    assert not [w for w in recwarn if "not writable" in str(w.message)]


def test_convert_to_webm_gets_vp9_as_on_the_command_line(st, clip, style_png, tmp_path):
    st.convert(clip, tmp_path / "o.webm", style_png, size=32, duration=0.125)
    with av.open(str(tmp_path / "o.webm")) as c:
        assert c.streams.video[0].codec_context.name == "vp9"


def test_blends_follow_their_weights(st, style_png, second_style):
    frame = frames_rgb(1, 64, 48)[0]
    first_only = st.stylize(frame, [style_png, second_style], weights=[1, 0])
    assert np.array_equal(first_only, st.stylize(frame, style_png))
    half = st.stylize(frame, [style_png, second_style], weights=np.array([0.5, 0.5]))
    blend = StyleStats.combine([st.style_stats(style_png), st.style_stats(second_style)], [0.5, 0.5])
    assert np.array_equal(half, st.stylizer.stylize_frames(frame[None], Target(blend))[0])
    # Arrays and files mixed: the same blend.
    array = np.asarray(Image.open(second_style).convert("RGB"))
    assert np.abs(st.stylize(frame, [style_png, array]).astype(int) - half).max() <= 1


def test_colour_keeping_and_masks_are_the_command_lines(st, style_png, second_style, tmp_path):
    frames = frames_rgb(2, 64, 48)
    mask = tmp_path / "mask.png"
    Image.fromarray(np.repeat(np.arange(64, dtype=np.uint8)[None] * 4, 48, 0)).save(mask)
    for controls in (dict(color="match"), dict(color="luminance"), dict(mask=mask)):
        styles = [style_png, second_style] if "mask" in controls else [style_png]
        target_for, close = target_source(Controls(styles, None, 1.0, controls.get("color"),
                                                   controls.get("mask")), st.styles, st.stylizer.style_stats)
        expected = st.stylizer.stylize_frames(frames, target_for(0, frames))
        close()
        out = st.stylize(frames, styles, batch=2, **controls)
        assert np.array_equal(out, expected), controls
        assert not np.array_equal(out, st.stylize(frames, style_png, batch=2))


def test_stylize_file_writes_what_the_image_command_writes(st, style_png, tmp_path, capsys):
    photo = tmp_path / "photo.png"
    Image.fromarray(frames_rgb(1, 80, 60)[0]).save(photo)
    out = st.stylize_file(photo, tmp_path / "api.png", style_png, alpha=0.8, color="luminance")
    assert out == tmp_path / "api.png"
    assert main(["image", str(photo), "-s", str(style_png), "--alpha", "0.8", "--preserve-color",
                 "luminance", "--model", "tiny", "--device", "cpu", "-o", str(tmp_path / "cli.png")]) == 0
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(tmp_path / "cli.png")))
    with pytest.raises(VidstyleError, match="exists; pass overwrite=True"):
        st.stylize_file(photo, out, style_png)
    st.stylize_file(photo, out, style_png, overwrite=True, size=30)
    assert Image.open(out).size == (40, 30)


def test_convert_writes_what_the_convert_command_writes(st, clip, style_png, tmp_path):
    seen = []
    report = st.convert(clip, tmp_path / "api.mp4", style_png, alpha=0.9,
                        on_progress=lambda done, total, fps: seen.append(done))
    assert report.frames == 12 and seen[-1] == 12
    assert main(["convert", str(clip), "-s", str(style_png), "--alpha", "0.9", "--model", "tiny",
                 "--device", "cpu", "-o", str(tmp_path / "cli.mp4")]) == 0
    # Not bit-exact: each run picks its thread counts by timing (vidstyle.thread_tuner), and
    # oneDNN's bf16 sums differ a little between counts (seen: 10% of values, by up to 21).
    api, cli = decoded(tmp_path / "api.mp4").astype(int), decoded(tmp_path / "cli.mp4")
    assert np.abs(api - cli).mean() < 1.0
    st.convert(clip, tmp_path / "other.mp4", style_png, alpha=0.5)
    assert np.abs(api - decoded(tmp_path / "other.mp4")).mean() > 3.0
    with av.open(str(tmp_path / "api.mp4")) as c:
        assert c.streams.audio, "the sound is copied"
    part = st.convert(clip, tmp_path / "part.mp4", style_png, start=0.25, duration=0.125)
    assert part.frames == 3


def test_arguments_of_the_wrong_kind_are_one_clear_error_not_a_type_error(st, style_png, tmp_path, clip):
    """A string for a number, a number for a list or a callback: ValueErrors and TypeErrors
    from deep inside (some after the conversion had started); "0.5" and True were taken as
    an alpha though strings and booleans are never numbers elsewhere."""
    frame = frames_rgb(1, 64, 48)[0]
    for kwargs, said in (({"weights": ["a", "b"]}, "weights are one number"),
                         ({"weights": 0.5}, "weights are"), ({"weights": [1, -1]}, "weights are"),
                         ({"alpha": "0.5"}, "alpha must be a number"),
                         ({"alpha": True}, "alpha must be a number")):
        with pytest.raises(VidstyleError, match=said):
            st.stylize(frame, [style_png, style_png], **kwargs)
    with pytest.raises(VidstyleError, match="weights are"):
        st.stylize_file(clip, tmp_path / "o.png", [style_png, style_png], weights="ab")
    for kwargs, said in (({"crf": "x"}, "crf is a whole number"), ({"workers": "2"}, "workers is a whole"),
                         ({"on_progress": 5}, "on_progress is a function"),
                         ({"fade_in": "2"}, "fade_in is a number"), ({"weights": [1, "x"]}, "weights are")):
        with pytest.raises(VidstyleError, match=said):
            st.convert(clip, tmp_path / "o.mp4", [style_png, style_png], **kwargs)
        assert not (tmp_path / "o.mp4").exists()
    for kwargs in ({"work_size": "200"}, {"style_size": "256"}):
        with pytest.raises(VidstyleError, match="is a shorter side in pixels, a whole number"):
            StyleTransfer(model="tiny", device="cpu", **kwargs)
    # ... while what worked before still does: None for off, no weights for equal ones, any numbers
    equal = st.stylize(frame, [style_png, style_png])
    for weights in ([], range(1, 3), torch.tensor([1.0, 1.0]), np.array([2, 2])):
        assert st.stylize(frame, [style_png, style_png], weights=weights).shape == equal.shape
    report = st.convert(clip, tmp_path / "o.mp4", style_png, steady=None, audio_pulse=None, workers=1.0)
    assert report.frames > 0 and report.workers == 1
    # A tensor that keeps gradients is taken as an array is (a uint8 one works; a float one is refused)
    with pytest.raises(VidstyleError, match="uint8 RGB, got float32"):
        st.stylize(torch.rand(48, 64, 3, requires_grad=True), style_png)
    assert st.stylize(torch.from_numpy(frame), style_png).shape == frame.shape


def test_bad_input_is_one_clear_error(st, style_png, tmp_path, clip):
    frame = frames_rgb(1, 64, 48)[0]
    for bad, said in ((frame.astype(np.float32), "uint8 RGB, got float32"),
                      (frame[..., :2], "(H, W, 3) or (N, H, W, 3)"), (frame[:8], "at least 16 px")):
        with pytest.raises(VidstyleError, match=said.replace("(", r"\(").replace(")", r"\)")):
            st.stylize(bad, style_png)
    with pytest.raises(VidstyleError, match="colour keeping and masks take style image files"):
        st.stylize(frame, frame, color="match")
    with pytest.raises(VidstyleError, match="alpha must be between 0 and 1"):
        st.stylize(frame, frame, alpha=2)
    with pytest.raises(VidstyleError, match="alpha must be between 0 and 1"):
        st.stylize(frame, style_png, alpha=-1)
    with pytest.raises(VidstyleError, match="alpha must be a number"):
        st.stylize(frame, style_png, alpha="strong")
    with pytest.raises(VidstyleError, match="no frames to stylize"):
        st.stylize(np.zeros((0, 48, 64, 3), np.uint8), style_png)
    with pytest.raises(VidstyleError, match="16 to 4320 pixels"):
        st.stylize(frame, style_png, size=5000)
    with pytest.raises(VidstyleError, match="or N of the same size"):
        st.stylize([frame, frame[:32]], style_png)
    with pytest.raises(VidstyleError, match="batch must be at least 1"):
        st.stylize(frame, style_png, batch=-1)
    with pytest.raises(VidstyleError, match="is a folder: name its image files"):
        st.stylize(frame, tmp_path)
    with pytest.raises(VidstyleError, match="a style image must be"):
        st.stylize(frame, frame[..., :2])
    with pytest.raises(VidstyleError, match=r"values in \[0, 1\], got 0 to 255"):
        st.style_stats(torch.from_numpy(frame).permute(2, 0, 1).float())
    with pytest.raises(VidstyleError, match="no option 'segment' \\(use start= and duration=\\)"):
        st.convert(clip, tmp_path / "o.mp4", style_png, segment=None)
    with pytest.raises(VidstyleError, match="no option 'stedy'"):
        st.convert(clip, tmp_path / "o.mp4", style_png, stedy=0.5)
    with pytest.raises(VidstyleError, match="crf is for video outputs; .* is an animated GIF"):
        st.convert(clip, tmp_path / "o.gif", style_png, crf=20)
    (tmp_path / "taken.mp4").write_bytes(b"mine")
    with pytest.raises(VidstyleError, match="exists; pass overwrite=True"):
        st.convert(clip, tmp_path / "taken.mp4", style_png)
    assert (tmp_path / "taken.mp4").read_bytes() == b"mine"
    before = style_png.read_bytes()
    with pytest.raises(VidstyleError, match="is the style image"):
        st.stylize_file(clip, tmp_path / "." / style_png.name, [style_png, style_png], overwrite=True)
    with pytest.raises(VidstyleError, match="is the mask"):
        st.convert(clip, clip.with_name("mask.mp4"), [style_png, style_png], mask=clip.with_name("mask.mp4"),
                   overwrite=True)
    assert style_png.read_bytes() == before
    with pytest.raises(VidstyleError, match="style image not found"):
        st.stylize(frame, tmp_path / "missing.png")
    with pytest.raises(VidstyleError, match="a mask video follows a video's time"):
        st.stylize(frame, [style_png, style_png], mask=clip)
    with pytest.raises(VidstyleError, match="a style tensor must be"):
        st.style_stats(torch.zeros(48, 64, 3))
    with pytest.raises(VidstyleError, match="a style is one image file, .* got None"):
        st.stylize(frame, None)
    with pytest.raises(VidstyleError, match=r"got a list \(stylize\(\) blends a list\)"):
        st.style_stats([style_png, style_png])


def test_pil_frames_are_read_as_image_files_are(st, style_png, tmp_path):
    rng = np.random.default_rng(5)
    grey16 = (rng.random((40, 56)) * 65535).astype(np.uint16)
    rgba = np.dstack([frames_rgb(1, 56, 40, seed=6)[0], (rng.random((40, 56)) > 0.5) * 255]).astype(np.uint8)
    pictures = {"I;16": Image.fromarray(grey16), "F": Image.fromarray(grey16.astype(np.float32) / 65535),
                "RGBA": Image.fromarray(rgba)}
    for mode, picture in pictures.items():
        assert picture.mode == mode
        as_file = tmp_path / f"{mode.replace(';', '_')}.tiff"
        picture.save(as_file)
        out = tmp_path / f"{mode.replace(';', '_')}_out.png"
        expected = np.asarray(Image.open(st.stylize_file(as_file, out, style_png)).convert("RGB")).astype(int)
        got = st.stylize(picture, style_png).astype(int)
        assert got.shape == expected.shape == (40, 56, 3)
        assert np.abs(got - expected).mean() < 1.0, mode  # (rounding through the file aside)
    # 16-bit grey is not white, nor a float picture in [0, 1] black, as Pillow's convert("RGB") makes them
    grey = st.stylize(pictures["I;16"], style_png)
    white = st.stylize(np.full((40, 56, 3), 255, np.uint8), style_png)
    assert np.abs(grey.astype(int) - white).mean() > 10
    listed = st.stylize([pictures["F"], pictures["F"]], style_png)
    assert np.array_equal(listed[1], st.stylize(pictures["F"], style_png))


def test_a_reshaped_style_array_is_another_style(st):
    frame = frames_rgb(1, 64, 48)[0]
    style = np.random.default_rng(7).integers(0, 256, (64, 128, 3), np.uint8)
    reshaped = style.reshape(128, 64, 3)  # the same bytes
    assert np.abs(st.stylize(frame, style).astype(int) - st.stylize(frame, reshaped)).mean() > 0
    fresh = StyleTransfer(model="tiny", device="cpu", cache_dir=st.styles.cache_dir)
    assert np.array_equal(st.stylize(frame, reshaped), fresh.stylize(frame, reshaped))


def test_sizes_times_and_paths_are_checked_alike_everywhere(st, style_png, clip, tmp_path):
    frame = frames_rgb(1, 64, 48)[0]
    out = tmp_path / "o.png"
    for size in (0, 5000, -5, "100", 2.5, True):
        for call in (lambda: st.stylize(frame, style_png, size=size),
                     lambda: st.stylize_file(clip, out, style_png, size=size),
                     lambda: st.convert(clip, tmp_path / "o.mp4", style_png, size=size)):
            with pytest.raises(VidstyleError, match="size is the output's shorter side"):
                call()
    for batch in (0, 2.5, "2"):
        with pytest.raises(VidstyleError, match="batch must be at least 1"):
            st.stylize(frame, style_png, batch=batch)
        with pytest.raises(VidstyleError, match="batch must be at least 1"):
            st.convert(clip, tmp_path / "o.mp4", style_png, batch=batch)
    with pytest.raises(VidstyleError, match="at must be 0 or more seconds, got -1"):
        st.stylize_file(clip, out, style_png, at=-1)
    with pytest.raises(VidstyleError, match="start is in seconds, a number"):
        st.convert(clip, tmp_path / "o.mp4", style_png, start="soon")
    with pytest.raises(VidstyleError, match="the duration must be more than 0 s and finite, got nan"):
        st.convert(clip, tmp_path / "o.mp4", style_png, duration=float("nan"))
    with pytest.raises(VidstyleError, match="the start must be 0 or later, got -1"):
        st.convert(clip, tmp_path / "o.mp4", style_png, start=-1)
    # whole numbers of any type are sizes and batches, as before; os.PathLike objects are paths
    class PathLike:
        def __fspath__(self):
            return str(tmp_path / "o2.png")
    assert st.stylize(frame, style_png, size=np.int64(32), batch=2.0).shape == (32, 43, 3)
    assert st.stylize_file(clip, PathLike(), style_png, size=32.0).name == "o2.png"
    assert st.convert(clip, tmp_path / "b.mp4", style_png, batch=None).frames == 12  # (was a TypeError)
    mask = np.zeros((48, 64), np.uint8)
    for call in (lambda: st.stylize(frame, [style_png, style_png], mask=mask),
                 lambda: st.stylize_file(clip, out, [style_png, style_png], mask=Image.fromarray(mask)),
                 lambda: st.convert(clip, tmp_path / "o.mp4", [style_png, style_png], mask=mask)):
        with pytest.raises(VidstyleError, match="mask must be a file's path .* got .*; only styles may be"):
            call()
    with pytest.raises(VidstyleError, match="content must be a file's path \\(str or Path\\), got ndarray"):
        st.stylize_file(frame, out, style_png)
    assert not out.exists() and not (tmp_path / "o.mp4").exists()


def test_weights_that_do_not_fit_say_how(tmp_path):
    from safetensors.torch import save_file

    from vidstyle.lite import LiteModel

    # a narrow lite model's tensors without the metadata that gives its widths
    narrow = {k: v.contiguous() for k, v in LiteModel((8, 16, 24)).state_dict().items()}
    save_file(narrow, str(tmp_path / "narrow.safetensors"))
    save_file({"foo": torch.zeros(2)}, str(tmp_path / "foo.safetensors"))
    said = r"do not fit this model \(22 of another shape, e\.g\. encoder\.layers\.1\.weight is \(8, 3, 3, 3\)"
    with pytest.raises(VidstyleError, match=said + r", not \(24, 3, 3, 3\)\)"):
        StyleTransfer(model="lite", weights=tmp_path / "narrow.safetensors", device="cpu")
    with pytest.raises(VidstyleError, match=r"1 not the model's, e\.g\. foo"):
        StyleTransfer(model="lite", weights=tmp_path / "foo.safetensors", device="cpu")


def test_describe_names_the_model_a_weights_file_holds(tmp_path):
    from vidstyle.lite import LiteModel, default_weights_path

    lite_file = default_weights_path("lite")
    assert StyleTransfer(model="tiny", weights=lite_file, device="cpu").describe()["model"] == "lite"
    assert StyleTransfer(model="lite", device="cpu").describe()["model"] == "lite"
    LiteModel((8, 16, 24), feature_kernel=1).save(tmp_path / "mine.safetensors")
    mine = StyleTransfer(model="auto", weights=tmp_path / "mine.safetensors", device="cpu")
    assert mine.describe()["model"] == "custom (8/16/24, 1x1 features)"
