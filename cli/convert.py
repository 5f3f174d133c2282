"""`vidstyle convert`: stylize video files."""
from __future__ import annotations

import argparse
import sys
import time

from vidstyle.deinterlace import MODES as DEINTERLACE_MODES
from vidstyle.inputs import IMAGE_SUFFIXES, VIDEO_SUFFIXES
from vidstyle.sinks import CODECS, X264_PRESETS, codec_for_output  # no av or torch: cheap to import
from vidstyle.errors import VidstyleError
from vidstyle.sequences import (check_frame_rate, is_sequence, names_numbered_frames, parse_frame_rate,
                                sequence_files)
from vidstyle.tone_map import HDR_MODES

from .common import (OUTPUT_DEFAULT_HELP, add_each_arg, add_existing_args, add_model_args, add_steady_arg,
                     add_workers_arg, blend_jobs, build_stylizer, build_targets, check_style_args,
                     default_output, each_style_jobs, fail, interrupted_exit_code, names_a_folder, os_error,
                     non_negative_float, plan_outputs, refuse_overwriting_sources, time_value, unit_float)
from .progress import Progress
from .resume_key import model_digest

EXAMPLES = """examples:
  vidstyle convert clip.mp4 --style starry.jpg -o clip_starry.mp4
  vidstyle convert clip.mp4 --style starry.jpg   # the same: clip_starry.mp4 in this folder
  vidstyle convert clip.mp4 --style starry.jpg -o - | ffplay -   # into another program
  vidstyle convert clips/ --style wave.jpg -o out/ --size 360
  vidstyle convert clips/ --style wave.jpg -o out/ --size 360 --skip-existing   # go on after a stop
  vidstyle convert film.mp4 --style wave.jpg -o film_wave.mp4   # again after Ctrl-C: goes on from there
  vidstyle convert clip.mp4 --style paintings/ --each -o tries/   # one video per painting
  vidstyle convert a.mp4 b.mp4 -s wave.jpg -s scream.jpg --weights 0.7 0.3 -o out/
  vidstyle convert clip.mp4 --style wave.jpg --steady 0.7 -o clip_wave.mp4   # less shimmer
  vidstyle convert clip.mp4 --style wave.jpg --start 1:30 --duration 5 -o try.mp4  # a preview
  vidstyle convert clip.mp4 --style wave.jpg --codec prores -o clip_wave.mov   # for an editor
  vidstyle convert clip.mp4 --style wave.jpg -o clip_wave.webm   # VP9 and Opus, for the web
  vidstyle convert clip.mp4 --style wave.jpg --fade-in 2 --fade-out 2 -o clip_wave.mp4
  vidstyle convert renders/shot_%04d.png --frame-rate 24 --style wave.jpg -o shot_wave.mp4
  vidstyle convert clip.mp4 --style wave.jpg -o frames/wave_%04d.png   # an image sequence out
  vidstyle convert clip.mp4 -s wave.jpg --style-at 0:12 scream.jpg --transition 2 -o two.mp4
  vidstyle convert song.mp4 --style wave.jpg --audio-pulse 0.6 -o pulse.mp4   # style on the beat
"""


def output_exists(dst) -> bool:
    """A finished output is there (a sequence's frames only appear once all are written)."""
    return bool(sequence_files(dst)) if is_sequence(dst) else dst.exists()


def frame_rate_value(text: str):
    try:
        rate = parse_frame_rate(text)
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"not a frame rate: {text!r} (e.g. 24, 29.97 or 30000/1001)") \
            from None
    try:
        check_frame_rate(rate)
    except VidstyleError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return rate


