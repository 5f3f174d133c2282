"""`vidstyle train`: train the decoder."""
from __future__ import annotations

import argparse

from .common import add_device_args, interrupted_exit_code, non_negative_float, positive_float, positive_int

EXAMPLES = """examples:
  vidstyle train --content ../shared/data/train/content --style ../shared/data/train/style \\
      --out runs/cpu --schedule 128:16000,256:2000
  vidstyle train --out runs/cpu --resume            # go on exactly where it stopped, with its settings
  vidstyle train --out runs/cpu --resume --schedule 128:20000,256:2000   # ... and further
  vidstyle train ... --out runs/cpu --overwrite     # start that folder's run over
  vidstyle train ... --init weights/decoder.safetensors --schedule 256:20000

The run folder gets checkpoint.pt (every --checkpoint-every steps and on Ctrl-C),
decoder.safetensors (fp16, ready for --decoder or weights/), log.csv and sample grids.
"""


def add_training_args(p: argparse.ArgumentParser, out: str, schedule_help: str, lr: float,
                      sample_every: int, init_help: str) -> None:
    """The options `train` and `distill` share: data, run folder, optimiser, checkpoints.

    The run's settings default to None here: a new run takes the defaults the help names
    (TrainConfig's), `--resume` the run's own, and either the ones given."""
    p.add_argument("--content", metavar="DIR", help="folder of photos (needed to start a run)")
    p.add_argument("--style", metavar="DIR", help="folder of paintings (needed to start a run)")
    p.add_argument("--out", default=out, metavar="DIR", help=f"run folder (default {out})")
    p.add_argument("--schedule", default=None, metavar="CROP:STEPS,...", help=schedule_help)
    p.add_argument("--batch", type=positive_int, help="pairs per step (default 8)")
    p.add_argument("--lr", type=positive_float, help=f"Adam learning rate (default {lr:g})")
    p.add_argument("--checkpoint-every", type=positive_int, metavar="N",
                   help="save a checkpoint for --resume every N steps (default 250)")
    p.add_argument("--sample-every", type=positive_int, metavar="N",
                   help=f"write a sample grid every N steps (default {sample_every})")
    p.add_argument("--sample-styles", metavar="DIR", help="styles for the sample grids (default --style)")
    p.add_argument("--seed", type=int,
                   help="random seed: the model's start, the data order and crops (default 0)")
    p.add_argument("--resume", action="store_true",
                   help="go on from the run folder's checkpoint with the run's own settings "
                        "(options given replace them, e.g. a longer --schedule)")
    p.add_argument("--overwrite", action="store_true",
                   help="start the run in --out over (a folder holding one is refused otherwise)")
    p.add_argument("--init", metavar="FILE", help=init_help)
    p.add_argument("--max-minutes", type=positive_float, metavar="M",
                   help="stop cleanly after about M minutes (checkpoint, weights and samples written; "
                        "--resume continues): for a machine lent for a fixed time")
    add_device_args(p, compile_option=False, training=True)


# The config's fields under their options' names, where they differ.
OPTION_OF = {"content_dir": "--content", "style_dir": "--style", "init_weights": "--init",
             "sample_style_dir": "--sample-styles"}


def given_settings(args, names: tuple[str, ...] = ()) -> dict:
    """The run's settings given on the command line (the shared ones and `names`), by field."""
    from vidstyle.train import parse_schedule

    values = dict(content_dir=args.content, style_dir=args.style, batch=args.batch, lr=args.lr,
                  checkpoint_every=args.checkpoint_every, sample_every=args.sample_every, seed=args.seed,
                  init_weights=args.init, sample_style_dir=args.sample_styles,
                  schedule=parse_schedule(args.schedule) if args.schedule is not None else None,
                  **{name: getattr(args, name) for name in names})
    return {name: value for name, value in values.items() if value is not None}


def training_config(config_type, args, given: dict, default_schedule: str):
    """A new run's config from the options and the defaults; with --resume and a run in
    --out, the run's own settings with the options given in their place, each change said."""
    from vidstyle.errors import VidstyleError
    from vidstyle.train import check_run_folder, config_to_go_on, parse_schedule, run_settings

    check_run_folder(args.out, args.resume, args.overwrite)
    command = dict(out_dir=args.out, device=args.device, precision=args.precision,
                   max_minutes=args.max_minutes)
    run = run_settings(args.out) if args.resume else None
    if run is not None:
        config, changes = config_to_go_on(config_type, run, {**given, **command})
        for change in changes:
            option = OPTION_OF.get(change.name, "--" + change.name.replace("_", "-"))
            new, old = _shown(change.given), _shown(change.run)
            print(f"{option} {new} in place of the run's {old}" if change.applied else
                  f"{option} {new} not used: going on keeps the run's {old} ({option} sets how a run starts)")
        return config
    if "content_dir" not in given or "style_dir" not in given:
        raise VidstyleError("the following arguments are required to start a run: --content, --style")
    given.setdefault("schedule", parse_schedule(default_schedule))
    return config_type(**given, **command)


def _shown(value) -> str:
    """A setting as the command line writes it."""
    if isinstance(value, list):  # a schedule
        return ",".join(f"{crop}:{steps}" for crop, steps in value)
    if isinstance(value, tuple):  # --widths
        return ",".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def register(sub) -> None:
    p = sub.add_parser("train", help="train the AdaIN decoder",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_training_args(p, "runs/train", "crop sizes and step counts (default: 128:16000,256:2000 on CPU, "
                      "256:160000 on CUDA)", lr=1e-4, sample_every=500,
                      init_help="start from these decoder weights")
    p.add_argument("--style-weight", type=non_negative_float, help="lambda (default 10)")
    p.set_defaults(run=run)


def run(args) -> int:
    from vidstyle.devices import resolve_device
    from vidstyle.train import Trainer, TrainConfig

    schedule = "256:160000" if resolve_device(args.device).type == "cuda" else "128:16000,256:2000"
    config = training_config(TrainConfig, args, given_settings(args, ("style_weight",)), schedule)
    return run_trainer(Trainer(config), args.resume)


def run_trainer(trainer, resume: bool) -> int:
    """Run a Trainer to its last step with a progress bar; Ctrl-C checkpoints and stops."""
    import torch
    from tqdm import tqdm

    from vidstyle.train import train

    config = trainer.cfg
    if resume and not trainer.resume():
        print(f"no checkpoint in {config.out_dir}; starting from step 0")
    if trainer.step >= config.total_steps:  # (said as "done" before, having done nothing)
        print(f"{config.out_dir} is at step {trainer.step}, the end of its schedule: nothing to do "
              f"(a longer --schedule goes on)")
        return 0
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
