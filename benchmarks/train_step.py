"""Seconds per training step with the style loss's two-pass statistics against one-pass ones.

The decoder's training step (vidstyle.train.Trainer, the shipped decoder as a start,
batches of 8 at --crop px) with `style_losses(..., one_pass=False)` and `True`,
alternating every --steps steps for --rounds rounds on the same trainer; medians.

    python benchmarks/train_step.py --json benchmarks/results/train_step.json
"""
from __future__ import annotations

import argparse
import statistics
import tempfile

import vidstyle.losses as losses
import vidstyle.train as train
from results_file import write_results
from vidstyle.decoder import default_weights_path
from vidstyle.train import TrainConfig, Trainer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--content", default="../shared/data/train/content")
    ap.add_argument("--style", default="../shared/data/train/style")
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--steps", type=int, default=4, help="steps per setting per round")
    ap.add_argument("--json")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as out:
        cfg = TrainConfig(args.content, args.style, out, schedule=[(args.crop, 10_000)],
                          init_weights=str(default_weights_path()))
        trainer = Trainer(cfg)
        for _ in range(3):  # warm-up: allocator, oneDNN primitives
            trainer.train_step()
        seconds: dict[str, list[float]] = {"two-pass": [], "one-pass": []}
        for _ in range(args.rounds):
            for name in seconds:
                # The trainer asks for one_pass=True; this setting's choice replaces it.
                train.style_losses = lambda o, s, _chosen=name == "one-pass", **_: losses.style_losses(
                    o, s, one_pass=_chosen)
                seconds[name] += [trainer.train_step().seconds for _ in range(args.steps)]
        trainer.close()
    medians = {name: statistics.median(v) for name, v in seconds.items()}
    for name, median in medians.items():
        print(f"{name}: {median:.3f} s per step (median of {len(seconds[name])})")
    print(f"one-pass / two-pass: {medians['one-pass'] / medians['two-pass']:.3f}")
    write_results(args.json, crop=args.crop, batch=cfg.batch, precision=str(trainer.amp_dtype),
                  seconds=seconds, medians=medians,
                  method="same trainer, settings alternating every --steps steps")


if __name__ == "__main__":
    main()
