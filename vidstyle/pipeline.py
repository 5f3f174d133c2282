"""File conversion: decode thread -> batches -> model on the device -> encode thread.

Bounded queues between the stages keep memory flat; every frame is kept, with
its timestamp, and the audio is copied through.
"""
from __future__ import annotations

import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Callable, Iterable

import cv2
import numpy as np
import torch

from .adain import StyleStats
from .audio_pulse import AudioPulse
from .subtitle_tracks import subtitle_summary
from .tracks import summary as audio_summary
from .devices import tune_convolutions
from .errors import VidstyleError
from .fades import Fades
from .frame_clock import FrameClock
from .metadata import timecode_later
from .outputs import (STANDARD_OUTPUT, STANDARD_OUTPUT_FORMAT, atomic_output, check_output, move_into_place,
                      refuse_inputs_as_outputs, standard_output)
from .parallel import FrameWorkers
from .resume import Resumable, StoppedPart, join_parts, keep_stopped, next_part_times, rest_of
from .gif_sink import GifSink, is_gif
from .sequence_sink import ImageSequenceSink
from .sequences import is_sequence
from .signals import signals_deferred
from .sinks import VideoFileSink, even_size
from .sources import Frame, Segment, StartPastEnd, VideoFileSource, VideoInfo
from .style_schedule import StyleSchedule
from .stylizer import Stylizer, Target, resolve_workers, tunes_threads
from .temporal import FlowBlend

log = logging.getLogger(__name__)
UPSCALE_WARNING = 16  # times the input's pixels (4x each way) past which a resize is said to cost


@dataclass
class ConvertReport:
    input: Path
    output: Path
    frames: int = 0
    wall_seconds: float = 0.0
    decode_times: list = field(default_factory=list, repr=False)  # seconds per frame
    encode_times: list = field(default_factory=list, repr=False)  # seconds per frame
    model_times: list = field(default_factory=list, repr=False)  # seconds per batch
    workers: int = 1  # batches the model ran at once
    width: int = 0
    height: int = 0
    audio: str = "none"  # "copied", "re-encoded to AAC" (or Opus) or "none"
    subtitle_tracks: int = 0  # subtitle tracks kept (copied or converted)
    subtitles: str = ""  # what became of them: "1 subtitle track copied", ... ("" for none)
    latencies: list = field(default_factory=list, repr=False)
    steady_times: list = field(default_factory=list, repr=False)  # seconds per frame of --steady
    listed_frames: int = 0  # the container's frame count; 0 when it gives none
    damaged_packets: int = 0  # input packets the decoder refused, skipped
    deinterlaced_frames: int = 0  # interlaced input frames rebuilt before stylizing
    clock_restarts: int = 0  # joins where the input's timestamps started again (vidstyle.retime)
    hdr: str | None = None  # the input's HDR transfer ("PQ", "HLG"); None for SDR
    tone_mapped_from_nits: float | None = None  # HDR tone-mapped to SDR: the light mapped to white
    listed_seconds: float | None = None  # the video's duration by the container (or the part asked for)
    cut_frame_seconds: float = 0.0  # for a part of the input (a cut): one frame's time; 0 for the whole
    decoded_seconds: float = 0.0  # first frame's start to the last frame's end, by timestamps
    resized_frames: int = 0  # frames of another size than the first (the stream changed size), scaled
    first_resized: tuple | None = None  # (index, its (width, height), the video's) for the first of them
    resumed: StoppedPart | None = None  # the stopped conversion's part this one went on from

    @property
    def missing_frames(self) -> int:
        """Frames the container lists that could not be decoded (a damaged or cut file)."""
        return max(0, self.listed_frames - self.frames) if self.listed_frames else 0

    @property
    def ended_early(self) -> bool:
        """Decoding stopped well before the duration the container gives (more than a second
        and 5% short): a file cut short or damaged where no frame count is listed (Matroska).
        For a cut, which lists no frames, before the part asked for ended (more than three
        frames and 10% short: a container's duration can count sound past the picture)."""
        if self.listed_frames or not self.listed_seconds or not self.decoded_seconds:
            return False
        short = self.listed_seconds - self.decoded_seconds
        if self.cut_frame_seconds:
            return short > 3 * self.cut_frame_seconds and short > 0.1 * self.listed_seconds
        return short > 1.0 and short > 0.05 * self.listed_seconds

    @property
    def fps(self) -> float:
        return self.frames / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def model_seconds(self) -> float:
        return sum(self.model_times)

    @property
    def model_fps(self) -> float:
        """What the model stage sustains: its batches overlap when workers > 1 (and there are
        that many batches to overlap)."""
        overlap = min(self.workers, len(self.model_times))
        return self.frames * overlap / self.model_seconds if self.model_seconds else 0.0