def register(sub) -> None:
    p = sub.add_parser("convert", help="stylize video files (audio is copied through)",
                       description="Stylize one or more video files; every frame, timestamp, audio "
                                   "track and subtitle track (where the file type holds it, text ones "
                                   "converted to its own where not) is kept.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="video files, folders of videos, or numbered image sequences named the way "
                        "ffmpeg names them (renders/shot_%%04d.png for shot_0001.png, ...)")
    p.add_argument("-o", "--output",
                   help="output file (one input) or folder (several inputs or a folder); a name like "
                        "out/shot_%%04d.png writes an image sequence (PNG, JPEG, TIFF, WebP or BMP); "
                        "- writes Matroska to the standard output, for a pipe"
                        + OUTPUT_DEFAULT_HELP.format(suffix=".mp4 (or the codec's file type)"))
    add_existing_args(p, "inputs whose output exists", "a batch")
    add_each_arg(p, "convert", ".mp4 (or the codec's file type)")
    p.add_argument("--no-resume", action="store_true",
                   help="start from the beginning even where a stopped run of the same conversion "
                        "kept its part (by default Ctrl-C or SIGTERM after a minute keeps the part "
                        "written, and the same command goes on from there)")
    add_model_args(p, batch=True)
    add_steady_arg(p)
    add_workers_arg(p)
    g = p.add_argument_group("fades and pulse (of each output)")
    g.add_argument("--fade-in", type=non_negative_float, default=0.0, metavar="SECONDS",
                   help="start on the input picture and bring the style in over this many seconds "
                        "(the strokes grow with alpha as the picture dissolves into them; default "
                        "0: styled from the first frame)")
    g.add_argument("--fade-out", type=non_negative_float, default=0.0, metavar="SECONDS",
                   help="take the style out over the last SECONDS, ending on the input picture")
    g.add_argument("--audio-pulse", type=unit_float, default=0.0, metavar="S",
                   help="0..1: the style breathes with the soundtrack, alpha rising with its loudness "
                        "(1: no style in the quiet parts, full style at the loudest; 0.3: a swell on "
                        "the beats); needs an audio track (default 0: off)")
    g = p.add_argument_group("style cues (a new style at a time of each input)")
    g.add_argument("--style-at", nargs=2, action="append", metavar=("TIME", "IMAGE"),
                   help="switch to the style IMAGE at TIME (seconds or [h:]mm:ss of the input, also "
                        "with --start); repeat for more; the one --style is the style until the "
                        "first cue")
    g.add_argument("--cues", metavar="FILE",
                   help="style cues from a text file, one per line: TIME IMAGE (e.g. '1:05.5 "
                        "paintings/scream.jpg'; image paths relative to the file's folder; # comments)")
    g.add_argument("--transition", type=non_negative_float, default=0.0, metavar="SECONDS",
                   help="cross-fade into each cued style over this many seconds (default 0: a cut)")
    g = p.add_argument_group("part of the input (seconds or [h:]mm:ss; audio is cut to match)")
    g.add_argument("--start", type=time_value, default=0.0, metavar="TIME",
                   help="begin at this time of each input (default: its beginning)")
    end = g.add_mutually_exclusive_group()
    end.add_argument("--duration", type=time_value, metavar="TIME",
                     help="convert this much of each input (e.g. a few seconds to try a style)")
    end.add_argument("--end", type=time_value, metavar="TIME", help="stop at this time of each input")
    p.add_argument("--deinterlace", choices=list(DEINTERLACE_MODES), default="auto",
                   help="rebuild interlaced frames (TV, DV, camcorder footage) before stylizing, "
                        "so moving edges are not painted as combs of lines: auto (default) does the "
                        "frames flagged interlaced, on does every frame (for footage flagged wrong), "
                        "off none")
    p.add_argument("--frame-rate", type=frame_rate_value, metavar="FPS",
                   help="frame rate of image-sequence inputs: 24, 29.97 or 30000/1001 (default 25; "
                        "23.976, 29.97, 59.94 are the NTSC rates, 24000/1001 and so on)")
    p.add_argument("--preview", action="store_true",
                   help="show the frames in a window as they are written (a dozen a second at most); "
                        "q or Esc closes the window, the conversion goes on")
    p.add_argument("--hdr", choices=list(HDR_MODES), default="sdr",
                   help="HDR video (PQ, HLG: phones, HDR10): sdr (default) tone-maps it to SDR BT.709, "
                        "so the painting's colours come out as they look; keep stylizes it in its HDR "
                        "coding and keeps its HDR tags")
    g = p.add_argument_group("encoding")
    g.add_argument("--codec", choices=list(CODECS),
                   help="h264 (the default, except for .webm outputs; plays everywhere), h265 (smaller "
                        "files, slower to encode), prores (ProRes 422 HQ, 10-bit, for editing and "
                        "grading; .mov or .mkv, the folder default .mov) or vp9 (the default for "
                        ".webm; for the web, audio as Opus; .webm or .mkv, the folder default .webm)")
    g.add_argument("--crf", type=int, metavar="N",
                   help="quality: 0 best (lossless for H.264) .. 51 worst (63 for VP9); 18 looks like "
                        "the input (default 18; VP9 31, about the same size and quality)")
    g.add_argument("--preset", choices=X264_PRESETS,
                   help="encoder speed (H.264, H.265; VP9's deadline and cpu-used in the same order): "
                        "faster presets leave the model more CPU but make larger files (default veryfast)")
    p.set_defaults(run=run)


