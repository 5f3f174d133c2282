"""`vidstyle train`: train the decoder."""
from __future__ import annotations

import argparse

from .common import add_device_args, interrupted_exit_code, non_negative_float, positive_float, positive_int

EXAMPLES = """examples:
  vidstyle train --content ../shared/data/train/content --style ../shared/data/train/style \\
      --out runs/cpu --schedule 128:16000,256:2000
  vidstyle train ... --out runs/cpu --resume        # continue exactly where it stopped
  vidstyle train ... --out runs/cpu --overwrite     # start that folder's run over
  vidstyle train ... --init weights/decoder.safetensors --schedule 256:20000

The run folder gets checkpoint.pt (every --checkpoint-every steps and on Ctrl-C),
decoder.safetensors (fp16, ready for --decoder or weights/), log.csv and sample grids.
"""


def add_training_args(p: argparse.ArgumentParser, out: str, schedule_help: str, lr: float,
                      sample_every: int, init_help: str) -> None:
    """The options `train` and `distill` share: data, run folder, optimiser, checkpoints."""
    p.add_argument("--content", required=True, metavar="DIR", help="folder of photos")
    p.add_argument("--style", required=True, metavar="DIR", help="folder of paintings")
    p.add_argument("--out", default=out, metavar="DIR", help=f"run folder (default {out})")
    p.add_argument("--schedule", default=None, metavar="CROP:STEPS,...", help=schedule_help)
    p.add_argument("--batch", type=positive_int, default=8, help="pairs per step (default 8)")
    p.add_argument("--lr", type=positive_float, default=lr, help=f"Adam learning rate (default {lr:g})")
    p.add_argument("--checkpoint-every", type=positive_int, default=250, metavar="N",
                   help="save a checkpoint for --resume every N steps (default 250)")
    p.add_argument("--sample-every", type=positive_int, default=sample_every, metavar="N",
                   help=f"write a sample grid every N steps (default {sample_every})")
    p.add_argument("--sample-styles", metavar="DIR", help="styles for the sample grids (default --style)")
    p.add_argument("--seed", type=int, default=0,
                   help="random seed: the model's start, the data order and crops (default 0)")
    p.add_argument("--resume", action="store_true", help="continue from the run folder's checkpoint")
    p.add_argument("--overwrite", action="store_true",
                   help="start the run in --out over (a folder holding one is refused otherwise)")
    p.add_argument("--init", metavar="FILE", help=init_help)
    p.add_argument("--max-minutes", type=positive_float, metavar="M",
                   help="stop cleanly after about M minutes (checkpoint, weights and samples written; "
                        "--resume continues): for a machine lent for a fixed time")
    add_device_args(p, compile_option=False, training=True)


def training_options(args) -> dict:
    """TrainConfig keyword arguments from the shared options (not the schedule)."""
    return dict(batch=args.batch, lr=args.lr, checkpoint_every=args.checkpoint_every,
                sample_every=args.sample_every, seed=args.seed, device=args.device,
                precision=args.precision, init_weights=args.init, sample_style_dir=args.sample_styles,
                max_minutes=args.max_minutes)


def register(sub) -> None:
    p = sub.add_parser("train", help="train the AdaIN decoder",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_training_args(p, "runs/train", "crop sizes and step counts (default: 128:16000,256:2000 on CPU, "
                      "256:160000 on CUDA)", lr=1e-4, sample_every=500,
                      init_help="start from these decoder weights")
    p.add_argument("--style-weight", type=non_negative_float, default=10.0, help="lambda (default 10)")
    p.set_defaults(run=run)


def run(args) -> int:
    from vidstyle.devices import resolve_device
    from vidstyle.train import TrainConfig, Trainer, check_run_folder, parse_schedule

    device = resolve_device(args.device)
    schedule = args.schedule or ("256:160000" if device.type == "cuda" else "128:16000,256:2000")
    config = TrainConfig(args.content, args.style, args.out, schedule=parse_schedule(schedule),
                         style_weight=args.style_weight, **training_options(args))
    check_run_folder(config.out_dir, args.resume, args.overwrite)
    return run_trainer(Trainer(config), args.resume)


def run_trainer(trainer, resume: bool) -> int:
    """Run a Trainer to its last step with a progress bar; Ctrl-C checkpoints and stops."""
    import torch
    from tqdm import tqdm

    from vidstyle.train import train

    config = trainer.cfg
    if resume and not trainer.resume():
        print(f"no checkpoint in {config.out_dir}; starting from step 0")
    bar = tqdm(total=config.total_steps, initial=trainer.step, unit="step", dynamic_ncols=True)

    def on_step(r) -> None:
        bar.update(1)
        parts = " ".join(f"{k} {v:.3f}" for k, v in r.terms.items() if not k.startswith("style_"))
        bar.set_postfix_str(f"crop {r.crop} loss {r.loss:.2f} {parts}", refresh=False)

    try:
        train(config, on_step=on_step, trainer=trainer)
    except KeyboardInterrupt as exc:
        bar.close()
        print(f"stopped at step {trainer.step}; checkpoint saved in {config.out_dir} (use --resume)")
        return interrupted_exit_code(exc)
    bar.close()
    done = (f"time limit ({config.max_minutes:g} min): stopped at step {trainer.step} of "
            f"{config.total_steps} (use --resume to continue)" if trainer.stopped_by_time
            else f"done: {trainer.step} steps")
    print(f"{done}; weights at {trainer.out / trainer.weights_name} "
          f"on {trainer.device} (torch {torch.__version__})")
    return 0
