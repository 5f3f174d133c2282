"""What the command line decides before the model loads: which files are inputs, where
each output goes, and which option values make sense."""
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import frames_rgb, write_clip
from test_cli import assert_one_line_error, run


@pytest.fixture
def no_model(monkeypatch):
    import vidstyle.stylizer

    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded before the plan was checked")

    monkeypatch.setattr(vidstyle.stylizer, "load_stylizer", refuse)


def image_file(path, seed=0, size=(40, 48)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)).save(path)
    return path


def test_an_output_that_is_another_input_is_refused_and_no_input_is_touched(capsys, tmp_path, style_png,
                                                                          no_model):
    a = write_clip(tmp_path / "a.mp4", n=2, audio=False)
    (tmp_path / "out").mkdir()
    inner = write_clip(tmp_path / "out" / "a.mp4", n=3, audio=False)
    before = inner.read_bytes()
    code, _, err = run(capsys, "convert", a, inner, "-s", style_png, "-o", tmp_path / "out", "--overwrite")
    assert_one_line_error(code, err, f"would replace the input {inner}")
    # The folder as its own output: every output would be its input.
    code, _, err = run(capsys, "convert", tmp_path / "out", "-s", style_png, "-o", tmp_path / "out")
    assert_one_line_error(code, err, "is the input")
    photo = image_file(tmp_path / "a.png")
    inner_photo = image_file(tmp_path / "imgs" / "a.png", seed=1)
    photo_before = inner_photo.read_bytes()
    code, _, err = run(capsys, "image", photo, inner_photo, "-s", style_png, "-o", tmp_path / "imgs",
                       "--overwrite")
    assert_one_line_error(code, err, "would replace the input")
    assert inner.read_bytes() == before and inner_photo.read_bytes() == photo_before


def test_a_folder_scan_leaves_out_its_output_folder_and_hidden_files(capsys, tmp_path, style_png):
    vids = tmp_path / "vids"
    vids.mkdir()
    write_clip(vids / "a.mp4", n=2, audio=False)
    (vids / "._a.mp4").write_bytes(b"\0\5\26\7 macOS resource fork")  # from a USB drive
    (vids / ".a.4242.partial.mp4").write_bytes(b"a run still writing")
    code, stdout, err = run(capsys, "convert", vids, "-s", style_png, "-o", vids / "styled")
    assert code == 0, err
    assert [p.name for p in (vids / "styled").iterdir()] == ["a.mp4"]
    # Going on with --skip-existing must not take the first run's output for an input.
    code, stdout, err = run(capsys, "convert", vids, "-s", style_png, "-o", vids / "styled",
                            "--skip-existing")
    assert code == 0 and "skipping 1 input(s)" in err and stdout == ""
    assert sorted(p.name for p in (vids / "styled").iterdir()) == ["a.mp4"]


def test_a_file_name_where_several_outputs_need_a_folder_is_refused(capsys, tmp_path, style_png, no_model):
    a = write_clip(tmp_path / "a.mp4", n=2, audio=False)
    b = write_clip(tmp_path / "b.mp4", n=2, audio=False)
    code, _, err = run(capsys, "convert", a, b, "-s", style_png, "-o", tmp_path / "both.mp4")
    assert_one_line_error(code, err, "looks like a file name, but 2 inputs", "end it with a slash")
    code, _, err = run(capsys, "convert", tmp_path / "c", "-s", style_png, "-o", tmp_path / "c.mp4")
    assert_one_line_error(code, err, "input not found")
    (tmp_path / "c").mkdir()
    write_clip(tmp_path / "c" / "x.mp4", n=2, audio=False)
    code, _, err = run(capsys, "convert", tmp_path / "c", "-s", style_png, "-o", tmp_path / "c.mp4")
    assert_one_line_error(code, err, "is a folder: -o must be a folder")
    for only_an_extension in (".mp4", ".png"):
        code, _, err = run(capsys, "convert", a, "-s", style_png, "-o", tmp_path / only_an_extension)
        assert_one_line_error(code, err, "only an extension")
    (tmp_path / "notes").write_text("a file")
    code, _, err = run(capsys, "convert", a, "-s", style_png, "-o", tmp_path / "notes")
    assert_one_line_error(code, err, "is a file, but a name without an extension", "names a folder")
    assert not (tmp_path / "both.mp4").exists() and not (tmp_path / "c.mp4").exists()
    assert not (tmp_path / ".mp4").exists() and not (tmp_path / ".png").exists()


