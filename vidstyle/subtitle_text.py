"""Subtitle lines as text, for converting a track to another text codec. FFmpeg's decoders
give every text codec's lines as ASS events; these are cleaned for the target codec here,
and cut into spans for MP4 text, which shows one sample at a time."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

_OVERRIDE = re.compile(r"(\{[^}]*\})")  # an ASS override block, e.g. {\i1} or {\pos(10,20)}
_DRAWING_MODE = re.compile(r"\\p(\d+)")  # \p1 starts a vector drawing, \p0 ends it (not \pos)
_DEFAULT_FIELDS = "0,0,Default,,0,0,0,"
OPEN_ENDED_MS = 5000  # a line of unknown length shows until the next one starts, at most this long


@dataclass
class Line:
    """One subtitle line: shown from `start` to `end` (milliseconds; None: unknown, until the
    next line, UntilNext), its ASS event's fields before the text (ReadOrder,Layer,Style,
    Name,MarginL,MarginR,MarginV,Effect) and its text (with override blocks)."""

    start: int
    end: int | None
    fields: str
    text: str

    @classmethod
    def of_event(cls, event: str, start: int, end: int | None) -> "Line":
        parts = event.split(",", 8)
        if len(parts) < 9:  # (not an event: all of it is text)
            return cls(start, end, _DEFAULT_FIELDS, event)
        return cls(start, end, ",".join(parts[:8]), parts[8])

    @property
    def style(self) -> str:
        return self.fields.split(",")[2]

    def event(self, read_order: int | None = None) -> bytes:
        """The ASS event, with `read_order` as its first field where given."""
        fields = self.fields if read_order is None else f"{read_order},{self.fields.split(',', 1)[1]}"
        return f"{fields},{self.text}".encode()


def for_codec(line: Line, codec: str) -> Line | None:
    """The line as `codec` ("mov_text", "webvtt", "ass") can show it: vector drawings, which
    only ASS draws, left out of the others (their coordinates showed as text), and WebVTT's
    <, > and & escaped (FFmpeg writes them as they are: "I <3 you" showed as "I "). None
    where nothing is left to show."""
    pieces, drawing = [], False
    for piece in _OVERRIDE.split(line.text):
        if piece.startswith("{") and piece.endswith("}"):
            for n in _DRAWING_MODE.findall(piece):
                drawing = int(n) > 0
            pieces.append(piece)
        elif codec == "ass" or not drawing:
            if codec == "webvtt":
                piece = piece.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            pieces.append(piece)
    text = "".join(pieces)
    if not _OVERRIDE.sub("", text).replace("\\N", "").replace("\\n", "").replace("\\h", "").strip():
        return None
    return replace(line, text=text)


class UntilNext:
    """Lines of unknown length held until the next line's start says where they end (at
    most OPEN_ENDED_MS after their own); lines of known length pass at once. Lines come in
    order of their starts."""

    def __init__(self):
        self._open: list[Line] = []

    def add(self, line: Line) -> list[Line]:
        ready = self._close(line.start) if self._open and line.start > self._open[0].start else []
        if line.end is None:
            self._open.append(line)
        else:
            ready.append(line)
        return ready

    def finish(self) -> list[Line]:
        return self._close(None)

    def _close(self, at: int | None) -> list[Line]:
        closed = []
        for line in self._open:
            longest = line.start + OPEN_ENDED_MS
            closed.append(replace(line, end=longest if at is None else min(at, longest)))
        self._open = []
        return closed


class Spans:
    """MP4 text shows one sample at a time, each until the next begins: lines that overlap
    (a sign over dialogue, two speakers at once) pushed every later line back. So lines are
    cut where any line starts or ends, and each span shows every line on screen then, one
    under the other. A span is known once the next line's start is: `add` gives the spans
    before it, `finish` the rest. Lines come in order of their starts (a late one starts
    when the last span given ends)."""

    def __init__(self):
        self._lines: list[Line] = []  # on screen or still to come
        self._at: int | None = None  # where the spans given so far end

    def add(self, line: Line) -> list[Line]:
        spans = self._until(line.start)
        if self._at is not None and line.start < self._at:
            line = replace(line, start=self._at)
        if line.end > line.start:  # (a line of no length would not show)
            self._lines.append(line)
        return spans

    def finish(self) -> list[Line]:
        return self._until(None)

    def _until(self, limit: int | None) -> list[Line]:
        spans = []
        while self._lines:
            if self._at is None:
                self._at = min(line.start for line in self._lines)
            on = [line for line in self._lines if line.start <= self._at]
            later = [line.start for line in self._lines if line.start > self._at]
            if not on:  # a gap (MP4 writes its own empty sample for it)
                if limit is not None and min(later) >= limit:
                    break
                self._at = min(later)
                continue
            end = min([line.end for line in on] + later + ([limit] if limit is not None else []))
            if end <= self._at:
                break
            spans.append(_together(on, self._at, end))
            self._at = end
            self._lines = [line for line in self._lines if line.end > end]
        return spans


def _together(lines: list[Line], start: int, end: int) -> Line:
    """One line showing `lines` one under the other, each in its own style ({\\r} resets the
    overrides of the line before)."""
    first, *rest = lines
    text = first.text + "".join(f"\\N{{\\r{line.style}}}{line.text}" for line in rest)
    return Line(start, end, first.fields, text)
