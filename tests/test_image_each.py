"""Trying each style of a folder on stills (`vidstyle image --each [--sheet]`)."""
import numpy as np
import pytest
from PIL import Image

from test_cli import assert_one_line_error, run
from test_cli_plans import image_file, no_model  # noqa: F401 (a fixture)


@pytest.fixture
def styles(tmp_path):
    folder = tmp_path / "styles"
    for i, name in enumerate(("wave", "scream", "udnie")):
        image_file(folder / f"{name}.png", seed=10 + i, size=(40, 40))
    return folder


def test_each_style_gets_its_own_output_and_the_sheet_shows_them_all(capsys, tmp_path, styles):
    a, b = image_file(tmp_path / "a.png", 1), image_file(tmp_path / "in" / "b.jpg", 2, size=(48, 64))
    extra = image_file(tmp_path / "more" / "wave.png", 13, size=(40, 40))  # a second "wave"
    out, sheet = tmp_path / "tries", tmp_path / "sheet.png"
    code, stdout, err = run(capsys, "image", a, b, "-s", styles, "-s", extra, "--each", "-o", out,
                            "--sheet", sheet, "--model", "tiny")
    assert code == 0, err
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"{stem}_{style}.png" for stem in ("a", "b")
                           for style in ("scream", "udnie", "wave", "wave_2"))
    outputs = {p.name: np.asarray(Image.open(p)) for p in out.iterdir()}
    assert not np.array_equal(outputs["a_wave.png"], outputs["a_scream.png"])  # one style each, not a blend
    # The sheet: a row per input, the input then its four results, each 200 px high with its name below.
    picture = np.asarray(Image.open(sheet))
    assert picture.shape[0] == 2 * (200 + 22) + 6 and str(sheet) in stdout
    assert picture.shape[1] >= 5 * round(40 * 200 / 48)


@pytest.mark.parametrize("argv, fragment", [
    (["--each", "-o", "{out}.png"], "-o must be a folder"),
    (["--sheet", "{out}.png", "-o", "{out}/"], "add --each"),
    (["--each", "--weights", "1", "-o", "{out}/"], "leave them out"),
    (["--each", "-o", "{out}/", "--sheet", "{out}.mp4"], "cannot write an image"),
    (["-o", "{out}/"], "add --each"),  # a style folder without --each
])
def test_each_problems_are_one_line_before_the_model_loads(capsys, no_model, tmp_path, styles,  # noqa: F811
                                                            argv, fragment):
    photo = image_file(tmp_path / "a.png")
    argv = [a.format(out=tmp_path / "out") for a in argv]
    code, _, err = run(capsys, "image", photo, "-s", styles, *argv)
    assert_one_line_error(code, err, fragment)
    assert not (tmp_path / "out").exists()


def test_the_sheet_is_not_an_input_and_is_not_replaced_without_overwrite(capsys, no_model, tmp_path,  # noqa: F811
                                                                        styles):
    photo = image_file(tmp_path / "a.png")
    for overwrite in ([], ["--overwrite"]):  # (not told to pass --overwrite, then refused all the same)
        code, _, err = run(capsys, "image", photo, "-s", styles, "--each", "-o", tmp_path / "out/",
                           "--sheet", photo, *overwrite)
        assert_one_line_error(code, err, f"is the input image {photo}")
    sheet = tmp_path / "sheet.png"
    sheet.write_bytes(b"not a sheet of ours")  # outside the inputs and styles: replaced only when asked
    code, _, err = run(capsys, "image", photo, "-s", styles, "--each", "-o", tmp_path / "out/",
                       "--sheet", sheet)
    assert_one_line_error(code, err, "exists; pass --overwrite")


