"""The command line: every bad input gives one clear line and a non-zero exit."""
import sys
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from PIL import Image

from conftest import damage_packets, frames_rgb, write_clip
from vidstyle.cli.main import main

REPO = Path(__file__).resolve().parent.parent


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *fragments):
    assert code != 0
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("vidstyle: error: ")
    assert "Traceback" not in err
    for f in fragments:
        assert f in lines[0], lines[0]


@pytest.fixture
def content_png(tmp_path):
    img = np.random.default_rng(5).integers(0, 256, (36, 52, 3), dtype=np.uint8)
    path = tmp_path / "content.png"
    Image.fromarray(img).save(path)
    return path


def test_convert_end_to_end_prints_summary(capsys, clip, style_png, tmp_path):
    out = tmp_path / "out.mp4"
    code, stdout, err = run(capsys, "convert", clip, "--style", style_png, "-o", out)
    assert code == 0, err
    assert "12 frames" in stdout and "FPS" in stdout and "audio copied" in stdout
    with av.open(str(out)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 12


def test_convert_with_steady_says_what_it_cost(capsys, clip, style_png, tmp_path):
    code, stdout, err = run(capsys, "convert", clip, "--style", style_png, "--steady", 0.6,
                            "-o", tmp_path / "out.mp4")
    assert code == 0, err
    assert "12 frames" in stdout and "--steady" in stdout and "ms/frame" in stdout


def test_encoding_options_reach_the_encoder(capsys, clip, style_png, tmp_path):
    small, large = tmp_path / "small.mp4", tmp_path / "large.mp4"
    assert run(capsys, "convert", clip, "-s", style_png, "-o", small,
               "--crf", 45, "--preset", "ultrafast")[0] == 0
    assert run(capsys, "convert", clip, "-s", style_png, "-o", large, "--crf", 5, "--preset", "slow")[0] == 0
    assert small.stat().st_size < large.stat().st_size
    code, _, err = run(capsys, "convert", clip, "-s", style_png, "-o", tmp_path / "bad.mp4", "--crf", 60)
    assert_one_line_error(code, err, "crf must be between 0")
    assert not (tmp_path / "bad.mp4").exists()


def test_preset_choices_are_the_libraries(capsys):
    from vidstyle.cli.main import build_parser
    from vidstyle.sinks import X264_PRESETS

    commands = build_parser()._subparsers._group_actions[0].choices
    for name in ("convert", "bench"):
        preset = next(a for a in commands[name]._actions if a.dest == "preset")
        assert tuple(preset.choices) == X264_PRESETS


def test_convert_many_inputs_into_a_folder(capsys, tmp_path, style_png):
    a = write_clip(tmp_path / "a.mp4", n=3, audio=False)
    b = write_clip(tmp_path / "b.mp4", n=4, audio=False)
    code, stdout, err = run(capsys, "convert", a, b, "-s", style_png, "-o", tmp_path / "out")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.mp4", "b.mp4"]
    assert "2 of 2 files converted, 7 frames" in stdout


def test_a_bad_file_among_several_is_an_error_line_and_the_others_are_converted(capsys, tmp_path, style_png):
    good = write_clip(tmp_path / "a.mp4", n=3, audio=False)
    bad = tmp_path / "b.mp4"
    bad.write_text("this is not a video\n" * 20)
    code, stdout, err = run(capsys, "convert", good, bad, "-s", style_png, "-o", tmp_path / "out")
    assert code == 1 and "1 of 2 files converted" in stdout
    assert "vidstyle: error: " in err and "b.mp4" in err and "vidstyle: error: 1 file(s) failed" in err
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.mp4"]


def test_slow_run_hint_only_for_long_full_model_runs_on_a_cpu():
    from vidstyle.cli.convert import slow_run_hint

    assert slow_run_hint(599, "full", "cpu") is None
    assert slow_run_hint(3 * 3600, "lite", "cpu") is None and slow_run_hint(3 * 3600, "full", "cuda") is None
    assert "about 12 min to go" in slow_run_hint(720, "full", "cpu")
    assert "about 2 h 05 min to go" in slow_run_hint(7500, "full", "cpu")
    assert "--model lite or --model tiny" in slow_run_hint(7500, "full", "cpu")


def test_the_slow_run_hint_waits_for_a_settled_rate_and_comes_once():
    from vidstyle.cli.convert import SlowRunHint

    now, lines, calls = [0.0], [], []
    hint = SlowRunHint("full", "cpu", lines.append, clock=lambda: now[0])
    on_progress = hint.wrap(lambda *a: calls.append(a))
    on_progress(2, 1000, 0.5)  # 2,000 s to go, but the first seconds of a file say little
    assert lines == []
    now[0] = 20.0
    on_progress(10, 1000, 0.5)
    on_progress(11, 1000, 0.5)
    second_file = hint.wrap(lambda *a: calls.append(a))
    now[0] = 60.0
    second_file(10, 1000, 0.5)
    assert len(lines) == 1 and lines[0].startswith("vidstyle: note: about 33 min to go for this file")
    assert len(calls) == 4  # the bar still gets every update
    quick = SlowRunHint("full", "cpu", lines.append, clock=lambda: now[0])
    on_progress = quick.wrap(lambda *a: None)
    now[0] = 100.0
    on_progress(10, 20, 5.0)  # 2 s to go
    on_progress(10, 0, 5.0)  # no frame count: no estimate
    assert len(lines) == 1


def test_convert_says_the_hint_on_stderr(capsys, monkeypatch, clip, style_png, tmp_path):
    import vidstyle.cli.convert

    monkeypatch.setattr(vidstyle.cli.convert, "SLOW_HINT_AFTER_S", 0.0)
    monkeypatch.setattr(vidstyle.cli.convert, "SLOW_HINT_LEFT_S", 0.0)
    code, stdout, err = run(capsys, "convert", clip, "-s", style_png, "-o", tmp_path / "o.mp4",
                            "--size", 32, "--batch", 2)
    assert code == 0, err
    note = f"vidstyle: note: about 0 min to go for {clip.name} at this speed; on a CPU --model lite"
    assert err.count(note) == 1
    code, stdout, err = run(capsys, "convert", clip, "-s", style_png, "-o", tmp_path / "o.mp4",
                            "--size", 32, "--model", "tiny", "--overwrite")
    assert code == 0 and "note:" not in err


@pytest.mark.parametrize("mode", ["L", "RGBA", "I;16", "P"])
def test_unusual_style_images_are_converted_not_refused(capsys, tmp_path, content_png, mode):
    rng = np.random.default_rng(1)
    if mode == "I;16":
        style = Image.fromarray(rng.integers(0, 65535, (40, 40), dtype=np.uint16))
    elif mode == "RGBA":
        style = Image.fromarray(rng.integers(0, 256, (40, 40, 4), dtype=np.uint8), "RGBA")
    else:
        style = Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).convert(mode)
    style_path = tmp_path / "style.png"
    style.save(style_path)
    out = tmp_path / "out.png"
    code, stdout, err = run(capsys, "image", content_png, "--style", style_path, "-o", out)
    assert code == 0, err
    assert Image.open(out).size == (52, 36)


