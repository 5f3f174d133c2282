"""Without -o, results go into the current folder named INPUT_STYLE."""
import shutil

import numpy as np
from PIL import Image

from vidstyle.cli.main import main


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def style_folder(tmp_path):
    folder = tmp_path / "paintings"
    folder.mkdir()
    for i, name in enumerate(["wave", "scream"]):
        img = (np.random.default_rng(i).random((40, 40, 3)) * 255).astype(np.uint8)
        Image.fromarray(img).save(folder / f"{name}.png")
    return folder


def test_convert_without_o_writes_input_style_here(capsys, clip, tmp_path, monkeypatch):
    styles = style_folder(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    code, out, err = run(capsys, "convert", clip, "--style", styles / "wave.png", "--model", "tiny")
    assert code == 0, err
    assert "clip_wave.mp4: 12 frames" in out and (work / "clip_wave.mp4").is_file()
    code, _, err = run(capsys, "convert", clip, "-s", styles / "wave.png", "--model", "tiny")
    assert code == 1 and "clip_wave.mp4 exists" in err  # nothing replaced without --overwrite
    code, _, err = run(capsys, "convert", clip, "-s", styles, "--model", "tiny", "--each", "--skip-existing")
    assert code == 0 and "skipping 1 output(s) that exist" in err
    assert sorted(p.name for p in work.iterdir()) == ["clip_scream.mp4", "clip_wave.mp4"]


def test_image_without_o_names_a_blend_after_its_styles(capsys, tmp_path, monkeypatch):
    styles = style_folder(tmp_path)
    photo = tmp_path / "photo.jpg"
    Image.fromarray((np.random.default_rng(5).random((48, 64, 3)) * 255).astype(np.uint8)).save(photo)
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "image", photo, "-s", styles / "wave.png", "-s", styles / "scream.png",
                       "--model", "tiny")
    assert code == 0, err
    assert (tmp_path / "photo_wave+scream.png").is_file()
    # --each with the style folder inside the current folder: its images are styles, not old results
    code, _, err = run(capsys, "image", photo, "-s", "paintings", "--each", "--model", "tiny")
    assert code == 0, err
    made = {p.name for p in tmp_path.iterdir()}
    assert {"photo_wave.png", "photo_scream.png", "photo_wave+scream.png"} <= made


def test_a_folder_of_inputs_still_needs_o(capsys, clip, tmp_path, monkeypatch):
    inputs = tmp_path / "clips"
    inputs.mkdir()
    shutil.copy(clip, inputs / "a.mp4")
    styles = style_folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    for command in ("convert", "image"):
        code, _, err = run(capsys, command, inputs, "-s", styles / "wave.png")
        assert code == 1 and "a folder of inputs needs -o" in err


def test_results_named_after_their_styles_keep_apart_and_stay_short(tmp_path):
    from pathlib import Path

    from vidstyle.cli.common import blend_jobs
    from vidstyle.controls import Controls

    def name(styles, cued=()):
        return blend_jobs([(Path("clip.mp4"), Path("clip.mp4"))], Controls(styles), cued)[0][1].name

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert name([tmp_path / "a/wave.png", tmp_path / "b/wave.png"]) == "clip_wave+wave_2.mp4"
    assert name([tmp_path / "a/wave.png", tmp_path / "a/wave.png"]) == "clip_wave.mp4"  # one file twice
    assert name([tmp_path / "a/wave.png"], cued=[tmp_path / "a/scream.png"]) == "clip_wave+scream.mp4"
    long = [tmp_path / f"{'painting' * 4}_{i}.png" for i in range(5)]
    assert name(long) == f"clip_{'painting' * 4}_0+{'painting' * 4}_1+3more.mp4"
    assert name([tmp_path / f"{'x' * 200}.png"]) == f"clip_{'x' * 80}.mp4"


def test_image_each_without_o_inside_its_style_folder_is_refused(capsys, tmp_path, monkeypatch):
    """Its results would go among the styles and be taken for styles by the next run."""
    styles = style_folder(tmp_path)
    photo = tmp_path / "photo.jpg"
    Image.fromarray(np.zeros((48, 64, 3), np.uint8)).save(photo)
    monkeypatch.chdir(styles)
    code, _, err = run(capsys, "image", photo, "-s", ".", "--each", "--model", "tiny")
    assert code == 1 and "holds the current folder" in err
    assert sorted(p.name for p in styles.iterdir()) == ["scream.png", "wave.png"]


def test_a_folder_that_takes_no_files_is_named_not_a_file_never_meant(capsys, tmp_path, monkeypatch):
    import tempfile

    styles = style_folder(tmp_path)
    photo = tmp_path / "photo.jpg"
    Image.fromarray(np.zeros((48, 64, 3), np.uint8)).save(photo)
    monkeypatch.chdir(tmp_path)

    def read_only(*args, **kwargs):  # (root writes anywhere: a read-only folder, as others see it)
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    code, _, err = run(capsys, "image", photo, "-s", styles / "wave.png")
    assert code == 1 and "cannot write the results into ." in err and "photo.png" not in err