def segment_from_args(args):
    """The part of each input to convert (vidstyle.sources.Segment), or None for all of it."""
    from vidstyle.errors import VidstyleError
    from vidstyle.sources import Segment

    duration = args.duration
    if args.end is not None:
        if args.end <= args.start:
            raise VidstyleError(f"--end ({args.end:g} s) must be after --start ({args.start:g} s)")
        duration = args.end - args.start
    if not args.start and duration is None:
        return None
    return Segment(args.start, duration)


def shows_frames(preview, name: str):
    """convert_video's on_frame for --preview (None without it)."""
    if preview is None:
        return None
    return lambda index, image: preview.show(image, [f"{name}  frame {index + 1}"])


def read_cue_file(path) -> list:
    """(where, time text, image path) per cue line of a --cues file; image paths are taken
    from the file's folder."""
    from pathlib import Path

    from vidstyle.errors import VidstyleError

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # (a byte-order mark from Windows editors is skipped)
    except UnicodeDecodeError:
        raise VidstyleError(f"cannot read the cue file {path}: it is not UTF-8 text (save it as UTF-8)") \
            from None
    except OSError as exc:
        raise VidstyleError(f"cannot read the cue file {path}: {exc.strerror}") from None
    cues = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split(None, 1)
        if len(parts) != 2:
            raise VidstyleError(f"{path}:{number}: a cue is TIME IMAGE, e.g. '1:05 scream.jpg'")
        image = parts[1].strip()
        if len(image) > 1 and image[0] == image[-1] and image[0] in "\"'":  # "my style.png"
            image = image[1:-1]
        cues.append((f"{path}:{number}", parts[0], path.parent / image))
    return cues


def style_cues_from_args(args, controls) -> list:
    """--style-at's and --cues' cues as (seconds, image path), in order of time, refused
    now if bad: before the model loads."""
    from pathlib import Path

    from vidstyle.controls import check_readable
    from vidstyle.errors import VidstyleError

    given = [(f"--style-at {text} {image}", text, Path(image)) for text, image in args.style_at or []]
    if args.cues:
        given += read_cue_file(args.cues)
    if not given:
        if args.transition:
            raise VidstyleError("--transition cross-fades into the styles of --style-at or --cues; "
                                "without a cue there is nothing to fade into")
        return []
    if len(controls.styles) != 1 or controls.mask is not None or controls.color == "match":
        raise VidstyleError("style cues switch from one --style to the next, so they take one --style "
                            "and no --mask, --weights or --preserve-color match "
                            "(--preserve-color luminance works)")
    cues = []
    for where, text, image in given:
        try:
            seconds = time_value(text)
        except argparse.ArgumentTypeError as exc:
            raise VidstyleError(f"{where}: {exc}") from None
        if seconds <= 0:
            raise VidstyleError(f"{where}: the --style is the style at 0; a cue's time must be later")
        if image.is_dir():
            raise VidstyleError(f"{where}: name a style image, not a folder")
        if not image.is_file():
            raise VidstyleError(f"{where}: style image not found: {image}")
        cues.append((seconds, image, where))
    cues.sort(key=lambda cue: cue[0])
    for (a, _, first), (b, _, second) in zip(cues, cues[1:]):
        if a == b:
            raise VidstyleError(f"two style cues at {a:g} s ({first}; {second})")
    check_readable([image for _, image, _ in cues])
    return [(seconds, image) for seconds, image, _ in cues]


