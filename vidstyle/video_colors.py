"""Which YUV <-> RGB matrix, range and colour tags a video stream uses.

A stream's tags decide; an untagged stream is read the way players read one:
BT.709 from 720 lines up, BT.601 below, limited range. Outputs are converted
with the same matrix as their input and tagged, so that no player has to guess
(untagged HD converted with swscale's default BT.601 showed greens ~24 levels
too dark in players that assume BT.709).
"""
from __future__ import annotations

from dataclasses import dataclass

# FFmpeg's AVColorSpace / AVColorPrimaries / AVColorTransferCharacteristic / AVColorRange codes.
UNSPECIFIED = 2
BT709, BT470BG, SMPTE170M, SMPTE240M, FCC, BT2020_NCL, BT2020_CL = 1, 5, 6, 7, 4, 9, 10
RANGE_LIMITED, RANGE_FULL = 1, 2
SMPTE2084, ARIB_STD_B67 = 16, 18  # the HDR transfers: PQ (HDR10, Dolby Vision) and HLG (phones, TV)
_HDR_NAMES = {SMPTE2084: "PQ", ARIB_STD_B67: "HLG"}
FULL_RANGE_FORMATS = ("yuvj420p", "yuvj422p", "yuvj444p")  # full range without saying so
# swscale's matrix for each AVColorSpace it knows (its own SWS_CS_* numbering).
_SWS_MATRIX = {BT709: 1, BT470BG: 5, SMPTE170M: 5, SMPTE240M: 7, FCC: 4, BT2020_NCL: 9, BT2020_CL: 9}


@dataclass(frozen=True)
class VideoColors:
    matrix: int  # AVColorSpace
    range: int  # AVColorRange: limited or full
    primaries: int = UNSPECIFIED  # tags copied through (the RGB frames stay in them)
    transfer: int = UNSPECIFIED

    @classmethod
    def for_height(cls, height: int) -> "VideoColors":
        """What players assume for an untagged stream of this height."""
        if height >= 720:
            return cls(BT709, RANGE_LIMITED, BT709, BT709)
        return cls(SMPTE170M, RANGE_LIMITED, SMPTE170M, SMPTE170M)

    @classmethod
    def of_stream(cls, codec_context) -> "VideoColors":
        """The tags of a decoder's stream, with the untagged defaults filled in."""
        guess = cls.for_height(codec_context.height or 0)
        matrix = codec_context.colorspace if codec_context.colorspace in _SWS_MATRIX else guess.matrix
        full = codec_context.color_range == RANGE_FULL or codec_context.pix_fmt in FULL_RANGE_FORMATS
        tagged = (codec_context.color_primaries != UNSPECIFIED, codec_context.color_trc != UNSPECIFIED)
        return cls(matrix, RANGE_FULL if full else RANGE_LIMITED,
                   codec_context.color_primaries if tagged[0] else guess.primaries,
                   codec_context.color_trc if tagged[1] else guess.transfer)

    def for_output(self) -> "VideoColors":
        """The same colours in limited range, which every player reads right."""
        return VideoColors(self.matrix, RANGE_LIMITED, self.primaries, self.transfer)

    @property
    def hdr(self) -> str | None:
        """The HDR transfer's name ("PQ", "HLG"), or None for SDR video."""
        return _HDR_NAMES.get(self.transfer)

    @property
    def sws_matrix(self) -> int:
        return _SWS_MATRIX[self.matrix]

    def tag(self, codec_context) -> None:
        """Write these tags into an encoder's context (before it opens)."""
        codec_context.colorspace = self.matrix
        codec_context.color_range = self.range
        codec_context.color_primaries = self.primaries
        codec_context.color_trc = self.transfer


SDR_BT709 = VideoColors(BT709, RANGE_LIMITED, BT709, BT709)  # what tone-mapped HDR frames are in