def test_a_sheet_in_the_style_folder_never_replaces_a_painting(capsys, tmp_path, styles):
    photo = image_file(tmp_path / "a.png")
    painting = styles / "wave.png"
    before = painting.read_bytes()
    for extra in ([], ["--overwrite"], ["--skip-existing"]):
        code, _, err = run(capsys, "image", photo, "-s", styles, "--each", "-o", tmp_path / "out/",
                           "--sheet", painting, "--model", "tiny", *extra)
        assert_one_line_error(code, err, f"is the style image {painting}")
    assert painting.read_bytes() == before and not (tmp_path / "out").exists()
    # A sheet of ours there is no style: left out of them when made again, and replaced.
    sheet = styles / "sheet.png"
    for _ in range(2):
        code, _, err = run(capsys, "image", photo, "-s", styles, "--each", "-o", tmp_path / "out/",
                           "--sheet", sheet, "--model", "tiny", "--overwrite")
        assert code == 0, err
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_scream.png", "a_udnie.png",
                                                                         "a_wave.png"]
        assert np.asarray(Image.open(sheet)).shape[0] == 200 + 22  # one row: the photo and three styles


def test_a_rerun_does_not_take_its_own_results_for_styles_or_inputs(capsys, tmp_path, styles):
    photos = tmp_path / "photos"
    image_file(photos / "a.png", 1)
    argv = ["image", photos, "-s", styles, "--each", "-o", styles / "tries", "--sheet", photos / "sheet.png",
            "--model", "tiny", "--overwrite"]
    for _ in range(2):  # the results land inside the style folder, the sheet among the photos
        code, stdout, err = run(capsys, *argv)
        assert code == 0, err
        assert sorted(p.name for p in (styles / "tries").iterdir()) == ["a_scream.png", "a_udnie.png",
                                                                        "a_wave.png"]


def test_a_bad_photo_costs_its_row_not_the_sheet(capsys, tmp_path, styles):
    photos = tmp_path / "photos"
    image_file(photos / "a.png", 1)
    (photos / "b.png").write_bytes(b"not a picture")
    sheet = tmp_path / "sheet.png"
    code, stdout, err = run(capsys, "image", photos, "-s", styles, "--each", "-o", tmp_path / "tries",
                            "--sheet", sheet, "--model", "tiny")
    assert code == 1 and "3 of 6 images failed" in err
    assert np.asarray(Image.open(sheet)).shape[0] == 200 + 22  # one row: a's


def test_a_sheet_named_like_a_result_is_refused_before_the_model_loads(capsys, no_model, tmp_path,  # noqa: F811
                                                                      styles):
    photo = image_file(tmp_path / "a.png")
    code, _, err = run(capsys, "image", photo, "-s", styles, "--each", "-o", tmp_path / "tries",
                       "--sheet", tmp_path / "tries" / "a_wave.png")
    assert_one_line_error(code, err, "is also the name of one of the results")


def test_a_video_gives_its_frame_at_a_time(capsys, tmp_path, styles):
    from conftest import write_clip
    from vidstyle.errors import VidstyleError
    from vidstyle.sources import VideoFileSource
    from vidstyle.stills import load_still

    clip = write_clip(tmp_path / "clip.mp4", n=24, fps=24)
    with VideoFileSource(clip) as source:
        frames = [f.image for f in source]

    def still(at):
        return (load_still(clip, at).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)

    # The frame on screen at that time: frame 12 shows from 0.5 s to 0.5417 s.
    for at, index in ((0.0, 0), (0.5, 12), (0.53, 12), (0.55, 13), (0.99, 23)):
        assert np.array_equal(still(at), frames[index]), at
    with pytest.raises(VidstyleError, match="past its end"):
        load_still(clip, 1.0)
    sheet = tmp_path / "sheet.png"
    code, stdout, err = run(capsys, "image", clip, "--at", "0:00.5", "-s", styles, "--each", "-o",
                            tmp_path / "tries", "--sheet", sheet, "--model", "tiny")
    assert code == 0, err
    assert (tmp_path / "tries" / "clip_wave.png").exists() and sheet.exists()


@pytest.mark.parametrize("inputs, at, fragment", [
    (["{photo}"], "1", "none of the inputs is a video"),
    (["{clip}"], "9", "--at 9 s is past its end"),
])
def test_at_problems_are_one_line_before_the_model_loads(capsys, no_model, tmp_path, style_png,  # noqa: F811
                                                         inputs, at, fragment):
    from conftest import write_clip

    names = {"photo": image_file(tmp_path / "a.png"), "clip": write_clip(tmp_path / "clip.mp4", n=12)}
    code, _, err = run(capsys, "image", *[i.format(**names) for i in inputs], "--at", at, "-s", style_png,
                       "-o", tmp_path / "o.png")
    assert_one_line_error(code, err, fragment)


