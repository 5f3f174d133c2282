"""One timeline for streams whose clock restarts midway.

MPEG-TS (and MPEG-PS) files are often joined end to end (`cat a.ts b.ts`,
camcorder .MTS chapters, broadcast captures): each part's timestamps start
again near its own beginning, so the joined stream jumps back in time. A muxer
refuses such timestamps, and a player would show the parts on top of each other.
FFmpeg's demuxers mark these formats (AVFMT_TS_DISCONT); ffmpeg itself then
moves each new part on to where the previous one ended, and so does this.
"""
from __future__ import annotations

from fractions import Fraction

# A jump back by more than this, or forward by more than the next, starts a new part
# (ffmpeg's rule for these formats: 0.1 s back, `-dts_delta_threshold` 10 s forward).
BACK_S = Fraction(1, 10)
FORWARD_S = Fraction(10)


def restarts_clock(container) -> bool:
    """Whether the container's format may restart its clock midway (MPEG-TS, MPEG-PS)."""
    import av

    return bool(container.format.flags & av.format.Flags.ts_discont.value)


class Retimer:
    """Moves packets' timestamps so a stream that restarts its clock plays on.

    `fix(packet)` is called on every demuxed packet (video and audio, in demux
    order) before it is decoded or copied. Each part of the file gets one offset
    for all its streams, so the parts keep their own picture/sound sync (but for a
    stream whose part would overlap its last one by a few ms: it alone moves on). A stream
    keeps its part's offset until its own timestamps jump: the demuxer can hand on
    the first part's last video packets after the next part's first audio.
    Streams that never jump are left as they are. `reset()` forgets the
    timeline, after a seek.
    """

    def __init__(self):
        self.reset()

    @property
    def jumps(self) -> int:
        """Parts joined after the first."""
        return len(self._offsets) - 1

    def reset(self) -> None:
        self._offsets = [Fraction(0)]  # seconds added to each part's timestamps
        self._part: dict[int, int] = {}  # per stream: the part its packets are in
        self._next: dict[int, Fraction] = {}  # per stream: where its next packet should start (dts)
        self._shown_to: dict[int, Fraction] = {}  # per stream: the end of what it presents so far
        self._nudge: dict[int, Fraction] = {}  # per stream: a little more, where its part overlapped

    def fix(self, packet) -> None:
        tb = packet.time_base
        raw = packet.dts if packet.dts is not None else packet.pts
        if raw is None or not tb:
            return
        stream = packet.stream.index
        part = self._part.get(stream, len(self._offsets) - 1)
        t = raw * tb + self._offsets[part] + self._nudge.get(stream, 0)
        expected = self._next.get(stream)
        if expected is not None and (t < expected - BACK_S or t > expected + FORWARD_S):
            if part + 1 < len(self._offsets):  # another stream has entered the next part
                part += 1
            else:  # a new part is presented from where everything handed on so far ends
                # (by presentation times: a B-frame stream decodes ahead of what it shows)
                first = packet.pts if packet.pts is not None else raw
                self._offsets.append(max(self._shown_to.values(), default=expected) - first * tb)
                part = len(self._offsets) - 1
            t = raw * tb + self._offsets[part]
            # A stream whose new part starts before its last part ended (audio that ran on
            # past the video, by a few ms) moves on by that much alone: its timestamps must
            # still increase, and the other streams already in the part keep their places.
            self._nudge[stream] = max(Fraction(0), expected - t)
            t += self._nudge[stream]
        self._part[stream] = part
        moved = self._offsets[part] + self._nudge.get(stream, 0)
        if moved:
            shift = round(moved / tb)
            if packet.pts is not None:
                packet.pts += shift
            if packet.dts is not None:
                packet.dts += shift
        duration = (packet.duration or 0) * tb
        self._next[stream] = t + duration
        if packet.pts is not None:
            end = packet.pts * tb + duration  # (already moved by the offset)
            self._shown_to[stream] = max(self._shown_to.get(stream, end), end)
