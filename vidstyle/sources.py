"""Frame sources: video files (PyAV, decode thread) and webcams (OpenCV, newest frame only).

Both run their IO in a background thread. A file source feeds a bounded queue
and never drops a frame; a camera source keeps one slot holding the newest
frame, so a slow model never builds up lag.
"""
from __future__ import annotations

import math
import queue
import struct
import sys
import threading
import time
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from .animated_webp import readable_video
from .deinterlace import Deinterlacer
from .errors import VidstyleError
from .metadata import file_tags, input_timecode
from .retime import Retimer, restarts_clock
from .sequences import DEFAULT_FRAME_RATE, ImageSequence, check_frame_rate, is_sequence
from .side_data import frame_side_data
from .subtitle_tracks import is_gap_sample
from .tone_map import HDR_MODES, ToneMapper, max_content_light
from .video_colors import SDR_BT709, VideoColors

_END = object()
# Damaged packets tolerated before the first good frame: more means the stream
# is unreadable (not a few bad packets in a good file), and decoding fails.
_MAX_DAMAGED_BEFORE_A_FRAME = 25


@dataclass
class Frame:
    image: np.ndarray  # (H, W, 3) uint8 RGB
    pts: int | None  # in time_base units; None when the container gave none
    time_base: Fraction | None
    grabbed_at: float = 0.0  # perf_counter() when the frame was read (for latency)


@dataclass(frozen=True)
class Segment:
    """A part of a video by time: from `start` seconds, for `duration` seconds (None: to the end);
    its sound from `audio_start` where that is not `start` (vidstyle.resume). Text subtitle
    lines already on screen at the start are kept from there, shortened (`lines_on_screen`;
    not for a stopped part's rest, whose part before holds them)."""
    start: float = 0.0
    duration: float | None = None
    audio_start: float | None = None
    lines_on_screen: bool = True

    def __post_init__(self):
        if not 0 <= self.start < math.inf:  # (NaN too)
            raise VidstyleError(f"the start must be 0 or later, got {self.start:g} s")
        if self.duration is not None and not 0 < self.duration < math.inf:
            raise VidstyleError(f"the duration must be more than 0 s and finite, got {self.duration:g} s")

    @property
    def end(self) -> float | None:
        return None if self.duration is None else self.start + self.duration

    def length_in(self, total: float | None) -> float | None:
        """Seconds of this segment inside a video of `total` seconds (None when unknown)."""
        if total is None:
            return self.duration
        return max(0.0, min(total, self.end if self.end is not None else total) - self.start)


class StartPastEnd(VidstyleError):
    """A segment that starts at or after the end of the video."""


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    rate: Fraction  # average frame rate
    time_base: Fraction
    frames: int  # container's count; 0 when unknown
    duration: float | None  # seconds
    has_audio: bool
    codec: str
    colors: VideoColors  # YUV matrix, range and colour tags
    pixel_aspect: Fraction = Fraction(1)  # a pixel's width / height (DV, anamorphic DVD: not 1)


def _open_input(path: Path, frame_rate: Fraction | None = None):
    """The container of a video file, or of an image sequence (vidstyle.sequences) read
    at `frame_rate` (default 25), and the sequence (None for a video file)."""
    import av

    sequence = ImageSequence.find(path) if is_sequence(path) else None
    if sequence is not None and frame_rate is not None:
        check_frame_rate(frame_rate)
    if sequence is None and not path.exists():
        raise VidstyleError(f"input not found: {path}")
    if path.is_dir():
        raise VidstyleError(f"input is a folder, not a video: {path}")
    try:
        if sequence is not None:
            container = av.open(str(path), format="image2",
                                options=sequence.demuxer_options(frame_rate or DEFAULT_FRAME_RATE))
        else:
            container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise VidstyleError(f"cannot read {path} as a video ({exc.strerror or exc})") from exc
    except PermissionError as exc:
        raise VidstyleError(f"cannot read {path}: permission denied") from exc
    fmt = container.format.name
    if not container.streams.video:
        container.close()
        raise VidstyleError(f"{path} has no video stream")
    if sequence is None and (fmt == "image2" or fmt.endswith("_pipe")):  # stills read as 1-frame videos
        container.close()
        raise VidstyleError(f"{path} is an image, not a video (use 'vidstyle image', or name an image "
                            "sequence like frames/frame_%04d.png)")
    return container, sequence


def _see_through(frame) -> bool:
    """Whether a decoded frame has pixels that are not opaque (GIFs decode with an alpha
    channel whether or not they have a transparent colour, so the format alone does not tell)."""
    import av

    try:
        if not any(c.is_alpha for c in av.VideoFormat(frame.format.name).components):
            return False
    except ValueError:  # a format PyAV does not name
        return False
    return bool((frame.to_ndarray(format="rgba")[..., 3] < 255).any())