def test_missing_input(capsys, style_png, tmp_path):
    code, _, err = run(capsys, "convert", tmp_path / "nope.mp4", "-s", style_png, "-o", tmp_path / "o.mp4")
    assert_one_line_error(code, err, "input not found")


def test_file_that_is_not_a_video(capsys, style_png, tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is not a video\n" * 20)
    code, _, err = run(capsys, "convert", bad, "-s", style_png, "-o", tmp_path / "o.mp4")
    assert_one_line_error(code, err, "cannot read")
    assert not (tmp_path / "o.mp4").exists()


def test_image_given_as_video(capsys, style_png, content_png, tmp_path):
    code, _, err = run(capsys, "convert", content_png, "-s", style_png, "-o", tmp_path / "o.mp4")
    assert_one_line_error(code, err, "is an image")


def test_unreadable_input(capsys, style_png, clip, tmp_path):
    import os

    if os.geteuid() == 0:
        pytest.skip("root can read any file")
    clip.chmod(0)
    code, _, err = run(capsys, "convert", clip, "-s", style_png, "-o", tmp_path / "o.mp4")
    assert_one_line_error(code, err)


def test_missing_and_tiny_and_broken_style(capsys, clip, tmp_path):
    code, _, err = run(capsys, "convert", clip, "-s", tmp_path / "nope.jpg", "-o", tmp_path / "o.mp4")
    assert_one_line_error(code, err, "style image not found")
    tiny = tmp_path / "tiny.png"
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tiny)
    code, _, err = run(capsys, "convert", clip, "-s", tiny, "-o", tmp_path / "o.mp4")
    assert_one_line_error(code, err, "at least")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff garbage")
    code, _, err = run(capsys, "convert", clip, "-s", broken, "-o", tmp_path / "o.mp4")
    assert_one_line_error(code, err, "cannot read image")


def test_output_rules(capsys, clip, style_png, tmp_path):
    before = clip.read_bytes()
    code, _, err = run(capsys, "convert", clip, "-s", style_png, "-o", clip, "--overwrite")
    assert_one_line_error(code, err, "is the input")
    assert clip.read_bytes() == before
    existing = tmp_path / "exists.mp4"
    existing.write_bytes(b"keep me")
    code, _, err = run(capsys, "convert", clip, "-s", style_png, "-o", existing)
    assert_one_line_error(code, err, "--overwrite")
    assert existing.read_bytes() == b"keep me"
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run(capsys, "convert", clip, "-s", style_png, "-o", blocker / "sub" / "o.mp4")
    assert_one_line_error(code, err, "cannot create folder")


def test_bad_weights_and_alpha(capsys, clip, style_png, tmp_path):
    code, _, err = run(capsys, "convert", clip, "-s", style_png, "-s", style_png, "--weights", "1",
                       "-o", tmp_path / "o.mp4")
    assert_one_line_error(code, err, "1 weight given for 2 styles")
    code, _, err = run(capsys, "convert", clip, "-s", style_png, "-s", style_png, "--weights", "1", "-2",
                       "-o", tmp_path / "o.mp4")
    assert_one_line_error(code, err, "non-negative")
    with pytest.raises(SystemExit) as exc:
        main(["convert", str(clip), "-s", str(style_png), "--alpha", "1.5", "-o", str(tmp_path / "o.mp4")])
    assert exc.value.code == 2


@pytest.mark.parametrize("cmd", ["convert", "webcam"])
def test_steady_outside_0_to_1_is_a_usage_error(capsys, cmd, clip, style_png, tmp_path):
    argv = [cmd, "-s", str(style_png), "--steady", "1.5"]
    argv += [str(clip), "-o", str(tmp_path / "o.mp4")] if cmd == "convert" else []
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "--steady: expected a value between 0 and 1" in capsys.readouterr().err


def test_missing_decoder_weights_say_how_to_get_them(capsys, clip, style_png, tmp_path):
    code, _, err = run(capsys, "convert", clip, "-s", style_png, "-o", tmp_path / "o.mp4",
                       "--decoder", tmp_path / "none.safetensors")
    assert_one_line_error(code, err, "vidstyle train")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    code, _, err = run(capsys, "convert", clip, "-s", style_png, "-o", tmp_path / "o.mp4", "--decoder", junk)
    assert_one_line_error(code, err, "do not fit", "vidstyle train")


def test_no_camera(capsys, style_png):
    code, _, err = run(capsys, "webcam", "--style", style_png, "--camera", "97")
    assert_one_line_error(code, err, "no camera at index 97", "try --camera 0")


def test_no_display(capsys, style_png, monkeypatch):
    import vidstyle.sources

    class Cap:
        released = False

        def release(self):
            Cap.released = True

    monkeypatch.setattr(vidstyle.sources, "open_camera", lambda *a, **k: Cap())
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code, _, err = run(capsys, "webcam", "--style", style_png)
    assert_one_line_error(code, err, "no display")
    assert Cap.released


def test_help_has_examples(capsys):
    for cmd in ("convert", "image", "webcam", "bench", "train", "eval"):
        with pytest.raises(SystemExit) as exc:
            main([cmd, "--help"])
        assert exc.value.code == 0
        assert "examples:" in capsys.readouterr().out


