"""Conversions stopped part way keep what they wrote, and the same conversion run again
goes on from there.

A conversion stopped by Ctrl-C or SIGTERM after a while (KEEP_AFTER_S) finishes the file it
was writing and keeps it beside the output, hidden, with a record of the settings and input
it was made from (`StoppedPart`). When the same input is converted to the same output with
the same settings, only the rest of the input is converted, and the two parts are joined
by copying their packets (no second encoding) into the output. Any other settings start
over, and the stale part is replaced.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from .errors import VidstyleError

# A stop after less work than this removes the output as before: starting over costs
# little, and a hidden file per short try would only clutter the folder.
KEEP_AFTER_S = 60.0
# Where the next part begins after the last frame written (seconds): later than the
# frame's own timestamp, earlier than any real next frame.
_NEXT_FRAME_S = 1e-4
_RECORD_VERSION = 1


def rest_of(segment, part: "StoppedPart"):
    """The part of `segment` (vidstyle.sources.Segment; None: the whole input) after a
    stopped part's last frame; None where nothing is left of it."""
    from .sources import Segment

    end = segment.end if segment is not None else None
    if end is not None and end <= part.resume_at:
        return None
    return Segment(part.resume_at, None if end is None else end - part.resume_at)


def stopped_paths(output: Path) -> tuple[Path, Path]:
    """(video, record) of a stopped conversion to `output`: hidden siblings, the video
    with the output's suffix so that its container is the output's."""
    output = Path(output)
    return (output.with_name(f".{output.stem}.stopped{output.suffix}"),
            output.with_name(f".{output.stem}.stopped.json"))


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
    `key` (the input's fingerprint and the settings)."""
    video: Path
    record: Path
    frames: int
    start: float
    last_input_s: float
    key: dict

    @property
    def resume_at(self) -> float:
        """Where the rest of the input begins (seconds of the input)."""
        return self.last_input_s + _NEXT_FRAME_S

    @property
    def seconds(self) -> float:
        """Seconds of the input converted, up to the last frame's start."""
        return self.last_input_s - self.start

    @classmethod
    def of_output(cls, output: Path) -> "StoppedPart | None":
        """The part a stopped conversion to `output` kept, or None (also for a record that
        cannot be read, or whose video is gone)."""
        video, record = stopped_paths(output)
        try:
            data = json.loads(record.read_text(encoding="utf-8"))
            if data.get("version") != _RECORD_VERSION or not video.is_file():
                return None
            return cls(video, record, int(data["frames"]), float(data["start"]),
                       float(data["last_input_s"]), data["key"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def remove(self) -> None:
        self.record.unlink(missing_ok=True)
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
    if part is None:
        return Resumable(key, keep_after_s=KEEP_AFTER_S)
    if part.key == key and not fresh:
        return Resumable(key, previous=part, keep_after_s=KEEP_AFTER_S)
    return Resumable(key, stale=part, keep_after_s=KEEP_AFTER_S)


def keep_stopped(written: Path, output: Path, plan: Resumable, frames: int, start: float,
                 first_input_s: float, last_input_s: float) -> StoppedPart:
    """Keep the finished file `written` (frames `first_input_s`..`last_input_s` of the input)
    as the stopped part of `output`; joined after the part it went on from, if any."""
    video, record = stopped_paths(output)
    if plan.previous is not None:
        joined = written.with_name(written.name + ".joined" + written.suffix)
        try:
            join_parts(plan.previous.video, written, joined, first_input_s - plan.previous.last_input_s)
        except BaseException:
            joined.unlink(missing_ok=True)
            raise
        written.unlink()
        written = joined
        frames += plan.previous.frames
        start = plan.previous.start
    data = {"version": _RECORD_VERSION, "frames": frames, "start": start,
            "last_input_s": last_input_s, "key": plan.key}
    tmp_record = record.with_name(record.name + f".{os.getpid()}")
    tmp_record.write_text(json.dumps(data), encoding="utf-8")
    os.replace(written, video)
    os.replace(tmp_record, record)
    return StoppedPart(video, record, frames, start, last_input_s, plan.key)


def join_parts(first: Path, second: Path, output: Path, gap_s: float) -> None:
    """Write `first` then `second` into `output`, packets copied: the second's first video
    frame follows the first's last one by `gap_s` seconds (as in the input), its audio moved
    by the same amount; the first's audio stops where the second's begins, so nothing plays
    twice. Both files must come from one encoder setting (the same streams)."""
    import av

    def starts(path: Path) -> dict:
        """Each stream's first and last packet start, in seconds."""
        times: dict[int, list] = {}
        with av.open(str(path)) as container:  # (read to the end: a seek would skip sound before 0)
            for packet in container.demux():
                if packet.pts is not None:
                    t = packet.pts * packet.time_base
                    span = times.setdefault(packet.stream.index, [t, t])
                    span[0], span[1] = min(span[0], t), max(span[1], t)
        return times

    with av.open(str(first)) as a, av.open(str(second)) as b:
        if len(a.streams) != len(b.streams) or any(
                sa.type != sb.type or sa.codec_context.name != sb.codec_context.name
                for sa, sb in zip(a.streams, b.streams)):
            raise VidstyleError(f"cannot join {second.name} to {first.name}: their streams differ")
        video, audio = a.streams.video[0].index, [s.index for s in a.streams.audio]
    in_first, in_second = starts(first), starts(second)
    # Seconds added to the second part's timestamps (all its streams).
    shift = in_first[video][1] + Fraction(gap_s).limit_denominator(1 << 30) - in_second[video][0]
    # Where the second part's sound begins, per stream: the first part's stops there.
    audio_from = {index: in_second[index][0] + shift for index in audio if index in in_second}
    with av.open(str(first)) as a, av.open(str(second)) as b, \
            av.open(str(output), "w") as out:  # (its suffix is the parts')
        streams = {s.index: out.add_stream_from_template(s) for s in a.streams}
        last_dts: dict[int, int] = {}
        for packet in a.demux():
            if packet.dts is None and packet.pts is None:
                continue  # a flush marker
            begins = audio_from.get(packet.stream.index)
            if begins is not None and packet.pts is not None and (
                    (packet.pts + (packet.duration or 0) / 2) * packet.time_base > begins):
                continue  # the second part has this sound (to within half a packet)
            _mux(out, streams, packet, 0, last_dts)
        for packet in b.demux():
            if packet.dts is None and packet.pts is None:
                continue
            _mux(out, streams, packet, shift, last_dts)


def _mux(out, streams, packet, shift: Fraction, last_dts: dict) -> None:
    """Mux a copied packet moved by `shift` seconds, keeping each stream's decode times rising."""
    index = packet.stream.index
    tb = packet.time_base
    moved = round(shift / tb) if shift else 0
    if packet.pts is not None:
        packet.pts += moved
    previous = last_dts.get(index)
    if packet.dts is not None:
        packet.dts += moved
    if previous is not None and (packet.dts is None or packet.dts <= previous):
        # Matroska leaves the first decode times of a part out, and rounding at the join can
        # repeat one: one unit after the last, which still decodes before it shows.
        packet.dts = previous + 1
        if packet.pts is not None and packet.pts < packet.dts:
            packet.pts = packet.dts
    if packet.dts is not None:
        last_dts[index] = packet.dts
    packet.stream = streams[index]
    out.mux(packet)