def _last_video_packet_end(path: Path, before_end_s: float = 5.0) -> float | None:
    """Seconds from the video stream's first timestamp to the end of its last packet."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            if stream.time_base is None:
                return None
            start = stream.start_time or 0
            rate = stream.average_rate or stream.guessed_rate or Fraction(25)
            one_frame = max(1, round(1 / (rate * stream.time_base)))  # for packets without a duration
            if container.duration:  # microseconds; lands on a keyframe before that point
                container.seek(max(0, container.duration - int(before_end_s * 1e6)))
            end = None  # (a file that lists no duration is demuxed from its start: slower, still right)
            for packet in container.demux(stream):
                if packet.pts is not None:
                    end = max(end or 0, packet.pts + (packet.duration or one_frame))
            return float((end - start) * stream.time_base) if end is not None else None
    except (av.error.FFmpegError, OSError, ValueError):
        return None


def start_seconds(stream) -> float | None:
    """A stream's first timestamp in seconds (an MPEG-TS file may start at 1.4 s); None
    where it gives none."""
    if stream.start_time is None or not stream.time_base:
        return None
    return float(stream.start_time * stream.time_base)


def _timeline_of_joined(path: Path) -> tuple[int, float | None]:
    """(joins, seconds of video on one timeline) of a file whose clock may restart
    (MPEG-TS/PS joined end to end), from its video packets (demuxed, not decoded): FFmpeg
    lists such a file's duration as one part's, and seeks in it by repeated timestamps."""
    import av

    retimer = Retimer()
    first = end = None
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate or Fraction(25)
            for packet in container.demux(stream):
                if not packet.size or not packet.time_base:
                    continue
                retimer.fix(packet)
                if packet.pts is not None:
                    t = packet.pts * packet.time_base
                    duration = packet.duration * packet.time_base if packet.duration else 1 / rate
                    first = t if first is None else min(first, t)
                    end = t + duration if end is None else max(end, t + duration)
    except (av.error.FFmpegError, OSError):
        pass  # a damaged file: what could be read
    return retimer.jumps, float(end - first) if end is not None else None


def _pixel_aspect(stream, quarter_turns: int) -> Fraction:
    """Shape of a pixel as shown (1 where the file does not say); turned with the picture."""
    sar = stream.sample_aspect_ratio or stream.codec_context.sample_aspect_ratio
    if not sar or sar <= 0:
        return Fraction(1)
    return 1 / Fraction(sar) if quarter_turns % 2 else Fraction(sar)


def _display_turn(path: Path, max_packets: int = 64) -> tuple[int, bool]:
    """(counter-clockwise quarter turns, then a mirror left to right) that show the video
    as players do (np.rot90's k, then [:, ::-1]).

    Phones store portrait video as landscape frames with a display matrix that players
    apply; a stylized copy written without it would play sideways, and its strokes would
    lie sideways too. Front cameras' clips can be stored mirrored the same way. FFmpeg hands
    the matrix on with each decoded frame, so the first frame is decoded once here (in a
    container of its own), and the matrix is read as ffmpeg's autorotate reads it. Angles
    that are not a multiple of 90 degrees are left alone, as most players do."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            for i, packet in enumerate(container.demux(stream)):
                for frame in packet.decode():
                    return _turn_of(frame)
                if i >= max_packets:
                    break
    except (av.error.FFmpegError, OSError, ValueError):
        pass  # the decode thread reports what is wrong with the file
    return 0, False


def _turn_of(frame) -> tuple[int, bool]:
    """_display_turn of a decoded frame's display matrix."""
    rotation = frame.rotation or 0
    if rotation % 90:
        return 0, False
    theta = round(-rotation) % 360  # (clockwise, as ffmpeg counts it)
    matrix = _display_matrix(frame)
    if matrix is None:
        return round(rotation / 90) % 4, False
    a, _, _, c, d = matrix[:5]
    # ffmpeg's choices for each angle (fftools: transpose, hflip, vflip) as a turn and a mirror
    if theta == 90:
        return 3, c > 0  # clock, or cclock_flip (the picture transposed)
    if theta == 270:
        return 1, c < 0  # cclock, or clock_flip
    if theta == 180:
        return (2, False) if a < 0 and d < 0 else (0, True) if a < 0 else (2, True) if d < 0 else (0, False)
    return (2, True) if d < 0 else (0, False)  # 0: upside down stored as a flip


def _display_matrix(frame) -> tuple[int, ...] | None:
    """The 3x3 display matrix a decoded frame carries (16.16 fixed point, row by row), if any."""
    data = frame_side_data(frame, "DISPLAYMATRIX")
    return None if data is None or len(data) < 36 else struct.unpack("=9i", data[:36])


class VideoFileSource:
    """Decodes a video file in a background thread into a bounded queue.

    Iterating yields every frame, in order, as RGB uint8 with its timestamp.
    Packets the decoder refuses as damaged are skipped and counted
    (`damaged_packets`), as ffmpeg does; a stream where nothing decodes fails.
    The packets of its audio streams (`audio_streams`, every track) are handed to
    `on_audio_packet` in demux order, so a sink can copy them without re-encoding; those of
    its subtitle streams (`subtitle_streams`) to `on_subtitle_packet` alike.

    With a `segment`, only the frames and audio packets that start inside it are
    yielded, their timestamps moved back by the segment's start (the output of a
    trimmed clip starts at 0); decoding seeks to the keyframe before the start.

    `deinterlace` ("auto", "on", "off": vidstyle.deinterlace.Deinterlacer) rebuilds
    interlaced frames before they are yielded; `deinterlaced_frames` counts them.

    `hdr` says what becomes of HDR (PQ, HLG) video: "sdr" tone-maps its frames to
    SDR BT.709 (vidstyle.tone_map), "keep" yields them in their HDR coding.
    `frame_colors` are the colours of the frames yielded, for the output's tags.

    `path` may name an image sequence (`frames/shot_%04d.png`, vidstyle.sequences),
    read at `frame_rate` (default 25; video files keep their own rate).
    """

    def __init__(self, path: str | Path, queue_size: int = 16, segment: Segment | None = None,
                 deinterlace: str = "auto", hdr: str = "sdr", frame_rate: Fraction | None = None):
        self.path = Path(path)
        Deinterlacer(None, deinterlace)  # a bad mode fails here, before any thread starts
        if hdr not in HDR_MODES:
            raise VidstyleError(f"hdr must be one of {', '.join(HDR_MODES)}, not {hdr!r}")
        self.deinterlace = deinterlace
        self.deinterlaced_frames = 0
        self.segment = segment if segment is not None and segment != Segment() else None
        # What FFmpeg reads: the file itself, or an animated WebP's frames (vidstyle.animated_webp).
        self._file, self._release_file = readable_video(self.path)
        try:
            self._container, self.sequence = _open_input(self._file, frame_rate)
        except BaseException:
            self._release_file()
            raise
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.decode_times: list[float] = []  # seconds per frame, for the stage statistics
        self.damaged_packets = 0  # video packets the decoder refused, skipped
        # Whether the first frame has see-through pixels (ProRes 4444, PNG or QuickTime
        # Animation in MOV, a GIF's transparent colour), which the RGB frames leave out.
        self.see_through = False
        # MPEG-TS/PS files joined end to end restart their clock at each join: one timeline
        # (vidstyle.retime); `clock_restarts` counts the joins.
        self._retimer = Retimer() if self.sequence is None and restarts_clock(self._container) else None
        self.on_audio_packet: Callable[[Any], None] | None = None
        self.video_stream = self._container.streams.video[0]
        self.video_stream.thread_type = "AUTO"
        self.audio_streams = list(self._container.streams.audio)
        self.subtitle_streams = list(self._container.streams.subtitles)
        self.on_subtitle_packet: Callable[[Any], None] | None = None
        self._lines_at_start: list = []  # text lines on screen at a segment's start, not yet handed on
        vs = self.video_stream
        cc = vs.codec_context
        rate = vs.average_rate or vs.guessed_rate or vs.base_rate or Fraction(25)
        duration = float(vs.duration * vs.time_base) if vs.duration and vs.time_base else (
            self._container.duration / 1e6 if self._container.duration else None)
        if duration and not vs.duration and "matroska" in self._container.format.name:
            # (Matroska lists where its timeline ends, from 0: a file whose clock starts late
            # counts that start too)
            duration = max(0.0, duration - max(0.0, start_seconds(vs) or 0.0))
        if not cc.width or not cc.height:
            self.close()
            raise VidstyleError(f"{self.path}: the video stream has no frame size")
        # How players show the frames: turned, and (a front camera's) mirrored.
        self.quarter_turns, self.mirrored = (0, False) if self.sequence else _display_turn(self._file)
        width, height = (cc.height, cc.width) if self.quarter_turns % 2 else (cc.width, cc.height)
        frames = self.sequence.count if self.sequence else int(vs.frames or 0)
        if frames and duration and "mov" in self._container.format.name:
            # A trimmed MP4/MOV (an edit list: `ffmpeg -ss ... -c copy`, a phone's trim) lists
            # the samples before its start too; its duration counts only the frames shown.
            frames = min(frames, max(1, round(duration * float(rate))))
        # What the output keeps of the file's tags: the title, dates, the start timecode.
        self.tags, self.timecode = file_tags(self._container), input_timecode(self._container)
        self.info = VideoInfo(width, height, Fraction(rate), vs.time_base or 1 / Fraction(rate),
                              frames, duration, bool(self.audio_streams), cc.name,
                              VideoColors.of_stream(cc), _pixel_aspect(vs, self.quarter_turns))
        # A joined file's parts are found before a part of it is cut: it is then decoded from
        # its beginning, on one timeline, instead of seeking by timestamps that repeat.
        self._joined: tuple[int, float | None] | None = None
        if self._retimer and self.segment:
            joins, seconds = self.joined_timeline()
            if joins and seconds:
                duration = seconds
                self.info = replace(self.info, duration=seconds)
        self.tone_maps = hdr == "sdr" and self.info.colors.hdr is not None
        self.peak_nits: float | None = None  # the HDR light tone-mapped to white (set at the first frame)
        if self.segment and duration and self.segment.start >= duration:
            self.close()
            raise StartPastEnd(f"{self.path}: the start ({self.segment.start:g} s) is not before its end "
                                f"({duration:.2f} s)")

    def joined_timeline(self) -> tuple[int, float | None]:
        """(joins, seconds of video) for a file whose clock may restart (measured once);
        (0, None) for other files."""
        if self._retimer is None:
            return 0, None
        if self._joined is None:
            self._joined = _timeline_of_joined(self.path)
        return self._joined

    def moved_back_s(self) -> float:
        """Seconds the yielded timestamps are moved back by (in whole units of each
        stream's time base), so that an output starts at 0: a segment's start, counted
        from the video's first timestamp, or for the whole file that first timestamp where
        it is after 0 (an MPEG-TS file's 1.4 s, a broadcast recording's clock), as FFmpeg
        does; the sound is moved back as much, so it stays in step."""
        origin = start_seconds(self.video_stream) or 0.0
        return origin + self.segment.start if self.segment else max(0.0, origin)

    def input_seconds(self, pts: int, time_base: Fraction) -> float:
        """A yielded frame's time in the input as --start counts it, exactly: frames come
        moved back by a whole number of time-base units (moved_back_s), and that number is
        added back, not the seconds asked for (they differ by up to half a unit, which for
        a one-frame unit, as image sequences and AVI have, is half a frame)."""
        origin = start_seconds(self.video_stream) or 0.0
        return float((pts + round(self.moved_back_s() / time_base)) * time_base) - origin

    def input_origin(self) -> float | None:
        """The timestamp (seconds) of the yielded frames that is 0 s of the input as players
        count it (from the video's first timestamp): about 0 for the whole file, about minus
        its start for a segment, as the frames come moved back (exactly: by the whole
        time-base units input_seconds adds back); None where the stream gives no start."""
        origin = start_seconds(self.video_stream)
        if origin is None and not self.segment:
            return None
        origin = origin or 0.0
        time_base = self.video_stream.time_base
        if not time_base:
            return -self.segment.start if self.segment else origin
        return origin - float(round(self.moved_back_s() / time_base) * time_base)

    @property
    def clock_restarts(self) -> int:
        """How many times the file's timestamps started again (parts joined end to end)."""
        return self._retimer.jumps if self._retimer else 0

    @property
    def frame_colors(self) -> VideoColors:
        """The colours of the RGB frames this source yields (SDR BT.709 once tone-mapped)."""
        return SDR_BT709 if self.tone_maps else self.info.colors

    @property
    def expected_seconds(self) -> float | None:
        """The seconds this source will yield: the segment's part of the video, or all of it."""
        return self.segment.length_in(self.info.duration) if self.segment else self.info.duration

    def video_seconds(self) -> float | None:
        """Like expected_seconds, but measured on the video stream itself: where a file
        lists no video duration (Matroska, WebM), its duration can count audio that runs
        on past the last frame, so the last video packets are read (demuxed, not
        decoded; from a few seconds before the end)."""
        vs = self.video_stream
        joins, joined_seconds = self.joined_timeline()
        if joins and joined_seconds:
            seconds = joined_seconds
        elif vs.duration and vs.time_base:
            seconds = float(vs.duration * vs.time_base)
        else:
            seconds = _last_video_packet_end(self._file)
            if seconds is None:
                return self.expected_seconds
        return self.segment.length_in(seconds) if self.segment else seconds

    def steady_rate(self) -> Fraction:
        """A steady frame rate that places every frame close to its time: the stream's base
        rate (FFmpeg's guess of the finest steady one) where it is at most 4x the average,
        else the average (for outputs that count frames, as AVI does)."""
        average = self.info.rate
        for rate in (self.video_stream.base_rate, self.video_stream.guessed_rate):
            if rate and average <= rate <= 4 * average:
                return Fraction(rate)
        return average

    @property
    def expected_frames(self) -> int:
        """Frames to expect: the container's count, or for a segment an estimate from the frame
        rate (0 when unknown)."""
        if not self.segment:
            return self.info.frames
        seconds = self.expected_seconds
        return round(seconds * self.info.rate) if seconds else 0

    def start(self) -> "VideoFileSource":
        self._thread = threading.Thread(target=self._run, name="vidstyle-decode", daemon=True)
        self._thread.start()
        return self

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        import av

        try:
            if self.segment is None:
                self._decode(None)
            else:
                window = _Window(self.segment, self.video_stream)
                # Demuxers that seek by decode time or land past the keyframe asked for
                # (MPEG-TS, MPEG-PS, AVI with B-frames) put the first frame after the start:
                # then seek further back, and at last decode from the beginning.
                joined = self.joined_timeline()[0] > 0  # timestamps repeat: no seeking by them
                if self.segment.lines_on_screen and not joined and self.on_subtitle_packet:
                    self._lines_at_start = self._lines_on_screen(window)
                for margin in (None,) if joined else (*SEEK_MARGINS_S, None):
                    from_beginning = window.seek(self._container, self.video_stream, margin)
                    if self._decode(window, must_reach_start=not from_beginning):
                        break
        except av.error.FFmpegError as exc:
            self.error = VidstyleError(f"{self.path}: decoding failed ({exc.strerror or exc})")
        except BaseException as exc:  # surfaced to the consumer, never lost in the thread
            self.error = exc
        finally:
            self._put(_END)

    def _decode(self, window: "_Window | None", must_reach_start: bool = False) -> bool:
        """Demux and decode from where the container is, handing frames and audio on.

        With `must_reach_start`, returns False, having handed nothing on, when the
        first frame decoded comes after the segment's start (the seek landed too late).
        """
        import av

        streams = [self.video_stream] + self.audio_streams + self.subtitle_streams
        tb = self.video_stream.time_base
        # One converter for the whole stream: frame.to_ndarray(format=...) builds a new
        # swscale context per frame, which made the conversion 1.5-2.7x slower here.
        to_rgb = av.video.reformatter.VideoReformatter()
        colors = self.info.colors
        held_packets: list | None = [] if must_reach_start else None  # until the first frame says
        # A fresh filter per pass: after a seek that landed too late, its held frame is stale.
        deinterlacer = Deinterlacer(self.video_stream, self.deinterlace)
        to_sdr = None  # the tone mapper, made at the first frame (it reads the frame's light level)
        look_for_alpha = not self.decode_times  # (at the first frame decoded)
        moved_back = self.moved_back_s()  # (a window moves a segment's times itself)
        video_done = False  # a segment's end was reached; its audio may still be due
        sound_done: set[int] = set()  # the audio streams whose packets passed the segment's end
        past_end = 0  # frames decoded after the end (timestamps may come out of order)
        if self._retimer:
            self._retimer.reset()  # a new pass starts where the last seek landed
        if held_packets is None:
            self._hand_on_lines_at_start()
        for packet in self._container.demux(*streams):
            if self._stop.is_set():
                return True
            if self._retimer:
                self._retimer.fix(packet)
            if packet.stream.type in ("audio", "subtitle"):
                if held_packets is not None:
                    held_packets.append(packet)
                elif self._hand_on(packet, window, moved_back) is _AFTER and packet.stream.type == "audio":
                    sound_done.add(packet.stream.index)
                    if video_done and self._all_done(sound_done):
                        break
                continue
            if video_done:  # demuxed on only for the segment's sound and subtitles, stored later in the file
                if self._all_done(sound_done) or window.far_past_end(packet):
                    break
                continue
            t0 = time.perf_counter()
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                # A damaged packet (a bad sector, a cut download): skip it and decode on
                # from the next one, as ffmpeg does, unless nothing decodes at all.
                self.damaged_packets += 1
                if self.damaged_packets >= _MAX_DAMAGED_BEFORE_A_FRAME and not self.decode_times:
                    raise
                continue
            before = deinterlacer.deinterlaced
            frames = deinterlacer.feed(frames)
            if packet.size == 0:  # the flush packet at the end: the filter gives its last frame
                frames += deinterlacer.flush()
            self.deinterlaced_frames += deinterlacer.deinterlaced - before
            for frame in frames:
                pts, frame_tb = frame.pts, frame.time_base or tb
                if window:
                    if held_packets is not None:  # the first frame since the seek
                        if window.after_start(pts, frame_tb):
                            return False
                        self._hand_on_lines_at_start()
                        for held in held_packets:
                            self._hand_on(held, window, moved_back)
                        held_packets = None
                    place = window.place(pts, frame_tb)
                    if place is _BEFORE:
                        continue
                    if place is _AFTER:
                        past_end += 1
                        video_done = past_end >= _FRAMES_PAST_END
                        continue
                    pts = place
                elif pts is not None and moved_back:  # the whole file, from 0
                    pts -= round(moved_back / frame_tb)
                if look_for_alpha:
                    look_for_alpha = False
                    self.see_through = _see_through(frame)
                if self.tone_maps:  # 16 bits per channel in, for the tone curve's darks and highlights
                    if to_sdr is None:
                        to_sdr = self._tone_mapper(frame)
                    image = to_sdr(to_rgb.reformat(frame, format="rgb48le", src_colorspace=colors.sws_matrix,
                                                   src_color_range=colors.range).to_ndarray())
                else:
                    image = to_rgb.reformat(frame, format="rgb24", src_colorspace=colors.sws_matrix,
                                            src_color_range=colors.range).to_ndarray()
                if self.quarter_turns or self.mirrored:  # upright, as players show it
                    image = np.rot90(image, self.quarter_turns)
                    image = np.ascontiguousarray(image[:, ::-1] if self.mirrored else image)
                self.decode_times.append(time.perf_counter() - t0)
                if not self._put(Frame(image, pts, frame_tb, time.perf_counter())):
                    return True
                t0 = time.perf_counter()
        return held_packets is None  # no frame at all since the seek: it landed too late

    def _lines_on_screen(self, window: "_Window") -> list:
        """The text subtitle lines that start before the segment and are still on screen at
        its start, moved to start with it and shortened to end where they did (ffmpeg drops
        them: a cut during a line began without it). Bitmap subtitles (PGS, DVB, VobSub)
        keep their pictures' own timing, so they are left to start with their next one."""
        streams = [s for s in self.subtitle_streams
                   if s.codec_context is not None and s.codec_context.name in _TEXT_SUBTITLES]
        if not streams or window.start <= window.origin:  # (nothing before the start)
            return []
        window.seek(self._container, self.video_stream, _LINE_LOOKBACK_S)
        on_screen = []
        for packet in self._container.demux(self.video_stream, *streams):
            if self._stop.is_set():
                break
            if packet.pts is None or not packet.time_base:
                continue
            t = float(packet.pts * packet.time_base)
            if packet.stream.type == "video":
                if t > window.start + _AUDIO_LAG_S:  # (lines may be stored behind the picture)
                    break
                continue
            start_units = round(window.start / packet.time_base)
            end_units = packet.pts + (packet.duration or 0)
            before_and_on = t < window.start - _SLACK_S and end_units > start_units
            if before_and_on and packet.size and not is_gap_sample(packet):
                packet.pts = packet.dts = 0  # (the segment's own 0)
                packet.duration = end_units - start_units
                on_screen.append(packet)
        return on_screen

    def _hand_on_lines_at_start(self) -> None:
        lines, self._lines_at_start = self._lines_at_start, []
        for packet in lines:
            self.on_subtitle_packet(packet)

    def _all_done(self, sound_done: set) -> bool:
        """Whether a segment's end leaves nothing to wait for: every audio stream has passed it
        (`sound_done`) and there are no subtitles, whose sparse lines can come up to
        _AUDIO_LAG_S later in the file without a packet past the end to say so."""
        return len(sound_done) == len(self.audio_streams) and not self.subtitle_streams

    def _tone_mapper(self, frame) -> ToneMapper:
        """A tone mapper for this stream, up to the brightest light the first frame's
        metadata names (PQ's MaxCLL), else the transfer's default peak."""
        colors = self.info.colors
        mapper = ToneMapper(colors.transfer, colors.primaries,
                            max_content_light(frame) if colors.hdr == "PQ" else None)
        self.peak_nits = mapper.peak_nits
        return mapper

    def _hand_on(self, packet, window: "_Window | None", moved_back: float = 0.0):
        """Give an audio (or subtitle) packet to on_audio_packet (on_subtitle_packet) if it
        belongs to the segment (moved back by the window), or for the whole file `moved_back`
        seconds earlier; its place."""
        place = window.place_audio(packet) if window else None
        if window is None and packet.time_base and moved_back:  # (the whole file, from 0)
            shift = round(moved_back / packet.time_base)
            packet.pts = None if packet.pts is None else packet.pts - shift
            packet.dts = None if packet.dts is None else packet.dts - shift
        hand_on = self.on_audio_packet if packet.stream.type == "audio" else self.on_subtitle_packet
        if place is None and packet.size and hand_on:
            hand_on(packet)
        return place

    def __iter__(self) -> Iterator[Frame]:
        if self._thread is None:
            self.start()
        while True:
            item = self._queue.get()
            if item is _END:
                if self.error:
                    raise self.error
                return
            yield item

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()  # the thread checks _stop between packets
        self._container.close()
        self._release_file()

    def __enter__(self) -> "VideoFileSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_BEFORE, _AFTER = object(), object()
# Half a microsecond: a frame at the start, in the stream's rounded units, is inside.
_SLACK_S = 5e-7
# Seconds before a segment's start that a seek aims at, tried in turn (then the beginning).
SEEK_MARGINS_S = (1.0, 4.0, 16.0)
# Frames looked at past a segment's end: B-frames can come out of the decoder with
# timestamps out of order (H.264 in AVI), so the first one past the end is not the last.
_FRAMES_PAST_END = 16
# Seconds of demuxing past a segment's end for its audio, which a file may store later
# than the video of the same time.
_AUDIO_LAG_S = 3.0
# Seconds before a segment's start searched for subtitle lines still on screen at it.
_LINE_LOOKBACK_S = 10.0
# Subtitle codecs whose packets are text alone, timed by the packet: a line can be cut.
_TEXT_SUBTITLES = ("subrip", "srt", "ass", "ssa", "webvtt", "mov_text", "text")


class _Window:
    """Keeps a segment's frames and audio packets and moves their timestamps back to 0.

    Times count from the video stream's first timestamp (an MPEG-TS file may start at
    1.4 s), so --start 0 is where the video begins.
    """

    def __init__(self, segment: Segment, stream):
        self._origin = start_seconds(stream) or 0.0
        self.start = self._origin + segment.start
        self.audio_start = self.start if segment.audio_start is None else self._origin + segment.audio_start
        self.end = None if segment.end is None else self._origin + segment.end
        self._rate = stream.average_rate or stream.guessed_rate or Fraction(25)
        self._untimed = 0  # frames without a timestamp: placed by their count since decoding began
        self._sought = False  # whether the container has been sought or read since it opened

    def seek(self, container, stream, margin: float | None) -> bool:
        """Seek to `margin` seconds before the start (None: the beginning); whether this
        decodes from the beginning. Frames before the start are decoded and dropped, so
        the cut is frame-accurate whatever keyframe the seek lands on."""
        import av

        target = None if margin is None else self.start - margin
        if target is not None and target > self._origin and stream.time_base:
            try:
                container.seek(int(target / stream.time_base), stream=stream, backward=True)
                self._sought = True
                return False
            except av.error.FFmpegError:
                pass  # a file that cannot seek there: from the beginning
        if self._sought:  # nothing was read before the first attempt, so no seek is needed then
            container.seek(0, backward=True)
        self._sought = True
        self._untimed = 0
        return True

    @property
    def origin(self) -> float:
        """The video stream's first timestamp, in seconds: where --start 0 is."""
        return self._origin

    def after_start(self, pts: int | None, time_base: Fraction) -> bool:
        """Whether the first frame since a seek lies after the start. Frames without a
        timestamp are placed by counting from the beginning, so for them it is as if."""
        return pts is None or float(pts * time_base) > self.start + _SLACK_S

    def far_past_end(self, packet) -> bool:
        """Whether a video packet lies more than _AUDIO_LAG_S past the end."""
        ts = packet.pts if packet.pts is not None else packet.dts
        return ts is not None and bool(packet.time_base) and (
            float(ts * packet.time_base) > self.end + _AUDIO_LAG_S)

    def place(self, pts: int | None, time_base: Fraction):
        """_BEFORE, _AFTER, or the frame's new timestamp (None stays None)."""
        if pts is None:
            t, self._untimed = self._origin + float(self._untimed / self._rate), self._untimed + 1
        else:
            t = float(pts * time_base)
        where = self._where(t)
        if where is not None or pts is None:
            return where
        return pts - round(self.start / time_base)

    def place_audio(self, packet):
        """_BEFORE, _AFTER, or None: the packet starts inside the segment and its timestamps
        were moved back. Packets without a timestamp cannot be placed and count as _BEFORE."""
        if packet.pts is None or not packet.time_base:
            return _BEFORE
        # (a stopped part's rest takes sound from where the part's ends, but subtitle lines
        # from where its picture ends: the part holds those it demuxed ahead, and only those)
        where = self._where(float(packet.pts * packet.time_base),
                            self.audio_start if packet.stream.type == "audio" else None)
        if where is not None:
            return where
        shift = round(self.start / packet.time_base)  # the picture's, so they stay in step
        packet.pts -= shift
        if packet.dts is not None:  # (sound from before the start keeps its times below 0)
            packet.dts = max(min(0, packet.pts), packet.dts - shift)
        return None

    def _where(self, t: float, start: float | None = None):
        """_BEFORE, _AFTER or None (inside) for a time in seconds (of a segment beginning at
        `start`, default its own)."""
        if t < (self.start if start is None else start) - _SLACK_S:
            return _BEFORE
        if self.end is not None and t >= self.end - _SLACK_S:
            return _AFTER
        return None


def open_camera(index: int | str, width: int | None = None, height: int | None = None):
    """An OpenCV capture for a camera index or device file (/dev/video2), asking for MJPG
    before the size (faster on USB)."""
    import cv2

    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # keep our error the only line
    # A device file through V4L2 itself: OpenCV would otherwise also try FFmpeg, which prints.
    by_name = isinstance(index, str) and sys.platform.startswith("linux")
    cap = cv2.VideoCapture(index, cv2.CAP_V4L2) if by_name else cv2.VideoCapture(index)
    if not cap.isOpened():
        if isinstance(index, str):
            raise VidstyleError(f"no camera at {index} (check the name and permissions)")
        other = 1 if index == 0 else 0
        raise VidstyleError(f"no camera at index {index} (try --camera {other}, or check permissions)")
    cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))
    if width and height:
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
    cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
    return cap


