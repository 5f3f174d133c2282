"""A folder converted unattended: what goes wrong with one file costs that file, not the rest,
and a log of the run shows each file as it is done."""
import sys
from pathlib import Path

import pytest

from conftest import write_clip
from test_cli import run


@pytest.fixture
def clips(tmp_path):
    folder = tmp_path / "clips"
    folder.mkdir()
    for name in ("a", "b", "c"):
        write_clip(folder / f"{name}.mp4", n=3, audio=False)
    return folder


def before_each(monkeypatch, hook):
    """The CLI's conversions, with `hook(input, output)` run as each one starts."""
    import vidstyle.cli.convert

    plan = vidstyle.cli.convert.plan_resume_for

    def hooked(args, src, dst, *rest):
        hook(Path(src), Path(dst))
        return plan(args, src, dst, *rest)

    monkeypatch.setattr(vidstyle.cli.convert, "plan_resume_for", hooked)


def convert_folder(capsys, clips, style_png, out, *extra):
    return run(capsys, "convert", clips, "-s", style_png, "-o", out, "--model", "tiny", *extra)


def test_an_input_gone_before_its_turn_costs_only_that_file(capsys, monkeypatch, clips, style_png, tmp_path):
    before_each(monkeypatch, lambda src, dst: src.unlink() if src.name == "b.mp4" else None)  # (moved away)
    code, stdout, err = convert_folder(capsys, clips, style_png, tmp_path / "out/")
    assert code == 1 and "Traceback" not in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.mp4", "c.mp4"]
    assert f"No such file or directory: {clips / 'b.mp4'}" in err and "1 file(s) failed" in err
    assert "2 of 3 files converted" in stdout


def test_a_result_that_cannot_be_put_in_place_leaves_nothing_and_the_rest_go_on(capsys, monkeypatch, clips,
                                                                               style_png, tmp_path):
    import vidstyle.outputs

    move = vidstyle.outputs.move_unless_taken

    def refused_for_b(tmp, output):  # (an output another user owns, an immutable file)
        if output.name == "b.mp4":
            raise PermissionError(1, "Operation not permitted", str(output))
        return move(tmp, output)

    monkeypatch.setattr(vidstyle.outputs, "move_unless_taken", refused_for_b)
    out = tmp_path / "out"
    code, stdout, err = convert_folder(capsys, clips, style_png, out)
    assert code == 1 and "Traceback" not in err
    assert f"cannot put the result in place as {out / 'b.mp4'}: Operation not permitted" in err
    assert sorted(p.name for p in out.iterdir()) == ["a.mp4", "c.mp4"]  # no hidden partial file left


def test_skip_existing_skips_an_output_another_run_made_meanwhile(capsys, monkeypatch, clips, style_png,
                                                                  tmp_path):
    out = tmp_path / "out"
    out.mkdir()

    def another_run_made_b(src, dst):
        if src.name == "a.mp4":
            (out / "b.mp4").write_bytes(b"made by the other run")

    before_each(monkeypatch, another_run_made_b)
    code, stdout, err = convert_folder(capsys, clips, style_png, out, "--skip-existing")
    assert code == 0, err
    assert "b.mp4: skipped, made meanwhile by another run" in err
    assert "2 of 3 files converted (1 skipped: made meanwhile)" in stdout
    assert (out / "b.mp4").read_bytes() == b"made by the other run"


def test_skip_existing_keeps_what_another_run_finished_first(capsys, monkeypatch, clips, style_png, tmp_path):
    import vidstyle.outputs

    move = vidstyle.outputs.move_unless_taken

    def the_other_run_was_faster(tmp, output):
        if output.name == "b.mp4":
            output.write_bytes(b"made by the other run")
        return move(tmp, output)

    monkeypatch.setattr(vidstyle.outputs, "move_unless_taken", the_other_run_was_faster)
    out = tmp_path / "out"
    code, stdout, err = convert_folder(capsys, clips, style_png, out, "--skip-existing")
    assert code == 0, err
    assert "b.mp4: skipped, finished meanwhile by another run" in err
    assert (out / "b.mp4").read_bytes() == b"made by the other run"
    assert sorted(p.name for p in out.iterdir()) == ["a.mp4", "b.mp4", "c.mp4"]


