"""convert --each: one video per input and style."""
import av
import numpy as np
import pytest
from PIL import Image

from vidstyle.cli.main import main


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def styles(tmp_path):
    folder = tmp_path / "paintings"
    folder.mkdir()
    for i, name in enumerate(["wave", "scream"]):
        Image.fromarray(np.random.default_rng(i).integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(
            folder / f"{name}.png")
    return folder


def frames_of(path):
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24").astype(np.float32) for f in c.decode(video=0)]


def test_each_style_of_a_folder_makes_its_own_video(capsys, clip, styles, tmp_path):
    out = tmp_path / "tries"
    each = ("convert", clip, "--style", styles, "--each", "-o", out, "--model", "tiny")
    code, stdout, err = run(capsys, *each)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["clip_scream.mp4", "clip_wave.mp4"]
    wave, scream = frames_of(out / "clip_wave.mp4"), frames_of(out / "clip_scream.mp4")
    assert len(wave) == len(scream) == 12
    assert np.abs(wave[0] - scream[0]).mean() > 1.0  # two styles, two pictures
    assert "2 of 2 files converted" in stdout
    code, stdout, err = run(capsys, *each, "--skip-existing")
    assert code == 0 and "skipping 2 output(s) that exist" in err


def test_each_takes_style_images_named_one_by_one(capsys, clip, styles, tmp_path):
    code, _, err = run(capsys, "convert", clip, "-s", styles / "wave.png", "-s", styles / "scream.png",
                       "--each", "-o", tmp_path / "out/", "--model", "tiny", "--duration", "0.2")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["clip_scream.mp4", "clip_wave.mp4"]


@pytest.mark.parametrize("extra, fragment", [
    (["-o", "one.mp4"], "-o must be a folder"),
    (["-o", "out/", "--weights", "1", "2"], "one style at a time"),
    (["-o", "out/", "--style-at", "1", "x.png"], "one style at a time"),
    (["-o", "out/", "--start", "100"], "is not before its end"),  # before the model loads, once
])
def test_each_refuses_what_it_cannot_do(capsys, clip, styles, tmp_path, monkeypatch, extra, fragment):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "convert", clip, "-s", styles / "wave.png", "-s", styles / "scream.png",
                       "--each", *extra)
    assert code != 0 and fragment in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if line.strip()]) == 1


def test_a_mask_with_a_folder_of_styles_is_refused_for_each_not_for_its_count(capsys, clip, styles, tmp_path):
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(styles / "third.png")
    code, _, err = run(capsys, "convert", clip, "-s", styles, "--each", "--mask", styles / "wave.png",
                       "-o", tmp_path / "out/")
    assert code != 0 and "one style at a time" in err and "needs exactly two" not in err


def test_each_into_the_inputs_own_folder(capsys, clip, styles, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # -o . : clip.mp4 names the outputs clip_wave.mp4, ..., not itself
    code, _, err = run(capsys, "convert", "clip.mp4", "-s", styles / "wave.png", "--each", "-o", ".",
                       "--model", "tiny", "--duration", "0.1")
    assert code == 0, err
    assert (tmp_path / "clip_wave.mp4").is_file()


def test_a_style_folder_without_each_is_still_refused(capsys, clip, styles, tmp_path):
    code, _, err = run(capsys, "convert", clip, "--style", styles, "-o", tmp_path / "o.mp4")
    assert code != 0 and "a style folder" in err
