"""An output's tracks beside the picture: each of the input's audio tracks copied without
re-encoding, or re-encoded (to AAC, or Opus in WebM) where the output's file type cannot
hold its codec; each subtitle track copied where the file type holds its kind, and a
text one converted to the file type's text codec where it does not."""
from __future__ import annotations

import io
import logging
from fractions import Fraction
from pathlib import Path

from .metadata import keep_track_tags
from .outputs import STANDARD_OUTPUT_URL
from .subtitle_text import Line, Spans, for_codec

log = logging.getLogger(__name__)


def muxer_takes(fmt: str, add_stream, time_base: Fraction, payload: bytes = bytes(4096)) -> bool:
    """Whether FFmpeg's `fmt` muxer writes a file holding the stream `add_stream(container)`
    adds: a packet of `payload` is muxed in memory, trailer included (microseconds)."""
    import av

    try:
        with av.open(io.BytesIO(), "w", format=fmt) as out:
            stream = add_stream(out)
            packet = av.Packet(payload)
            packet.pts = packet.dts = 0
            packet.duration = 1024
            packet.time_base = time_base
            packet.stream = stream
            out.mux(packet)
    except (av.FFmpegError, ValueError):
        return False
    return True


_ADTS_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)


def _test_payload(template) -> bytes:
    """A packet's bytes for muxer_takes: zeros, but for AAC without setup data of its own
    (as MPEG-TS carries it) an ADTS-framed one, since muxers take their setup from that
    header (FFmpeg's own copying does; a packet of zeros made TS to TS and TS to MKV refuse)."""
    cc = template.codec_context
    if cc.name != "aac" or cc.extradata:
        return bytes(4096)
    index = _ADTS_RATES.index(cc.sample_rate) if cc.sample_rate in _ADTS_RATES else 4
    channels = min(7, cc.layout.nb_channels or 2)
    size = 7 + 256  # (header and frame)
    header = bytes([0xFF, 0xF1,  # sync, MPEG-4, no checksum
                    (1 << 6) | (index << 2) | (channels >> 2),  # AAC LC, rate, channels
                    ((channels & 3) << 6) | (size >> 11), (size >> 3) & 0xFF, ((size & 7) << 5) | 0x1F, 0xFC])
    return header + bytes(size - 7)


def _adts_setup(template) -> bytes | None:
    """An ADTS-framed AAC track's setup data (its AudioSpecificConfig, as FFmpeg's
    aac_adtstoasc makes it) from the header of the track's first packet in the input
    file; None where that cannot be read (the input a pipe)."""
    import av

    data = b""
    try:
        with av.open(template.container.name) as again:
            data = next((bytes(p) for p in again.demux(again.streams[template.index]) if p.size >= 7), b"")
    except (av.FFmpegError, OSError):
        pass
    if len(data) < 7 or data[0] != 0xFF or data[1] & 0xF6 != 0xF0:  # (sync word, layer 0)
        return None
    kind, rate_index = data[2] >> 6, data[2] >> 2 & 15  # (the object type - 1, the rate's index)
    channels = (data[2] & 1) << 2 | data[3] >> 6
    return bytes([(kind + 1) << 3 | rate_index >> 1, (rate_index & 1) << 7 | channels << 3])


def _output_name(path: Path, fmt: str) -> str:
    """How messages name the output: its file type, or the standard output's format."""
    return path.suffix or f"{fmt.split(',')[0].title()} (the standard output)"


