"""Conversions stopped part way keep what they wrote, and the same conversion run again
goes on from there.

A conversion stopped by Ctrl-C or SIGTERM after a while (KEEP_AFTER_S) finishes the file it
was writing (an image sequence: its frames so far) and keeps it beside the output, hidden,
with a record of the settings and input it was made from (`StoppedPart`). When the same
input is converted to the same output with the same settings, only the rest of the input
is converted, and the two parts are joined by copying their packets (no second encoding)
into the output (a sequence's frames go on being numbered). Any other settings start
over, and the stale part is replaced.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable

from .errors import VidstyleError
from .metadata import file_tags, input_timecode, keep_tags, keep_track_tags
from .subtitle_tracks import codec_of, is_gap_sample

# A stop after less work than this removes the output as before: starting over costs
# little, and a hidden file per short try would only clutter the folder.
KEEP_AFTER_S = 60.0
# Where the next part's picture begins after the last frame written (its exact time,
# VideoFileSource.input_seconds): later, and earlier than any real next frame.
_NEXT_FRAME_S = 1e-4
# Where its sound begins: a little before the part's sound ends, so that rounding loses no
# packet; the join leaves out the part's copy of one taken twice.
_SOUND_OVERLAP_S, _SOUND_OVERLAP_UNITS = 1e-3, 2
# 2: every audio and subtitle track (a part of 1 holds the first track only: started over)
# 3: text subtitles converted where the file type cannot hold them (a part of 2 left them out)
_RECORD_VERSION = 3


def next_part_times(last_frame_s: float, sound_end_s: float | None,
                    sound_unit_s: float | None) -> tuple[float, float | None]:
    """(where the next part's picture begins, where its sound begins) after a part whose
    last frame is at `last_frame_s` and whose sound ends at `sound_end_s` (None: no sound;
    times of the input; the sound's time base's unit in seconds)."""
    picture = last_frame_s + _NEXT_FRAME_S
    if sound_end_s is None:
        return picture, None
    return picture, sound_end_s - max(_SOUND_OVERLAP_S, _SOUND_OVERLAP_UNITS * (sound_unit_s or 0))


def rest_of(segment, part: "StoppedPart"):
    """The part of `segment` (vidstyle.sources.Segment; None: the whole input) after a
    stopped part's last frame; None where nothing is left of it."""
    from .sources import Segment

    end = segment.end if segment is not None else None
    if end is not None and end <= part.resume_at:
        return None
    # Its sound from where the part's ends: a file may store sound later than the picture
    # of the same time, so the part can hold less of it, or more, than of the picture.
    return Segment(part.resume_at, None if end is None else end - part.resume_at,
                   audio_start=part.audio_from, lines_on_screen=False)


def stopped_paths(output: Path) -> tuple[Path, Path]:
    """(video, record) of a stopped conversion to `output`: hidden siblings named after all
    of its name (x.mp4 and x.mkv have their own); the video has the output's suffix, so
    that its container is the output's, and an image sequence's is a folder of frames."""
    from .sequences import is_sequence

    output = Path(output)
    video = f".{output.name}.stopped" + ("" if is_sequence(output) else output.suffix)
    return output.with_name(video), output.with_name(f".{output.name}.stopped.json")


def input_fingerprint(path: Path, files: list[Path] | None = None) -> dict:
    """What tells an input apart from an edited or replaced one, cheaply: size and
    modification time (of each file of an image sequence, `files`)."""
    def one(p: Path) -> list:
        st = p.stat()
        return [p.name, st.st_size, st.st_mtime_ns]

    return {"input": str(Path(path).resolve()), "files": [one(Path(p)) for p in files or [path]]}


@dataclass(frozen=True)
class StoppedPart:
    """The part a stopped conversion kept: `frames` frames of the input from `start` (seconds
    of the input, as --start counts) up to its last frame, at `last_input_s`, made with
    `key` (the input's fingerprint and the settings). The rest of the input begins at
    `resume_at`, its sound at `audio_from` (None: the part has no sound; next_part_times).
    A part whose record cannot be used (unreadable, of another version, or without its
    video) has no key: it is only there to be removed."""
    video: Path
    record: Path
    frames: int
    start: float
    last_input_s: float
    key: dict | None
    resume_at: float = 0.0
    audio_from: float | None = None

    @property
    def seconds(self) -> float:
        """Seconds of the input converted, up to the last frame's start."""
        return self.last_input_s - self.start

    @classmethod
    def of_output(cls, output: Path) -> "StoppedPart | None":
        """The part a stopped conversion to `output` kept, or None where there is none."""
        video, record = stopped_paths(output)
        if not video.exists() and not record.exists():
            return None
        try:
            data = json.loads(record.read_text(encoding="utf-8"))
            if data.get("version") == _RECORD_VERSION and video.exists():
                audio = data["audio_from"]
                return cls(video, record, int(data["frames"]), float(data["start"]),
                           float(data["last_input_s"]), dict(data["key"]), float(data["resume_at"]),
                           None if audio is None else float(audio))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
        return cls(video, record, 0, 0.0, 0.0, None)  # unusable: removed with the next result

    def remove(self) -> None:
        self.record.unlink(missing_ok=True)
        if self.video.is_dir():  # an image sequence's frames
            shutil.rmtree(self.video, ignore_errors=True)
        else:
            self.video.unlink(missing_ok=True)


@dataclass
class Resumable:
    """How convert_video treats a stop: with this, a stop after `keep_after_s` seconds keeps
    the part written (made with `key`); `previous` is the part this run goes on from (its
    settings match), `stale` one made with other settings, replaced by this run's result."""
    key: dict
    previous: StoppedPart | None = None
    stale: StoppedPart | None = None
    keep_after_s: float = KEEP_AFTER_S


def plan_resume(output: Path, key: dict, fresh: bool = False) -> Resumable:
    """The Resumable for converting to `output` with `key`: going on from a stopped part made
    the same way unless `fresh`."""
    part = StoppedPart.of_output(output)
    key = json.loads(json.dumps(key))  # as it will read back from the record
    resumable = Resumable(key, keep_after_s=KEEP_AFTER_S)  # (read now: tests set it lower)
    if part is not None and part.key is not None and part.key == key and not fresh:
        resumable.previous = part
    else:
        resumable.stale = part
    return resumable


def keep_stopped(written: Path, output: Path, plan: Resumable, frames: int, start: float,
                 first_input_s: float, last_input_s: float, resume_at: float,
                 audio_from: float | None, holds_previous: bool = False,
                 join_gap: Callable[[float], float] = float) -> StoppedPart:
    """Keep the finished file `written` (frames `first_input_s`..`last_input_s` of the input;
    the rest to begin at `resume_at`, its sound at `audio_from`: next_part_times) as the
    stopped part of `output`; joined after the part it went on from, if any, unless it
    `holds_previous` (`frames` then counts them: an image sequence's folder goes on).
    `join_gap` gives the gap between the parts' frames from the input's (a sink's steady_gap)."""
    video, record = stopped_paths(output)
    previous = plan.previous
    if previous is not None and holds_previous:
        start = previous.start
    elif previous is not None:
        joined = written.with_name(written.name + ".joined" + written.suffix)
        try:
            join_parts(previous.video, written, joined, join_gap(first_input_s - previous.last_input_s))
        except BaseException:
            joined.unlink(missing_ok=True)
            raise
        written.unlink()
        written = joined
        frames += previous.frames
        start = previous.start
        if audio_from is None:  # (all its sound was in the part before)
            audio_from = previous.audio_from
    data = {"version": _RECORD_VERSION, "frames": frames, "start": start, "last_input_s": last_input_s,
            "resume_at": resume_at, "audio_from": audio_from, "key": plan.key}
    # In this order, an interruption leaves a video without a record (an unusable part, removed
    # by the next result), never a record beside another video.
    record.unlink(missing_ok=True)
    if video.is_dir() and video != written:  # a stale part's frames
        shutil.rmtree(video)
    os.replace(written, video)
    tmp_record = record.with_name(f".{record.name}.{os.getpid()}")
    try:
        tmp_record.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp_record, record)
    finally:
        tmp_record.unlink(missing_ok=True)
    return StoppedPart(video, record, frames, start, last_input_s, plan.key, resume_at, audio_from)


