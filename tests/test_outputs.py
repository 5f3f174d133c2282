"""Outputs appear whole under their final name, or not at all, and never replace a file unasked."""
import os

import pytest

from vidstyle.errors import VidstyleError
from vidstyle.outputs import atomic_output, partial_path


def test_partial_files_are_hidden_keep_the_extension_and_differ_between_runs(tmp_path, monkeypatch):
    out = tmp_path / "clip.mp4"
    mine = partial_path(out)
    assert mine.parent == tmp_path and mine.name.startswith(".") and mine.suffix == ".mp4"
    monkeypatch.setattr(os, "getpid", lambda: os.getppid() + 100000)
    assert partial_path(out) != mine  # another process writing the same output


def test_an_output_that_appears_meanwhile_is_kept_without_overwrite(tmp_path):
    out = tmp_path / "out.txt"
    with pytest.raises(VidstyleError, match="appeared while this run was writing"):
        with atomic_output(out, overwrite=False) as tmp:
            tmp.write_text("this run")
            out.write_text("another run")
    assert out.read_text() == "another run"
    assert list(tmp_path.iterdir()) == [out]


@pytest.mark.parametrize("overwrite", [True, False])
def test_a_finished_output_is_moved_into_place(tmp_path, overwrite):
    out = tmp_path / "out.txt"
    if overwrite:
        out.write_text("old")
    with atomic_output(out, overwrite=overwrite) as tmp:
        tmp.write_text("new")
    assert out.read_text() == "new"
    assert list(tmp_path.iterdir()) == [out]


def test_partial_files_a_killed_run_left_are_removed_by_the_next_one(tmp_path, caplog):
    import subprocess
    import sys
    import time as clock

    from vidstyle.outputs import STALE_PARTIAL_S, atomic_output

    output = tmp_path / "clip.mp4"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()  # (a process that has ended)
    old = clock.time() - STALE_PARTIAL_S - 5
    left = {name: tmp_path / name for name in (f".clip.{gone}.partial.mp4",  # a kill -9's
                                               f".clip.{gone}.partial.mp4.joined.mp4",  # (its join)
                                               f".clip.{gone}.partial.mkv",  # another output's
                                               f".clip.{os.getppid()}.partial.mp4",  # a live process's
                                               f".clip.{gone}x.partial.mp4")}  # not a name of ours
    for path in left.values():
        path.write_bytes(b"half a video")
        os.utime(path, (old, old))
    fresh = tmp_path / f".clip.{int(gone) + 1}.partial.mp4"  # (touched lately: another machine's run?)
    fresh.write_bytes(b"being written")
    with atomic_output(output) as tmp:
        tmp.write_bytes(b"the result")
    remaining = sorted(p.name for p in tmp_path.iterdir())
    kept = [fresh.name, f".clip.{gone}.partial.mkv", f".clip.{os.getppid()}.partial.mp4",
            f".clip.{gone}x.partial.mp4"]
    assert remaining == sorted(["clip.mp4", *kept])
    assert f"removed .clip.{gone}.partial.mp4, left by a run" in caplog.text


def test_an_output_folder_removed_while_writing_is_said_as_such(tmp_path):
    import shutil

    output = tmp_path / "out" / "clip.mp4"
    with pytest.raises(VidstyleError, match="the folder .*out was removed while clip.mp4 was written there"):
        with atomic_output(output) as tmp:
            tmp.write_bytes(b"half")
            shutil.rmtree(tmp_path / "out")  # (someone tidying up during an overnight run)
    with pytest.raises(VidstyleError, match="nothing was written to"):
        with atomic_output(tmp_path / "empty.mp4"):
            pass
