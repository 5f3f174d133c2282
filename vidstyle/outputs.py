"""Safe output files: never the input, never silently replaced, never left half-written."""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import VidstyleError

log = logging.getLogger(__name__)

# An output path that means the standard output (a pipe into another program): written as
# Matroska, which streams without seeking back and holds every codec and copied sound.
STANDARD_OUTPUT = Path("-")
STANDARD_OUTPUT_FORMAT = "matroska"
STANDARD_OUTPUT_URL = "pipe:1"  # (FFmpeg's name for file descriptor 1)


def same_file(a: Path, b: Path) -> bool:
    """One file under both names: the same path resolved, or (where the output exists)
    the same file on disk, which also catches B.PNG and b.png on a case-insensitive disk."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist
        return False


def check_output(input_path: Path | None, output: Path, overwrite: bool) -> None:
    if input_path is not None and same_file(output, input_path):
        raise VidstyleError(f"output {output} is the input; choose another name")
    if output.is_dir():
        raise VidstyleError(f"output {output} is a folder; give a file name")
    if output.exists() and not overwrite:
        raise VidstyleError(f"output {output} exists; pass --overwrite to replace it")
    check_writable(output)  # (its folder is made when writing starts: atomic_output)


def make_folders(folder: Path) -> list[Path]:
    """`folder` made with its missing parents; returns those it made, deepest first (for
    remove_empty_folders after a failure)."""
    made = []
    f = folder
    while not f.exists() and f != f.parent:
        made.append(f)
        f = f.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VidstyleError(f"cannot create folder {folder}: {exc.strerror}") from exc
    return made


def remove_empty_folders(folders: list[Path]) -> None:
    """Remove these folders, deepest first, as far as they are empty (a failed run leaves
    no folders it made for nothing)."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:  # not empty (another output, a kept stopped part), or gone
            return


def check_writable(output: Path, name: str | None = None) -> None:
    """Refuse an output whose folder (or, where it does not exist yet, the nearest folder
    above it) cannot take a new file: a read-only disk, /proc, a folder of someone else's.
    A test file is created there and removed at once; nothing stays. `name`: what the
    error calls the output (where `output` only stands for names still to be made)."""
    import tempfile

    folder = output.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise VidstyleError(f"cannot create folder {output.parent}: {folder} is a file")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise VidstyleError(f"cannot write {name or output}: {folder} does not take new files "
                            f"({exc.strerror})") from exc


class FileIndex:
    """Files by resolved path and, where they exist, by device and inode: `find(path)` is the
    file given under another spelling too (a link, B.PNG for b.png on a case-insensitive
    disk), as same_file tells, without comparing every pair."""

    def __init__(self, files):
        self._by_path, self._by_inode = {}, {}
        for f in map(Path, files):
            self._by_path.setdefault(f.resolve(), f)
            if f.exists():  # (an image sequence's pattern names no file)
                st = f.stat()
                self._by_inode.setdefault((st.st_dev, st.st_ino), f)

    def find(self, path) -> Path | None:
        path = Path(path)
        found = self._by_path.get(path.resolve())
        if found is None and path.exists():
            st = path.stat()
            found = self._by_inode.get((st.st_dev, st.st_ino))
        return found


def refuse_inputs_as_outputs(pairs) -> None:
    """Refuse a plan of (input, output) pairs in which an output is one of the inputs
    (`a.mp4 out/a.mp4 -o out/` would replace out/a.mp4 before stylizing it): the check
    of each output against its own input does not see another input. An image
    sequence's pattern stands for its frames on disk too, so `a_%d.png` into `a_%01d.png`
    (the same files, spelled otherwise) is refused."""
    owner: dict[Path, Path] = {}  # each input file, and the input it belongs to
    for src, _ in pairs:
        for f in _files_named(src):
            owner.setdefault(f, Path(src))
    inputs = FileIndex(owner)
    for src, dst in pairs:
        for f in _files_named(dst):
            taken = inputs.find(f)
            if taken is not None:
                taken = owner[taken]
                which = "is the input" if taken == Path(src) else f"would replace the input {taken}"
                raise VidstyleError(f"output {dst} {which}; choose another output name or folder")


def _files_named(path) -> list[Path]:
    """The path, and for an image sequence's pattern the frames on disk it names."""
    from .sequences import is_sequence, sequence_files

    return [Path(path)] + (sequence_files(path) if is_sequence(path) else [])


def refuse_outputs_over_sources(outputs, sources) -> None:
    """Refuse an output that is one of the other files a run reads: `sources` are
    (what, path) pairs, e.g. ("the style image", style). --overwrite replaces earlier
    results, never the paintings, masks or cue lists a run is made from."""
    sources = [(what, Path(path)) for what, path in sources if path is not None]
    what_is = {path: what for what, path in reversed(sources)}  # (the first description given)
    index = FileIndex(path for _, path in sources)
    for dst in dict.fromkeys(Path(d) for d in outputs):
        for named in _files_named(dst):  # (an image sequence writes every frame its pattern names)
            path = index.find(named)
            if path is None:
                continue
            if named == dst:
                raise VidstyleError(f"output {dst} is {what_is[path]} {path}; choose another output name")
            raise VidstyleError(f"output {dst} would write its frame {named.name} over {what_is[path]} "
                                f"{path}; choose another output name")