def test_inputs_with_the_same_name_get_distinct_outputs(capsys, tmp_path, style_png):
    (tmp_path / "x").mkdir()
    a = write_clip(tmp_path / "a.mp4", n=2, audio=False)
    b = write_clip(tmp_path / "a.mkv", n=2, audio=False)
    c = write_clip(tmp_path / "x" / "a.mp4", n=2, audio=False)
    code, stdout, err = run(capsys, "convert", a, b, c, "-s", style_png, "-o", tmp_path / "out")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.mp4", "a_2.mp4", "a_mkv.mp4"]


def test_a_folders_outputs_mirror_its_folders_so_new_files_change_no_name(capsys, tmp_path, style_png):
    """day1/a.mp4 and day2/a.mp4 of one folder: named by scan order (a.mp4, a_mp4.mp4), a
    file added later took another's name, and --skip-existing skipped an input never
    converted while converting another twice."""
    clips = tmp_path / "clips"
    for day in ("day1", "day2"):
        (clips / day).mkdir(parents=True)
    write_clip(clips / "day2" / "a.mp4", n=3, audio=False)
    args = ("convert", clips, "-s", style_png, "--model", "tiny", "-o", tmp_path / "out")
    assert run(capsys, *args)[0] == 0
    write_clip(clips / "day1" / "a.mp4", n=2, audio=False)
    code, stdout, err = run(capsys, *args, "--skip-existing")
    assert code == 0 and "skipping 1 input(s)" in err
    assert "a.mp4: 2 frames" in stdout  # day1's clip, the one not converted before
    made = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.mp4"))
    assert made == ["day1/a.mp4", "day2/a.mp4"]


def test_output_without_extension_is_a_folder(capsys, tmp_path, style_png):
    a = write_clip(tmp_path / "a.mp4", n=2, audio=False)
    code, _, err = run(capsys, "convert", a, "-s", style_png, "-o", tmp_path / "results")
    assert code == 0, err
    assert (tmp_path / "results" / "a.mp4").is_file()


def small_images(folder, n, seed, size=(40, 48)):
    folder.mkdir()
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    return folder


def test_eval_command_prints_table_and_writes_json_and_grid(capsys, tmp_path):
    import json

    contents = small_images(tmp_path / "c", 2, 1)
    styles = small_images(tmp_path / "s", 2, 2)
    code, out, err = run(capsys, "eval", "--content", contents, "--style", styles, "--size", 48,
                         "-o", tmp_path / "grid.png", "--json", tmp_path / "scores.json")
    assert code == 0, err
    assert "mean over 4 pairs" in out
    doc = json.loads((tmp_path / "scores.json").read_text())
    assert len(doc["pairs"]) == 4 and 0 < doc["mean"]["style_gap"]
    assert doc["decoder"] is None and doc["model"] == "full"  # (the shipped weights: no --decoder)
    assert Image.open(tmp_path / "grid.png").size[0] > 48
    # Files as well as folders: one photo against a folder and a painting named alone.
    extra = small_images(tmp_path / "more", 1, 3)
    code, out, err = run(capsys, "eval", "--content", contents / "0.png", "--style", styles, extra / "0.png",
                         "--size", 48, "--model", "tiny")
    assert code == 0, err
    assert "mean over 3 pairs" in out
    code, _, err = run(capsys, "eval", "--content", tmp_path / "nope.png", "--style", styles,
                       "--model", "tiny")
    assert_one_line_error(code, err, "not found", "nope.png")
    # a file named twice is scored once; files of one name are told apart by their folder;
    # --json - is the standard output (it wrote a file named '-')
    code, out, err = run(capsys, "eval", "--content", contents, contents / "1.png",
                         "--style", styles / "0.png", extra / "0.png", "--size", 48, "--model", "tiny",
                         "--json", "-")
    assert code == 0, err
    doc = json.loads(out)
    assert sorted((p["content"], p["style"]) for p in doc["pairs"]) == [
        ("0.png", "more/0.png"), ("0.png", "s/0.png"), ("1.png", "more/0.png"), ("1.png", "s/0.png")]
    assert "mean over 4 pairs" in err and not (Path.cwd() / "-").exists()