class CameraSource:
    """Grabs frames in a background thread, keeping only the newest one.

    `capture` is anything with OpenCV's `read() -> (ok, BGR ndarray)` and
    `release()`; tests pass a fake, vidstyle.playback a video file (its `rgb` is True:
    its frames are RGB already). After `max_failures` failed reads in a row (camera
    unplugged), or a failed read once the capture says it is `finished` (a clip's
    end), the source ends, and `read()` returns None.
    """

    def __init__(self, capture, max_failures: int = 30):
        self._cap = capture
        self._rgb = getattr(capture, "rgb", False)
        self._max_failures = max_failures
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._seq = 0
        self._taken_seq = 0
        self.grabbed = 0
        self.dropped = 0  # frames overwritten before anyone read them
        self.ended = False
        self.error: Exception | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vidstyle-camera", daemon=True)

    def start(self) -> "CameraSource":
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self._grab_loop()
        except Exception as exc:  # e.g. cv2.error when the device disappears
            self.error = exc
        finally:
            with self._cond:
                self.ended = True
                self._cond.notify_all()

    def _grab_loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            ok, image = self._cap.read()
            if not ok or image is None:
                failures += 1
                if failures >= self._max_failures or getattr(self._cap, "finished", False):
                    break
                time.sleep(0.01)
                continue
            failures = 0
            rgb = image if self._rgb else np.ascontiguousarray(image[..., ::-1])
            frame = Frame(rgb, None, None, time.perf_counter())
            with self._cond:
                if self._latest is not None and self._seq != self._taken_seq:
                    self.dropped += 1
                self._latest = frame
                self._seq += 1
                self.grabbed += 1
                self._cond.notify_all()

    @property
    def keeps_trying(self) -> bool:
        """Whether a silent capture is to be waited for: it says itself when it has ended
        (a network stream times out on its own, after its own timeout) or is coming back
        (a stream reconnecting; vidstyle.stream_capture), so a read that times out here
        is not the end."""
        return getattr(self._cap, "times_out_itself", False) and not self.ended

    @property
    def status(self) -> str | None:
        """What the capture says of itself while it is away (e.g. "stream lost: reconnecting")."""
        return getattr(self._cap, "status", None)

    def read(self, timeout: float = 5.0, keep: bool = False) -> Frame | None:
        """The newest frame not returned before; waits for one. None when the camera ended,
        or after `timeout` seconds without a frame. `keep`: a look only, the next read
        returns it again (a first frame that sizes the outputs is shown too)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._seq == self._taken_seq:
                if self.ended:
                    return None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
            if not keep:
                self._taken_seq = self._seq
            return self._latest

    def close(self) -> None:
        self._stop.set()
        stop_waiting = getattr(self._cap, "stop_waiting", None)  # (a clip held until play())
        if stop_waiting is not None:
            stop_waiting()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        self._cap.release()

    def __enter__(self) -> "CameraSource":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