def _slots(container) -> dict:
    """Stream index -> (type, n): the n-th video, audio or subtitle stream."""
    streams = container.streams
    return {stream.index: (stream.type, n) for kind in (streams.video, streams.audio, streams.subtitles)
            for n, stream in enumerate(kind)}


def join_parts(first: Path, second: Path, output: Path, gap_s: float) -> None:
    """Write `first` then `second` into `output`, packets copied: the second's first video
    frame follows the first's last one by `gap_s` seconds (as in the input), its audio moved
    by the same amount; the first's audio stops where the second's begins, so nothing plays
    twice. Both files come from one encoder setting; either may lack the sound (a part
    whose sound the other holds all of)."""
    import av

    def spans(path: Path) -> dict:
        """(type, n) -> [first, last] packet start in seconds."""
        times: dict[tuple, list] = {}
        with av.open(str(path)) as container:  # (read to the end: a seek would skip sound before 0)
            slots = _slots(container)
            for packet in container.demux():
                if packet.pts is not None and packet.stream.index in slots:
                    t = packet.pts * packet.time_base
                    span = times.setdefault(slots[packet.stream.index], [t, t])
                    span[0], span[1] = min(span[0], t), max(span[1], t)
        return times

    with av.open(str(first)) as a, av.open(str(second)) as b:
        kinds = {}
        for container in (a, b):
            for index, slot in _slots(container).items():
                codec = container.streams[index].codec_context.name
                if kinds.setdefault(slot, codec) != codec:
                    raise VidstyleError(f"cannot join {second.name} to {first.name}: their streams differ")
        if ("video", 0) not in _slots(a).values() or ("video", 0) not in _slots(b).values():
            raise VidstyleError(f"cannot join {second.name} to {first.name}: one has no video")
    in_first, in_second = spans(first), spans(second)
    # Seconds added to the second part's timestamps (all its streams).
    video = ("video", 0)
    shift = in_first[video][1] + Fraction(gap_s).limit_denominator(1 << 30) - in_second[video][0]
    # Where the second part's sound begins, per stream: the first part's stops there.
    audio_from = {slot: span[0] + shift for slot, span in in_second.items() if slot[0] == "audio"}
    with av.open(str(first)) as a, av.open(str(second)) as b, \
            av.open(str(output), "w") as out:  # (its suffix is the parts')
        slots_a, slots_b = _slots(a), _slots(b)
        streams = {}
        for container, slots in ((a, slots_a), (b, slots_b)):
            for index, slot in slots.items():
                if slot not in streams:  # (the first part's, else the second's)
                    streams[slot] = out.add_stream_from_template(container.streams[index])
                    if slot[0] != "video":  # (a track's language and title)
                        keep_track_tags(container.streams[index], streams[slot])
        keep_tags(out, streams[video], file_tags(a), input_timecode(a))  # (the output starts with a)
        picture = next(container.streams[i] for i, slot in slots_a.items() if slot == video)
        if picture.average_rate and streams[video].codec_context is not None:
            streams[video].codec_context.framerate = picture.average_rate  # (a timecode counts frames at it)
        last_dts: dict[tuple, int] = {}
        first_lines: dict[tuple, set] = {}  # subtitle slot -> the first part's lines (_line)
        for packet in a.demux():
            slot = slots_a.get(packet.stream.index)
            if slot is None or (packet.dts is None and packet.pts is None):
                continue  # another kind of stream, or a flush marker
            begins = audio_from.get(slot)
            if begins is not None and packet.pts is not None and (
                    (packet.pts + (packet.duration or 0) / 2) * packet.time_base > begins):
                continue  # the second part has this sound (to within half a packet)
            if slot[0] == "subtitle" and is_gap_sample(packet):
                continue  # (the joined file writes its own)
            if slot[0] == "subtitle" and packet.pts is not None:
                first_lines.setdefault(slot, set()).add(_line(packet, packet.pts * packet.time_base))
            _mux(out, streams[slot], slot, packet, 0, last_dts)
        for packet in b.demux():
            slot = slots_b.get(packet.stream.index)
            if slot is None or (packet.dts is None and packet.pts is None):
                continue
            if slot[0] == "subtitle" and (
                    is_gap_sample(packet) or _held_by_first(packet, shift, first_lines.get(slot, ()))):
                continue  # a line the first part had demuxed ahead of its stop (or a gap)
            _mux(out, streams[slot], slot, packet, shift, last_dts)