def test_eval_never_writes_over_the_pictures_it_scores(capsys, tmp_path, caplog):
    """--overwrite replaced a content photo with the JSON and a style with the grid."""
    contents = small_images(tmp_path / "c", 2, 1)
    style = small_images(tmp_path / "s", 1, 2) / "0.png"
    before = {p: p.read_bytes() for p in [*contents.iterdir(), style]}
    for flag, out, what in (("--json", contents / "1.png", "a content image"),
                            ("-o", style, "a style image")):
        code, _, err = run(capsys, "eval", "--content", contents, "--style", style, "--model", "tiny",
                           flag, out, "--overwrite")
        assert_one_line_error(code, err, f"is {what}", "choose another output name")
    code, _, err = run(capsys, "eval", "--content", contents, "--style", style, "--model", "tiny",
                       "-o", tmp_path / "x.png", "--json", tmp_path / "x.png")
    assert_one_line_error(code, err, "-o and --json both name")
    assert {p: p.read_bytes() for p in before} == before
    # A folder's picture that cannot be read is skipped with a warning, as training skips it
    # (eval stopped on it); one named on its own is an error.
    Image.open(contents / "0.png").save(tmp_path / "whole.jpg")
    whole = (tmp_path / "whole.jpg").read_bytes()
    (contents / "broken.jpg").write_bytes(whole[:len(whole) // 3])  # (a download cut short)
    code, out, err = run(capsys, "eval", "--content", contents, "--style", style, "--model", "tiny")
    assert code == 0 and "mean over 2 pairs" in out and "skipping cannot read image" in caplog.text
    assert "broken.jpg" in caplog.text
    code, _, err = run(capsys, "eval", "--content", contents / "broken.jpg", "--style", style,
                       "--model", "tiny")
    assert code == 1 and "broken.jpg" in err
    (contents / "broken.jpg").unlink()
    # A grid of a type no picture has is refused before the scoring (it failed after it).
    code, out, err = run(capsys, "eval", "--content", contents, "--style", style, "--model", "tiny",
                         "-o", tmp_path / "grid.txt")
    assert code == 1 and ".txt" in err and "mean over" not in out


def test_train_command_runs_and_resumes(capsys, tmp_path):
    contents = small_images(tmp_path / "c", 2, 1, (72, 80))
    styles = small_images(tmp_path / "s", 2, 2, (72, 80))
    common = ["train", "--content", contents, "--style", styles, "--out", tmp_path / "run",
              "--batch", 1, "--checkpoint-every", 1, "--device", "cpu"]
    code, out, err = run(capsys, *common, "--schedule", "32:1")
    assert code == 0, err
    code, out, err = run(capsys, *common, "--schedule", "32:2", "--resume")
    assert code == 0, err
    assert "done: 2 steps" in out
    assert (tmp_path / "run" / "decoder.safetensors").is_file()


def test_bench_command_json(capsys, tmp_path):
    import json

    code, out, err = run(capsys, "bench", "--sizes", "32x32", "--steps", 1, "--frames", 2, "--seconds", 0,
                         "--json", tmp_path / "b.json", "--preset", "ultrafast", "--workers", 3)
    assert code == 0, err
    rows = json.loads((tmp_path / "b.json").read_text())["results"]
    assert [r["stage"] for r in rows] == ["model", "decode", "model in pipeline", "encode", "end-to-end"]
    assert {r.get("preset") for r in rows} == {None, "ultrafast"}  # file rows say how they encoded
    assert {r["workers"] for r in rows if r["stage"] != "decode"} == {3}
    assert "FPS" in out and "workers 3" in out
    assert rows[0]["steps"] == 1 and rows[-1]["frames"] == 2
    # Left to itself, bench times the model for --seconds and sizes the clip from its FPS.
    code, out, err = run(capsys, "bench", "--sizes", "32x32", "--seconds", 0.5, "--json", tmp_path / "c.json")
    assert code == 0, err
    model, *_, e2e = json.loads((tmp_path / "c.json").read_text())["results"]
    assert model["steps"] >= 10 and model["steps"] / model["fps"] > 0.4
    assert e2e["frames"] == min(600, max(30, round(model["fps"] * 0.5)))
    if sys.platform.startswith("linux"):  # where the CPU went, from /proc
        assert model["cpu_ms_per_frame"] > 0 and " ms/frame" in out
        roles = e2e["cpu_ms_per_frame_by_role"]
        assert e2e["cpu_ms_per_frame"] == pytest.approx(sum(roles.values()))
        assert roles["model workers"] > 0 and {"encode thread", "decode thread"} <= set(roles)
        assert 0 < e2e["cores_busy"] <= 1.05 and "cores busy" in out
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--workers", "0"])
    assert exc.value.code == 2 and "expected a number >= 1" in capsys.readouterr().err


def test_bench_repeat_takes_turns_and_gives_the_median_end_to_end_share(capsys, tmp_path):
    import json

    code, out, err = run(capsys, "bench", "--model", "tiny", "--sizes", "32x32", "--steps", 1, "--seconds", 0,
                         "--frames", 2, "--repeat", 3, "--preset", "ultrafast", "--json", tmp_path / "r.json")
    assert code == 0, err
    doc = json.loads((tmp_path / "r.json").read_text())
    rows = doc["results"]
    assert [(r["round"], r["stage"]) for r in rows if r["stage"] in ("model", "end-to-end")] == [
        (1, "model"), (1, "end-to-end"), (2, "model"), (2, "end-to-end"), (3, "model"), (3, "end-to-end")]
    fps = {(r["round"], r["stage"]): r["fps"] for r in rows}
    each = [fps[k, "end-to-end"] / fps[k, "model"] for k in (1, 2, 3)]
    [share] = doc["end_to_end_shares"]
    assert share["rounds"] == pytest.approx(each) and share["median"] == pytest.approx(sorted(each)[1])
    assert f"{sorted(each)[1]:.2f} of model-only FPS (median of 3 rounds: " in out


def test_end_to_end_shares_pair_each_round_and_leave_out_real_inputs():
    from vidstyle.bench import end_to_end_shares

    def row(stage, fps, rnd=None, **extra):
        return {"stage": stage, "fps": fps, "width": 64, "height": 32, "batch": 1,
                **({"round": rnd} if rnd else {}), **extra}

    rows = [row("model", 10.0, 1), row("decode", 900.0, 1), row("end-to-end", 9.0, 1),
            row("model", 20.0, 2), row("end-to-end", 10.0, 2), row("end-to-end", 5.0, input="a.mp4")]
    assert end_to_end_shares(rows) == [{"width": 64, "height": 32, "batch": 1, "median": 0.7,
                                        "rounds": [0.9, 0.5]}]
    assert end_to_end_shares([row("model", 10.0), row("end-to-end", 8.0)])[0]["rounds"] == [0.8]
    assert end_to_end_shares([row("model", 10.0)]) == []  # (--no-file)


def test_frames_too_small_and_containers_without_h264(capsys, clip, style_png, content_png, tmp_path):
    code, _, err = run(capsys, "convert", clip, "-s", style_png, "-o", tmp_path / "o.apng")
    assert_one_line_error(code, err, "cannot hold H.264", ".mp4")
    code, _, err = run(capsys, "image", content_png, "-s", style_png, "-o", tmp_path / "o.png", "--size", 8)
    assert_one_line_error(code, err, "too small for the model", "at least 16")
    code, _, err = run(capsys, "image", content_png, "-s", style_png, "-o", tmp_path / "o.png",
                       "--work-size", 4)
    assert_one_line_error(code, err, "work size must be at least 16")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "content.png", "style.png"]


def test_out_of_cpu_memory_is_one_line(capsys):
    import types

    from vidstyle.cli.main import _run

    def run_out_of_memory(args):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:121] DefaultCPUAllocator: can't allocate memory")

    assert _run(types.SimpleNamespace(run=run_out_of_memory)) == 1
    assert_one_line_error(1, capsys.readouterr().err, "out of memory", "--size")


def test_eval_with_an_empty_folder(capsys, tmp_path, style_png):
    (tmp_path / "empty").mkdir()
    code, _, err = run(capsys, "eval", "--content", tmp_path / "empty", "--style", tmp_path,
                       "--model", "lite")
    assert_one_line_error(code, err, "no images in", "empty")


