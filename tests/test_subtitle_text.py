"""Subtitle lines converted to another text codec: cleaned for it, and MP4 text's spans."""
from vidstyle.subtitle_text import OPEN_ENDED_MS, Line, Spans, UntilNext, for_codec


def line(start, end, text, style="Default", order=0):
    return Line.of_event(f"{order},0,{style},,0,0,0,,{text}", start, end)


def shown(spans):
    return [(s.start, s.end, s.text) for s in spans]


def test_an_event_splits_into_its_fields_and_text_commas_and_all():
    got = Line.of_event("3,0,Sign,,0,0,0,,{\\pos(10,20)}Hello, world", 100, 900)
    assert (got.fields, got.text, got.style) == ("3,0,Sign,,0,0,0,", "{\\pos(10,20)}Hello, world", "Sign")
    assert got.event() == b"3,0,Sign,,0,0,0,,{\\pos(10,20)}Hello, world"


def test_webvtt_text_is_escaped_outside_override_blocks():
    got = for_codec(line(0, 1, "I <3 {\\i1}Tom & Jerry{\\i0} -> x"), "webvtt")
    assert got.text == "I &lt;3 {\\i1}Tom &amp; Jerry{\\i0} -&gt; x"
    assert for_codec(line(0, 1, "I <3 you"), "mov_text").text == "I <3 you"  # (MP4 text is plain)


def test_drawings_are_left_out_where_only_ass_draws_them():
    drawing = "{\\p1}m 0 0 l 100 0 100 100 0 100{\\p0}"
    assert for_codec(line(0, 1, drawing), "mov_text") is None  # (nothing left to show)
    assert for_codec(line(0, 1, drawing), "webvtt") is None
    assert for_codec(line(0, 1, drawing), "ass").text == drawing
    got = for_codec(line(0, 1, "Sign {\\p2}m 0 0 l 5 5{\\p0}here {\\pos(1,2)}now"), "mov_text")
    assert got.text == "Sign {\\p2}{\\p0}here {\\pos(1,2)}now"  # (\pos is not a drawing)
    assert for_codec(line(0, 1, "{\\i1} \\N "), "mov_text") is None


def test_lines_that_do_not_overlap_come_as_they_are_once_the_next_one_starts():
    spans = Spans()
    assert spans.add(line(100, 600, "Hello")) == []
    assert shown(spans.add(line(1000, 1500, "World"))) == [(100, 600, "Hello")]
    assert shown(spans.finish()) == [(1000, 1500, "World")]


def test_overlapping_lines_are_cut_into_spans_showing_every_line_on_screen():
    spans = Spans()
    out = spans.add(line(500, 3000, "A"))
    out += spans.add(line(1000, 2000, "B", style="Sign"))
    out += spans.add(line(3500, 4000, "C"))
    out += spans.finish()
    assert shown(out) == [(500, 1000, "A"), (1000, 2000, "A\\N{\\rSign}B"), (2000, 3000, "A"),
                          (3500, 4000, "C")]


def test_lines_starting_together_share_one_span_and_late_or_empty_lines_do_not_go_back():
    spans = Spans()
    out = spans.add(line(500, 1500, "top"))
    out += spans.add(line(500, 1500, "bottom"))
    out += spans.add(line(2000, 2000, "no length"))  # (would not show)
    out += spans.add(line(2500, 3000, "next"))
    out += spans.add(line(2600, 3200, "overlapping"))
    out += spans.add(line(2000, 2400, "out of order"))  # (ends before the spans given: nothing left)
    out += spans.add(line(2100, 3100, "late"))  # (starts where the spans given end, 2600)
    out += spans.finish()
    assert shown(out) == [(500, 1500, "top\\N{\\rDefault}bottom"), (2500, 2600, "next"),
                          (2600, 3000, "next\\N{\\rDefault}overlapping\\N{\\rDefault}late"),
                          (3000, 3100, "overlapping\\N{\\rDefault}late"), (3100, 3200, "overlapping")]


def test_lines_of_unknown_length_last_until_the_next_line_or_at_most_a_while():
    """(packets with no duration, or "until the next" in the line itself, made lines of no
    length, which MP4 text left out)"""
    held = UntilNext()
    out = held.add(line(100, None, "open"))
    assert out == []
    out += held.add(line(100, 400, "known, same start"))
    out += held.add(line(900, None, "open again"))
    out += held.add(line(900 + OPEN_ENDED_MS + 2000, 9000, "much later"))
    out += held.finish()
    assert shown(out) == [(100, 400, "known, same start"), (100, 900, "open"),
                          (900, 900 + OPEN_ENDED_MS, "open again"), (7900, 9000, "much later")]
    assert shown(UntilNext().add(line(0, 10, "known"))) == [(0, 10, "known")]
    assert shown(UntilNext().finish()) == []