class AudioTrack:
    """One of the input's audio tracks (`template`, its stream) in an output container
    (before its first packet): its packets are copied, or re-encoded where the container
    cannot hold the codec; `reencoded` then names the codec ("AAC" or "Opus"). The track's
    language, title and disposition (default, commentary...) go with it."""

    def __init__(self, container, path: Path, template):
        self._container = container
        self._path = path
        self.template = template
        self.reencoded: str | None = None
        self.stream = None  # (none: a codec FFmpeg does not know or an empty track, left out)
        if template.codec_context is None:
            log.warning("audio track %d is of a codec FFmpeg does not know; it is left out", template.index)
            return
        if not template.rate or not template.layout.nb_channels:
            # (a track the file lists but never fills, e.g. a recorder's unused language)
            log.warning("audio track %d holds no sound (no channels found in it); it is left out", template.index)
            return
        self.stream = self._copied() or self._reencoding(path)
        keep_track_tags(template, self.stream)

    def _copied(self):
        """The output stream copying the template's packets, or None where it cannot."""
        template, container = self.template, self._container
        name = template.codec_context.name
        fmt = container.format.name
        # FFmpeg lists PCM as an mp4 codec and Opus and FLAC as mov ones, then refuses them
        # at the first packet or in the trailer, after every frame: so the muxer is tried on
        # one packet first (it also takes what it does not list: MPEG-TS lists no codecs).
        # Where it refuses AAC too, that try says nothing of this format (MXF wants whole
        # video frames of audio): a listed codec is copied, as before.
        encoder = "libopus" if fmt == "webm" else "aac"
        # MP4 takes PCM (as 'ipcm') since FFmpeg 7, but browsers and most players do not play it.
        self._unplayable = fmt in ("mp4", "ipod") and name.startswith("pcm_")
        listed = name in container.supported_codecs
        if self._unplayable or not (
                muxer_takes(fmt, lambda out: out.add_stream_from_template(template), template.time_base,
                            _test_payload(template))
                or listed and not muxer_takes(fmt, lambda out: out.add_stream(encoder, rate=48000),
                                              Fraction(1, 48000))):
            return None
        try:
            stream = container.add_stream_from_template(template)
        except ValueError:
            return None
        if name == "aac" and not template.codec_context.extradata and str(self._path) == STANDARD_OUTPUT_URL:
            # MPEG-TS's AAC carries its setup in each packet's ADTS header; Matroska wants it in
            # its header, which a file is given at the end but a pipe never (FFmpeg refused the
            # first packet): so the pipe's is read from the input's first packet now.
            stream.codec_context.extradata = _adts_setup(template)
        return stream

    def _reencoding(self, path: Path):
        import av

        template = self.template
        name = template.codec_context.name
        fmt = self._container.format.name
        # WebM holds only Opus and Vorbis; elsewhere AAC plays everywhere.
        encoder, label, sample_format = ("libopus", "Opus", "flt") if fmt == "webm" else \
            ("aac", "AAC", "fltp")
        # (WebM's sound is always Opus, as the README says: no warning for what was asked)
        where = _output_name(path, fmt)
        if self._unplayable:
            log.warning("PCM sound (%s) in %s plays in few players; re-encoding it to AAC "
                        "(.mov or .mkv keep it as it is)", name, where)
        else:
            log.log(logging.INFO if fmt == "webm" else logging.WARNING,
                    "audio codec %s cannot be copied into %s; re-encoding it to %s", name, where, label)
        # Opus takes 48 kHz and a few lower rates only, AAC up to 96 kHz: 48 kHz holds any input.
        rate = template.rate if encoder == "aac" and template.rate in _ADTS_RATES else 48000
        stream = self._container.add_stream(encoder, rate=rate)
        if encoder == "libopus":
            stream.layout = "stereo" if template.layout.nb_channels > 1 else "mono"
        layout = stream.layout.name if encoder == "libopus" else template.layout.name
        self._resampler = av.AudioResampler(format=sample_format, layout=layout, rate=rate)
        self._samples: int | None = None  # the next re-encoded sample's time, in samples
        self._timed = False  # whether the re-encoded frames are given their times
        self.reencoded = label
        return stream

    def mux(self, packet) -> None:
        """Write one of the template's packets (encoder thread)."""
        if self.reencoded:
            self._encode(packet.decode())
        else:
            packet.stream = self.stream
            self._container.mux(packet)

    def flush(self) -> None:
        """Write what the decoder, resampler and encoder still hold (after the last packet)."""
        if self.reencoded:
            self._encode(self.template.decode(None))
            self._encode([None])  # the resampler's tail
            self._container.mux(self.stream.encode(None))

    def _encode(self, frames) -> None:
        for frame in frames:
            if self._samples is None and frame is not None and frame.pts is not None:
                # The sound's first time: after the picture's where a conversion goes on from a
                # stopped one (from where the stopped part's sound ends), before it where the
                # input's sound leads its picture; from there the samples are counted, so gaps
                # in the input's timing are closed.
                start = frame.pts * frame.time_base if frame.time_base else 0
                self._samples = round(start * self.stream.rate)
                self._timed = self._samples != 0  # (from 0 the encoder counts itself)
            for resampled in self._resampler.resample(frame):
                if self._timed:
                    resampled.pts = self._samples
                    resampled.time_base = Fraction(1, self.stream.rate)
                    self._samples += resampled.samples
                else:
                    resampled.pts = None
                self._container.mux(self.stream.encode(resampled))


