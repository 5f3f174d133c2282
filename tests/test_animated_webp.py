"""Animated WebP inputs (stickers, loops), read through Pillow: FFmpeg's decoder takes stills only."""
import av
import numpy as np
from PIL import Image

from conftest import frames_rgb
from test_cli import run as run_cli
from vidstyle.inputs import is_video_file

DURATIONS_MS = (100, 200, 100, 50)


def pictures(see_through_last=False):
    """Four RGBA frames of gradients; the last one's left half see-through (black under it), and
    the first one's corner (else Pillow writes a file without transparency)."""
    frames = np.concatenate([frames_rgb(4, 48, 40), np.full((4, 40, 48, 1), 255, np.uint8)], axis=3)
    if see_through_last:
        frames[3, :, :24] = 0
        frames[0, :4, :4] = 0
    return frames


def write_animation(path, see_through_last=False):
    frames = [Image.fromarray(f, "RGBA") for f in pictures(see_through_last)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=list(DURATIONS_MS), loop=0,
                   lossless=True)
    return path


def on_white(rgba):
    alpha = rgba[..., 3:] / 255
    return (rgba[..., :3] * alpha + 255 * (1 - alpha)).round().astype(np.uint8)


def decoded(path):
    with av.open(str(path)) as c:
        return [(float(f.pts * f.time_base), f.to_ndarray(format="rgb24").mean()) for f in c.decode(video=0)]


def test_an_animated_webp_converts_frame_by_frame_at_its_own_times(capsys, tmp_path, style_png):
    clip = write_animation(tmp_path / "sticker.webp", see_through_last=True)
    # The same pictures as numbered PNGs (see-through on white, as stills are): the same results.
    for i, picture in enumerate(pictures(see_through_last=True)):
        Image.fromarray(on_white(picture)).save(tmp_path / f"f_{i + 1}.png")
    code, _, err = run_cli(capsys, "convert", clip, "-s", style_png, "--model", "tiny",
                           "-o", tmp_path / "w.mp4")
    assert code == 0, err
    times = [round(t, 3) for t, _ in decoded(tmp_path / "w.mp4")]
    assert times == [0.0, 0.1, 0.3, 0.4]  # each frame's own time
    for name, source in (("webp", clip), ("pngs", tmp_path / "f_%d.png")):  # (pictures: no encoder's loss)
        code, _, err = run_cli(capsys, "convert", source, "-s", style_png, "--model", "tiny",
                               "-o", tmp_path / name / "o_%d.png")
        assert code == 0, err
    for i in range(1, 5):
        a, b = (np.asarray(Image.open(tmp_path / name / f"o_{i}.png")).astype(float)
                for name in ("webp", "pngs"))
        assert np.abs(a - b).mean() < 0.5


def test_still_and_animated_webps_are_told_apart(capsys, tmp_path, style_png):
    clips = tmp_path / "clips"
    clips.mkdir()
    write_animation(clips / "loop.webp")
    Image.new("RGB", (48, 40), (90, 90, 90)).save(clips / "photo.webp")
    (clips / "broken.webp").write_bytes(b"not a picture")
    assert is_video_file(clips / "loop.webp") and not is_video_file(clips / "photo.webp")
    assert not is_video_file(clips / "broken.webp")  # (said to be a bad image, not a bad video)
    code, _, err = run_cli(capsys, "convert", clips, "-s", style_png, "--model", "tiny",
                           "-o", tmp_path / "out/")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["loop.mp4"]  # the stills stay photos
    Image.fromarray(on_white(pictures()[2])).save(tmp_path / "third_src.png")
    stills = {}
    for name, source, at in (("first", clips / "loop.webp", "0.05"), ("third", clips / "loop.webp", "0.35"),
                             ("third_png", tmp_path / "third_src.png", None)):  # (the third shows from 0.3 s)
        code, _, err = run_cli(capsys, "image", source, *(["--at", at] if at else []), "-s", style_png,
                               "--model", "tiny", "-o", tmp_path / f"{name}.png")
        assert code == 0, err
        stills[name] = np.asarray(Image.open(tmp_path / f"{name}.png")).astype(float)
    assert np.abs(stills["third"] - stills["third_png"]).mean() < 1.0
    assert np.abs(stills["first"] - stills["third_png"]).mean() > 5.0


def test_short_frames_keep_their_milliseconds_and_one_temporary_video_stays(capsys, tmp_path, style_png,
                                                                            monkeypatch):
    import glob
    import tempfile

    durations = [40, 33, 34, 33, 1000]  # (a 30 FPS sticker that holds its last frame)
    # (a temporary folder of its own: another run's temporary videos are not this one's)
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    frames = [Image.fromarray(f) for f in frames_rgb(5, 48, 40)]
    clip = tmp_path / "fast.webp"
    frames[0].save(clip, save_all=True, append_images=frames[1:], duration=durations, loop=0, lossless=True)
    out = tmp_path / "fast.mp4"
    code, _, err = run_cli(capsys, "convert", clip, "-s", style_png, "--model", "tiny", "-o", out)
    assert code == 0, err
    assert [round(t, 3) for t, _ in decoded(out)] == [0.0, 0.04, 0.073, 0.107, 0.14]
    # One temporary video at a time: the last one read is kept for a next look, the others go.
    made = set(glob.glob(f"{tempfile.gettempdir()}/vidstyle-webp-*"))
    code, _, err = run_cli(capsys, "convert", write_animation(tmp_path / "other.webp"), "-s", style_png,
                           "--model", "tiny", "-o", tmp_path / "other.mp4")
    assert code == 0, err
    now = set(glob.glob(f"{tempfile.gettempdir()}/vidstyle-webp-*"))
    assert len(now - made) == 1 and not made & now
