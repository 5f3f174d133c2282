"""`vidstyle convert`: stylize video files."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vidstyle.sinks import X264_PRESETS  # no av or torch: cheap while building the parser

from .common import (add_model_args, add_steady_arg, add_workers_arg, build_stylizer, build_targets,
                     check_style_args, fail, names_a_folder, outputs_in_folder)
from .progress import Progress

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mpg", ".mpeg", ".ts", ".flv", ".wmv",
                  ".3gp", ".3g2", ".mts", ".m2ts", ".ogv", ".mxf", ".vob"}
EXAMPLES = """examples:
  vidstyle convert clip.mp4 --style starry.jpg -o clip_starry.mp4
  vidstyle convert clips/ --style wave.jpg -o out/ --size 360
  vidstyle convert a.mp4 b.mp4 -s wave.jpg -s scream.jpg --weights 0.7 0.3 -o out/
  vidstyle convert clip.mp4 --style wave.jpg --steady 0.7 -o clip_wave.mp4   # less shimmer
"""


def register(sub) -> None:
    p = sub.add_parser("convert", help="stylize video files (audio is copied through)",
                       description="Stylize one or more video files; every frame, timestamp and "
                                   "the audio track are kept.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="video files or folders of videos")
    p.add_argument("-o", "--output", required=True,
                   help="output file (one input) or folder (several inputs or a folder)")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    add_model_args(p)
    add_steady_arg(p)
    add_workers_arg(p)
    g = p.add_argument_group("encoding (H.264)")
    g.add_argument("--crf", type=int, default=18, metavar="N",
                   help="quality: 0 lossless .. 51 worst; 18 looks like the input (default 18)")
    g.add_argument("--preset", default="veryfast", choices=X264_PRESETS,
                   help="encoder speed: faster presets leave the model more CPU but make larger "
                        "files (default veryfast)")
    p.set_defaults(run=run)


def plan_outputs(inputs: list[str], output: str) -> list[tuple[Path, Path]]:
    """(input, output) pairs; several inputs or a folder input make OUTPUT a folder."""
    from vidstyle.errors import VidstyleError
    from vidstyle.inputs import expand_files

    files, folder_input = expand_files(inputs, VIDEO_SUFFIXES, "input")
    out = Path(output)
    if len(files) == 1 and not folder_input and not names_a_folder(output):
        return [(files[0], out)]
    if out.exists() and not out.is_dir():
        raise VidstyleError(f"{out} is a file; with several inputs, -o must be a folder")
    return list(zip(files, outputs_in_folder(files, out, ".mp4")))


def damage_warning(report) -> str | None:
    """What a damaged or cut-short input cost, or None when every listed frame was decoded."""
    parts = []
    if report.damaged_packets:
        parts.append(f"{report.damaged_packets} damaged packet(s) skipped")
    if report.missing_frames:
        parts.append(f"{report.frames} of the {report.listed_frames} frames it lists could be decoded"
                     + ("" if report.damaged_packets else " (is the file cut short?)"))
    if report.ended_early:
        parts.append(f"{report.decoded_seconds:.1f} s of the {report.listed_seconds:.1f} s it lists could be "
                     "decoded (is the file cut short?)")
    return "; ".join(parts) or None


def run(args) -> int:
    from vidstyle.errors import VidstyleError
    from vidstyle.pipeline import convert_video

    pairs = plan_outputs(args.inputs, args.output)
    controls = check_style_args(args)
    stylizer, cache = build_stylizer(args)
    failures, reports = 0, []
    with Progress(len(pairs)) as progress:
        for src, dst in pairs:
            # Fresh targets per file: colour references and mask videos restart.
            target, close = build_targets(controls, stylizer, cache)
            finished = False
            try:
                with progress.file(src.name) as on_progress:
                    report = convert_video(src, dst, stylizer, target, batch=args.batch,
                                           size=args.size, overwrite=args.overwrite,
                                           on_progress=on_progress, crf=args.crf,
                                           preset=args.preset, workers=args.workers,
                                           steady=args.steady)
                reports.append(report)
                finished = True
            except VidstyleError as exc:
                if len(pairs) == 1:
                    raise
                failures += 1
                progress.write(f"vidstyle: error: {exc}")
            finally:
                close(finished)
    for r in reports:
        audio = "no audio" if r.audio == "none" else f"audio {r.audio}"
        count = f"{r.frames} frame" + ("s" if r.frames != 1 else "")
        steady = f", --steady {1000 * sum(r.steady_times) / r.frames:.1f} ms/frame" if r.steady_times else ""
        print(f"{r.output}: {count} {r.width}x{r.height}, {r.fps:.1f} FPS "
              f"({stylizer.model_name} model alone {r.model_fps:.1f} FPS{steady}), {audio}")
        damage = damage_warning(r)
        if damage:
            print(f"vidstyle: warning: {r.input}: {damage}", file=sys.stderr)
    if len(pairs) > 1:
        frames = sum(r.frames for r in reports)
        seconds = sum(r.wall_seconds for r in reports)
        print(f"{len(reports)} of {len(pairs)} files converted, {frames} frames, "
              f"{frames / seconds if seconds else 0:.1f} FPS overall, {stylizer.model_name} model "
              f"on {stylizer.device} ({stylizer.precision})")
    return fail(f"{failures} file(s) failed") if failures else 0
