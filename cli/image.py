"""`vidstyle image`: stylize still images."""
from __future__ import annotations

import argparse
from pathlib import Path

from .common import (add_model_args, build_stylizer, build_targets, check_style_args, names_a_folder,
                     outputs_in_folder)

EXAMPLES = """examples:
  vidstyle image photo.jpg --style starry.jpg -o photo_starry.png
  vidstyle image a.jpg b.jpg --style wave.jpg --alpha 0.6 -o out/
"""


def register(sub) -> None:
    p = sub.add_parser("image", help="stylize still images",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="CONTENT", help="content images")
    p.add_argument("-o", "--output", required=True, help="output image (one input) or folder")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    add_model_args(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from vidstyle.errors import VidstyleError
    from vidstyle.stills import stylize_image_file

    out = Path(args.output)
    if len(args.inputs) > 1 or names_a_folder(args.output):
        if out.exists() and not out.is_dir():
            raise VidstyleError(f"{out} is a file; with several inputs, -o must be a folder")
        pairs = list(zip(map(Path, args.inputs), outputs_in_folder(args.inputs, out, ".png")))
    else:
        pairs = [(Path(args.inputs[0]), out)]
    controls = check_style_args(args)
    stylizer, cache = build_stylizer(args)
    for src, dst in pairs:
        target, close = build_targets(controls, stylizer, cache)
        try:
            stylize_image_file(src, dst, stylizer, target, args.size, args.overwrite)
        finally:
            close()
        print(dst)
    return 0
