"""`vidstyle image`: stylize still images."""
from __future__ import annotations

import argparse
import sys

from .common import (OUTPUT_DEFAULT_HELP, add_each_arg, add_existing_args, add_model_args, blend_jobs,
                     build_stylizer, build_targets, check_style_args, default_output, each_style_jobs, fail,
                     names_a_folder, os_error, plan_outputs, refuse_overwriting_sources, time_value)

EXAMPLES = """examples:
  vidstyle image photo.jpg --style starry.jpg -o photo_starry.png
  vidstyle image photo.jpg --style starry.jpg   # the same: photo_starry.png in this folder
  vidstyle image a.jpg b.jpg --style wave.jpg --alpha 0.6 -o out/
  vidstyle image photos/ --style wave.jpg -o out/ --size 720
  vidstyle image photo.jpg --style paintings/ --each -o tries/ --sheet tries.jpg  # which style?
  vidstyle image clip.mp4 --at 1:05 --style paintings/ --each -o tries/ --sheet tries.jpg
"""


def register(sub) -> None:
    p = sub.add_parser("image", help="stylize still images",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="CONTENT",
                   help="content images or folders of images, or videos (their frame at --at)")
    p.add_argument("-o", "--output",
                   help="output image (one input) or folder (several inputs or a folder; .png files)"
                        + OUTPUT_DEFAULT_HELP.format(suffix=".png"))
    add_existing_args(p, "the images whose output exists", "a folder")
    add_each_arg(p, "stylize", ".png")
    p.add_argument("--sheet", metavar="FILE",
                   help="with --each: also a contact sheet, one row per input (the input, then each "
                        "style's result, named), to pick a style at a glance")
    p.add_argument("--at", type=time_value, default=None, metavar="TIME",
                   help="for video inputs: the frame at this time (seconds or [h:]mm:ss; default: the "
                        "first), e.g. to try styles on a clip with --each --sheet")
    add_model_args(p)
    p.set_defaults(run=run)


def each_style_plan(args, output_given: bool = True) -> tuple[list, list]:
    """--each: (input, output, controls for one style) for every input and style, and the
    sheet's rows of (input, [(style name, output)]); refused now if anything is wrong.
    `output_given`: -o named the folder (else the current one, which may hold the styles)."""
    from dataclasses import replace
    from pathlib import Path

    from vidstyle.contact_sheet import is_contact_sheet
    from vidstyle.errors import VidstyleError
    from vidstyle.images import check_image_output
    from vidstyle.inputs import IMAGE_SUFFIXES
    from vidstyle.outputs import check_writable, refuse_inputs_as_outputs, refuse_outputs_over_sources

    if args.weights or args.mask:
        raise VidstyleError("--each stylizes with one style at a time; --weights and --mask blend "
                            "styles: leave them out")
    if not names_a_folder(args.output):
        raise VidstyleError(f"--each writes one image per input and style: -o must be a folder, not "
                            f"{args.output} (end a folder name that has a dot with a slash)")
    controls = check_style_args(args, folders=True)
    out_folder = Path(args.output).resolve()
    sheet = Path(args.sheet) if args.sheet else None
    # An earlier sheet among the styles or photos is left out of them; a painting or photo
    # of the sheet's name is not a sheet, stays what it is and is never replaced.
    earlier_sheet = sheet.resolve() if sheet is not None and is_contact_sheet(sheet) else None

    def made_here(path: Path) -> bool:  # this command's own outputs, from an earlier run
        resolved = path.resolve()
        return (output_given and resolved.is_relative_to(out_folder)) or resolved == earlier_sheet

    styles = [style for style in controls.styles if not made_here(style)]
    if not styles:
        raise VidstyleError(f"no style images left once the outputs in {args.output} are left out "
                            "(-o is the style folder: give the results another)")
    named = {Path(i).resolve() for i in args.inputs}  # (named outright, an output as input is refused)
    pairs = plan_outputs(args.inputs, args.output, IMAGE_SUFFIXES, ".png", "image", named_after=True)
    pairs = [(src, dst) for src, dst in pairs if src.resolve() in named or not made_here(src)]
    jobs = each_style_jobs(pairs, replace(controls, styles=styles))
    rows = [(src, [(job_controls.styles[0].stem, out) for s, out, job_controls in jobs if s is src])
            for src, _ in pairs]
    plan = [(src, out) for src, out, _ in jobs]
    if sheet is not None:
        if sheet.resolve() in {out.resolve() for _, out in plan}:
            raise VidstyleError(f"--sheet {sheet} is also the name of one of the results; give it another")
        check_image_output(sheet)
        # (an earlier sheet is left out of the styles and inputs above, so is not refused here)
        refuse_outputs_over_sources([sheet], [("the style image", style) for style in styles]
                                    + [("the input image", src) for src, _ in pairs])
        # (--skip-existing goes on with a stopped or grown set: the sheet is made again, whole)
        if sheet.exists() and not (args.overwrite or args.skip_existing):
            raise VidstyleError(f"output {sheet} exists; pass --overwrite to replace it")
        check_writable(sheet)
        plan += [(src, sheet) for src, _ in pairs]
    refuse_inputs_as_outputs(plan)
    return jobs, rows