def damage_warning(report) -> str | None:
    """What a damaged or cut-short input cost, or None when every listed frame was decoded."""
    parts = []
    if report.damaged_packets:
        parts.append(f"{report.damaged_packets} damaged packet(s) skipped")
    if report.missing_frames:
        parts.append(f"{report.frames} of the {report.listed_frames} frames it lists could be decoded"
                     + ("" if report.damaged_packets else " (is the file cut short?)"))
    if report.ended_early:
        of = "asked for" if report.cut_frame_seconds else "it lists"
        parts.append(f"{report.decoded_seconds:.1f} s of the {report.listed_seconds:.1f} s {of} could be "
                     "decoded (is the file cut short?)")
    return "; ".join(parts) or None


def size_change_warning(report) -> str | None:
    """That the input's frame size changed midway, and what became of those frames."""
    if not report.resized_frames:
        return None
    index, (w, h), (vw, vh) = report.first_resized
    return (f"the frame size changed midway ({w}x{h} from frame {index + 1}, the video being "
            f"{vw}x{vh}); {report.resized_frames} frame(s) were scaled to {vw}x{vh}, with black "
            "bars where their shape differs")


def hdr_warning(report) -> str | None:
    """What becomes of an HDR input kept in its HDR coding (--hdr keep); None otherwise."""
    if not report.hdr or report.tone_mapped_from_nits:
        return None
    return (f"HDR video ({report.hdr}) is stylized in its HDR coding, without tone mapping, from "
            "8-bit frames, and tagged HDR like the input: on an HDR screen its colours will not "
            "match the painting's")


SLOW_HINT_AFTER_S = 15.0  # seconds into a file: its rate has settled
SLOW_HINT_LEFT_S = 600.0  # a file with more than this to go at that rate gets the hint


def slow_run_hint(seconds_left: float, model_name: str, device: str, name: str = "this file") -> str | None:
    """A note for a long conversion with the full model on a CPU, where the lite and tiny
    models ran about ten times as fast (benchmarks/RESULTS.md); None otherwise."""
    if seconds_left < SLOW_HINT_LEFT_S or model_name != "full" or device != "cpu":
        return None
    minutes = round(seconds_left / 60)
    left = f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
    return (f"note: about {left} to go for {name} at this speed; on a CPU --model lite or --model tiny "
            "runs about ten times as fast (coarser strokes)")


class SlowRunHint:
    """Wraps each file's progress callback; says `slow_run_hint` once per run, once a file's
    rate has settled."""

    def __init__(self, model_name: str, device: str, write, clock=time.monotonic):
        self.model_name, self.device, self.write, self.clock = model_name, device, write, clock
        self.said = False

    def wrap(self, on_progress, name: str = "this file"):
        started = self.clock()

        def with_hint(done: int, total: int, fps: float) -> None:
            on_progress(done, total, fps)
            if self.said or not total or not fps or self.clock() - started < SLOW_HINT_AFTER_S:
                return
            hint = slow_run_hint((total - done) / fps, self.model_name, self.device, name)
            if hint:
                self.said = True
                self.write(f"vidstyle: {hint}")

        return with_hint