def output_size(width: int, height: int, size: int | None) -> tuple[int, int]:
    """Frame size after an optional shorter-side resize, made even for yuv420p."""
    if size:
        scale = size / min(width, height)
        width, height = max(2, round(width * scale)), max(2, round(height * scale))
    return even_size(width, height)


ProgressFn = Callable[[int, int, float], None]  # (frames done, frames expected or 0, fps)


def _oom_hint(batch: int, info: VideoInfo) -> VidstyleError:
    return VidstyleError(
        f"out of GPU memory at --batch {batch} with {info.width}x{info.height} frames; "
        f"try --batch {max(1, batch // 2)} or --size {min(info.width, info.height) // 2}")


def convert_video(input_path: str | Path, output_path: str | Path, stylizer: Stylizer,
                  target: Target | Callable[[int, np.ndarray], Target], batch: int = 1,
                  size: int | None = None, overwrite: bool = False,
                  on_progress: ProgressFn | None = None, crf: int | None = None,
                  preset: str | None = None, workers: int | None = None,
                  steady: float = 0.0, segment: Segment | None = None,
                  codec: str = "h264", fade_in: float = 0.0, fade_out: float = 0.0,
                  deinterlace: str = "auto", hdr: str = "sdr",
                  frame_rate: Fraction | None = None,
                  style_schedule: StyleSchedule | None = None, audio_pulse: float = 0.0,
                  on_frame: Callable[[int, np.ndarray], None] | None = None,
                  resumable: Resumable | None = None) -> ConvertReport:
    """Stylize every frame of a video file into a new file.

    The output is written to a hidden temporary file and renamed at the end;
    on any error or Ctrl-C it is removed, so no corrupt file ever carries the
    final name. An `output_path` of `-` (outputs.STANDARD_OUTPUT) writes Matroska to the
    standard output instead, for a pipe into another program (nothing to resume).
    `target` is a Target for every frame, or a function
    `(first frame index, frames) -> Target` called per batch, in order
    (colour preservation, mask videos: see controls.target_source). `codec` is one
    of vidstyle.sinks.CODECS; `crf` and `preset` are libx264's (libx265's) quality and
    speed settings (None: 18 and veryfast; ProRes takes neither).
    `workers` batches run at once (vidstyle.parallel.FrameWorkers; default:
    stylizer.default_workers). `steady` > 0 carries each output along the
    video's motion into the next (vidstyle.temporal.FlowBlend, in frame order).
    `segment` converts only that part of the input (its audio too); the output starts at 0.
    `fade_in` / `fade_out` seconds bring the style in from the input picture at the start
    and take it out at the end (vidstyle.fades.Fades; of the segment, with one).
    `deinterlace` ("auto": the frames flagged interlaced, "on": all, "off") rebuilds
    interlaced frames before they are stylized (vidstyle.deinterlace).
    `hdr` ("sdr": tone-mapped to SDR BT.709, vidstyle.tone_map; "keep": stylized and
    tagged in its HDR coding) says what becomes of HDR (PQ, HLG) input.
    `input_path` may be an image sequence (`frames/shot_%04d.png`, vidstyle.sequences)
    read at `frame_rate` (default 25), and `output_path` one too
    (vidstyle.sequence_sink: PNG, JPEG, TIFF, WebP or BMP files; no audio; `codec`,
    `crf` and `preset` unused). A `.gif` output is an animated GIF (vidstyle.gif_sink;
    no audio, `codec`, `crf` and `preset` unused).
    `style_schedule` (vidstyle.style_schedule) switches styles at times of the input (its
    own times, also with a `segment`): each frame's statistics come from it.
    `audio_pulse` (0..1) scales each frame's alpha by the soundtrack's loudness at its
    time (vidstyle.audio_pulse; the input must have audio).
    `on_frame(index, image)` sees each output frame as it is written, in order, on the
    calling thread (a preview window).
    `resumable` (vidstyle.resume.plan_resume; not for GIFs): a Ctrl-C or SIGTERM
    after its `keep_after_s` keeps the part written, finished, as the output's stopped part
    (the exception's `kept_part` names it); with its `previous` part, only the rest of the
    input (of `segment`) is converted, and the output is that part joined to this one.
    """
    target_for = target if callable(target) else (lambda index, frames: target)
    # A mask video matched by time (controls.MaskVideo) needs the input's frame times.
    follow_input_time = getattr(target_for, "follow_input_time", None)
    input_path, output_path = Path(input_path), Path(output_path)
    to_stdout = output_path == STANDARD_OUTPUT  # a pipe: no temporary file, nothing to resume
    if not to_stdout:
        check_output(input_path, output_path, overwrite)
        refuse_inputs_as_outputs([(input_path, output_path)])  # (an image sequence's frames too)
    if batch < 1:
        raise VidstyleError("--batch must be at least 1")
    workers = resolve_workers(workers, stylizer)
    tune_convolutions(stylizer.device)  # one frame size for the whole file
    blend = FlowBlend(steady) if steady else None  # raises on a strength outside 0..1
    pulse = AudioPulse.of_file(audio_pulse, input_path) if audio_pulse else None
    report = ConvertReport(input_path, output_path, workers=workers)
    start = time.perf_counter()
    to_sequence = is_sequence(output_path)  # frames as numbered images (they move into place themselves)
    if is_gif(output_path) or to_stdout:
        resumable = None
    previous = resumable.previous if resumable else None
    asked = segment  # (the part of the input asked for; a resumed run converts its rest)
    if previous is not None:
        report.resumed = previous
        segment = rest_of(segment, previous)
        if segment is None or not _has_frames(input_path, segment, frame_rate):
            _finish_stopped(previous, input_path, output_path, overwrite, asked, frame_rate, report)
            return report
    with VideoFileSource(input_path, segment=segment, deinterlace=deinterlace, hdr=hdr,
                         frame_rate=frame_rate) as source, \
            (nullcontext(output_path) if to_sequence else standard_output() if to_stdout
             else atomic_output(output_path, overwrite)) as tmp:
        info = source.info
        expected = source.expected_frames
        # The fade-out needs where the video really ends, not a duration that counts audio.
        total = source.video_seconds() if fade_out else None
        fade_origin = None
        if previous is not None:  # fades on the whole output's time, from the first part's start
            fade_origin = (source.input_origin() or 0.0) + previous.start
            total = total and total + segment.start - previous.start
        fades = Fades(fade_in, fade_out, info.rate, total, fade_origin)
        frames_in = source
        if fades:
            target_for = fades.targets(target_for)
            frames_in = fades.timed(source)
        if style_schedule is not None or pulse is not None or follow_input_time is not None:
            # controls that follow the input's time
            clock = FrameClock(info.rate, origin=source.input_origin())
            frames_in = clock.timed(frames_in)
            input_seconds = clock.seconds
            if follow_input_time is not None:
                follow_input_time(input_seconds, clock.frame_s)

            if style_schedule is not None:
                target_for = style_schedule.targets(target_for, input_seconds, per_frame=stylizer.compiled)
            if pulse is not None:
                target_for = pulse.targets(target_for, lambda i: input_seconds(i) + clock.frame_s / 2)
            target_for = _forgetting_times(target_for, clock)
        width, height = output_size(info.width, info.height, size)
        report.width, report.height = width, height
        if width * height > UPSCALE_WARNING * info.width * info.height:
            log.warning("%s: scaling its %dx%d frames up to %dx%d: slow and memory-hungry, and no more "
                        "detail than the input's", input_path.name, info.width, info.height, width, height)
        report.hdr = info.colors.hdr
        if to_sequence:  # numbered like the input sequence's frames, where it is one (and not cut)
            start_number = source.sequence.first if source.sequence and not asked else 1
            sink = ImageSequenceSink(output_path, start_number=start_number, overwrite=overwrite,
                                     adopt=(previous.video, previous.frames) if previous else None)
        elif is_gif(output_path):
            sink = GifSink(tmp, width, height, info.rate, info.time_base)
        else:
            sink = VideoFileSink(tmp, width, height, info.rate, info.time_base,
                                 audio_templates=source.audio_streams,
                                 subtitle_templates=source.subtitle_streams, crf=crf, preset=preset,
                                 colors=source.frame_colors, codec=codec, pixel_aspect=info.pixel_aspect,
                                 container_format=STANDARD_OUTPUT_FORMAT if to_stdout else None,
                                 frame_grid=source.steady_rate(), tags=source.tags,
                                 # (joined after a stopped part, the output takes the part's)
                                 timecode=_output_timecode(source) if previous is None else None)
            report.width, report.height = sink.width, sink.height  # (VP9 widens non-square pixels)
        source.on_audio_packet = sink.add_audio_packet
        source.on_subtitle_packet = getattr(sink, "add_subtitle_packet", None)  # (a GIF holds none)
        first = last = None  # the first and last frames with a timestamp, for decoded_seconds
        # A stopped part and this run's, joined (none where there is no part: nothing of that name touched).
        joined = None if previous is None else tmp.with_name(tmp.name + ".joined" + tmp.suffix)
        untimed = False  # a frame without a timestamp was written (then a stop cannot be resumed)
        try:
            def stylize(job):
                return _stylize_batch(job, stylizer, size, info, batch)

            with FrameWorkers(workers, tune_threads=tunes_threads(stylizer)) as pool:
                jobs = _jobs(frames_in, batch, target_for, info, report)
                for frames, out, seconds in pool.map(stylize, jobs):
                    report.model_times.append(seconds)
                    for i, (frame, image) in enumerate(zip(frames, out), start=report.frames):
                        resized = frame.image.shape[:2] != (info.height, info.width)  # changed size midway
                        if blend is not None:  # (its motion measured on the picture as the model saw it)
                            t0 = time.perf_counter()
                            image = blend(_fit(frame.image, image.shape) if resized else frame.image, image)
                            report.steady_times.append(time.perf_counter() - t0)
                        if fades:  # the input frame at the output's size (--size), if needed
                            image = fades.mix(i, partial(_fit, frame.image, image.shape), image)
                        if resized:  # last: the model, --steady's warp and fades all touch the bars
                            image = _black_bars(image, frame.image.shape)
                        if to_sequence and i == 0:  # images keep an odd size that video would lose
                            report.height, report.width = image.shape[:2]
                        # A stop keeps the frames up to `last`: one that comes between the write
                        # and `last` would count a frame in the part that the next run makes again.
                        with signals_deferred():
                            sink.write(image, frame.pts)
                            if frame.pts is not None:
                                first, last = first or frame, frame
                            else:
                                untimed = True
                        if on_frame is not None:
                            on_frame(i, image)
                        report.latencies.append(time.perf_counter() - frame.grabbed_at)
                    report.frames += len(frames)
                    if on_progress:
                        on_progress(report.frames, expected, report.frames / (time.perf_counter() - start))
            if report.frames == 0:
                where = " in that part" if source.segment else ""
                raise VidstyleError(f"{input_path} has no frames{where}")
            sink.close()
            if previous is not None and not to_sequence:  # the stopped run's part, then this one
                gap = _input_seconds(first, source) - previous.last_input_s  # (as in the input)
                join_parts(previous.video, tmp, joined, getattr(sink, "steady_gap", float)(gap))
        except KeyboardInterrupt as stop:
            if joined is not None:
                joined.unlink(missing_ok=True)
            if getattr(sink, "moved", False):  # the frames were all in place when it came
                for part in (previous, resumable and resumable.stale):
                    if part is not None:
                        part.remove()
                raise
            early = (resumable is not None and previous is None and not untimed
                     and time.perf_counter() - start < resumable.keep_after_s)
            if resumable is None or untimed or last is None or early:
                sink.abort()
                if early:  # (the command line says so: nothing to go on from)
                    stop.too_early_to_keep = resumable.keep_after_s
                raise
            # (A second Ctrl-C meanwhile gives up this run's part.)
            if to_sequence:
                try:
                    kept = sink.finish_for_keeping()
                except BaseException:  # (a second Ctrl-C: a stopped part taken on goes back)
                    sink.abort()
                    raise
            else:
                try:
                    sink.close()
                except BaseException:  # (a second Ctrl-C: the encoder thread is stopped, the part given up)
                    sink.abort()
                    raise
                kept = tmp
            last_s = _input_seconds(last, source)
            sound_end = getattr(sink, "audio_end", None)
            sound_end = None if sound_end is None else sound_end - (source.input_origin() or 0.0)
            resume_at, audio_from = next_part_times(last_s, sound_end, getattr(sink, "audio_unit", None))
            stop.kept_part = keep_stopped(kept, output_path, resumable, sink.frames_written, segment.start
                                          if segment else 0.0, _input_seconds(first, source), last_s,
                                          resume_at, audio_from, holds_previous=to_sequence,
                                          join_gap=getattr(sink, "steady_gap", float))
            raise
        except BaseException:
            if joined is not None:
                joined.unlink(missing_ok=True)
            sink.abort()
            raise
        if previous is not None and not to_sequence:
            try:
                joined.replace(tmp)
            finally:
                joined.unlink(missing_ok=True)
        if sink.audio_tracks:
            report.audio = audio_summary(sink.audio_tracks)
        elif source.audio_streams and getattr(sink, "leaves_out_audio", None):
            report.audio = f"left out ({sink.leaves_out_audio})"
        subtitles = getattr(sink, "subtitle_tracks", [])  # (a GIF or image sequence holds none)
        report.subtitle_tracks, report.subtitles = len(subtitles), subtitle_summary(subtitles)
        if source.see_through:
            log.warning("%s has transparency, which the output does not keep: what is stored under "
                        "it (often black) was stylized as it is", input_path.name)
        report.decode_times = source.decode_times
        # A segment's frame count is an estimate: only its duration is checked.
        report.listed_frames = 0 if source.segment else info.frames
        report.cut_frame_seconds = float(1 / info.rate) if source.segment else 0.0
        report.damaged_packets = source.damaged_packets
        report.deinterlaced_frames = source.deinterlaced_frames
        report.clock_restarts = source.clock_restarts
        report.tone_mapped_from_nits = source.peak_nits
        report.listed_seconds = source.expected_seconds
        if style_schedule is not None and last is not None and (asked is None or asked.end is None):
            last_s = _input_seconds(last, source)
            late = style_schedule.cues_after(last_s)
            if late:
                log.warning("%s's last frame is at %.2f s, before the style cue%s at %s: never reached",
                            input_path.name, last_s, "s" * (len(late) > 1),
                            ", ".join(f"{t:g} s" for t in late))
        if first is not None:
            report.decoded_seconds = float(last.pts * last.time_base - first.pts * first.time_base
                                           + 1 / info.rate)
        report.encode_times = sink.encode_times
    report.wall_seconds = time.perf_counter() - start
    for part in (previous, resumable and resumable.stale):
        if part is not None:  # joined into the output, or made with other settings
            part.remove()
    if on_progress:
        on_progress(report.frames, expected, report.fps)
    return report


