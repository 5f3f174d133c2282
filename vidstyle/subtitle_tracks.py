"""An output's subtitle tracks: each of the input's copied where the output's file type
holds its kind, a text one converted to the file type's own text codec where it does not
(its lines cleaned and timed by vidstyle.subtitle_text), else left out with a warning."""
from __future__ import annotations

import logging
from collections import Counter
from fractions import Fraction
from pathlib import Path

from .metadata import keep_track_tags
from .subtitle_text import Line, Spans, UntilNext, for_codec
from .tracks import muxer_takes, output_name

log = logging.getLogger(__name__)


_TS_SUBTITLES = ("dvb_subtitle", "dvb_teletext")
# The text subtitle codec each file type holds, where it cannot hold the input's (FFmpeg's
# choice too: MP4/MOV's own text, WebVTT in WebM, ASS in Matroska).
_TEXT_CODEC_OF = {"mp4": "mov_text", "mov": "mov_text", "ipod": "mov_text", "3gp": "mov_text",
                  "3g2": "mov_text", "webm": "webvtt", "matroska": "ass"}
_TEXT_CODEC_NAMES = {"mov_text": "MP4 text", "webvtt": "WebVTT", "ass": "ASS"}


def codec_of(packet) -> str | None:
    """The codec of a packet's stream (None: one FFmpeg does not know)."""
    context = packet.stream.codec_context
    return None if context is None else context.name


def is_gap_sample(packet) -> bool:
    """Whether a subtitle packet is an empty MP4 text sample, which only clears the screen
    between lines: MP4 and MOV write their own, so a copied one came twice (at no length)."""
    return codec_of(packet) == "mov_text" and bytes(packet) == bytes(2)


def can_convert_text() -> bool:
    """Whether this PyAV can decode subtitles to text and encode them again (PyAV 17 on)."""
    from av.subtitles.codeccontext import SubtitleCodecContext
    from av.subtitles.subtitle import SubtitleSet

    return hasattr(SubtitleSet, "create") and all(
        hasattr(SubtitleCodecContext, name) for name in ("decode2", "encode_subtitle", "subtitle_header"))


