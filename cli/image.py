"""`vidstyle image`: stylize still images."""
from __future__ import annotations

import argparse
import sys

from .common import add_model_args, build_stylizer, build_targets, check_style_args, fail, plan_outputs

EXAMPLES = """examples:
  vidstyle image photo.jpg --style starry.jpg -o photo_starry.png
  vidstyle image a.jpg b.jpg --style wave.jpg --alpha 0.6 -o out/
  vidstyle image photos/ --style wave.jpg -o out/ --size 720
"""


def register(sub) -> None:
    p = sub.add_parser("image", help="stylize still images",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="CONTENT", help="content images or folders of images")
    p.add_argument("-o", "--output", required=True,
                   help="output image (one input) or folder (several inputs or a folder; .png files)")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    add_model_args(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from vidstyle.errors import VidstyleError
    from vidstyle.images import check_image_output
    from vidstyle.inputs import IMAGE_SUFFIXES
    from vidstyle.stills import stylize_image_file

    # Every input and output name is checked before the model loads.
    pairs = plan_outputs(args.inputs, args.output, IMAGE_SUFFIXES, ".png", "image")
    for dst in {dst.suffix.lower(): dst for _, dst in pairs}.values():  # one per file type
        check_image_output(dst)
    controls = check_style_args(args)
    stylizer, cache = build_stylizer(args)
    failures = 0
    for src, dst in pairs:
        target, close = build_targets(controls, stylizer, cache)
        try:
            stylize_image_file(src, dst, stylizer, target, args.size, args.overwrite)
        except VidstyleError as exc:
            if len(pairs) == 1:
                raise
            failures += 1  # one bad photo in a folder does not stop the others
            print(f"vidstyle: error: {exc}", file=sys.stderr)
            continue
        finally:
            close()
        print(dst)
    return fail(f"{failures} of {len(pairs)} images failed") if failures else 0
