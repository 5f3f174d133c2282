"""An output's audio tracks: each of the input's copied without re-encoding, or re-encoded
(to AAC, or Opus in WebM) where the output's file type cannot hold its codec (subtitle
tracks: vidstyle.subtitle_tracks)."""
from __future__ import annotations

import io
import logging
from collections import Counter
from fractions import Fraction
from pathlib import Path

from .metadata import keep_track_tags
from .outputs import STANDARD_OUTPUT_URL

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


# What a format's re-encoded sound is: (FFmpeg encoder, name, sample format).
_AAC = ("aac", "AAC", "fltp")
_REENCODED_AS = {"webm": ("libopus", "Opus", "flt"), "mxf": ("pcm_s16le", "PCM", "s16")}
# The sound MPEG-TS carries as sound (FFmpeg's TS muxer names these; anything else goes in as data).
_TS_AUDIO = ("aac", "aac_latm", "mp2", "mp3", "ac3", "eac3", "dts", "truehd", "opus", "s302m")

_FIRST_PACKETS_READ = 1000  # where a track's first packet is looked for (a TS's first second or so)


def _adts_setup(template) -> bytes | None:
    """An ADTS-framed AAC track's setup data (its AudioSpecificConfig, as FFmpeg's
    aac_adtstoasc makes it) from the header of the track's first packet in the input file;
    None where there is none among the file's first packets or it names no channel count
    (a layout given in the stream instead)."""
    import itertools

    import av

    data = b""
    try:
        with av.open(template.container.name) as again:
            packets = itertools.islice(again.demux(), _FIRST_PACKETS_READ)
            data = next((bytes(p) for p in packets if p.stream.index == template.index and p.size >= 7), b"")
    except (av.FFmpegError, OSError):
        pass
    if len(data) < 7 or data[0] != 0xFF or data[1] & 0xF6 != 0xF0:  # (sync word, layer 0)
        return None
    kind, rate_index = data[2] >> 6, data[2] >> 2 & 15  # (the object type - 1, the rate's index)
    channels = (data[2] & 1) << 2 | data[3] >> 6
    if not channels:
        return None
    return bytes([(kind + 1) << 3 | rate_index >> 1, (rate_index & 1) << 7 | channels << 3])


def output_name(path: Path, fmt: str) -> str:
    """How messages name the output: its file type, or the standard output's format."""
    return path.suffix or f"{fmt.split(',')[0].title()} (the standard output)"


class AudioTrack:
    """One of the input's audio tracks (`template`, its stream) in an output container
    (before its first packet): its packets are copied, or re-encoded where the container
    cannot hold the codec; `reencoded` then names the codec ("AAC", "Opus" or "PCM"). The track's
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
            # (a track the file lists but never fills, e.g. a recorder's unused language, or
            # one whose sound starts later than FFmpeg looks)
            log.warning("audio track %d has no channels FFmpeg could find; it is left out", template.index)
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
        encoder = _REENCODED_AS.get(fmt, _AAC)[0]
        # MP4 takes PCM (as 'ipcm') since FFmpeg 7, but browsers and most players do not play it.
        self._unplayable = fmt in ("mp4", "ipod") and name.startswith("pcm_")
        listed = name in container.supported_codecs
        if fmt == "mpegts" and name not in _TS_AUDIO:
            # (the TS muxer takes any codec, as a stream of unnamed data: PCM came out as no sound)
            return None
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
            setup = _adts_setup(template)
            if setup is not None:  # (else FFmpeg's refusal says why)
                stream.codec_context.extradata = setup
        return stream

    def _reencoding(self, path: Path):
        import av

        template = self.template
        name = template.codec_context.name
        fmt = self._container.format.name
        # WebM holds only Opus and Vorbis, MXF only PCM (at 48 kHz); elsewhere AAC plays everywhere.
        encoder, label, sample_format = _REENCODED_AS.get(fmt, _AAC)
        # (WebM's sound is always Opus, as the README says: no warning for what was asked)
        where = output_name(path, fmt)
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
                # (from 0 too: left to count from 0 itself, the encoder's first packet came
                # at 0, not before it, so its priming samples (AAC's 1,024) played as sound,
                # 21 ms late; timed, the file marks them to be skipped, as ffmpeg's does)
                start = frame.pts * frame.time_base if frame.time_base else 0
                self._samples = round(start * self.stream.rate)
            for resampled in self._resampler.resample(frame):
                if self._samples is not None:
                    resampled.pts = self._samples
                    resampled.time_base = Fraction(1, self.stream.rate)
                    self._samples += resampled.samples
                else:  # (a track whose frames have no times at all)
                    resampled.pts = None
                self._container.mux(self.stream.encode(resampled))


def summary(tracks: list[AudioTrack]) -> str:
    """What became of the sound, for a report: "copied", "re-encoded to AAC", or for
    several tracks e.g. "copied (2 tracks) and re-encoded to AAC (1 track)"; "none"."""
    if not tracks:
        return "none"
    kinds = Counter(f"re-encoded to {track.reencoded}" if track.reencoded else "copied" for track in tracks)
    if len(tracks) == 1:
        return next(iter(kinds))
    return " and ".join(f"{kind} ({n} track{'s' * (n > 1)})" for kind, n in kinds.items())