def test_an_output_that_is_an_input_under_another_name_is_refused(capsys, tmp_path, style_png, no_model):
    import os

    a = write_clip(tmp_path / "a.mp4", n=2, audio=False)
    b = write_clip(tmp_path / "b.mp4", n=2, audio=False)
    (tmp_path / "out").mkdir()
    os.link(a, tmp_path / "out" / "b.mp4")  # one file, two names (as B.MP4 and b.mp4 on macOS)
    code, _, err = run(capsys, "convert", a, b, "-s", style_png, "-o", tmp_path / "out", "--overwrite")
    assert_one_line_error(code, err, f"would replace the input {a}")


def test_a_folder_with_a_dot_in_its_name_takes_a_trailing_slash(capsys, tmp_path, style_png):
    a = write_clip(tmp_path / "a.mp4", n=2, audio=False)
    b = write_clip(tmp_path / "b.mp4", n=2, audio=False)
    code, _, err = run(capsys, "convert", a, b, "-s", style_png, "-o", f"{tmp_path / 'take.2'}/")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "take.2").iterdir()) == ["a.mp4", "b.mp4"]
    code, _, err = run(capsys, "convert", a, "-s", style_png, "-o", f"{tmp_path / '.mp4'}/")
    assert code == 0, err
    assert (tmp_path / ".mp4" / "a.mp4").is_file()


def test_image_takes_folders_and_goes_on_past_a_bad_image(capsys, tmp_path, style_png):
    photos = tmp_path / "photos"
    image_file(photos / "a.png")
    image_file(photos / "sub" / "b.jpg", seed=1)
    (photos / "c.png").write_bytes(b"not a png")
    code, stdout, err = run(capsys, "image", photos, "-s", style_png, "-o", tmp_path / "out")
    assert code == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "sub"]  # (its folders too)
    assert (tmp_path / "out" / "sub" / "b.png").is_file()
    assert "cannot read image" in err and "c.png" in err and "1 of 3 images failed" in err
    assert "Traceback" not in err


def test_image_refuses_bad_names_before_the_model_loads(capsys, tmp_path, style_png, no_model):
    photo = image_file(tmp_path / "a.png")
    for output, message in (("p.xyz", "give it an image extension"), ("p.mp4", "vidstyle convert")):
        code, _, err = run(capsys, "image", photo, "-s", style_png, "-o", tmp_path / output)
        assert_one_line_error(code, err, message)
    code, _, err = run(capsys, "image", photo, tmp_path / "missing.png", "-s", style_png,
                       "-o", tmp_path / "out")
    assert_one_line_error(code, err, "image not found", "missing.png")
    assert not (tmp_path / "out").exists()


def test_images_over_pillows_limit_are_one_line_and_large_photos_no_warning(monkeypatch, tmp_path):
    from vidstyle.errors import VidstyleError
    from vidstyle.images import load_image

    path = image_file(tmp_path / "a.png", size=(40, 40))  # 1,600 pixels
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow warns above 1,000, refuses above 2,000
    with warnings.catch_warnings(record=True) as shown:  # the filters as vidstyle leaves them
        assert load_image(path).shape == (3, 40, 40)
    assert not [w for w in shown if issubclass(w.category, Image.DecompressionBombWarning)]
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)
    with pytest.raises(VidstyleError, match=r"too large to read \(over 0 megapixels\); scale it down"):
        load_image(path)
    big = image_file(tmp_path / "big.png", size=(2000, 1600))  # 3.2 MP against a 1.5 MP limit
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 750_000)
    with pytest.raises(VidstyleError, match=r"over 2 megapixels"):
        load_image(big)


def test_weights_must_be_finite_and_huge_ones_still_blend(capsys, clip, style_png, tmp_path, no_model):
    import torch

    from vidstyle.adain import StyleStats
    from vidstyle.styles import normalise_weights

    out = tmp_path / "o.mp4"
    for bad in ("nan", "inf"):
        code, _, err = run(capsys, "convert", clip, "-s", style_png, "-s", style_png, "--weights", bad, 1,
                           "-o", out)
        assert_one_line_error(code, err, "non-negative numbers, not all zero", bad)
    assert normalise_weights([1e308, 1e308], 2) == [0.5, 0.5]
    a, b = StyleStats(torch.zeros(4), torch.ones(4)), StyleStats(torch.ones(4), torch.ones(4))
    assert torch.allclose(StyleStats.combine([a, b], [1e308, 3e307]).mean, torch.full((4,), 3 / 13))
    with pytest.raises(ValueError, match="non-negative numbers"):
        StyleStats.combine([a, b], [float("nan"), 1])