def _output_timecode(source: VideoFileSource) -> str | None:
    """The input's start timecode, moved on to where the output starts (a cut); None where
    it has none, or where it cannot be moved on (with a note in the log)."""
    if source.timecode is None:
        return None
    start = source.segment.start if source.segment else 0.0
    timecode = timecode_later(source.timecode, start, source.info.rate)
    if timecode is None:
        log.warning("%s: its timecode (%s) is left out: it cannot be moved on to %.2f s at %s FPS",
                    source.path.name, source.timecode, start, f"{float(source.info.rate):.3f}")
    return timecode


def _input_seconds(frame: Frame, source: VideoFileSource) -> float:
    """A frame's time in the input, as --start counts it."""
    return source.input_seconds(frame.pts, frame.time_base)


def _has_frames(path: Path, segment: Segment, frame_rate: Fraction | None) -> bool:
    """Whether this part of the input has a frame."""
    try:
        with VideoFileSource(path, segment=segment, frame_rate=frame_rate) as source:
            return next(iter(source), None) is not None
    except StartPastEnd:
        return False


def _finish_stopped(previous: StoppedPart, input_path: Path, output_path: Path, overwrite: bool,
                    asked: Segment | None, frame_rate: Fraction | None, report: ConvertReport) -> None:
    """Make a stopped part that holds the whole conversion the output (it was stopped while
    finishing)."""
    import av

    if is_sequence(output_path):
        with VideoFileSource(input_path, segment=asked, frame_rate=frame_rate) as source:
            first = source.sequence.first if source.sequence and not asked else 1
            has_audio = bool(source.audio_streams)
        sink = ImageSequenceSink(output_path, start_number=first, overwrite=overwrite,
                                 adopt=(previous.video, previous.frames))
        sink.close()
        if has_audio:
            report.audio = f"left out ({sink.leaves_out_audio})"
        image = cv2.imread(str(output_path.parent / (output_path.name % first)))
        report.height, report.width = image.shape[:2]
    else:
        with av.open(str(previous.video)) as container:
            video = container.streams.video[0]
            report.width, report.height = video.width, video.height
            tracks = len(container.streams.audio)
            report.audio = "none" if not tracks else "copied" if tracks == 1 else f"copied ({tracks} tracks)"
            report.subtitle_tracks = subtitles = len(container.streams.subtitles)
            report.subtitles = f"{subtitles} subtitle track{'s' * (subtitles > 1)} kept" if subtitles else ""
        move_into_place(previous.video, output_path, overwrite, remove_on_failure=False)
    previous.remove()


