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