def test_an_input_after_the_weights_is_an_input(capsys, clip, style_png, tmp_path):
    from vidstyle.cli.common import end_weights_at_a_path
    from vidstyle.cli.main import build_parser

    argv = ["convert", "-s", "a.png", "-s", "b.png", "--weights", "0.7", "0.3", "clip.mp4", "-o", "o.mp4"]
    args = build_parser().parse_args(end_weights_at_a_path(argv))
    assert args.inputs == ["clip.mp4"] and args.weights == [0.7, 0.3]
    assert end_weights_at_a_path(["--", "--weights", "1"]) == ["--", "--weights", "1"]
    assert end_weights_at_a_path(["--weig", "1", "2", "a.mp4"]) == ["--weights=1", "--weights=2", "a.mp4"]
    code, stdout, err = run(capsys, "convert", "-s", style_png, "-s", style_png, "--weights", 0.5, 0.5, clip,
                            "-o", tmp_path / "o.mp4")
    assert code == 0, err
    assert "12 frames" in stdout


def test_webcam_refuses_a_negative_camera_a_zero_size_and_a_file_for_its_folder(capsys, style_png,
                                                                              tmp_path, no_model):
    with pytest.raises(SystemExit) as exc:
        run(capsys, "webcam", "-s", style_png, "--camera", -1)
    assert exc.value.code == 2 and "--camera: expected a number >= 0, got -1" in capsys.readouterr().err
    for bad, said in (("0x0", "sizes are at least 1x1, got '0x0'"), ("big", "sizes look like 640x360"),
                      ("100000x720", "sizes are at most 7680x4320 (8K)")):
        with pytest.raises(SystemExit) as exc:
            run(capsys, "webcam", "-s", style_png, "--capture-size", bad)
        assert exc.value.code == 2 and f"--capture-size: {said}" in capsys.readouterr().err
    taken = tmp_path / "notes.txt"
    taken.write_text("a file")
    code, _, err = run(capsys, "webcam", "-s", style_png, "--save-dir", taken)
    assert_one_line_error(code, err, "is a file; snapshots and recordings need a folder")
    code, _, err = run(capsys, "webcam", "-s", style_png, "--save-dir", taken / "snaps")
    assert_one_line_error(code, err, "cannot create folder", "notes.txt is a file")


@pytest.mark.parametrize("argv, said", [
    (["eval", "--content", "c", "--style", "s", "--size", "50000"],
     "--size: expected at most 7680 (8K's longer side)"),
    (["bench", "--sizes", "640x360", "40000x360"], "--sizes: sizes are at most 7680x4320 (8K)"),
    (["bench", "--sizes", "8x8"], "--sizes: sizes are at least 16x16"),
])
def test_eval_and_bench_refuse_sizes_past_8k_before_they_take_the_memory(capsys, argv, said):
    with pytest.raises(SystemExit) as exc:
        run(capsys, *argv)
    assert exc.value.code == 2 and said in capsys.readouterr().err


def test_an_output_folder_around_the_input_folder_does_not_exclude_its_inputs(tmp_path, monkeypatch):
    from vidstyle.cli.common import plan_outputs
    from vidstyle.cli.convert import VIDEO_SUFFIXES

    (tmp_path / "clips").mkdir()
    write_clip(tmp_path / "clips" / "a.mp4", n=2, audio=False)
    monkeypatch.chdir(tmp_path)
    pairs = plan_outputs(["clips"], ".", VIDEO_SUFFIXES, ".mp4", "input")
    assert [(str(src), str(dst)) for src, dst in pairs] == [("clips/a.mp4", "a.mp4")]


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_folder_that_takes_no_files_is_refused_before_the_model_loads(capsys, clip, style_png, no_model):
    code, _, err = run(capsys, "convert", clip, "-s", style_png, "-o", "/proc/vidstyle-test/o.mp4")
    assert_one_line_error(code, err, "cannot write /proc/vidstyle-test/o.mp4: /proc does not take new files")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_webcam_in_a_folder_that_takes_no_files_only_warns_without_save_dir(capsys, caplog, style_png,
                                                                            monkeypatch):
    monkeypatch.chdir("/proc")  # a folder nothing can be written to, even by root
    code, _, err = run(capsys, "webcam", "-s", style_png, "--camera", 97)
    assert code != 0 and "no camera at index 97" in err  # it got as far as the camera
    assert "cannot write snapshot.png" in caplog.text and "need --save-dir" in caplog.text


