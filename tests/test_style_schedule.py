"""Style cues: a new style at a time of the input, cut or cross-faded (`--style-at`)."""
import av
import numpy as np
import pytest
import torch
from PIL import Image

from conftest import write_clip
from test_cli import assert_one_line_error, run
from test_cli_plans import no_model  # noqa: F401 (a fixture)
from vidstyle.adain import StyleStats
from vidstyle.errors import VidstyleError
from vidstyle.pipeline import convert_video
from vidstyle.sources import Segment
from vidstyle.style_schedule import StyleSchedule
from vidstyle.stylizer import Target

FPS = 24
C = 8


def stats(value: float) -> StyleStats:
    return StyleStats(torch.full((C,), value), torch.full((C,), 1 + value))


A, B, D = stats(0.0), stats(1.0), stats(3.0)


def mean_of(s: StyleStats) -> float:
    return float(s.mean[0])


def test_a_cue_cuts_to_its_style_at_its_time():
    schedule = StyleSchedule(A, [(2.0, B), (5.0, D)])
    assert schedule.stats_at(0.0) is A and schedule.stats_at(1.999) is A
    assert schedule.stats_at(2.0) is B and schedule.stats_at(4.9) is B
    assert schedule.stats_at(5.0) is D and schedule.stats_at(1e6) is D


def test_a_transition_cross_fades_the_statistics():
    schedule = StyleSchedule(A, [(2.0, B)], transition=1.0)
    assert schedule.stats_at(1.0) is A
    assert mean_of(schedule.stats_at(2.25)) == pytest.approx(0.25)
    assert float(schedule.stats_at(2.5).std[0]) == pytest.approx(1.5)
    assert schedule.stats_at(3.0) is B


def test_a_cue_during_a_fade_fades_on_from_where_it_had_got_to():
    schedule = StyleSchedule(A, [(2.0, B), (2.5, D)], transition=1.0)
    assert mean_of(schedule.stats_at(2.5)) == pytest.approx(0.5)  # half way to B when D is cued
    assert mean_of(schedule.stats_at(3.0)) == pytest.approx(0.5 * 0.5 + 0.5 * 3.0)
    assert schedule.stats_at(3.5) is D


def test_each_frame_of_a_batch_gets_its_own_statistics():
    schedule = StyleSchedule(A, [(1.0, B)], transition=1.0)
    assert schedule.stats_for([0.0, 0.5]) is A  # nothing moving: the shared object (one device copy)
    assert schedule.stats_for([0.0, 0.5], per_frame=True).mean.shape == (2, C)  # a compiled model's shape
    batch = schedule.stats_for([0.5, 1.0, 1.5, 2.0])
    assert batch.mean.shape == (4, C)
    assert batch.mean[:, 0].tolist() == pytest.approx([0.0, 0.0, 0.5, 1.0])
    mean, std = batch.as_4d("cpu")
    assert mean.shape == std.shape == (4, C, 1, 1)


def test_a_short_last_batch_filled_up_for_a_compiled_model_keeps_a_style_per_frame():
    from vidstyle.pipeline import _pad_batch

    frames = np.zeros((2, 8, 8, 3), np.uint8)
    filled, target = _pad_batch(frames, Target(StyleStats.stack([A, B]), alpha=(1.0, 0.5)), 4)
    assert len(filled) == 4 and target.alpha == (1.0, 0.5, 0.5, 0.5)
    assert target.stats.mean[:, 0].tolist() == [0.0, 1.0, 1.0, 1.0]
    assert target.stats.as_4d("cpu")[1].shape == (4, C, 1, 1)


@pytest.mark.parametrize("cues, transition", [
    ([(0.0, B)], 0.0),                # at the start: that is the --style's place
    ([(3.0, B), (2.0, D)], 0.0),      # out of order
    ([(2.0, B), (2.0, D)], 0.0),      # twice the same time
    ([(2.0, B)], -1.0),
    ([(float("nan"), B)], 0.0),
])
def test_impossible_schedules_are_refused(cues, transition):
    with pytest.raises(VidstyleError):
        StyleSchedule(A, cues, transition)


def test_a_batch_with_a_style_per_frame_matches_each_frame_stylized_alone(stylizer):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (3, 32, 40, 3), dtype=np.uint8)
    styles = [stylizer.style_stats(torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(s)))
              for s in range(3)]
    together = stylizer.stylize_frames(frames, Target(StyleStats.stack(styles)))
    for frame, style, out in zip(frames, styles, together):
        alone = stylizer.stylize_frames(frame[None], Target(style))[0]
        assert np.abs(alone.astype(int) - out.astype(int)).max() <= 1


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("cues") / "clip.mp4", n=12, fps=FPS)


