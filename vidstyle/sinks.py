"""Frame sinks: a video file (PyAV encode thread, audio copied through) and a preview window."""
from __future__ import annotations

import collections
import logging
import math
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .subtitle_tracks import SubtitleTrack
from .tracks import AudioTrack
from .errors import VidstyleError
from .metadata import keep_tags
from .video_colors import VideoColors
from .writer_thread import END, ContainerWriter

log = logging.getLogger(__name__)
# libx264's presets (libx265 has the same), fastest first: slower ones make smaller files
# at the same quality.
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower",
                "veryslow")
DEFAULT_CRF, DEFAULT_PRESET = 18, "veryfast"
# How far a millisecond-timed frame may lie from the steady grid and still be put on it:
# its own rounding and the first frame's (the grid's start), half a millisecond each.
_MS_ROUNDING = Fraction(1, 1000)
_MS_TIMED = ("matroska", "webm", "flv")  # muxers that time everything in milliseconds
# The rates cameras and editors use: a guessed rate this close to one is taken for it
# (FFmpeg guesses 59.94 FPS from millisecond times as 19001/317).
_STANDARD_RATES = [Fraction(n, 1001) for n in (24000, 30000, 48000, 60000, 120000)] + \
    [Fraction(n) for n in (24, 25, 30, 48, 50, 60, 100, 120)]


def _standard_rate(rate: Fraction) -> Fraction:
    """`rate`, or the standard rate within a millionth of it."""
    return next((standard for standard in _STANDARD_RATES if abs(rate / standard - 1) < 1e-6), rate)


VP9_DEFAULT_CRF = 31  # libx264 crf 18's file size and PSNR on stylized frames (benchmarks/vp9_crf.py)


@dataclass(frozen=True)
class VideoCodec:
    """An output video codec: the FFmpeg encoder, its pixel format, and whether the
    quality (crf) and speed (preset) settings apply."""
    name: str
    encoder: str
    pix_fmt: str
    label: str  # for messages
    suffixes: str  # the containers to suggest when one cannot hold it
    crf_and_preset: bool = True
    # The only file types taken (lower case), or None: whatever FFmpeg's muxer accepts.
    # Some muxers accept a codec and then fail at the first packet (H.265 in .mxf) or
    # write files nothing decodes (ProRes in .mpg), so the rarer codecs get a list.
    only_in: tuple[str, ...] | None = None
    crf_range: tuple[int, int] = (0, 51)
    default_crf: int = DEFAULT_CRF
    default_suffix: str = ".mp4"  # of an output named by its folder


CODECS = {
    "h264": VideoCodec("h264", "libx264", "yuv420p", "H.264", ".mp4, .mkv or .mov"),
    # Smaller files at the same crf, slower to encode; tagged hvc1 in MP4/MOV for Apple players.
    "h265": VideoCodec("h265", "libx265", "yuv420p", "H.265", ".mp4, .mkv or .mov",
                       only_in=(".mp4", ".mkv", ".mov")),
    # ProRes 422 HQ, 10-bit 4:2:2: large files that editing software cuts and grades well.
    "prores": VideoCodec("prores", "prores_ks", "yuv422p10le", "ProRes", ".mov or .mkv", False,
                         only_in=(".mov", ".mkv"), default_suffix=".mov"),
    # VP9 in WebM, for the web; libvpx's crf scale is 0-63. Audio goes in as Opus.
    "vp9": VideoCodec("vp9", "libvpx-vp9", "yuv420p", "VP9", ".webm or .mkv", only_in=(".webm", ".mkv"),
                      crf_range=(0, 63), default_crf=VP9_DEFAULT_CRF, default_suffix=".webm"),
}
# The presets' speeds for libvpx-vp9 (its deadline and cpu-used), fastest first like x264's.
# veryfast (realtime, 6) with crf 31 encoded stylized 384x216 frames at about libx264
# veryfast's size and PSNR, 1.6x slower (benchmarks/vp9_crf.py); ("good", 5) was 6x slower still.
VP9_SPEEDS = dict(zip(X264_PRESETS, [("realtime", 8), ("realtime", 7), ("realtime", 6), ("realtime", 5),
                                     ("good", 5), ("good", 4), ("good", 3), ("good", 2), ("good", 0)]))