def stopped_part_text(part) -> str:
    """'1,234 frames (12:34.5 of the input)' for a vidstyle.resume.StoppedPart."""
    minutes, seconds = divmod(max(0.0, part.seconds), 60)
    frames = f"{part.frames:,} frame" + ("s" if part.frames != 1 else "")
    return f"{frames} ({int(minutes)}:{seconds:04.1f} of the input)"


def counting_from(made: int, on_progress):
    """A progress callback for a run going on from a stopped part of `made` frames: the
    bar counts the whole output (the rate stays this run's)."""
    return lambda done, total, fps: on_progress(done + made, total + made if total else 0, fps)


def summary_lines(r, stylizer, to_stdout: bool) -> list:
    """A finished conversion's summary line and its warnings, as (text, stream) pairs."""
    summary = sys.stderr if to_stdout else sys.stdout  # (the standard output carries the video)
    audio = "no audio" if r.audio == "none" else f"audio {r.audio}"
    if r.subtitles:
        audio += f", {r.subtitles}"
    if r.resumed is not None and not r.frames:  # stopped while finishing: the part was whole
        return [(f"{r.output}: {r.resumed.frames} frames {r.width}x{r.height}, all made by the "
                 f"stopped run, {audio}", summary)]
    count = f"{r.frames} frame" + ("s" if r.frames != 1 else "")
    if r.resumed is not None:
        count = f"{r.resumed.frames + r.frames} frames ({r.resumed.frames} from the stopped run)"
    steady = f", --steady {1000 * sum(r.steady_times) / r.frames:.1f} ms/frame" if r.steady_times else ""
    notes = " deinterlaced" if r.deinterlaced_frames else ""
    if r.tone_mapped_from_nits:
        notes += f" tone-mapped from {r.hdr} ({r.tone_mapped_from_nits:g} nits) to SDR"
    if r.clock_restarts:
        notes += f" from {r.clock_restarts + 1} parts joined end to end (their timestamps restart)"
    name = "the standard output" if to_stdout else r.output
    lines = [(f"{name}: {count} {r.width}x{r.height}{notes}, {r.fps:.1f} FPS "
              f"({stylizer.model_name} model alone {r.model_fps:.1f} FPS{steady}), {audio}", summary)]
    return lines + [(f"vidstyle: warning: {r.input}: {warning}", sys.stderr)
                    for warning in (damage_warning(r), size_change_warning(r), hdr_warning(r)) if warning]


def plan_resume_for(args, src, dst, segment, model: str, write, styles):
    """vidstyle.resume's plan for one conversion (None for a GIF, which a stop does not
    keep), saying what it will do. `model`:
    resume_key.model_digest; `styles`: the job's."""
    from vidstyle.gif_sink import is_gif
    from vidstyle.outputs import STANDARD_OUTPUT
    from vidstyle.resume import plan_resume

    from .resume_key import resume_key, what_changed

    if is_gif(dst) or dst == STANDARD_OUTPUT:  # (a pipe's reader has had what was written)
        return None
    plan = plan_resume(dst, resume_key(args, src, segment, model, styles), fresh=args.no_resume)
    if dst.exists() and not args.overwrite:
        return plan  # (refused as it is)
    if plan.previous is not None:
        write(f"vidstyle: {dst.name}: going on from the stopped run, which made "
              f"{stopped_part_text(plan.previous)}")
    elif plan.stale is not None and plan.stale.key is None:
        write(f"vidstyle: {dst.name}: starting over (the stopped run's record cannot be read, or an "
              "older vidstyle made it); its part is removed when this run finishes")
    elif plan.stale is not None:
        why = "--no-resume" if args.no_resume else what_changed(plan.stale.key, plan.key)
        write(f"vidstyle: {dst.name}: starting over ({why}); the stopped run's part "
              f"({stopped_part_text(plan.stale)}) is removed when this run finishes")
    return plan