def test_each_file_is_reported_when_done_not_at_the_end(capsys, monkeypatch, clips, style_png, tmp_path):
    seen = {}

    def look_at_the_log(src, dst):
        seen[src.name] = capsys.readouterr().out  # (what a log had when this file began)

    before_each(monkeypatch, look_at_the_log)
    code, _, err = convert_folder(capsys, clips, style_png, tmp_path / "out/")
    assert code == 0, err
    assert f"{tmp_path / 'out' / 'a.mp4'}: 3 frames" in seen["b.mp4"]
    assert f"{tmp_path / 'out' / 'b.mp4'}: 3 frames" in seen["c.mp4"]


def test_without_a_terminal_progress_is_a_line_now_and_then(capsys):
    from vidstyle.cli.progress import Progress

    with Progress(1, log_every_s=0) as progress, progress.file("film.mp4") as on_progress:
        on_progress(1200, 5000, 4.0)  # (stderr is no terminal here: no bar is drawn)
        on_progress(1201, 0, 4.0)  # (a frame count the container did not give)
        on_progress(3, 2, 4.0)  # (a cut's estimate, passed: it said 3/2 frames (150%))
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["vidstyle: film.mp4: 1200/5000 frames (24%), 4.0 FPS, about 15 min left",
                     "vidstyle: film.mp4: 1201 frames, 4.0 FPS", "vidstyle: film.mp4: 3/3 frames (100%), 4.0 FPS"]


def test_a_line_is_flushed_at_once_for_a_log_file():
    import io

    from vidstyle.cli.progress import Progress

    class LogFile(io.StringIO):  # (a file stdout is redirected to: written in blocks)
        flushed = ""

        def flush(self):
            self.flushed = self.getvalue()

    log = LogFile()
    with Progress(2) as progress:
        progress.write("out/a.mp4: 3 frames", file=log)
        assert log.flushed == "out/a.mp4: 3 frames\n"


def test_a_log_reader_that_went_away_does_not_stop_the_batch(capsys, monkeypatch, clips, style_png, tmp_path):
    import vidstyle.cli.progress

    write = vidstyle.cli.progress.Progress.write

    def broken_stdout(self, message, file=None):
        if file is sys.stdout:  # (| head -1 has exited)
            raise BrokenPipeError(32, "Broken pipe")
        write(self, message, file)

    monkeypatch.setattr(vidstyle.cli.progress.Progress, "write", broken_stdout)
    code, _, err = convert_folder(capsys, clips, style_png, tmp_path / "out/")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.mp4", "b.mp4", "c.mp4"]
    assert code == 1 and "the summaries could not be printed (Broken pipe); 3 of 3 files converted" in err


def test_a_photo_gone_before_its_turn_costs_only_that_photo(capsys, monkeypatch, style_png, tmp_path):
    import vidstyle.stills
    from test_cli_plans import image_file

    photos = tmp_path / "photos"
    for name in ("a", "b", "c"):
        image_file(photos / f"{name}.png", seed=ord(name))
    real = vidstyle.stills.stylize_image_file  # (the image command takes it from there as it runs)

    def b_gone(src, *args, **kwargs):  # (moved away by a sync tool between the plan and its turn)
        if src.name == "b.png":
            raise FileNotFoundError(2, "No such file or directory", str(src))
        return real(src, *args, **kwargs)

    monkeypatch.setattr(vidstyle.stills, "stylize_image_file", b_gone)
    code, _, err = run(capsys, "image", photos, "-s", style_png, "-o", tmp_path / "out/", "--model", "tiny")
    assert code == 1 and "Traceback" not in err and "No such file or directory" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "c.png"]