def _forgetting_times(target_for, clock: FrameClock):
    """`target_for`, after which the batch's frame times are dropped (asked once per batch)."""
    def then_forget(index: int, frames: np.ndarray) -> Target:
        target = target_for(index, frames)
        for i in range(index, index + len(frames)):
            clock.forget(i)
        return target

    return then_forget


def _jobs(source: Iterable[Frame], batch: int, target_for, info: VideoInfo, report: ConvertReport):
    """(frames, stacked RGB, target) per batch, in order: target_for may keep state between calls.
    Frames of another size than the stream's first (its size changed midway) are counted in
    `report`; _fit scales them to the first size, letterboxed where their shape differs."""
    expected = (info.height, info.width, 3)
    pending: list[Frame] = []
    index = 0
    for frame in source:
        if frame.image.shape != expected:
            if report.first_resized is None:
                h, w = frame.image.shape[:2]
                report.first_resized = (index + len(pending), (w, h), (info.width, info.height))
            report.resized_frames += 1
        pending.append(frame)
        if len(pending) == batch:
            yield _job(pending, expected, index, target_for)
            index += len(pending)
            pending = []
    if pending:
        yield _job(pending, expected, index, target_for)


def _job(frames: list[Frame], expected: tuple, index: int, target_for):
    stacked = np.stack([_fit(f.image, expected) for f in frames])
    return frames, stacked, target_for(index, stacked)