class SubtitleTrack:
    """One of the input's subtitle tracks (`template`) in an output container (before its
    first packet): its packets copied, or where the container cannot hold a text track's
    codec (SubRip in MP4, MP4's own text in Matroska), its lines converted to the text codec
    the container holds (`converted` names it, e.g. "MP4 text"). `stream` is None where
    neither works (picture subtitles such as DVD's in WebM, any text in MPEG-TS): said in
    a warning, left out."""

    def __init__(self, container, path: Path, template):
        self._container = container
        self.template = template
        name = template.codec_context.name if template.codec_context else "unknown"
        fmt = container.format.name
        self.stream = None
        self.converted: str | None = None
        self._until_next = UntilNext()
        self._spans: Spans | None = None  # (MP4 text's)
        self._read_order = (-1, 0)  # the last ASS event's (start, count of events at that start)
        self._failed = False  # a span the encoder refused was said once
        # (MPEG-TS takes any codec, but carries only DVB subtitles and teletext as subtitles:
        # text ones became unnamed data streams that players do not show)
        if (fmt != "mpegts" or name in _TS_SUBTITLES) and muxer_takes(
                fmt, lambda out: out.add_stream_from_template(template), template.time_base, b"subtitle"):
            try:
                self.stream = container.add_stream_from_template(template)
            except ValueError:
                pass
        if self.stream is None:
            self.stream = self._converting(fmt)
        if self.stream is None:
            upgrade = " (PyAV 17 or later converts text ones)" if fmt in _TEXT_CODEC_OF and \
                not can_convert_text() else " (.mkv keeps most kinds)"
            log.warning("a subtitle track (%s) cannot be copied into %s; it is left out%s",
                        name, output_name(path, fmt), upgrade)
        else:
            keep_track_tags(template, self.stream)

    def _converting(self, fmt: str):
        """The output stream taking the template's lines re-encoded as the text codec `fmt`
        holds, or None where the track is not text or the container holds no text codec."""
        import av

        decoder = self.template.codec_context
        codec = _TEXT_CODEC_OF.get(fmt)
        if codec is None or decoder is None or not can_convert_text() or not decoder.codec.text_sub:
            return None
        try:
            decoder.open(strict=False)  # (the decoder makes the ASS header the encoder reads styles from)
            header = decoder.subtitle_header

            def add_stream(out):
                stream = out.add_stream(codec)
                stream.codec_context.subtitle_header = header
                stream.time_base = Fraction(1, 1000)
                return stream

            # (an empty MP4 text sample: other muxers take any bytes)
            if not header or not muxer_takes(fmt, add_stream, Fraction(1, 1000), bytes(2)):
                return None
            stream = add_stream(self._container)
        except (av.FFmpegError, ValueError):
            return None
        self.converted = _TEXT_CODEC_NAMES[codec]
        self._spans = Spans() if codec == "mov_text" else None
        return stream

    def mux(self, packet) -> None:
        if self.converted:
            self._convert(packet)
        elif not is_gap_sample(packet):
            packet.stream = self.stream
            self._container.mux(packet)

    def _convert(self, packet) -> None:
        """Decode one of the template's packets to its lines and mux them in the output's
        codec (an empty one, which only clears the screen, is left out: MP4 writes its own
        between lines; a line of unknown length lasts until the next, subtitle_text.UntilNext;
        MP4 text's overlapping lines are cut into spans, subtitle_text.Spans)."""
        if not packet.size or packet.pts is None or not packet.time_base:
            return
        lines = self.template.codec_context.decode2(packet)
        if lines is None:
            return
        start = round(packet.pts * packet.time_base * 1000) + lines.start_display_time
        end = None  # (unknown: no length, or "until the next line")
        if packet.duration and packet.duration > 0:
            end = round((packet.pts + packet.duration) * packet.time_base * 1000)
        elif 0 < lines.end_display_time < 2 ** 31:
            end = start + lines.end_display_time
        codec = self.stream.codec_context.name
        for rect in lines:
            line = for_codec(Line.of_event(rect.ass.decode("utf-8", "replace"), start, end), codec)
            if line is not None and (line.end is None or line.end > line.start):
                self._show(self._until_next.add(line))

    def _show(self, lines: list[Line]) -> None:
        for line in lines:
            for shown in self._spans.add(line) if self._spans is not None else [line]:
                self._write(shown)

    def _write(self, line: Line) -> None:
        import av
        from av.subtitles.subtitle import SubtitleSet

        read_order = None
        if self.stream.codec_context.name == "ass":
            # Numbered by time, so that each part of a stopped conversion numbers a line alike
            # (players show one event of each number; the join knows a line again by it).
            previous, count = self._read_order
            self._read_order = (line.start, count + 1 if line.start == previous else 0)
            read_order = line.start * 64 + min(self._read_order[1], 63)
        try:
            encoded = self.stream.codec_context.encode_subtitle(
                SubtitleSet.create(line.event(read_order), 0, line.end - line.start))
        except av.FFmpegError as exc:  # (e.g. hundreds of lines at once: over MP4 text's 64 KB)
            if not self._failed:
                log.warning("a subtitle line at %.3f s could not be converted (%s); it is left out",
                            line.start / 1000, exc)
            self._failed = True
            return
        encoded.pts = encoded.dts = line.start
        encoded.duration = line.end - line.start
        encoded.time_base = Fraction(1, 1000)
        encoded.stream = self.stream
        self._container.mux(encoded)

    def flush(self) -> None:
        """Write the lines still held back (of unknown length, and MP4 text's last spans)."""
        self._show(self._until_next.finish())
        for line in self._spans.finish() if self._spans is not None else []:
            self._write(line)


def subtitle_summary(tracks: list[SubtitleTrack]) -> str:
    """What became of the subtitle tracks, for a report: "1 subtitle track copied", "2
    subtitle tracks converted to MP4 text", "3 subtitle tracks (2 copied, 1 converted to
    WebVTT)"; "" for none."""
    if not tracks:
        return ""
    kinds = Counter(f"converted to {track.converted}" if track.converted else "copied" for track in tracks)
    counted = f"{len(tracks)} subtitle track{'s' * (len(tracks) > 1)}"
    if len(kinds) == 1:
        return f"{counted} {next(iter(kinds))}"
    return f"{counted} (" + ", ".join(f"{n} {kind}" for kind, n in kinds.items()) + ")"