def codec_for_output(path: str | Path, codec: str | None) -> str:
    """The codec asked for, or by default the one an output's file type calls for:
    VP9 for .webm (which cannot hold H.264), else H.264."""
    if codec is not None:
        return codec
    return "vp9" if Path(path).suffix.lower() == ".webm" else "h264"


def check_encoding(crf: int | None, preset: str | None, codec: str = "h264") -> None:
    """Refuse settings the encoder would reject, before the output file is opened
    (None: the codec's default, or nothing for a codec without that setting)."""
    if codec not in CODECS:
        raise VidstyleError(f"unknown codec {codec!r} (use one of {', '.join(CODECS)})")
    spec = CODECS[codec]
    if not spec.crf_and_preset and (crf is not None or preset is not None):
        raise VidstyleError(f"{spec.label} has no crf or preset: its quality is fixed "
                            "(422 HQ); leave them out")
    low, high = spec.crf_range
    if crf is not None and not low <= crf <= high:
        raise VidstyleError(f"crf must be between {low} and {high} for {spec.label}, got {crf}")
    if preset is not None and preset not in X264_PRESETS:
        raise VidstyleError(f"unknown preset {preset!r} (use one of {', '.join(X264_PRESETS)})")


def encoder_options(codec: str, crf: int | None, preset: str | None) -> dict[str, str]:
    spec = CODECS[codec]
    if not spec.crf_and_preset:
        return {"profile": "3"}  # prores_ks's 422 HQ
    crf = str(spec.default_crf if crf is None else crf)
    if spec.encoder == "libvpx-vp9":
        deadline, speed = VP9_SPEEDS[preset or DEFAULT_PRESET]
        # b=0: constant quality; row-mt: rows of tiles in parallel (libvpx's default is off).
        return {"crf": crf, "b": "0", "deadline": deadline, "cpu-used": str(speed), "row-mt": "1"}
    options = {"crf": crf, "preset": preset or DEFAULT_PRESET}
    if spec.encoder == "libx265":
        options["x265-params"] = "log-level=error"  # not its banner and statistics on stderr
    return options


def even_size(width: int, height: int) -> tuple[int, int]:
    """yuv420p needs even dimensions: odd ones lose their last row/column."""
    return width - width % 2, height - height % 2


def _open_output(path: Path, codec: str, rate: Fraction, container_format: str | None = None):
    """(container, video stream, encoder name) for writing `codec` to `path`, or a
    VidstyleError where that file type cannot be written or cannot hold the codec.
    Nothing is written yet: the muxer creates the file at its first packet.
    `container_format` (an FFmpeg muxer's name) overrides the file type the suffix says."""
    import av

    spec = CODECS[codec]
    if container_format is None and spec.only_in is not None and path.suffix.lower() not in spec.only_in:
        raise VidstyleError(f"{spec.label} goes in {spec.suffixes} files, "
                            f"not {path.suffix or 'a file without a suffix'}")
    try:
        # AVI plays each stream from its start, in slots: FFmpeg's shift of all streams for the
        # sound's negative start (AAC priming) would leave empty picture slots after the first.
        avi = container_format is None and path.suffix.lower() == ".avi"
        container = av.open(str(path), mode="w", format=container_format,
                            options={"avoid_negative_ts": "disabled"} if avi else None)
    except (av.error.FFmpegError, ValueError) as exc:
        raise VidstyleError(f"cannot write a video to {path.name} ({exc}); "
                            "use a video extension such as .mp4, .mkv or .mov") from exc
    try:
        encoder = spec.encoder
        if encoder not in av.codecs_available:
            if codec != "h264":
                raise VidstyleError(f"this PyAV build has no {encoder} encoder for {spec.label}")
            encoder = "mpeg4"
        try:
            stream = container.add_stream(encoder, rate=rate)
        except ValueError as exc:  # e.g. .apng: that container takes no H.264
            raise VidstyleError(f"a {path.suffix} file cannot hold {spec.label} video; "
                                f"use {spec.suffixes}") from exc
    except Exception:
        container.close()
        raise
    return container, stream, encoder


