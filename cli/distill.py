"""`vidstyle distill`: train the lite model to reproduce the full model."""
from __future__ import annotations

import argparse

from .common import non_negative_float
from .train import add_training_args, given_settings, run_trainer, training_config

EXAMPLES = """examples:
  vidstyle distill --content ../shared/data/train/content --style ../shared/data/train/style \\
      --out runs/lite --schedule 128:20000
  vidstyle distill ... --out runs/lite16 --widths 16,32,64 --init weights/lite.safetensors
  vidstyle distill --out runs/lite --resume          # go on exactly where it stopped, with its settings

The full model (VGG-19 + --teacher decoder) stylizes random crops; the lite encoder
and decoder learn to reproduce its frames. The run folder gets checkpoint.pt,
lite.safetensors (fp16, ready for --model lite --decoder FILE, or weights/), log.csv
and sample grids.
"""


def parse_widths(text: str) -> tuple[int, int, int]:
    try:
        widths = tuple(int(v) for v in text.split(","))
    except ValueError:
        widths = ()
    if len(widths) != 3 or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"expected three positive channel counts such as 16,32,64, "
                                         f"got {text!r}")
    return widths  # type: ignore[return-value]


def register(sub) -> None:
    p = sub.add_parser("distill", help="train the lite model (fast on CPUs) from the full model",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_training_args(p, "runs/lite", "crop sizes and step counts (default 128:20000)", lr=5e-4,
                      sample_every=1000, init_help="start from these lite weights")
    p.add_argument("--teacher", metavar="FILE", help="the full model's decoder (default: the shipped one)")
    p.add_argument("--perceptual-weight", type=non_negative_float,
                   help="weight of the relu1_1..relu3_1 output term (default 0.02)")
    p.add_argument("--feature-weight", type=non_negative_float,
                   help="weight of the relu4_1 feature term (default 0.02)")
    p.add_argument("--style-weight", type=non_negative_float,
                   help="weight of the paper's style loss on the lite output (default 0: off)")
    p.add_argument("--widths", type=parse_widths, metavar="A,B,C",
                   help="channels at full, 1/2 and 1/4 size (default: --init's, else 24,48,96); "
                        "narrower than --init starts from its strongest channels")
    p.add_argument("--feature-kernel", type=int, choices=(1, 3),
                   help="size of the convolutions into and out of the 512 feature channels "
                        "(default: --init's, else 3); 1 is faster (1.35-1.5x for the tiny widths "
                        "on an AVX2 CPU), and from a 3x3 --init starts with each filter's taps summed")
    p.set_defaults(run=run)


def run(args) -> int:
    from vidstyle.distill import DistillConfig, DistillTrainer

    names = ("teacher", "feature_weight", "perceptual_weight", "style_weight", "widths", "feature_kernel")
    config = training_config(DistillConfig, args, given_settings(args, names), "128:20000", "distill")
    return run_trainer(DistillTrainer(config, resume=args.resume), args)