def _stylize_batch(job, stylizer: Stylizer, size, info: VideoInfo, batch: int):
    """Runs in a model worker: (frames, stylized uint8, seconds the model took)."""
    frames, stacked, target = job
    n = len(stacked)
    if stylizer.compiled and n < batch:  # the last, short batch: the same shape compiles nothing new
        stacked, target = _pad_batch(stacked, target, batch)
    t0 = time.perf_counter()
    try:
        out = stylizer.stylize_frames(stacked, target, size)[:n]
    except torch.cuda.OutOfMemoryError as exc:
        raise _oom_hint(batch, info) from exc
    return frames, out, time.perf_counter() - t0


def _pad_batch(stacked: np.ndarray, target: Target, batch: int) -> tuple[np.ndarray, Target]:
    """`stacked` filled up to `batch` frames with copies of its last (and so its per-frame masks)."""
    extra = batch - len(stacked)
    stacked = np.concatenate([stacked, np.repeat(stacked[-1:], extra, axis=0)])
    mask = target.mask
    if mask is not None and mask.shape[0] > 1:
        mask = torch.cat([mask, mask[-1:].expand(extra, *mask.shape[1:])])
        target = replace(target, mask=mask)
    if isinstance(target.alpha, tuple):  # one per frame (a fade)
        target = replace(target, alpha=target.alpha + target.alpha[-1:] * extra)
    if target.stats.mean.dim() > 1:  # one style per frame (a style cue's cross-fade)
        per_frame = target.stats.unstack()
        target = replace(target, stats=StyleStats.stack(per_frame + per_frame[-1:] * extra))
    return stacked, target


