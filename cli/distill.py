"""`vidstyle distill`: train the lite model to reproduce the full model."""
from __future__ import annotations

import argparse

from .common import add_device_args, positive_int
from .train import run_trainer

EXAMPLES = """examples:
  vidstyle distill --content ../shared/data/train/content --style ../shared/data/train/style \\
      --out runs/lite --schedule 128:20000
  vidstyle distill ... --out runs/lite --resume      # continue exactly where it stopped

The full model (VGG-19 + --teacher decoder) stylizes random crops; the lite encoder
and decoder learn to reproduce its frames. The run folder gets checkpoint.pt,
lite.safetensors (fp16, ready for --model lite --decoder FILE, or weights/), log.csv
and sample grids.
"""


def register(sub) -> None:
    p = sub.add_parser("distill", help="train the lite model (fast on CPUs) from the full model",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--content", required=True, metavar="DIR", help="folder of photos")
    p.add_argument("--style", required=True, metavar="DIR", help="folder of paintings")
    p.add_argument("--out", default="runs/lite", metavar="DIR", help="run folder (default runs/lite)")
    p.add_argument("--teacher", metavar="FILE", help="the full model's decoder (default: the shipped one)")
    p.add_argument("--schedule", default="128:20000", metavar="CROP:STEPS,...",
                   help="crop sizes and step counts (default 128:20000)")
    p.add_argument("--batch", type=positive_int, default=8, help="crops per step (default 8)")
    p.add_argument("--lr", type=float, default=5e-4, help="Adam learning rate (default 5e-4)")
    p.add_argument("--perceptual-weight", type=float, default=0.02,
                   help="weight of the relu1_1..relu3_1 output term (default 0.02)")
    p.add_argument("--feature-weight", type=float, default=0.02,
                   help="weight of the relu4_1 feature term (default 0.02)")
    p.add_argument("--checkpoint-every", type=positive_int, default=250, metavar="N")
    p.add_argument("--sample-every", type=positive_int, default=1000, metavar="N")
    p.add_argument("--sample-styles", metavar="DIR", help="styles for the sample grids (default --style)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue from the run folder's checkpoint")
    p.add_argument("--init", metavar="FILE", help="start from these lite weights")
    add_device_args(p, compile_option=False)
    p.set_defaults(run=run)


def run(args) -> int:
    from vidstyle.distill import DistillConfig, DistillTrainer
    from vidstyle.train import parse_schedule

    config = DistillConfig(args.content, args.style, args.out, schedule=parse_schedule(args.schedule),
                           batch=args.batch, lr=args.lr, checkpoint_every=args.checkpoint_every,
                           sample_every=args.sample_every, seed=args.seed, device=args.device,
                           precision=args.precision, init_weights=args.init,
                           sample_style_dir=args.sample_styles, teacher=args.teacher,
                           feature_weight=args.feature_weight, perceptual_weight=args.perceptual_weight)
    return run_trainer(DistillTrainer(config), args.resume)