def test_bench_refuses_before_measuring_and_json_to_stdout(capsys, tmp_path):
    import json

    code, _, err = run(capsys, "bench", "--no-model", "--no-file")
    assert_one_line_error(code, err, "nothing to measure")
    code, _, err = run(capsys, "bench", "--input", tmp_path / "missing.mp4")
    assert_one_line_error(code, err, "input not found")
    code, out, err = run(capsys, "bench", "--model", "lite", "--sizes", "32x32", "--steps", 1, "--seconds", 0,
                         "--no-file", "--json", "-")
    assert code == 0, err
    assert json.loads(out)["results"][0]["stage"] == "model"  # stdout holds the JSON alone
    assert "FPS" in err  # the table went to stderr
    code, _, err = run(capsys, "bench", "--model", "lite", "--sizes", "32x32", "--steps", 1, "--seconds", 0,
                       "--no-file", "--json", tmp_path / "new" / "b.json")
    assert code == 0 and json.loads((tmp_path / "new" / "b.json").read_text())["results"]


def test_errors_name_the_output_given_not_the_hidden_partial_file(capsys, clip, style_png, content_png,
                                                                   tmp_path):
    code, _, err = run(capsys, "convert", clip, "-s", style_png, "-o", tmp_path / "x.txt")
    assert_one_line_error(code, err, "x.txt")
    assert "partial" not in err
    # An image output without an extension is a folder, as for convert.
    code, out, err = run(capsys, "image", content_png, "-s", style_png, "-o", tmp_path / "stills")
    assert code == 0, err
    assert (tmp_path / "stills" / "content.png").is_file()


def test_sigterm_during_convert_exits_143_and_leaves_no_file(capsys, clip, style_png, tmp_path, monkeypatch):
    import os
    import signal
    import time

    from vidstyle.stylizer import Stylizer

    real, calls = Stylizer.stylize_frames, {"n": 0}

    def killed_at_third_batch(self, frames, target, size=None):
        calls["n"] += 1
        if calls["n"] == 3:  # the output's partial file is open by now
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler interrupts this
        return real(self, frames, target, size)

    monkeypatch.setattr(Stylizer, "stylize_frames", killed_at_third_batch)
    before = signal.getsignal(signal.SIGTERM)
    out = tmp_path / "out.mp4"
    try:
        code, _, err = run(capsys, "convert", clip, "--style", style_png, "-o", out, "--model", "tiny",
                           "--workers", "1")
    finally:
        signal.signal(signal.SIGTERM, before)
    assert code == 143
    assert_one_line_error(code, err, "terminated")
    assert calls["n"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "style.png"]


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("vidstyle 0.")


def test_webcam_fps_must_not_be_negative_nor_meet_compile(capsys, style_png):
    with pytest.raises(SystemExit) as exc:
        main(["webcam", "--style", str(style_png), "--fps", "-5"])
    assert exc.value.code == 2
    assert "expected a number >= 0" in capsys.readouterr().err
    code, _, err = run(capsys, "webcam", "--style", style_png, "--fps", "20", "--compile")
    assert_one_line_error(code, err, "compiles again for every size")


def test_webcam_transition_with_a_fixed_blend_is_refused_before_the_camera_opens(
        capsys, monkeypatch, tmp_path, style_png, fake_camera):
    other = tmp_path / "other.png"
    other.write_bytes(style_png.read_bytes())
    code, _, err = run(capsys, "webcam", "-s", style_png, "-s", other, "--transition", "1")
    assert_one_line_error(code, err, "several style files (a blend) stays fixed: to switch between the "
                          "styles, put them in a folder")
    code, _, err = run(capsys, "webcam", "-s", style_png, "-s", other, "--mask", style_png,
                       "--transition", "1")
    assert_one_line_error(code, err, "a mask stays fixed: leave out --transition")
    assert fake_camera == []
    folder = tmp_path / "styles"
    folder.mkdir()
    for p in (style_png, other):
        (folder / p.name).write_bytes(p.read_bytes())
    import vidstyle.live
    from conftest import FakeDisplay

    monkeypatch.setattr(vidstyle.live, "PreviewWindow", FakeDisplay)
    code, _, err = run(capsys, "webcam", "-s", folder, "--transition", "1", "--model", "tiny", "--size", 32,
                       "--fps", 0)  # a folder's styles are switched: accepted, runs until "unplugged"
    assert code == 0 and len(fake_camera) == 1, err


@pytest.mark.parametrize("option", ["--transition", "--fps"])
def test_an_endless_number_is_a_usage_error(capsys, style_png, option):
    with pytest.raises(SystemExit) as exc:
        main(["webcam", "--style", str(style_png), option, "inf"])
    assert exc.value.code == 2
    assert "expected a finite number, got 'inf'" in capsys.readouterr().err


@pytest.mark.parametrize("argv,verbose", [(["-v", "bench"], True), (["bench", "-v"], True),
                                          (["bench"], False)])
def test_verbose_goes_before_or_after_the_command(argv, verbose):
    from vidstyle.cli.main import build_parser

    assert build_parser().parse_args(argv).verbose is verbose