def standard_output_plan(args) -> list:
    """`-o -`: the one (input, outputs.STANDARD_OUTPUT) pair, refused now where the standard
    output cannot take it (a terminal is refused earlier, in run)."""
    from vidstyle.errors import VidstyleError
    from vidstyle.inputs import expand_files
    from vidstyle.outputs import STANDARD_OUTPUT

    if args.each:
        raise VidstyleError("--each writes a video per style, and -o - (the standard output) takes one")
    files, folder_input = expand_files(args.inputs, VIDEO_SUFFIXES, "input", once=True, sequences=True)
    if folder_input or len(files) != 1:
        raise VidstyleError("-o - (the standard output) takes one input file")
    return [(files[0], STANDARD_OUTPUT)]


def refuse_blends_with_each(args) -> None:
    """--each converts with one style at a time: the options that blend or switch styles are refused."""
    from vidstyle.errors import VidstyleError

    if args.weights or args.mask or args.style_at or args.cues:
        raise VidstyleError("--each converts with one style at a time; --weights and --mask blend styles "
                            "and --style-at and --cues switch them: leave them out")


def each_style_plan(args, pairs: list, controls) -> list:
    """--each: (input, output, controls of one style) for every input and style; refused
    now if -o cannot hold them."""
    from vidstyle.errors import VidstyleError
    from vidstyle.outputs import refuse_inputs_as_outputs

    if not names_a_folder(args.output):
        raise VidstyleError(f"--each writes one video per input and style: -o must be a folder, not "
                            f"{args.output} (end a folder name that has a dot with a slash)")
    jobs = each_style_jobs(pairs, controls)
    refuse_inputs_as_outputs([(src, dst) for src, dst, _ in jobs])
    return jobs


