"""What an output keeps of its input's tags: the title, dates, comments and the like, and
the start timecode (which an editor relinks a conform by; MOV and MP4 store it as a tmcd
track, Matroska as a tag)."""
from __future__ import annotations

import math
import re
from fractions import Fraction

# Tags that describe how a file was made, not what it holds: the muxer writes its own.
_MADE_BY = {"major_brand", "minor_version", "compatible_brands", "encoder", "duration", "handler_name",
            "vendor_id", "timecode"}
_TIMECODE = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})([:;.])(\d{2,3})$")


def file_tags(container) -> dict[str, str]:
    """An input container's own tags, less those the muxer writes itself (the timecode goes
    with the picture: input_timecode)."""
    return {key: value for key, value in container.metadata.items() if key.lower() not in _MADE_BY}


def input_timecode(container) -> str | None:
    """The start timecode of a file ("01:00:00:00"; ";" before the frames where they drop),
    from the file's tags or any of its tracks' (MOV/MP4: the tmcd track's; Matroska: the
    picture's TIMECODE); None where it has none."""
    for tags in [container.metadata, *(stream.metadata for stream in container.streams)]:
        for key, value in tags.items():
            if key.lower() == "timecode" and _TIMECODE.match(value.strip()):
                return value.strip()
    return None


def timecode_later(timecode: str, seconds: float, rate: Fraction) -> str | None:
    """The timecode of the first frame at or after `seconds` past `timecode`, at the frame
    rate `rate` (that of an output cut from `seconds` in: a cut keeps that frame, to within
    a microsecond, as sources._Window does); None where it cannot be told: a drop-frame timecode moved on
    (its count skips frame numbers), a rate with no whole number of frames a second."""
    if seconds <= 0:
        return timecode
    match = _TIMECODE.match(timecode)
    fps = round(rate)
    # (29.97 FPS counts 30 frame numbers a second: its frames count, not the seconds)
    if match is None or match.group(4) != ":" or not fps or abs(rate / fps - 1) > Fraction(1, 900):
        return None
    hours, minutes, secs, _, frames = match.groups()
    later = math.ceil(float(seconds * rate) - 1e-6 * float(rate))
    count = ((int(hours) * 60 + int(minutes)) * 60 + int(secs)) * fps + int(frames) + later
    count %= 24 * 3600 * fps  # (a timecode goes round at midnight)
    frames, count = count % fps, count // fps
    return f"{count // 3600:02d}:{count // 60 % 60:02d}:{count % 60:02d}:{frames:02d}"


# A track's tags that describe how a file was made or count what it holds (Matroska's
# statistics, "BPS-eng", ...): the muxer writes its own.
_TRACK_MADE_BY = {"encoder", "vendor_id", "duration", "bps", "number_of_frames", "number_of_bytes"}


def keep_track_tags(template, stream) -> None:
    """Give an output track (before its first packet) its input track's tags (language,
    title, ...) and disposition (default, commentary, ...), as FFmpeg's stream copy does."""
    for key, value in template.metadata.items():
        name = key.lower()
        if name.split("-")[0] not in _TRACK_MADE_BY and not name.startswith("_statistics"):
            # (MOV and MP4 read a track's title as "name", and write it from "title")
            stream.metadata["title" if name == "name" and "title" not in template.metadata else key] = value
    stream.disposition = template.disposition


def keep_tags(output, video_stream, tags: dict[str, str], timecode: str | None) -> None:
    """Give an output container (before its first packet) the input's tags, and its
    picture the start timecode (from which MOV and MP4 make their tmcd track)."""
    if output.format.name == "mpegts":
        tags = ts_service_tags(tags)
    output.metadata.update(tags)
    if timecode is not None:
        video_stream.metadata["timecode"] = timecode


def _cut_to_bytes(text: str, size: int) -> str:
    """`text` cut to at most `size` bytes of UTF-8, between characters."""
    return text.encode()[:size].decode(errors="ignore")


def ts_service_tags(tags: dict[str, str]) -> dict[str, str]:
    """`tags` with the names MPEG-TS gives its service cut to fit: the service descriptor
    holds 255 bytes for its type, the provider's name (FFmpeg's by default) and the
    service's (the `service_name` tag, else the title), each with its length and a mark
    before text that is not ASCII. Longer names failed the muxer or made a broken table."""
    def size(text: str) -> int:
        return len(text.encode()) + (not text.isascii())

    tags = dict(tags)
    keys = {key.lower(): key for key in tags}
    provider = tags.get(keys.get("service_provider", ""), "FFmpeg")
    if "service_provider" in keys:
        provider = tags[keys["service_provider"]] = _cut_to_bytes(provider, 63)
    room = 255 - 3 - size(provider)  # (the type, and the two lengths)
    for key in ("service_name", "title"):
        if key in keys:
            name = tags[keys[key]]
            tags[keys[key]] = _cut_to_bytes(name, room - (not name.isascii()))
    return tags