def _line(packet, start) -> tuple:
    """A subtitle packet as (start in milliseconds, bytes), to know it again in another part
    (an ASS event without its ReadOrder: a converted line's comes from its time, which each
    part rounds itself)."""
    data = bytes(packet)
    return round(float(start) * 1000), data.split(b",", 1)[-1] if codec_of(packet) in ("ass", "ssa") else data


def _held_by_first(packet, shift: Fraction, lines) -> bool:
    """Whether the second part's subtitle packet (moved by `shift` seconds) is one the first
    part holds: both parts demux lines ahead of where their pictures are (a line converted
    in each part can be a millisecond apart: each part rounds its own times)."""
    if packet.pts is None:
        return False
    ms, data = _line(packet, packet.pts * packet.time_base + shift)
    return any((ms + d, data) in lines for d in (-1, 0, 1))


def _mux(out, stream, slot: tuple, packet, shift: Fraction, last_dts: dict) -> None:
    """Mux a copied packet into `stream`, moved by `shift` seconds, keeping each stream's
    decode times rising."""
    tb = packet.time_base
    moved = round(shift / tb) if shift else 0
    if packet.pts is not None:
        packet.pts += moved
    previous = last_dts.get(slot)
    if packet.dts is not None:
        packet.dts += moved
    if previous is not None and (packet.dts is None or packet.dts <= previous):
        # Matroska leaves the first decode times of a part out, and rounding at the join can
        # repeat one: one unit after the last, which still decodes before it shows.
        packet.dts = previous + 1
        if packet.pts is not None and packet.pts < packet.dts:
            packet.pts = packet.dts
    if packet.dts is not None:
        last_dts[slot] = packet.dts
    packet.stream = stream
    out.mux(packet)