def partial_path(output: Path) -> Path:
    """A hidden sibling with the same extension (so the container format is inferred), named
    after this process so that two runs writing the same output do not share it."""
    return output.with_name(f".{output.stem}.{os.getpid()}.partial{output.suffix}")


# A partial file of a process that is gone, untouched this long, was left by a crash (kill -9,
# a power cut); a run of another machine writing into a shared folder keeps touching its own.
STALE_PARTIAL_S = 600.0


def remove_stale_partials(output: Path) -> list[Path]:
    """Remove the partial files (and joins) a crashed run left for `output`, each named
    after its process (partial_path), where that process is gone (POSIX only: elsewhere
    nothing is removed); returns them."""
    import glob
    import re
    import time

    if os.name != "posix" or not output.parent.is_dir():
        return []
    own = re.compile(rf"\.{re.escape(output.stem)}\.(\d+)\.partial{re.escape(output.suffix)}"
                     rf"(\.joined{re.escape(output.suffix)})?")
    removed = []
    for f in output.parent.glob(f".{glob.escape(output.stem)}.*.partial{glob.escape(output.suffix)}*"):
        found = own.fullmatch(f.name)
        if found is None or int(found.group(1)) == os.getpid() or _running(int(found.group(1))):
            continue
        try:
            if time.time() - f.stat().st_mtime < STALE_PARTIAL_S:
                continue
            f.unlink()
        except OSError:  # (gone meanwhile, or not ours to remove)
            continue
        removed.append(f)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # (signal 0: only asks whether it exists)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True


def move_unless_taken(tmp: Path, output: Path) -> bool:
    """Move tmp to output unless output exists (True when moved; tmp is then gone).
    A hard link fails if the name was taken meanwhile, e.g. by another run; on a file
    system without hard links (FAT) it checks, then renames."""
    try:
        os.link(tmp, output)
    except FileExistsError:
        return False
    except OSError:
        if output.exists():
            return False
        tmp.replace(output)
        return True
    tmp.unlink()
    return True


class OutputTaken(VidstyleError):
    """The output appeared while a run was writing it (another run on the same files)."""


def move_into_place(tmp: Path, output: Path, overwrite: bool, remove_on_failure: bool = True) -> None:
    """The finished `tmp` becomes `output` (replacing one there only with `overwrite`); on
    failure `tmp` is removed (unless `remove_on_failure` is False: a stopped run's part,
    kept for the next run)."""
    try:
        if overwrite:
            tmp.replace(output)
            return
        moved = move_unless_taken(tmp, output)
    except OSError as exc:  # (an output that cannot be replaced: immutable, another owner's)
        if remove_on_failure:
            tmp.unlink(missing_ok=True)
        raise VidstyleError(f"cannot put the result in place as {output}: {exc.strerror or exc}") from exc
    if not moved:
        if remove_on_failure:
            tmp.unlink(missing_ok=True)
        raise OutputTaken(f"output {output} appeared while this run was writing it; "
                          "pass --overwrite to replace it")


@contextmanager
def standard_output() -> Iterator[Path]:
    """Yields the path FFmpeg writes the standard output by; its errors name it as the
    standard output, and a reader that went away as such."""
    try:
        yield Path(STANDARD_OUTPUT_URL)
    except VidstyleError as exc:
        if "Broken pipe" in str(exc):
            raise VidstyleError("the program reading the standard output stopped (broken pipe)") from exc
        raise VidstyleError(str(exc).replace(STANDARD_OUTPUT_URL, "the standard output")) from exc


@contextmanager
def atomic_output(output: Path, overwrite: bool = True) -> Iterator[Path]:
    """Yields a temporary path; moves it to `output` on success, deletes it on any failure.

    Without `overwrite`, an output that another program created meanwhile is kept and
    this run's result discarded with an error."""
    tmp = partial_path(output)
    for stale in remove_stale_partials(output):
        log.warning("removed %s, left by a run that ended without finishing it", stale.name)
    made = make_folders(output.parent)
    try:
        yield tmp
    except VidstyleError as exc:  # name the file the user asked for, not the hidden one
        tmp.unlink(missing_ok=True)
        remove_empty_folders(made)
        raise VidstyleError(str(exc).replace(str(tmp), str(output)).replace(tmp.name, output.name)) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        remove_empty_folders(made)
        raise
    if not tmp.exists():
        if not output.parent.is_dir():
            raise VidstyleError(f"the folder {output.parent} was removed while {output.name} "
                                "was written there")
        raise VidstyleError(f"nothing was written to {output}")
    move_into_place(tmp, output, overwrite)