def run(args) -> int:
    from vidstyle.errors import VidstyleError
    from vidstyle.outputs import OutputTaken, refuse_inputs_as_outputs
    from vidstyle.pipeline import convert_video
    from vidstyle.gif_sink import is_gif
    from vidstyle.sequence_sink import check_sequence_output
    from vidstyle.sinks import check_container, check_encoding

    if args.output == "-" and (sys.stdout is None or sys.stdout.isatty()):  # (before any window opens)
        where = "closed" if sys.stdout is None else "this terminal"
        raise VidstyleError(f"-o - writes the video to the standard output, which is {where}: pipe it "
                            "into a program (... -o - | ffplay -)")
    preview = None
    if args.preview:  # first: OpenCV before PyAV (the other way round its window hangs)
        from vidstyle.convert_preview import ConvertPreview
        from vidstyle.live import PreviewWindow

        preview = ConvertPreview(PreviewWindow("vidstyle convert"))
    if args.codec:
        check_encoding(args.crf, args.preset, args.codec)
    to_stdout = args.output == "-"
    named_after_styles = default_output(args)
    if to_stdout:
        pairs = standard_output_plan(args)
    else:
        pairs = plan_outputs(args.inputs, args.output, VIDEO_SUFFIXES,
                             CODECS[args.codec or "h264"].default_suffix, "input", sequences=True,
                             named_after=args.each or named_after_styles)
    if args.frame_rate is not None and not any(is_sequence(src) for src, _ in pairs):
        raise VidstyleError("--frame-rate is for image-sequence inputs (frames/shot_%04d.png); "
                            "video files keep their own")
    if args.each:  # (said first: a --mask given a folder of three would be "needs two styles")
        refuse_blends_with_each(args)
    controls = check_style_args(args, folders=args.each)  # a typo is an error even when every output exists
    if args.each:
        jobs = each_style_plan(args, pairs, controls)
        pairs = [(src, dst) for src, dst, _ in jobs]
    else:
        jobs = [(src, dst, controls) for src, dst in pairs]
    cues = style_cues_from_args(args, controls)
    if named_after_styles and not args.each:
        jobs = blend_jobs(pairs, controls, cued=[path for _, path in cues])
        pairs = [(src, dst) for src, dst, _ in jobs]
        refuse_inputs_as_outputs(pairs)
    if not to_stdout:
        refuse_overwriting_sources(jobs, [("a cue's style image", path) for _, path in cues]
                                   + [("the cue list", args.cues)])
    for _, dst in pairs:  # an output that cannot hold the codec is refused before any work
        if dst.suffix.lower() in IMAGE_SUFFIXES and not names_numbered_frames(dst):
            raise VidstyleError(f"-o {dst.name} is one image; a video goes in a video file (.mp4, .mkv, "
                                f".mov, .webm), an animated GIF (.gif) or numbered frames "
                                f"({dst.stem}_%04d{dst.suffix})")
        if (names_numbered_frames(dst) and not is_sequence(dst) and not is_gif(dst)
                and dst.suffix.lower() not in VIDEO_SUFFIXES):
            from vidstyle.sequence_sink import SEQUENCE_SUFFIXES

            raise VidstyleError(f"-o {dst.name} names numbered frames, but vidstyle writes image sequences "
                                f"as {', '.join(SEQUENCE_SUFFIXES)}, not {dst.suffix}")
        if is_sequence(dst) or is_gif(dst):
            if args.codec or args.crf is not None or args.preset:
                kind = ("an animated GIF" if is_gif(dst) else
                        "an image sequence (its file type sets the format)")
                raise VidstyleError(f"--codec, --crf and --preset are for video outputs; {dst} is {kind}")
            if is_sequence(dst):
                check_sequence_output(dst, args.overwrite or args.skip_existing)
            continue
        codec = codec_for_output(dst, args.codec)
        check_encoding(args.crf, args.preset, codec)
        if not to_stdout:  # (Matroska holds every codec)
            check_container(dst, codec)  # (writes nothing, so an existing file is safe)
    segment = segment_from_args(args)
    if args.skip_existing and not to_stdout:
        skipped = [dst for _, dst, _ in jobs if output_exists(dst)]
        jobs = [job for job in jobs if not output_exists(job[1])]
        pairs = [(src, dst) for src, dst, _ in jobs]
        if skipped:
            what = "output(s) that exist" if args.each else "input(s) whose output exists"
            print(f"vidstyle: skipping {len(skipped)} {what}", file=sys.stderr)
        if not pairs:
            return 0
    one_input = len({src for src, _ in pairs}) == 1  # (--each: one input, several outputs)
    if args.audio_pulse and one_input:  # (several files: each one without audio fails alone)
        from vidstyle.audio_pulse import check_has_audio

        check_has_audio(pairs[0][0])
    if segment and one_input:  # a start past the end is refused before the model loads
        from vidstyle.sources import VideoFileSource

        VideoFileSource(pairs[0][0], segment=segment, frame_rate=args.frame_rate).close()
    stylizer, cache = build_stylizer(args)
    schedule = None
    if cues:
        from vidstyle.style_schedule import StyleSchedule

        schedule = StyleSchedule(cache.stats_for_path(controls.styles[0]),
                                 [(t, cache.stats_for_path(path)) for t, path in cues], args.transition)
    model = model_digest(stylizer.model_name, args.decoder)
    failures, skipped, reports, stopped, unprintable = 0, 0, [], None, None
    try:
        with Progress(len(pairs)) as progress:
            hint = SlowRunHint(stylizer.model_name, stylizer.device.type, progress.write)
            for src, dst, job_controls in jobs:
                if args.skip_existing and len(pairs) > 1 and output_exists(dst):
                    skipped += 1  # (made meanwhile: by another run on the same folder, say)
                    progress.write(f"vidstyle: {dst.name}: skipped, made meanwhile by another run")
                    progress.skip()
                    continue
                close = None
                finished = False
                try:
                    resumable = plan_resume_for(args, src, dst, segment, model, progress.write,
                                                job_controls.styles)
                    part = segment
                    if resumable is not None and resumable.previous is not None:
                        from vidstyle.resume import rest_of

                        part = rest_of(segment, resumable.previous) or segment
                    # Fresh targets per file: colour references and mask videos restart.
                    target, close = build_targets(job_controls, stylizer, cache, part)
                    name = dst.name if args.each else src.name  # (--each: one input, many outputs)
                    with progress.file(name) as on_progress:
                        if resumable is not None and resumable.previous is not None:
                            on_progress = counting_from(resumable.previous.frames, on_progress)
                        report = convert_video(src, dst, stylizer, target, batch=args.batch,
                                               size=args.size, overwrite=args.overwrite,
                                               on_progress=hint.wrap(on_progress, name), crf=args.crf,
                                               preset=args.preset, workers=args.workers,
                                               steady=args.steady, segment=segment,
                                               codec=codec_for_output(dst, args.codec),
                                               fade_in=args.fade_in, fade_out=args.fade_out,
                                               deinterlace=args.deinterlace, hdr=args.hdr,
                                               frame_rate=args.frame_rate, style_schedule=schedule,
                                               audio_pulse=args.audio_pulse,
                                               on_frame=shows_frames(preview, name),
                                               resumable=resumable)
                    reports.append(report)
                    finished = True
                except KeyboardInterrupt as stop:
                    kept = getattr(stop, "kept_part", None)
                    if kept is None:
                        keep_after_s = getattr(stop, "too_early_to_keep", None)
                        if keep_after_s is not None:  # (main's stop line says it)
                            first = "minute" if keep_after_s == 60 else f"{keep_after_s:g} s"
                            stop.said = (f"{dst.name} stopped within its first {first}, so nothing was "
                                         "kept (a later stop keeps what was made, for the same command "
                                         "to go on from)")
                        raise
                    # A stop that kept its part is no error: say so, and what was finished before it.
                    progress.write(f"vidstyle: {dst.name}: stopped; kept what it made so far, "
                                   f"{stopped_part_text(kept)}: the same command goes on from there")
                    stopped = stop
                    break
                except OutputTaken as exc:
                    if not args.skip_existing:
                        if len(pairs) == 1:
                            raise
                        failures += 1
                        progress.write(f"vidstyle: error: {exc}")
                    else:  # another run on the same folder finished it first: its output stays
                        skipped += 1
                        progress.write(f"vidstyle: {dst.name}: skipped, finished meanwhile by another run")
                except (VidstyleError, OSError) as exc:  # (a file gone, a full disk: the next may do)
                    if len(pairs) == 1:
                        raise
                    failures += 1
                    why = exc if isinstance(exc, VidstyleError) else os_error(exc)
                    progress.write(f"vidstyle: error: {why}")
                finally:
                    if close is not None:
                        close(finished)
                if finished and unprintable is None:  # (at once: a log shows each file when done)
                    try:
                        for line, to in summary_lines(report, stylizer, to_stdout):
                            progress.write(line, file=to)
                    except OSError as exc:  # (the log's reader went away, its disk is full:
                        unprintable = exc  # the conversions go on, unsaid)
    finally:
        if preview is not None:
            preview.close()

    if unprintable is not None:  # (all converted that could be; said where it still can be)
        return fail(f"the summaries could not be printed ({os_error(unprintable)}); "
                    f"{len(reports)} of {len(pairs)} files converted")
    if len(pairs) > 1:
        frames = sum(r.frames for r in reports)
        seconds = sum(r.wall_seconds for r in reports)
        also = f" ({skipped} skipped: made meanwhile)" if skipped else ""
        print(f"{len(reports)} of {len(pairs)} files converted{also}, {frames} frames, "
              f"{frames / seconds if seconds else 0:.1f} FPS overall, {stylizer.model_name} model "
              f"on {stylizer.device} ({stylizer.precision})")
    if stopped is not None:
        if failures:
            fail(f"{failures} file(s) failed before the stop")
        return interrupted_exit_code(stopped)
    return fail(f"{failures} file(s) failed") if failures else 0
