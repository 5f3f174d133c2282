"""Frames one at a time while another program keeps a core busy: fixed thread counts against the tuner.

For each model and size, model-only FPS (uint8 frames in host memory, stylized
one at a time, as the webcam and `--workers 1` run them) with torch on all
threads, on one thread, with the thread tuner (vidstyle.thread_tuner, what
vidstyle now does) and with two workers (the file-conversion default); first
on an otherwise idle machine, then with a second process spinning on one core
(as OBS or a training run would). Settings alternate within each round;
medians over rounds.

    python benchmarks/busy_core.py --json benchmarks/results/busy_core.json
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import torch

from results_file import write_results
from vidstyle.bench import random_target, synthetic_frames
from vidstyle.parallel import FrameWorkers
from vidstyle.stylizer import load_stylizer

SETTINGS = {  # name: (torch threads in the caller, workers, tune threads)
    "all threads": (None, 1, False),
    "one thread": (1, 1, False),
    "tuned": (None, 1, True),
    "two workers": (None, 2, True),
}


def frames_per_second(stylizer, frames, target, setting: str, seconds: float) -> float:
    threads, workers, tune = SETTINGS[setting]
    all_threads = torch.get_num_threads()
    torch.set_num_threads(threads or all_threads)
    try:
        with FrameWorkers(workers, tune_threads=tune) as pool:
            def step(_):
                stylizer.stylize_frames(frames, target)

            list(pool.map(step, range(2 * workers)))  # warm-up
            done, start = 0, time.perf_counter()

            def until_time():
                while time.perf_counter() - start < seconds:
                    yield None
            for _ in pool.map(step, until_time()):
                done += 1
            return done / (time.perf_counter() - start)
    finally:
        torch.set_num_threads(all_threads)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["256x256", "640x360"])
    ap.add_argument("--models", nargs="+", default=["tiny", "lite"])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=4.0, help="how long each measurement runs")
    ap.add_argument("--json")
    args = ap.parse_args()

    rows = []
    for load in ("idle", "one core busy"):
        spinner = None
        if load != "idle":
            spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            for model in args.models:
                stylizer = load_stylizer(model, device="cpu")
                target = random_target(stylizer)
                for size in args.sizes:
                    w, h = (int(v) for v in size.split("x"))
                    frames = synthetic_frames(1, w, h)
                    runs: dict = {}
                    for _ in range(args.rounds):
                        for setting in SETTINGS:
                            fps = frames_per_second(stylizer, frames, target, setting, args.seconds)
                            runs.setdefault(setting, []).append(fps)
                    for setting, values in runs.items():
                        row = {"load": load, "model": model, "size": size, "setting": setting,
                               "fps": statistics.median(values), "rounds": values}
                        rows.append(row)
                        print(f"{load:13s} {model:5s} {size:>8s} {setting:12s} {row['fps']:6.2f} FPS",
                              flush=True)
        finally:
            if spinner:
                spinner.kill()
    write_results(args.json, rows=rows, method="model-only FPS, one frame per call; medians of --rounds "
                  "rounds, settings alternating within each round; the busy core is a Python spin loop")


if __name__ == "__main__":
    main()
