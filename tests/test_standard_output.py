"""`convert -o -`: Matroska on the standard output, for a pipe into another program."""
import io
import subprocess
import sys

import av

from conftest import write_clip
from vidstyle.cli.main import main

COMMAND = [sys.executable, "-m", "vidstyle.cli.main", "convert"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_convert_writes_the_video_with_its_sound_into_a_pipe(clip, style_png, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run(COMMAND + [str(clip), "-s", str(style_png), "-o", "-", "--model", "tiny"],
                          capture_output=True, cwd=work, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    assert "the standard output: 12 frames 64x48" in done.stderr.decode()  # (the summary is not in the video)
    with av.open(io.BytesIO(done.stdout)) as c:
        assert c.format.name.startswith("matroska")
        assert [s.type for s in c.streams] == ["video", "audio"]
        assert sum(1 for _ in c.decode(video=0)) == 12
    assert list(work.iterdir()) == []  # no temporary file, no stopped part


def test_mpeg_ts_input_with_aac_sound_goes_into_a_pipe(style_png, tmp_path):
    """MPEG-TS carries AAC's setup in each packet's header, and Matroska wants it in its own,
    which a pipe cannot be given at the end: 'encoding the standard output failed: Invalid
    argument' before the first frame."""
    clip = write_clip(tmp_path / "in.ts", n=12)
    with av.open(str(clip)) as c:
        sound = c.streams.audio[0].codec_context
        assert sound.name == "aac" and not sound.extradata
        samples = sum(frame.samples for frame in c.decode(audio=0))
    done = subprocess.run(COMMAND + [str(clip), "-s", str(style_png), "-o", "-", "--model", "tiny"],
                          capture_output=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    with av.open(io.BytesIO(done.stdout)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 12
    with av.open(io.BytesIO(done.stdout)) as c:
        assert sum(frame.samples for frame in c.decode(audio=0)) == samples


def test_a_reader_that_goes_away_is_one_line(clip, style_png, tmp_path):
    bystander = tmp_path / "pipe:1.joined"  # (named like a stopped part's join would be)
    bystander.write_text("mine")
    reader = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.buffer.read(10)"],
                              stdin=subprocess.PIPE)
    done = subprocess.run(COMMAND + [str(clip), "-s", str(style_png), "-o", "-", "--model", "tiny"],
                          stdout=reader.stdin, stderr=subprocess.PIPE, cwd=tmp_path, timeout=300)
    reader.stdin.close()
    reader.wait(timeout=60)
    err = done.stderr.decode()
    assert done.returncode == 1 and "the program reading the standard output stopped" in err
    assert "Traceback" not in err
    assert bystander.read_text() == "mine"


def test_what_a_pipe_cannot_take_is_refused(capsys, clip, style_png, tmp_path, monkeypatch):
    other = tmp_path / "other.mp4"
    other.write_bytes(clip.read_bytes())
    code, _, err = run(capsys, "convert", clip, other, "-s", style_png, "-o", "-")
    assert code == 1 and "takes one input" in err
    code, _, err = run(capsys, "convert", clip, "-s", style_png, "-s", style_png, "--each", "-o", "-")
    assert code == 1 and "--each" in err
    code, _, err = run(capsys, "image", style_png, "-s", style_png, "-o", "-")
    assert code == 1 and "image writes files" in err and not (tmp_path / "-").exists()
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, _, err = run(capsys, "convert", clip, "-s", style_png, "-o", "-")
    assert code == 1 and "which is this terminal" in err
    monkeypatch.setattr(sys, "stdout", None)  # (what Python has for a closed file descriptor 1)
    code = main(["convert", str(clip), "-s", str(style_png), "-o", "-"])
    assert code == 1 and "which is closed" in capsys.readouterr().err