def test_inputs_may_come_after_options(capsys, tmp_path, style_png):
    a = write_clip(tmp_path / "a.mp4", n=2, audio=False)
    b = write_clip(tmp_path / "b.mp4", n=2, audio=False)
    code, _, err = run(capsys, "convert", a, "-s", style_png, b, "-o", tmp_path / "out")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.mp4", "b.mp4"]
    photo = image_file(tmp_path / "p.png")
    code, _, err = run(capsys, "image", "-s", style_png, "-o", tmp_path / "p_styled.png", photo)
    assert code == 0, err
    assert (tmp_path / "p_styled.png").is_file()


def test_weights_then_an_input_between_options_parse_as_meant():
    from vidstyle.cli.main import build_parser
    from vidstyle.cli.common import end_weights_at_a_path

    argv = ["convert", "a.mp4", "-s", "x.png", "-s", "y.png", "--weights", "0.7", "0.3", "b.mp4",
            "-o", "out", "c.mp4"]
    args = build_parser().parse_args(end_weights_at_a_path(argv))
    assert args.inputs == ["a.mp4", "b.mp4", "c.mp4"]
    assert args.weights == [0.7, 0.3] and args.style == ["x.png", "y.png"]


def test_an_input_named_twice_is_converted_once(capsys, tmp_path, style_png):
    vids = tmp_path / "vids"
    vids.mkdir()
    a = write_clip(vids / "a.mp4", n=2, audio=False)
    (tmp_path / "link.mp4").symlink_to(a)
    # One file, however it is named, so -o may name a file.
    code, _, err = run(capsys, "convert", a, vids / ".." / "vids" / "a.mp4", tmp_path / "link.mp4",
                       "-s", style_png, "-o", tmp_path / "one.mp4")
    assert code == 0, err
    assert (tmp_path / "one.mp4").is_file()
    # Directly and through its folder: one output, not a.mp4 and a_mp4.mp4.
    write_clip(vids / "b.mp4", n=2, audio=False)
    code, _, err = run(capsys, "convert", a, vids, "-s", style_png, "-o", tmp_path / "out")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.mp4", "b.mp4"]


def test_a_style_named_twice_keeps_both_entries_for_their_weights():
    from vidstyle.inputs import IMAGE_SUFFIXES, expand_files

    here = Path(__file__).parent.parent / "samples" / "styles" / "waves.png"
    files, _ = expand_files([here, here], IMAGE_SUFFIXES, "style image")
    assert files == [here, here]


def test_only_convert_offers_batch():
    """Stills differ in size and the webcam runs its newest frame: --batch would be ignored there."""
    from vidstyle.cli.main import build_parser

    parser = build_parser()
    assert parser.parse_args(["convert", "a.mp4", "-s", "x.png", "-o", "o.mp4", "--batch", "4"]).batch == 4
    for argv in (["image", "a.png", "-s", "x.png", "-o", "o.png"], ["webcam", "-s", "x.png"]):
        with pytest.raises(SystemExit):
            parser.parse_args([*argv, "--batch", "4"])