def run(args) -> int:
    from pathlib import Path

    from vidstyle.errors import VidstyleError
    from vidstyle.images import check_image_output
    from vidstyle.inputs import IMAGE_SUFFIXES, is_video_file
    from vidstyle.stills import stylize_image_file

    # Every input and output name is checked before the model loads.
    if args.sheet and not args.each:
        raise VidstyleError("--sheet shows the results of --each side by side: add --each")
    if args.output == "-":
        raise VidstyleError("-o - (the standard output) is for convert's video; image writes files: "
                            "name one, or leave -o out for INPUT_STYLE.png here")
    named_after_styles = default_output(args)
    if named_after_styles and args.each:
        here = Path.cwd().resolve()
        for style in args.style:
            folder = Path(style).resolve()
            if folder.is_dir() and (folder == here or folder in here.parents):
                raise VidstyleError(f"--style {style} holds the current folder, where the results would go "
                                    "without -o (and join the styles next time): give -o a folder")
    if args.each:
        jobs, rows = each_style_plan(args, output_given=not named_after_styles)
    else:
        if any(Path(s).is_dir() for s in args.style):
            raise VidstyleError("a style folder blends nothing: add --each to stylize with each of its "
                                "images in turn (for a blend, name the style images)")
        pairs = plan_outputs(args.inputs, args.output, IMAGE_SUFFIXES, ".png", "image",
                             named_after=named_after_styles)
        controls = check_style_args(args)
        jobs = [(src, dst, controls) for src, dst in pairs]
        if named_after_styles:
            from vidstyle.outputs import refuse_inputs_as_outputs

            jobs = blend_jobs(pairs, controls)
            refuse_inputs_as_outputs([(src, dst) for src, dst, _ in jobs])
    refuse_overwriting_sources(jobs)
    for dst in {dst.suffix.lower(): dst for _, dst, _ in jobs}.values():  # one per file type
        check_image_output(dst)
    if args.at is not None and not any(is_video_file(src) for src, _, _ in jobs):
        raise VidstyleError("--at picks a frame of a video input, and none of the inputs is a video")
    # Each video's frame is taken once, before the model loads (a time past its end is refused now).
    from vidstyle.stills import load_still

    stills, unreadable = {}, {}
    for src in dict.fromkeys(src for src, _, _ in jobs if is_video_file(src)):
        try:
            stills[src] = load_still(src, args.at or 0.0)
        except VidstyleError as exc:
            if len({s for s, _, _ in jobs}) == 1:
                raise
            unreadable[src] = exc  # said once, and its results counted as failed, below
    written = set()
    if args.skip_existing:
        written = {dst for _, dst, _ in jobs if dst.exists()}  # (on the sheet as if made now)
        jobs = [job for job in jobs if job[1] not in written]
        if written:
            print(f"vidstyle: skipping {len(written)} image(s) whose output exists", file=sys.stderr)
        if not jobs and not args.sheet:
            return 0
    stylizer, cache = build_stylizer(args) if jobs else (None, None)
    failures, failed_inputs = 0, set()
    for src, dst, controls in jobs:
        if src in unreadable:
            failures += 1
            if src not in failed_inputs:
                failed_inputs.add(src)
                print(f"vidstyle: error: {unreadable[src]}", file=sys.stderr)
            continue
        target, close = build_targets(controls, stylizer, cache)
        try:
            stylize_image_file(src, dst, stylizer, target, args.size, args.overwrite, at=args.at or 0.0,
                               still=stills.get(src))
        except (VidstyleError, OSError) as exc:  # (an OS error too: a photo gone, a full disk)
            if len(jobs) == 1:
                raise
            failures += 1  # one bad photo in a folder does not stop the others
            failed_inputs.add(src)
            why = exc if isinstance(exc, VidstyleError) else os_error(exc)
            print(f"vidstyle: error: {why}", file=sys.stderr)
            continue
        finally:
            close()
        written.add(dst)
        print(dst)
    if args.sheet:
        from vidstyle.contact_sheet import contact_sheet

        # The rows of the inputs that could be read, with this run's results.
        done = [[("input", stills[src] if is_video_file(src) else src)]
                + [(name, out) for name, out in row if out in written]
                for src, row in rows if src not in failed_inputs or any(out in written for _, out in row)]
        if done:
            try:
                print(contact_sheet(done, args.sheet, overwrite=args.overwrite or args.skip_existing))
            except VidstyleError as exc:
                failures += 1
                print(f"vidstyle: error: the sheet: {exc}", file=sys.stderr)
    return fail(f"{failures} of {len(jobs)} images failed") if failures else 0