def decoded(path):
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24").astype(np.float32) for f in c.decode(video=0)]


def styled_like(frames, a, b):
    """Per frame: "a" or "b", whichever of the two conversions the frame is closer to."""
    return ["a" if np.abs(f - x).mean() < np.abs(f - y).mean() else "b" for f, x, y in zip(frames, a, b)]


@pytest.fixture(scope="module")
def two_styles(trained_stylizer, clip, tmp_path_factory):
    """Two styles and the clip converted with each alone (the shipped decoder: a random one
    paints every style alike)."""
    stylizer = trained_stylizer
    folder = tmp_path_factory.mktemp("alone")
    pair = [stylizer.style_stats(torch.rand(3, 48, 48, generator=torch.Generator().manual_seed(s)))
            for s in (1, 2)]
    outs = []
    for i, s in enumerate(pair):
        convert_video(clip, folder / f"{i}.mp4", stylizer, Target(s))
        outs.append(decoded(folder / f"{i}.mp4"))
    return pair, outs


@pytest.mark.parametrize("batch", [1, 4])  # 4: the cue falls inside a batch
def test_converting_with_a_cue_switches_at_its_frame(trained_stylizer, clip, two_styles, tmp_path, batch):
    (a, b), (out_a, out_b) = two_styles
    out = tmp_path / "cued.mp4"
    report = convert_video(clip, out, trained_stylizer, Target(a), batch=batch,
                           style_schedule=StyleSchedule(a, [(7 / FPS, b)]))
    assert report.frames == 12
    assert styled_like(decoded(out), out_a, out_b) == ["a"] * 7 + ["b"] * 5


def test_cue_times_are_the_inputs_also_in_a_part_of_it(trained_stylizer, clip, two_styles, tmp_path):
    (a, b), (out_a, out_b) = two_styles
    out = tmp_path / "part.mp4"
    convert_video(clip, out, trained_stylizer, Target(a), segment=Segment(3 / FPS),
                  style_schedule=StyleSchedule(a, [(7 / FPS, b)]))
    assert styled_like(decoded(out), out_a[3:], out_b[3:]) == ["a"] * 4 + ["b"] * 5


def test_a_transition_moves_from_one_style_to_the_other_over_its_frames(trained_stylizer, clip, two_styles,
                                                                        tmp_path):
    (a, b), (out_a, out_b) = two_styles
    out = tmp_path / "fade.mp4"
    convert_video(clip, out, trained_stylizer, Target(a), batch=4,
                  style_schedule=StyleSchedule(a, [(2 / FPS, b)], transition=8 / FPS))
    frames = decoded(out)
    # how far along from A's frame to B's each frame is (0: A's, 1: B's)
    to_b = [np.abs(f - x).mean() / (np.abs(f - x).mean() + np.abs(f - y).mean())
            for f, x, y in zip(frames, out_a, out_b)]
    assert max(to_b[:2]) < 0.2 and min(to_b[10:]) > 0.8  # A before, B once the fade is over
    assert all(later > earlier for earlier, later in zip(to_b[2:10], to_b[3:11]))  # steadily closer to B


@pytest.fixture
def styles(tmp_path):
    paths = []
    for seed in (1, 2):
        rng = np.random.default_rng(seed)
        path = tmp_path / f"style{seed}.png"
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def test_a_cue_file_adds_its_cues_with_paths_from_its_own_folder(capsys, clip, styles, tmp_path,
                                                                   monkeypatch):
    import vidstyle.cli.convert as convert_cli

    cue_file = tmp_path / "edit" / "cues.txt"
    cue_file.parent.mkdir()
    # (as a Windows editor saves it: a byte-order mark and CRLF; a quoted path)
    cue_file.write_bytes(f"\ufeff# the chorus\r\n0:00.25  ../{styles[1].name}   # second style\r\n\r\n"
                         f"0.4 \"../{styles[0].name}\"\r\n".encode("utf-8"))
    seen = []
    original = convert_cli.style_cues_from_args
    monkeypatch.setattr(convert_cli, "style_cues_from_args", lambda *a: seen.append(original(*a)) or seen[-1])
    code, _, err = run(capsys, "convert", clip, "-s", styles[0], "--cues", cue_file, "--style-at", "0.1",
                       styles[1], "--model", "tiny", "-o", tmp_path / "o.mp4")
    assert code == 0, err
    assert [(t, p.resolve()) for t, p in seen[0]] == [(0.1, styles[1].resolve()), (0.25, styles[1].resolve()),
                                                        (0.4, styles[0].resolve())]