_TS_SUBTITLES = ("dvb_subtitle", "dvb_teletext")
# The text subtitle codec each file type holds, where it cannot hold the input's (FFmpeg's
# choice too: MP4/MOV's own text, WebVTT in WebM, ASS in Matroska).
_TEXT_CODEC_OF = {"mp4": "mov_text", "mov": "mov_text", "ipod": "mov_text", "3gp": "mov_text",
                  "3g2": "mov_text", "webm": "webvtt", "matroska": "ass"}
_TEXT_CODEC_NAMES = {"mov_text": "MP4 text", "webvtt": "WebVTT", "ass": "ASS"}


def is_gap_sample(packet) -> bool:
    """Whether a subtitle packet is an empty MP4 text sample, which only clears the screen
    between lines: MP4 and MOV write their own, so a copied one came twice (at no length)."""
    context = packet.stream.codec_context
    return context is not None and context.name == "mov_text" and bytes(packet) == bytes(2)


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
        self._spans: Spans | None = None
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
            log.warning("a subtitle track (%s) cannot be copied into %s; it is left out (.mkv keeps "
                        "most kinds)", name, _output_name(path, fmt))
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
        between lines; MP4 text's overlapping lines are cut into spans, subtitle_text.Spans)."""
        if not packet.size or packet.pts is None or not packet.time_base:
            return
        lines = self.template.codec_context.decode2(packet)
        if lines is None:
            return
        start = round(packet.pts * packet.time_base * 1000) + lines.start_display_time
        if packet.duration:
            end = round((packet.pts + packet.duration) * packet.time_base * 1000)
        else:  # (as long as the line says, unless it says "until the next": then none)
            end = start + (lines.end_display_time if lines.end_display_time < 2 ** 31 else 0)
        codec = self.stream.codec_context.name
        for rect in lines:
            line = for_codec(Line.of_event(rect.ass.decode("utf-8", "replace"), start, end), codec)
            if line is None:
                continue
            for shown in self._spans.add(line) if self._spans else [line]:
                self._write(shown)

    def _write(self, line: Line) -> None:
        from av.subtitles.subtitle import SubtitleSet

        encoded = self.stream.codec_context.encode_subtitle(SubtitleSet.create(line.event(), 0, line.end - line.start))
        encoded.pts = encoded.dts = line.start
        encoded.duration = max(0, line.end - line.start)
        encoded.time_base = Fraction(1, 1000)
        encoded.stream = self.stream
        self._container.mux(encoded)

    def flush(self) -> None:
        """Write the lines still held back (MP4 text's last spans)."""
        for line in self._spans.finish() if self._spans else []:
            self._write(line)


def summary(tracks: list[AudioTrack]) -> str:
    """What became of the sound, for a report: "copied", "re-encoded to AAC", or for
    several tracks e.g. "copied (2 tracks) and re-encoded to AAC (1 track)"; "none"."""
    if not tracks:
        return "none"
    kinds: dict[str, int] = {}
    for track in tracks:
        kind = f"re-encoded to {track.reencoded}" if track.reencoded else "copied"
        kinds[kind] = kinds.get(kind, 0) + 1
    if len(tracks) == 1:
        return next(iter(kinds))
    return " and ".join(f"{kind} ({n} track{'s' * (n > 1)})" for kind, n in kinds.items())


def subtitle_summary(tracks: list[SubtitleTrack]) -> str:
    """What became of the subtitle tracks, for a report: "1 subtitle track copied", "2
    subtitle tracks converted to MP4 text", "3 subtitle tracks (2 copied, 1 converted to
    WebVTT)"; "" for none."""
    if not tracks:
        return ""
    kinds: dict[str, int] = {}
    for track in tracks:
        kind = f"converted to {track.converted}" if track.converted else "copied"
        kinds[kind] = kinds.get(kind, 0) + 1
    counted = f"{len(tracks)} subtitle track{'s' * (len(tracks) > 1)}"
    if len(kinds) == 1:
        return f"{counted} {next(iter(kinds))}"
    return f"{counted} (" + ", ".join(f"{n} {kind}" for kind, n in kinds.items()) + ")"