def check_container(path: str | Path, codec: str = "h264") -> None:
    """Refuse an output name whose file type cannot hold `codec`, before any work
    starts; writes nothing."""
    check_encoding(None, None, codec)
    container, _, _ = _open_output(Path(path), codec, Fraction(30))
    container.close()


class VideoFileSink(ContainerWriter):
    """Encodes RGB uint8 frames to H.264 (yuv420p; or another of CODECS) in a background thread.

    Frames keep the timestamps they were given (same time base as the input),
    so variable frame rates survive. Each of `audio_templates` (the input's audio streams)
    becomes a track of the output (`audio_tracks`, vidstyle.tracks), whose packets
    handed to `add_audio_packet` are muxed without re-encoding; where the container cannot
    hold a track's codec, that track is re-encoded (to Opus in WebM, else to AAC). Each of
    `subtitle_templates` is copied the same way (`add_subtitle_packet`) where the container
    holds its kind, a text one converted to the container's text codec where it does not
    (`subtitle_tracks`), else left out with a warning.
    `container_format` (an FFmpeg muxer's name) is the file type where the path has no
    suffix to say it: `pipe:1` (the standard output) as "matroska". `tags` (the title,
    dates...) and the start `timecode` are the input's, for the output (vidstyle.metadata).
    """

    def __init__(self, path: str | Path, width: int, height: int, rate: Fraction,
                 time_base: Fraction, audio_templates: Sequence[Any] = (), crf: int | None = None,
                 preset: str | None = None, queue_size: int = 16, colors: VideoColors | None = None,
                 codec: str = "h264", pixel_aspect: Fraction = Fraction(1),
                 container_format: str | None = None, frame_grid: Fraction | None = None,
                 tags: dict[str, str] | None = None, timecode: str | None = None,
                 subtitle_templates: Sequence[Any] = ()):
        check_encoding(crf, preset, codec)
        spec = CODECS[codec]
        input_time_base = time_base  # the frames' timestamps are given in it
        self.path = Path(path)
        self.width, self.height = even_size(width, height)
        if self.width < 2 or self.height < 2:
            raise VidstyleError(f"frame size {width}x{height} is too small to encode")
        self._container, self.stream, encoder = _open_output(self.path, codec, rate, container_format)
        # VP9 carries no pixel shape, and Matroska's comes from a stream field PyAV cannot set:
        # non-square pixels are made square (the frames as wide as they show) rather than
        # played squeezed.
        self._widened_from: tuple[int, int] | None = None
        if pixel_aspect != 1 and encoder == "libvpx-vp9":
            self._widened_from = (self.width, self.height)
            self.width = even_size(max(2, round(self.width * pixel_aspect)), self.height)[0]
            pixel_aspect = Fraction(1)
        try:
            self.stream.width, self.stream.height = self.width, self.height
            self.stream.pix_fmt = spec.pix_fmt
            self._pix_fmt = spec.pix_fmt
            if encoder == "libx265" and self.path.suffix.lower() in (".mp4", ".mov", ".m4v"):
                self.stream.codec_tag = "hvc1"  # what QuickTime and iOS play; FFmpeg's default is hev1
            # AVI counts frames: its header's rate is one over the time base, and every tick
            # without a frame is an empty slot (a held frame). So it is timed in slots of
            # `frame_grid` (the input's finest steady rate: a variable rate keeps its times),
            # the first frame in the first slot.
            self._frame_timed = self._container.format.name == "avi"
            if self._frame_timed:
                time_base = 1 / Fraction(frame_grid or rate)
                self._last_pts: int | None = None
                self._first_pts = 0
            # Matroska, WebM and FLV time frames in whole milliseconds, so a steady 29.97 FPS
            # comes in steps of 33 and 34 ms: frames within that rounding of the steady grid
            # (from the first frame) go back on it, as ffmpeg's constant rate for MP4 puts
            # them, in a time base that holds the grid and milliseconds both (others keep theirs).
            self._grid: Fraction | None = None
            if (not self._frame_timed and frame_grid and input_time_base == Fraction(1, 1000)
                    and (1000 / Fraction(frame_grid)).denominator != 1):
                self._grid = _standard_rate(Fraction(frame_grid))
                time_base = Fraction(1, math.lcm(self._grid.numerator, 1000))
                self._last_pts = None
                self._first_time: Fraction | None = None
            self.stream.time_base = time_base
            keep_tags(self._container, self.stream, tags or {}, timecode)
            # The input's colours (matrix and tags), else what players assume for this height.
            self.colors = (colors or VideoColors.for_height(self.height)).for_output()
            self.colors.tag(self.stream.codec_context)
            self.stream.codec_context.time_base = time_base
            if pixel_aspect != 1:  # else players would show non-square pixels squeezed
                self.stream.codec_context.sample_aspect_ratio = pixel_aspect
            if encoder != "mpeg4":
                self.stream.options = encoder_options(codec, crf, preset)
            if self._frame_timed and encoder in ("libx264", "mpeg4"):
                # AVI stores no presentation times: a frame's slot is its decoding order, so
                # frames reordered for B-frames would play in the wrong slots of a varying rate.
                self.stream.options = {**self.stream.options, "bf": "0"}
            # Input stream index -> its track in the output, in the input's order (a track that
            # can be neither copied nor re-encoded is left out: AudioTrack says so).
            tracks = {template.index: AudioTrack(self._container, self.path, template)
                      for template in audio_templates}
            self._tracks = {index: track for index, track in tracks.items() if track.stream is not None}
            self.audio_tracks = list(self._tracks.values())
            subtitles = {template.index: SubtitleTrack(self._container, self.path, template)
                         for template in subtitle_templates}
            subtitles = {index: track for index, track in subtitles.items() if track.stream is not None}
            self.subtitle_tracks = list(subtitles.values())
            self._tracks.update(subtitles)
        except Exception:
            self._container.close()
            raise
        self._rate = rate
        self._input_time_base = input_time_base
        self._time_base = time_base
        self._pending: collections.deque = collections.deque()  # sound and subtitle packets to mux
        self._sound_spans: dict[int, list[float]] = {}  # track -> [first start, last end] handed in (s)
        self.audio_unit: float | None = None  # the coarsest time base of the sound (seconds)
        self.frames_written = 0
        self.encode_times: list[float] = []  # seconds per frame, for the stage statistics
        self._next_index = 0
        self._written_pts: int | None = None  # the last frame's time, as written
        stored_in = Fraction(1, 1000) if self._container.format.name.split(",")[0] in _MS_TIMED else time_base
        self._tick = max(1, math.ceil(stored_in / time_base))  # the least step the file keeps
        self._start_writer(queue_size, "vidstyle-encode")

    # -- producer side ------------------------------------------------------
    def write(self, image: np.ndarray, pts: int | None) -> None:
        """Queue one RGB uint8 frame (blocks when the encoder is behind)."""
        self._put((image, pts))

    def add_subtitle_packet(self, packet) -> None:
        """Queue a packet of one of the subtitle templates' streams (others are left out)."""
        if packet.stream.index in self._tracks:
            self._pending.append(packet)  # (muxed in the order handed in, with the sound)

    def add_audio_packet(self, packet) -> None:
        """Queue a packet of one of the audio templates' streams (others are left out)."""
        track = self._tracks.get(packet.stream.index)
        if track is None:
            return
        # Unbounded on purpose: audio is demuxed at the video's pace, so it runs
        # at most the pipeline's depth ahead, and bounding it could deadlock.
        self._pending.append(packet)
        if packet.pts is not None and packet.time_base:
            start = float(packet.pts * packet.time_base)
            end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
            span = self._sound_spans.setdefault(packet.stream.index, [start, end])
            span[0], span[1] = min(span[0], start), max(span[1], end)
            self.audio_unit = max(self.audio_unit or 0.0, float(packet.time_base))

    @property
    def audio_end(self) -> float | None:
        """Where the sound handed in ends, for every track (seconds; None: none came): the
        earliest track's end, or where the sound began while a track has had none (one stored
        behind the others). A stopped conversion's rest takes its sound from here; the join
        leaves out what the part holds twice."""
        if not self._sound_spans:
            return None
        ends = [end for _, end in self._sound_spans.values()]
        if len(self._sound_spans) < len(self.audio_tracks):
            ends.append(min(start for start, _ in self._sound_spans.values()))
        return min(ends)

    # -- encoder thread -------------------------------------------------------
    def _mux_pending(self) -> None:
        while self._pending:
            packet = self._pending.popleft()
            self._tracks[packet.stream.index].mux(packet)

    def _flush(self) -> None:
        self._container.mux(self.stream.encode(None))
        self._mux_pending()
        for track in self._tracks.values():
            track.flush()

    def _avi_slot(self, pts: int) -> int:
        """An AVI frame's slot: its time on the grid, counted from the first frame's, after
        the last frame's slot (frames closer than the grid take the next slot)."""
        slot = round(pts * self._input_time_base / self._time_base)
        if self._last_pts is None:
            self._first_pts = slot
        slot -= self._first_pts
        self._last_pts = slot if self._last_pts is None else max(self._last_pts + 1, slot)
        return self._last_pts

    def _on_grid(self, pts: int) -> int:
        """A millisecond-timed frame's time, on the steady grid from the first frame where it
        lies within the input's rounding of it (else its own), after the last frame's."""
        t = pts * self._input_time_base
        if self._first_time is None:
            self._first_time = t
        on_grid = self._first_time + round((t - self._first_time) * self._grid) / self._grid
        out = round((on_grid if abs(on_grid - t) <= _MS_ROUNDING else t) / self._time_base)
        self._last_pts = out if self._last_pts is None else max(self._last_pts + 1, out)
        return self._last_pts

    def steady_gap(self, seconds: float) -> Fraction | float:
        """The time between two of the input's frames (a stopped part's last and the rest's
        first, when they are joined), in whole frames of the steady grid where the input's
        millisecond timing put it off the grid (as _on_grid puts the frames); else as it is."""
        if self._grid is None:
            return seconds
        exact = Fraction(seconds).limit_denominator(1 << 30)
        on_grid = round(exact * self._grid) / self._grid
        return on_grid if abs(on_grid - exact) <= _MS_ROUNDING else seconds

    def _run(self) -> None:
        import av

        to_yuv = av.video.reformatter.VideoReformatter()
        try:
            while (item := self._next_item()) is not None:
                if item is END:
                    self._flush()
                    return
                image, pts = item
                t0 = time.perf_counter()
                if pts is None:  # no timestamps from the source: count frames
                    pts = round(self._next_index / (self._rate * self._input_time_base))
                if self._frame_timed:
                    pts = self._avi_slot(pts)
                elif self._grid is not None:
                    pts = self._on_grid(pts)
                elif self._written_pts is not None and pts <= self._written_pts:
                    # A damaged input's decoder can give a frame out of order (a late reference
                    # frame): muxers refuse times that go back, so it shows a tick after the last
                    # (the file's tick: a millisecond in Matroska, WebM and FLV).
                    pts = self._written_pts + self._tick
                self._written_pts = pts
                self._next_index += 1
                h, w = self.height, self.width
                if self._widened_from is not None:
                    import cv2

                    given_w, given_h = self._widened_from
                    image = cv2.resize(image[:given_h, :given_w], (w, h), interpolation=cv2.INTER_CUBIC)
                rgb = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:h, :w]), format="rgb24")
                frame = to_yuv.reformat(rgb, format=self._pix_fmt, dst_colorspace=self.colors.sws_matrix,
                                        dst_color_range=self.colors.range)
                frame.pts = pts
                frame.time_base = self._time_base
                self._mux_pending()
                self._container.mux(self.stream.encode(frame))
                self.frames_written += 1
                self.encode_times.append(time.perf_counter() - t0)
        except BaseException as exc:  # reported to the producer by write()/close()
            self.error = exc if isinstance(exc, VidstyleError) else VidstyleError(
                f"encoding {self.path.name} failed: {exc}")