def test_output_names_do_not_depend_on_what_else_the_scan_finds(tmp_path):
    """A file added to a folder later (a.mov beside a.mp4, a second folder) takes no name an
    earlier run gave, so --skip-existing skips only what was made from the same input."""
    from vidstyle.cli.common import each_style_jobs, plan_outputs
    from vidstyle.controls import Controls
    from vidstyle.inputs import VIDEO_SUFFIXES

    clips, other = tmp_path / "clips", tmp_path / "other"
    for f in (clips / "a.mov", clips / "a.mp4", clips / "day1" / "a.mp4", other / "a.mp4"):
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"")
    out = tmp_path / "out"

    def plan(*inputs):
        pairs = plan_outputs([str(i) for i in inputs], str(out), VIDEO_SUFFIXES, ".mp4", "input")
        return {str(src.relative_to(tmp_path)): str(dst.relative_to(out)) for src, dst in pairs}

    assert plan(clips) == {"clips/a.mov": "a_mov.mp4", "clips/a.mp4": "a.mp4",
                           "clips/day1/a.mp4": "day1/a.mp4"}
    assert plan(clips, other)["other/a.mp4"] == "other/a.mp4"  # several folders: each under its name
    assert plan(clips, other)["clips/a.mp4"] == "clips/a.mp4"
    pairs = plan_outputs([str(clips)], str(out), VIDEO_SUFFIXES, ".mp4", "input", named_after=True)
    names = [str(dst.relative_to(out)) for _, dst, _ in each_style_jobs(pairs, Controls([Path("wave.png")]))]
    assert sorted(names) == ["a_mov_wave.mp4", "a_wave.mp4", "day1/a_wave.mp4"]  # (no _2 from day1's)


def test_overwrite_never_replaces_a_style_a_mask_or_a_cue_file(capsys, clip, style_png, tmp_path, no_model):
    photo = tmp_path / "photo.png"
    Image.fromarray(frames_rgb(1, 40, 32)[0]).save(photo)
    mask_clip = write_clip(tmp_path / "mask.mp4", audio=False)
    cues = tmp_path / "cues.txt"
    cues.write_text(f"0.2 {style_png.name}\n")
    second = tmp_path / "second.png"
    second.write_bytes(style_png.read_bytes())
    cases = [
        (["image", photo, "-s", style_png, "-o", style_png], "is the style image"),
        (["image", photo, "-s", style_png, "-o", tmp_path / "." / "style.png"], "is the style image"),
        (["convert", clip, "-s", style_png, "-s", second, "--mask", mask_clip, "-o", mask_clip],
         "is the mask"),
        (["convert", clip, "-s", second, "--style-at", "0.2", style_png, "-o", tmp_path / "style.png"],
         "is a cue's style image"),
        (["convert", clip, "-s", second, "--cues", cues, "-o", cues], "is the cue list"),
    ]
    # a painting or mask kept among an image sequence's frames, under a name it writes
    frames = tmp_path / "frames"
    frames.mkdir()
    kept_style, kept_mask = frames / "wave_0001.png", frames / "take_0003.png"
    kept_style.write_bytes(style_png.read_bytes())
    Image.fromarray(frames_rgb(1, 40, 32)[0]).save(kept_mask)
    cases += [
        (["convert", clip, "-s", kept_style, "-o", frames / "wave_%04d.png"],
         "would write its frame wave_0001.png over the style image"),
        (["convert", clip, "-s", style_png, "-s", second, "--mask", kept_mask,
          "-o", frames / "take_%04d.png"],
         "would write its frame take_0003.png over the mask"),
    ]
    for argv, said in cases:
        before = {p: p.read_bytes() for p in (style_png, second, mask_clip, cues, kept_style, kept_mask)}
        code, _, err = run(capsys, *argv, "--overwrite")
        assert_one_line_error(code, err, said, "choose another output name")
        assert before == {p: p.read_bytes() for p in before}


def test_a_video_into_one_image_and_the_standard_input_are_answered_plainly(capsys, clip, style_png, tmp_path,
                                                                            no_model):
    code, _, err = run(capsys, "convert", clip, "-s", style_png, "-o", tmp_path / "still.jpg")
    assert_one_line_error(code, err, "-o still.jpg is one image", ".gif", "(still_%04d.jpg)")
    for command in ("convert", "image"):
        code, _, err = run(capsys, command, "-", "-s", style_png, "-o", tmp_path / "o.mp4")
        assert_one_line_error(code, err, "would be the standard input, which is not read")


def test_a_bad_option_value_is_one_line_not_the_usage_first(capsys):
    for argv in (["webcam", "--alpha", "2"], ["convert", "--model", "huge", "a.mp4"], ["frobnicate"]):
        with pytest.raises(SystemExit) as exc:
            run(capsys, *argv)
        err = capsys.readouterr().err
        assert exc.value.code == 2 and len(err.strip().splitlines()) == 1, err
        assert "error: " in err and "--help' lists the options" in err