def test_cli_converts_with_cues(capsys, clip, styles, tmp_path):
    out = tmp_path / "o.mp4"
    code, stdout, err = run(capsys, "convert", clip, "-s", styles[0], "--style-at", "0.2", styles[1],
                            "--transition", "0.1", "--model", "tiny", "-o", out)
    assert code == 0, err
    assert "12 frames" in stdout and out.exists()


@pytest.mark.parametrize("options, fragment", [
    (["--transition", "1"], "without a cue"),
    (["--style-at", "1", "{b}", "-s", "{b}"], "take one --style"),
    (["--style-at", "1", "{b}", "--preserve-color", "match"], "take one --style"),
    (["--style-at", "soon", "{b}"], "expected seconds"),
    (["--style-at", "0", "{b}"], "must be later"),
    (["--style-at", "1", "{b}", "--style-at", "0:01", "{b}"], "two style cues at 1 s"),
    (["--cues", "{missing}"], "cannot read the cue file"),
    (["--cues", "{utf16_cues}"], "save it as UTF-8"),
    (["--cues", "{gone_cues}"], "gone.txt:1: style image not found"),
    (["--cues", "{bad_cues}"], "cues.txt:2: a cue is TIME IMAGE"),
    (["--cues", "{late_cues}", "--style-at", "0:03", "{b}"], "two style cues at 3 s"),
    (["--style-at", "1", "{missing}"], "missing.png"),
])
def test_cli_refuses_bad_cues_in_one_line_before_the_model_loads(capsys, no_model, clip, styles, tmp_path,  # noqa: F811
                                                                 options, fragment):
    (tmp_path / "cues.txt").write_text("# my edit\n0:02\n")
    (tmp_path / "late.txt").write_text(f"3 {styles[1].name}\n")
    (tmp_path / "utf16.txt").write_text(f"3 {styles[1].name}\n", encoding="utf-16")
    (tmp_path / "gone.txt").write_text("3 nothere.png\n")
    names = {"b": styles[1], "missing": tmp_path / "missing.png", "bad_cues": tmp_path / "cues.txt",
             "late_cues": tmp_path / "late.txt", "utf16_cues": tmp_path / "utf16.txt",
             "gone_cues": tmp_path / "gone.txt"}
    options = [o.format(**names) if o.startswith("{") else o for o in options]
    code, _, err = run(capsys, "convert", clip, "-s", styles[0], *options, "-o", tmp_path / "o.mp4")
    assert_one_line_error(code, err, fragment)
    assert not (tmp_path / "o.mp4").exists()


def test_cue_times_count_from_the_inputs_start_even_where_its_first_frames_do_not_decode(
        trained_stylizer, tmp_path):
    from vidstyle.sources import VideoFileSource

    # An MPEG-TS recording cut mid-GOP (a capture joined late): its first packets do not
    # decode, yet players count its time from the first of them.
    whole = write_clip(tmp_path / "whole.ts", n=48, fps=FPS, keyframe_every=24, audio=False)
    data = whole.read_bytes()
    cut = tmp_path / "cut.ts"
    cut.write_bytes(data[(len(data) // 4) // 188 * 188:])
    with VideoFileSource(cut) as source:
        origin = source.input_origin()
        times = [float(f.pts * f.time_base) - origin for f in source]
    assert times[0] > 0.2  # the first frame that decodes comes well after the file's start
    a, b = (trained_stylizer.style_stats(torch.rand(3, 48, 48, generator=torch.Generator().manual_seed(s)))
            for s in (1, 2))
    outs = {}
    for name, target, schedule in (("a", Target(a), None), ("b", Target(b), None),
                                   ("cued", Target(a), StyleSchedule(a, [(times[5], b)]))):
        convert_video(cut, tmp_path / f"{name}.mp4", trained_stylizer, target, style_schedule=schedule)
        outs[name] = decoded(tmp_path / f"{name}.mp4")
    assert styled_like(outs["cued"], outs["a"], outs["b"]) == ["a"] * 5 + ["b"] * (len(times) - 5)


def test_a_cue_past_the_last_frame_is_said_unless_the_part_ends_before(stylizer, clip, tmp_path, caplog):
    """A cue at 9 s on a 0.5 s clip was taken without a word (a typo, or the wrong clip)."""
    a = stylizer.style_stats(torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(1)))
    late = StyleSchedule(a, [(0.25, a), (9.0, a)])
    convert_video(clip, tmp_path / "a.mp4", stylizer, Target(a), style_schedule=late)
    assert "last frame is at 0.46 s, before the style cue at 9 s: never reached" in caplog.text
    caplog.clear()
    convert_video(clip, tmp_path / "b.mp4", stylizer, Target(a), style_schedule=late,
                  segment=Segment(0, 0.2))  # a part tried: its cues may well lie beyond it
    assert "never reached" not in caplog.text