def test_a_video_too_short_for_at_fails_once_and_the_others_go_on(capsys, tmp_path, styles):
    from conftest import write_clip

    long_clip = write_clip(tmp_path / "long.mp4", n=36, fps=24)
    short_clip = write_clip(tmp_path / "short.mp4", n=12, fps=24)
    code, stdout, err = run(capsys, "image", long_clip, short_clip, "--at", "1", "-s", styles, "--each",
                            "-o", tmp_path / "tries", "--model", "tiny")
    assert code == 1 and err.count("past its end") == 1 and "3 of 6 images failed" in err
    assert sorted(p.name for p in (tmp_path / "tries").iterdir()) == ["long_scream.png", "long_udnie.png",
                                                                       "long_wave.png"]


def test_skip_existing_goes_on_with_a_folder_and_its_sheet_shows_them_all(capsys, tmp_path, styles):
    photos = tmp_path / "photos"
    for i in range(3):
        image_file(photos / f"p{i}.png", 20 + i)
    out = tmp_path / "out"
    out.mkdir()
    Image.fromarray(np.zeros((36, 52, 3), np.uint8)).save(out / "p1.png")  # made by a stopped run
    code, _, err = run(capsys, "image", photos, "-s", styles / "wave.png", "-o", out, "--model", "tiny")
    assert code == 1 and "1 of 3 images failed" in err  # without it: that output is refused
    for name in ("p0.png", "p2.png"):
        (out / name).unlink()
    code, stdout, err = run(capsys, "image", photos, "-s", styles / "wave.png", "-o", out, "--model", "tiny",
                            "--skip-existing")
    assert code == 0 and "skipping 1 image(s) whose output exists" in err
    assert sorted(p.name for p in out.iterdir()) == ["p0.png", "p1.png", "p2.png"]
    assert not np.asarray(Image.open(out / "p1.png")).any()  # left as it was
    code, stdout, err = run(capsys, "image", photos, "-s", styles, "--each", "-o", tmp_path / "tries",
                            "--model", "tiny", "--skip-existing", "--sheet", tmp_path / "sheet.png")
    assert code == 0 and len(list((tmp_path / "tries").iterdir())) == 9
    made_at_once = np.asarray(Image.open(tmp_path / "sheet.png"))
    (tmp_path / "sheet.png").write_bytes(b"an older sheet")  # made again, whole, rather than refused
    code, stdout, err = run(capsys, "image", photos, "-s", styles, "--each", "-o", tmp_path / "tries",
                            "--model", "tiny", "--skip-existing", "--sheet", tmp_path / "sheet.png")
    assert code == 0 and "skipping 9 image(s)" in err
    # Every row, from the results already there: the same sheet as when they were made.
    assert np.array_equal(np.asarray(Image.open(tmp_path / "sheet.png")), made_at_once)


def test_skip_existing_never_makes_a_sheet_over_an_input_image(capsys, tmp_path, styles):
    photos = tmp_path / "photos"
    image_file(photos / "a.png", 20)
    image_file(photos / "b.png", 21)
    before = (photos / "b.png").read_bytes()
    code, _, err = run(capsys, "image", photos, "-s", styles, "--each", "-o", tmp_path / "tries",
                       "--model", "tiny", "--skip-existing", "--sheet", photos / "b.png")
    assert_one_line_error(code, err, f"is the input image {photos / 'b.png'}")
    assert (photos / "b.png").read_bytes() == before


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".tif"])
def test_a_sheet_says_it_is_one_and_a_photo_does_not(tmp_path, suffix):
    from vidstyle.contact_sheet import contact_sheet, is_contact_sheet

    photo = image_file(tmp_path / f"photo{suffix}", 1)
    sheet = contact_sheet([[("input", photo)]], tmp_path / f"sheet{suffix}", height=32)
    assert is_contact_sheet(sheet) and not is_contact_sheet(photo)
    (tmp_path / "broken.png").write_bytes(b"not an image")
    assert not is_contact_sheet(tmp_path / "broken.png") and not is_contact_sheet(tmp_path / "missing.png")
