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
--resume takes the run's settings from its checkpoint (relative paths from the folder the
run began in); options given replace them, each said and kept in the run's "history"
(read_training_meta), except --seed, --init and the model's shape, which stay the run's.
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


def _option(name: str) -> str:
    """The option that gives a config field."""
    return OPTION_OF.get(name, "--" + name.replace("_", "-"))


def given_settings(args, names: tuple[str, ...] = ()) -> dict:
    """The run's settings given on the command line (the shared ones and `names`), by field."""
    from vidstyle.train import parse_schedule

    values = dict(content_dir=args.content, style_dir=args.style, batch=args.batch, lr=args.lr,
                  checkpoint_every=args.checkpoint_every, sample_every=args.sample_every, seed=args.seed,
                  init_weights=args.init, sample_style_dir=args.sample_styles,
                  schedule=parse_schedule(args.schedule) if args.schedule is not None else None,
                  **{name: getattr(args, name) for name in names})
    return {name: value for name, value in values.items() if value is not None}


def training_config(config_type, args, given: dict, default_schedule: str, command: str):
    """A new run's config from the options and the defaults; with --resume and a run in
    --out, the run's own settings with the options given in their place, each change said.
    Refuses a folder holding a run without --resume or --overwrite (removing nothing:
    run_training clears it once the new run's data is found good)."""
    from vidstyle.errors import VidstyleError
    from vidstyle.run_folder import check_run_folder, config_to_go_on, read_run
    from vidstyle.train import parse_schedule

    check_run_folder(args.out, args.resume, args.overwrite)
    machine = dict(out_dir=args.out, device=args.device, precision=args.precision,
                   max_minutes=args.max_minutes)
    run = read_run(args.out) if args.resume else None
    if run is not None:
        made_by = "distill" if "teacher" in run.settings else "train"
        if made_by != command:
            raise VidstyleError(f"{args.out} holds a run of 'vidstyle {made_by}': go on with that command, "
                                f"or --out another folder")
        config, changes = config_to_go_on(config_type, run, {**given, **machine})
        for change in changes:
            option = _option(change.name)
            new, old = _shown(change.given, change.name), _shown(change.run, change.name)
            print(f"{option} {new} in place of the run's {old}" if change.kept_because is None else
                  f"{option} {new} not used: going on keeps the run's {old} ({option} {change.kept_because})")
        _check_the_runs_files(config, given)
        return config
    if "content_dir" not in given or "style_dir" not in given:
        if args.resume:
            raise VidstyleError(f"no run to go on with in {args.out} (no checkpoint.pt): give --content and "
                                f"--style to start one there")
        raise VidstyleError("the following arguments are required to start a run: --content, --style")
    given.setdefault("schedule", parse_schedule(default_schedule))
    return config_type(**given, **machine)


def _check_the_runs_files(config, given: dict) -> None:
    """The folders and files a run going on takes from its checkpoint are still there (else
    one line naming the option that gives them anew, not a loader's 'not a folder: content')."""
    from pathlib import Path

    from vidstyle.errors import VidstyleError

    for name in ("content_dir", "style_dir", "sample_style_dir", "teacher"):
        path = getattr(config, name, None)
        if path is None or name in given:
            continue
        if Path(path).is_file() if name == "teacher" else Path(path).is_dir():
            continue
        option = _option(name)
        raise VidstyleError(f"the run's {option} {path} is not there (moved?): give {option} with where it "
                            f"is now")


def _shown(value, name: str = "") -> str:
    """A setting as the command line writes it."""
    if value is None:
        return "the shipped decoder" if name == "teacher" else "none"
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
    config = training_config(TrainConfig, args, given_settings(args, ("style_weight",)), schedule, "train")
    return run_trainer(Trainer(config, resume=args.resume), args)


def run_trainer(trainer, args) -> int:
    """Run a Trainer to its last step with a progress bar; Ctrl-C checkpoints and stops.
    With --overwrite, the run its folder held is removed first (the new one's data and
    models are loaded by now: a mistyped option leaves the old run as it was)."""
    import torch
    from tqdm import tqdm

    from vidstyle.run_folder import clear_run_folder
    from vidstyle.train import train

    config = trainer.cfg
    if args.overwrite:
        clear_run_folder(config.out_dir)
    if args.resume and not trainer.resume():
        print(f"no checkpoint in {config.out_dir}; starting from step 0")
    if trainer.step >= config.total_steps:  # (said as "done" before, having done nothing)
        where = "the end of" if trainer.step == config.total_steps else "past the end of"
        print(f"{config.out_dir} is at step {trainer.step}, {where} its schedule ({config.total_steps} "
              f"steps): nothing to do (a longer --schedule goes on)")
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
            else f"done: {trainer.step} step{'s' * (trainer.step != 1)}")
    print(f"{done}; weights at {trainer.out / trainer.weights_name} "
          f"on {trainer.device} (torch {torch.__version__})")
    return 0