# Shapes whose width/height ratios differ by less than this are stretched to each other
# (an even-rounded --size); beyond it a frame is letterboxed.
_SAME_SHAPE = 0.01


def letterbox(size: tuple, into: tuple) -> tuple[int, int, int, int]:
    """Where a (height, width) picture goes in an (height, width) frame without being
    stretched: (top, bottom, left, right), centred; the whole frame where the two shapes
    are about the same."""
    (ih, iw), (h, w) = size[:2], into[:2]
    if abs((iw / ih) / (w / h) - 1) < _SAME_SHAPE:
        return 0, h, 0, w
    scale = min(h / ih, w / iw)
    nh, nw = max(1, round(ih * scale)), max(1, round(iw * scale))
    top, left = (h - nh) // 2, (w - nw) // 2
    return top, top + nh, left, left + nw


def _fit(image: np.ndarray, shape: tuple) -> np.ndarray:
    """`image` at `shape`'s height and width (a frame whose size changed mid-stream, an input
    frame at the output's --size): resized, or where its shape differs, letterboxed (scaled
    to fit, centred on black) so that nothing is stretched; as it is when they match."""
    if image.shape[:2] == tuple(shape[:2]):
        return image
    import cv2

    top, bottom, left, right = letterbox(image.shape, shape)
    resized = cv2.resize(image, (right - left, bottom - top), interpolation=cv2.INTER_AREA)
    if resized.shape[:2] == tuple(shape[:2]):
        return resized
    out = np.zeros((shape[0], shape[1], 3), np.uint8)
    out[top:bottom, left:right] = resized
    return out


def _black_bars(stylized: np.ndarray, size: tuple) -> np.ndarray:
    """A stylized letterboxed frame with its bars black again (the model paints them)."""
    top, bottom, left, right = letterbox(size, stylized.shape)
    if (top, left) == (0, 0) and (bottom, right) == stylized.shape[:2]:
        return stylized
    out = np.zeros_like(stylized)
    out[top:bottom, left:right] = stylized[top:bottom, left:right]
    return out