def test_folders_of_videos_include_phone_and_camcorder_formats(tmp_path):
    from vidstyle.cli.common import plan_outputs
    from vidstyle.cli.convert import VIDEO_SUFFIXES

    for name in ("a.3gp", "b.MTS", "c.mp4", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    pairs = plan_outputs([str(tmp_path)], str(tmp_path / "out"), VIDEO_SUFFIXES, ".mp4", "input")
    assert sorted(src.name for src, _ in pairs) == ["a.3gp", "b.MTS", "c.mp4"]


def test_bench_keeps_its_json_unless_told_and_ctrl_c_saves_the_rows_measured(capsys, tmp_path, monkeypatch):
    import json

    import vidstyle.bench

    existing = tmp_path / "b.json"
    existing.write_text("{}")
    quick = ("bench", "--model", "tiny", "--sizes", "32x32", "--steps", 1, "--seconds", 0, "--frames", 2)
    code, _, err = run(capsys, *quick, "--json", existing)
    assert_one_line_error(code, err, "exists", "--overwrite")
    assert existing.read_text() == "{}"

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
        yield

    monkeypatch.setattr(vidstyle.bench, "bench_file", interrupted)  # Ctrl-C once the model row is in
    code, _, err = run(capsys, *quick, "--json", existing, "--overwrite")
    assert code == 130 and "rows measured so far" in err
    doc = json.loads(existing.read_text())
    assert doc["interrupted"] is True and [r["stage"] for r in doc["results"]] == ["model"]


def test_sigterm_exits_143_from_bench_and_train_too(capsys, tmp_path, monkeypatch):
    import json
    import os
    import signal
    import time

    import vidstyle.bench
    from vidstyle.train import Trainer

    def terminated(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler interrupts this
        yield

    monkeypatch.setattr(vidstyle.bench, "bench_file", terminated)
    before = signal.getsignal(signal.SIGTERM)
    try:
        code, _, err = run(capsys, "bench", "--model", "tiny", "--sizes", "32x32", "--steps", 1,
                           "--seconds", 0, "--json", tmp_path / "b.json")
        assert code == 143 and json.loads((tmp_path / "b.json").read_text())["interrupted"]

        real = Trainer.train_step

        def step(self):
            if self.step == 2:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)
            return real(self)

        monkeypatch.setattr(Trainer, "train_step", step)
        images = tmp_path / "img"
        images.mkdir()
        for i in range(2):
            Image.fromarray(np.full((72, 72, 3), 60 * i, np.uint8)).save(images / f"{i}.png")
        code, out, _ = run(capsys, "train", "--content", images, "--style", images, "--out", tmp_path / "run",
                           "--schedule", "32:10", "--batch", 1, "--device", "cpu")
        assert code == 143 and "stopped at step 2" in out
        assert (tmp_path / "run" / "checkpoint.pt").is_file()
        assert signal.getsignal(signal.SIGTERM) is before  # main() put the old handler back
    finally:
        signal.signal(signal.SIGTERM, before)


def test_a_damaged_input_is_converted_with_a_warning_that_counts_the_loss(capsys, style_png, tmp_path):
    clip = write_clip(tmp_path / "damaged.mp4", n=24, audio=False)
    damage_packets(clip, [10, 11])
    code, stdout, err = run(capsys, "convert", clip, "-s", style_png, "-o", tmp_path / "out.mp4")
    assert code == 0, err
    assert "22 frames" in stdout
    assert err.strip() == (f"vidstyle: warning: {clip}: 2 damaged packet(s) skipped; "
                           "22 of the 24 frames it lists could be decoded")
    code, _, err = run(capsys, "convert", write_clip(tmp_path / "fine.mp4"), "-s", style_png,
                       "-o", tmp_path / "fine_out.mp4")
    assert code == 0 and "warning" not in err


@pytest.mark.parametrize("total", [100, 0])
def test_the_progress_bar_shows_one_rate_ours(total):
    import io

    from vidstyle.cli.progress import Progress

    stream = io.StringIO()
    with Progress(1, stream=stream) as progress, progress.file("clip.mp4") as on_progress:
        on_progress(40, total, 12.34)
    drawn = stream.getvalue().replace("\r", "\n").strip().splitlines()[-1]
    assert drawn.startswith("clip.mp4:") and "12.3 FPS" in drawn and "40" in drawn
    assert "frame/s" not in drawn and "s/frame" not in drawn
    assert ("40/100 frames" in drawn) == bool(total)


def test_preserve_color_before_a_path_means_the_default_mode(capsys, clip, style_png, tmp_path):
    from vidstyle.cli.common import COLOR_MODES
    from vidstyle.color import MODES

    assert tuple(COLOR_MODES) == MODES
    code, stdout, err = run(capsys, "convert", "--preserve-color", clip, "-s", style_png,
                            "-o", tmp_path / "a.mp4")
    assert code == 0, err
    code, _, err = run(capsys, "convert", clip, "-s", style_png, "--preserve-color", "luminance",
                       "-o", tmp_path / "b.mp4")
    assert code == 0, err
    with pytest.raises(SystemExit) as exc:  # a mistyped mode is still refused as one
        main(["convert", clip.as_posix(), "-s", str(style_png), "--preserve-color", "lum", "-o", "c.mp4"])
    assert exc.value.code == 2 and "invalid choice: 'lum'" in capsys.readouterr().err


def test_bad_styles_and_masks_are_refused_before_the_model_loads(capsys, clip, style_png, content_png,
                                                                tmp_path, monkeypatch):
    import vidstyle.stylizer

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded before the styles were checked")

    monkeypatch.setattr(vidstyle.stylizer, "load_stylizer", no_model)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    out = tmp_path / "out.mp4"
    cases = [
        (("convert", clip, "-s", broken, "-o", out), "cannot read image"),
        (("convert", clip, "-s", style_png, "-s", style_png, "--mask", tmp_path / "none.png", "-o", out),
         "mask not found"),
        (("convert", clip, "-s", style_png, "-s", style_png, "--mask", broken, "-o", out),
         "cannot read image"),
        (("convert", clip, "-s", style_png, "-s", style_png, "--mask", tmp_path / "m.mp4", "-o", out),
         "mask not found"),
        (("convert", clip, "-s", style_png, "--weights", 1, 2, "-o", out), "2 weights given for 1 style;"),
        (("image", content_png, "-s", broken, "-o", tmp_path / "o.png"), "cannot read image"),
        (("webcam", "-s", broken), "cannot read image"),
    ]
    for argv, message in cases:
        code, _, err = run(capsys, *argv)
        assert_one_line_error(code, err, message)
    bad_video = tmp_path / "mask.mp4"
    bad_video.write_bytes(b"not a video")
    code, _, err = run(capsys, "convert", clip, "-s", style_png, "-s", style_png, "--mask", bad_video,
                       "-o", out)
    assert_one_line_error(code, err, "cannot read", "mask.mp4")
    assert not out.exists()


def test_log_lines_read_like_the_error_lines():
    import logging

    from vidstyle.cli.main import _LogFormat

    record = logging.LogRecord("vidstyle.controls", logging.WARNING, __file__, 1, "mask video %s is longer",
                               ("m.mp4",), None)
    assert _LogFormat().format(record) == "vidstyle: warning: mask video m.mp4 is longer"


def test_skip_existing_goes_on_with_a_stopped_batch(capsys, tmp_path, style_png):
    a = write_clip(tmp_path / "a.mp4", n=3, audio=False)
    b = write_clip(tmp_path / "b.mp4", n=4, audio=False)
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.mp4").write_bytes(b"done before")  # what the stopped run finished
    code, stdout, err = run(capsys, "convert", a, b, "-s", style_png, "-o", out, "--skip-existing")
    assert code == 0, err
    assert "skipping 1 input(s) whose output exists" in err
    assert f"{out / 'b.mp4'}: 4 frames" in stdout and "a.mp4" not in stdout
    assert (out / "a.mp4").read_bytes() == b"done before" and (out / "b.mp4").stat().st_size > 1000
    code, stdout, err = run(capsys, "convert", a, b, "-s", style_png, "-o", out, "--skip-existing")
    assert code == 0 and "skipping 2 input(s)" in err and stdout == ""  # nothing left to do
    code, stdout, err = run(capsys, "convert", a, b, "-s", tmp_path / "typo.png", "-o", out,
                            "--skip-existing")
    assert_one_line_error(code, err, "typo.png")  # still checked with nothing to do


def test_skip_existing_and_overwrite_exclude_each_other(capsys, clip, style_png, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["convert", str(clip), "-s", str(style_png), "-o", str(tmp_path / "o.mp4"),
              "--overwrite", "--skip-existing"])
    assert exc.value.code == 2 and "not allowed with" in capsys.readouterr().err


def write_size_changing_h264(path, sizes=((48, 32), (64, 36)), n=6):
    """A raw H.264 stream whose frame size changes midway (two streams back to back), as
    recordings that change resolution and joined captures have."""
    parts = []
    for i, (w, h) in enumerate(sizes):
        part = path.with_name(f"part{i}.h264")
        with av.open(str(part), "w", format="h264") as out:
            v = out.add_stream("libx264", rate=25)
            v.width, v.height, v.pix_fmt = w, h, "yuv420p"
            for k, img in enumerate(frames_rgb(n, w, h, seed=i)):
                frame = av.VideoFrame.from_ndarray(img, format="rgb24")
                frame.pts = k
                out.mux(v.encode(frame))
            out.mux(v.encode(None))
        parts.append(part.read_bytes())
    path.write_bytes(b"".join(parts))
    return path


def test_a_frame_size_change_midway_is_scaled_to_the_first_size_with_a_warning(capsys, style_png, tmp_path):
    clip = write_size_changing_h264(tmp_path / "joined.h264")
    out = tmp_path / "out.mp4"
    code, stdout, err = run(capsys, "convert", clip, "-s", style_png, "--model", "tiny", "-o", out)
    assert code == 0, err
    assert "12 frames 48x32" in stdout
    assert err.strip() == (f"vidstyle: warning: {clip}: the frame size changed midway (64x36 from frame 7, "
                           "the video being 48x32); 6 frame(s) were scaled to 48x32, with black bars where "
                           "their shape differs")
    with av.open(str(out)) as c:
        frames = [f.to_ndarray(format="rgb24").astype(int) for f in c.decode(video=0)]
    assert {f.shape for f in frames} == {(32, 48, 3)}
    # 64x36 is wider than 48x32: scaled to 48x27, with black bars above and below, not stretched
    for f in frames[6:]:
        assert f[:2].mean() < 25 and f[-3:].mean() < 25 and f[4:27].mean() > 40
    assert frames[0][:2].mean() > 40  # the first size fills its frames


@pytest.mark.parametrize("options", [["--steady", "0.9"], ["--fade-in", "1"]])
def test_letterbox_bars_stay_black_through_steady_and_fades(capsys, style_png, tmp_path, options):
    clip = write_size_changing_h264(tmp_path / "joined.h264")
    out = tmp_path / "out.mp4"
    code, _, err = run(capsys, "convert", clip, "-s", style_png, "--model", "tiny", *options, "-o", out)
    assert code == 0, err
    with av.open(str(out)) as c:
        frames = [f.to_ndarray(format="rgb24").astype(int) for f in c.decode(video=0)]
    # Rows 0-1 and 30-31 are bar only (the model paints them 70-220 when left alone); row 29,
    # the bar's first, shares its 4:2:0 colour samples with picture row 28, so H.264 tints it.
    assert all(f[:2].max() < 40 and f[-2:].max() < 40 for f in frames[6:])


def test_letterboxing_keeps_the_shape_and_leaves_near_shapes_alone():
    from vidstyle.pipeline import _fit, letterbox

    assert letterbox((36, 64), (32, 48)) == (2, 29, 0, 48)  # wider: bars above and below
    assert letterbox((48, 32), (32, 48)) == (0, 32, 13, 34)  # portrait in landscape: at the sides
    assert letterbox((361, 640), (360, 640)) == (0, 360, 0, 640)  # a pixel off: just resized
    fitted = _fit(np.full((36, 64, 3), 200, np.uint8), (32, 48, 3))
    assert fitted.shape == (32, 48, 3) and fitted[:2].max() == 0 and fitted[2:29].min() == 200


@pytest.mark.parametrize("argv", [[], ["-v"]])
def test_no_command_lists_the_commands(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and "convert" in err and "webcam" in err and "COMMAND --help" in err


def test_a_size_typo_is_refused_and_a_large_upscale_said(capsys, clip, style_png, tmp_path, caplog):
    """--size 5000 for 500 made an 8888x5000 picture of a 384x216 clip: 12 GB and minutes a frame."""
    with pytest.raises(SystemExit) as exit_:
        run(capsys, "convert", clip, "-s", style_png, "--size", 5000, "-o", tmp_path / "a.mp4")
    assert exit_.value.code == 2 and "at most 4320" in capsys.readouterr().err
    code, _, err = run(capsys, "convert", clip, "-s", style_png, "--size", 200, "--model", "tiny",
                       "--duration", 0.1, "-o", tmp_path / "b.mp4")
    assert code == 0 and "scaling its 64x48 frames up to 266x200" in caplog.text
    caplog.clear()
    code, _, err = run(capsys, "convert", clip, "-s", style_png, "--size", 96, "--model", "tiny",
                       "--duration", 0.1, "-o", tmp_path / "c.mp4")
    assert code == 0 and "scaling" not in caplog.text  # (2x each way: not worth a word)


def test_a_cut_out_keeps_its_transparency_where_the_file_type_holds_it(tmp_path, stylizer):
    from vidstyle.adain import StyleStats
    from vidstyle.stills import stylize_image_file
    from vidstyle.stylizer import Target

    rgba = np.dstack([frames_rgb(1, 64, 48)[0], np.zeros((48, 64), np.uint8)])
    rgba[:, 32:, 3] = 255  # the left half transparent
    rgba[:4, 40:, 3] = 128
    Image.fromarray(rgba).save(tmp_path / "cut.png")
    target = Target(StyleStats(torch.rand(512), torch.rand(512) + 0.5))
    for name, size, mode in (("o.png", None, "RGBA"), ("o.webp", None, "RGBA"), ("o.jpg", None, "RGB"),
                             ("half.png", 24, "RGBA")):
        out = stylize_image_file(tmp_path / "cut.png", tmp_path / name, stylizer, target, size=size)
        with Image.open(out) as img:
            assert img.mode == mode, name
            if mode == "RGBA":
                alpha = np.asarray(img.getchannel("A")).astype(int)
                expected = rgba[..., 3] if size is None else np.asarray(
                    Image.fromarray(rgba[..., 3]).resize(img.size, Image.BILINEAR)).astype(int)
                assert np.abs(alpha - expected)[2:-2, 2:-2].max() <= (1 if size is None else 40), name
    opaque = tmp_path / "opaque.png"
    Image.fromarray(np.dstack([frames_rgb(1, 64, 48)[0], np.full((48, 64), 255, np.uint8)])).save(opaque)
    with Image.open(stylize_image_file(opaque, tmp_path / "o2.png", stylizer, target)) as img:
        assert img.mode == "RGB"


def test_a_failed_conversion_leaves_no_folder_it_made(capsys, style_png, tmp_path, content_png):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    for output in (tmp_path / "new" / "sub" / "o.mp4", tmp_path / "frames" / "f_%04d.png"):
        code, _, err = run(capsys, "convert", empty, "-s", style_png, "--model", "tiny", "-o", output)
        assert code == 1 and "Traceback" not in err
        assert sorted(p.name for p in tmp_path.iterdir()) == ["content.png", "empty.mp4", "style.png"], output
    (tmp_path / "kept").mkdir()
    code, _, err = run(capsys, "convert", empty, "-s", style_png, "--model", "tiny",
                       "-o", tmp_path / "kept" / "o.mp4")
    assert code == 1 and (tmp_path / "kept").is_dir()  # a folder that was there stays
    code, _, err = run(capsys, "image", content_png, "-s", style_png, "--model", "tiny",
                       "-o", tmp_path / "made" / "o.png")
    assert code == 0 and (tmp_path / "made" / "o.png").is_file(), err


def test_ctrl_c_while_the_command_line_imports_is_one_line(capsys, monkeypatch):
    import tomllib

    import vidstyle.cli.entry as entry

    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["vidstyle"] == "vidstyle.cli.entry:main"  # what the installed command runs

    class CtrlCOnImport:  # the key pressed while vidstyle.cli.main's imports run
        def find_spec(self, name, path=None, target=None):
            if name == "vidstyle.cli.main":
                raise KeyboardInterrupt
            return None
    monkeypatch.delitem(sys.modules, "vidstyle.cli.main")
    monkeypatch.delattr(sys.modules["vidstyle.cli"], "main", raising=False)
    monkeypatch.setattr(sys, "meta_path", [CtrlCOnImport(), *sys.meta_path])
    code = entry.main()
    _, err = capsys.readouterr()
    assert code == 130
    assert_one_line_error(code, err, "interrupted")


def test_a_video_given_as_the_style_is_named_a_video(capsys, clip, tmp_path):
    for command in (["convert", clip], ["image", REPO / "samples" / "landscape.png"]):
        code, _, err = run(capsys, *command, "-s", clip, "--model", "tiny", "-o", tmp_path / "out.png")
        assert_one_line_error(code, err, f"style {clip} is a video; a style is a still picture")
    assert not (tmp_path / "out.png").exists()
    text = tmp_path / "notes.mp4"  # (named like a video, but none: it was called one)
    text.write_text("not a video")
    code, _, err = run(capsys, "image", REPO / "samples" / "landscape.png", "-s", text, "--model", "tiny",
                       "-o", tmp_path / "out.png")
    assert_one_line_error(code, err, f"cannot read image {text}")


def test_a_file_whose_name_starts_with_a_dash_is_taken_after_a_double_dash(capsys, tmp_path, monkeypatch,
                                                                          style_png):
    """Python 3.11's intermixed parsing dropped it: "the following arguments are required"."""
    import shutil

    monkeypatch.chdir(tmp_path)
    shutil.copy(REPO / "samples" / "landscape.png", "-photo.png")
    code, out, err = run(capsys, "image", "-s", style_png, "--model", "tiny", "--size", 32, "-o", "out.png",
                         "--", "-photo.png")
    assert code == 0, err
    assert (tmp_path / "out.png").is_file() and (tmp_path / "-photo.png").is_file()


def test_a_misspelt_required_option_is_named(capsys, tmp_path):
    photo, out = REPO / "samples" / "landscape.png", tmp_path / "out.png"
    for argv, said in ((["--stlye", "x.png", "--stlye", "y.png"], "required: --style/-s (this command has "
                        "no --stlye) ("),  # (once)
                       ([], "required: --style/-s ('vidstyle image --help"),  # nothing misspelt: as before
                       (["--over"], "required: --style/-s ('vidstyle"),  # taken as --overwrite
                       (["--", "--x.png"], "required: --style/-s ('vidstyle")):  # a file's name
        with pytest.raises(SystemExit) as exc:
            main(["image", str(photo), *argv, "-o", str(out)])
        err = capsys.readouterr().err
        assert exc.value.code == 2 and said in err and len(err.strip().splitlines()) == 1


def test_table_columns_count_wide_characters_twice():
    from vidstyle.cli.common import column

    assert column("abc", 5) == "abc  " and column("abcdefg", 5) == "abcde"
    assert column("東京の夜.jpg", 6) == "東京の" and column("東京の夜.jpg", 7) == "東京の "
    assert column("cafe\u0301.png", 9) == "cafe\u0301.png "  # (an accent adds no column)
