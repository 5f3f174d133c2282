"""`vidstyle eval`: quality numbers and a result grid on content x style pairs."""
from __future__ import annotations

import argparse
import json
import sys

from .common import add_network_args, column, long_side_value, stylizer_from_args

EXAMPLES = """examples:
  vidstyle eval --content ../shared/data/eval/content --style ../shared/data/eval/style -o grid.png
  vidstyle eval --content photos/ --style paintings/ --size 512 --json scores.json
  vidstyle eval --content photo.jpg --style paintings/ starry.jpg -o grid.png
"""


def register(sub) -> None:
    p = sub.add_parser("eval", help="score stylization quality on content x style pairs",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--content", required=True, nargs="+", metavar="PATH",
                   help="content photos: folders of them and/or image files")
    p.add_argument("--style", required=True, nargs="+", metavar="PATH",
                   help="style images, folders and/or files (every content is scored with every style)")
    p.add_argument("--size", type=long_side_value, default=512, metavar="N",
                   help="resize so the LONGER side is N pixels (convert's and image's --size is the "
                        "shorter side; the recorded eval scores use 512 here) (default 512)")
    p.add_argument("-o", "--output", metavar="PNG", help="write the result grid here")
    p.add_argument("--json", metavar="FILE", help="write per-pair and mean scores as JSON ('-' for stdout, "
                                                  "the table then going to stderr)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing grid or JSON file")
    add_network_args(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from vidstyle.errors import VidstyleError
    from vidstyle.evaluate import as_json, evaluate, load_set, make_grid, set_files, summarise
    from vidstyle.images import check_image_output, save_image
    from vidstyle.outputs import atomic_output, check_output, refuse_outputs_over_sources, same_file
    from vidstyle.stills import stylize_image
    from vidstyle.stylizer import Target

    to_stdout = args.json == "-"
    table = sys.stderr if to_stdout else sys.stdout  # (stdout then carries only the JSON)
    outputs = [Path(out) for out in (args.output, None if to_stdout else args.json) if out]
    if len(outputs) == 2 and same_file(*outputs):
        raise VidstyleError(f"-o and --json both name {args.json}; give each its own file")
    # --overwrite replaces earlier results, never the pictures scored (it did)
    refuse_outputs_over_sources(outputs, [("a content image", p) for p in set_files(args.content)]
                                + [("a style image", p) for p in set_files(args.style)])
    for out in outputs:
        check_output(None, out, args.overwrite)
    if args.output:  # (a grid named .txt failed after every pair was scored)
        check_image_output(args.output)
    stylizer = stylizer_from_args(args)
    contents, styles = load_set(args.content, args.size), load_set(args.style, args.size)
    stats = {}

    def method(content, style):
        key = id(style)
        if key not in stats:
            stats[key] = stylizer.style_stats(style)
        return stylize_image(content, stylizer, Target(stats[key]))

    bar = tqdm(total=len(contents) * len(styles), unit="pair", disable=None)
    scores, outputs = evaluate(method, contents, styles, on_pair=lambda s: bar.update(1))
    bar.close()
    print(f"{'content':28} {'style':28} {'content':>8} {'gap':>6} {'style':>10} {'s':>6}", file=table)
    for s in scores:
        print(f"{column(s.content, 28)} {column(s.style, 28)} {s.content_loss:8.2f} {s.style_gap:6.3f} "
              f"{s.style_loss:10.1f} {s.seconds:6.3f}", file=table)
    mean = summarise(scores)
    print(f"mean over {mean['pairs']} pairs: content loss {mean['content_loss']:.2f}, "
          f"style gap {mean['style_gap']:.3f}, style loss {mean['style_loss']:.1f}, "
          f"{mean['seconds_per_image']:.3f} s/image ({stylizer.model_name} model, {stylizer.device}, "
          f"{stylizer.precision})", file=table)
    if args.json:
        about = {**stylizer.describe(), "decoder": args.decoder}  # (which weights were scored)
        text = json.dumps(as_json(scores, size_longer_side=args.size, **about), indent=2)
        if to_stdout:
            print(text)
        else:
            with atomic_output(Path(args.json), args.overwrite) as tmp:
                tmp.write_text(text)
    if args.output:
        with atomic_output(Path(args.output), args.overwrite) as tmp:
            save_image(make_grid(contents, styles, outputs), tmp)
        print(f"grid: {args.output}", file=table)
    return 0
