"""Throughput measurements: model-only FPS per size/batch, and each stage of file conversion.

Wall-clock timing after warm-up, with a device synchronisation around each
timed step on CUDA, as nanoGPT's bench does.
"""
from __future__ import annotations

import statistics
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from . import thread_cpu
from .devices import tune_convolutions
from .parallel import FrameWorkers
from .pipeline import convert_video
from .sinks import VideoFileSink
from .sources import VideoFileSource
from .stylizer import Stylizer, Target, resolve_workers, tunes_threads
from .thread_cpu import ThreadCpu


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _percentiles(seconds: list[float]) -> dict:
    ms = np.asarray(seconds) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95))}


def synthetic_frames(n: int, width: int, height: int, seed: int = 0) -> np.ndarray:
    """Smooth moving colour fields plus noise: like video, not like a constant."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    frames = np.empty((n, height, width, 3), np.uint8)
    for i in range(n):
        base = [127 + 100 * np.sin(xx / (37 + 9 * c) + yy / (53 - 7 * c) + 0.2 * i + c) for c in range(3)]
        img = np.stack(base, -1) + rng.normal(0, 12, (height, width, 3))
        frames[i] = np.clip(img, 0, 255).astype(np.uint8)
    return frames


def random_target(stylizer: Stylizer, seed: int = 0) -> Target:
    """A plausible style (statistics of a synthetic image); speed does not depend on it."""
    img = torch.from_numpy(synthetic_frames(1, 256, 256, seed + 1)[0]).permute(2, 0, 1).float() / 255
    return Target(stylizer.style_stats(img))


def bench_model(stylizer: Stylizer, width: int, height: int, batch: int, steps: int = 10,
                warmup: int = 2, target: Target | None = None, workers: int | None = None,
                min_seconds: float = 0.0) -> dict:
    """Model-only: uint8 frames already in host memory -> stylized uint8 in host memory.

    Times at least `steps` batches and keeps going until `min_seconds` have
    passed (short runs on a shared machine are noisy). With workers > 1, that
    many batches run at once (as file conversion runs them); FPS is frames /
    wall time, latencies are per batch.
    """
    target = target or random_target(stylizer)
    workers = resolve_workers(workers, stylizer)
    tune_convolutions(stylizer.device)
    frames = synthetic_frames(batch, width, height)
    if stylizer.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(stylizer.device)

    def step(_):
        t0 = time.perf_counter()
        stylizer.stylize_frames(frames, target)
        _sync(stylizer.device)
        return time.perf_counter() - t0

    def timed_steps():
        i = 0
        while i < steps or time.perf_counter() - t0 < min_seconds:
            yield i
            i += 1

    with FrameWorkers(workers, tune_threads=tunes_threads(stylizer)) as pool:
        list(pool.map(step, range(warmup * workers)))  # every worker thread warm
        for _ in range(20):  # and past its first thread-count probe, which a long run amortises
            if pool.threads_settled:
                break
            list(pool.map(step, range(workers)))
        with ThreadCpu(model_in_main=workers == 1) as cpu:
            t0 = time.perf_counter()
            times = list(pool.map(step, timed_steps()))
            wall = time.perf_counter() - t0
    frames = batch * len(times)
    return {"stage": "model", "width": width, "height": height, "batch": batch, "workers": workers,
            "steps": len(times), "fps": frames / wall, **_percentiles(times),
            **_cpu_fields(cpu, frames, by_role=False), **stylizer.describe(),
            **peak_memory(stylizer.device)}


def _cpu_fields(cpu: ThreadCpu, frames: int, by_role: bool) -> dict:
    """This process's CPU-ms per frame (and per thread role, with `by_role`) and the
    share of the cores it kept busy while sampled; nothing where threads' CPU time
    cannot be read (not Linux)."""
    per_role = cpu.ms_per_frame(frames)
    if not per_role or not cpu.wall:
        return {}
    total = sum(per_role.values())
    cores = thread_cpu.cores()
    return {"cpu_ms_per_frame": total, **({"cpu_ms_per_frame_by_role": per_role} if by_role else {}),
            "cores": cores, "cores_busy": total * frames / 1000 / (cpu.wall * cores)}


def make_clip(path: Path, frames: int, width: int, height: int, fps: int = 30) -> Path:
    """A synthetic H.264 clip for end-to-end measurements."""
    sink = VideoFileSink(path, width, height, Fraction(fps), Fraction(1, fps), preset="ultrafast")
    for i, img in enumerate(synthetic_frames(frames, width, height)):
        sink.write(img, i)
    sink.close()
    return path


def _stage(name: str, seconds: list[float], per: int = 1, parallel: int = 1) -> dict:
    """FPS a stage could sustain alone (frames / its own busy time, `parallel` steps
    overlapping) and its per-step latency."""
    busy = sum(seconds)
    return {"stage": name, "fps": len(seconds) * per * parallel / busy if busy else 0.0,
            **_percentiles(seconds)}


def bench_file(stylizer: Stylizer, width: int, height: int, batch: int, frames: int = 30,
               input_path: Path | None = None, target: Target | None = None,
               preset: str = "veryfast", workers: int | None = None) -> list[dict]:
    """Decode, model, encode and end-to-end figures from one file conversion.

    Uses a generated clip (or a real file). Stage rows are measured inside the
    pipeline while the stages overlap; end-to-end is frames / wall time, with the
    CPU-ms per frame each kind of thread took (vidstyle.thread_cpu, Linux): on a CPU
    the stages share the cores, so CPU time, not each stage's wall time, is what
    keeps end-to-end below model-only.
    """
    target = target or random_target(stylizer)
    if stylizer.device.type == "cuda":  # this measurement's peak, not the process's
        torch.cuda.reset_peak_memory_stats(stylizer.device)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clip = input_path or make_clip(tmp / "clip.mp4", frames, width, height)
        # Warm the model at this size so the first batch's setup is not timed.
        with VideoFileSource(clip) as src:
            w, h = src.info.width, src.info.height
        stylizer.stylize_frames(synthetic_frames(batch, w, h), target)
        workers = resolve_workers(workers, stylizer)
        with ThreadCpu(model_in_main=workers == 1) as cpu:
            report = convert_video(clip, tmp / "out.mp4", stylizer, target, batch=batch, preset=preset,
                                   workers=workers)
        common = {"width": w, "height": h, "batch": batch, "workers": report.workers, **stylizer.describe(),
                  "frames": report.frames, "preset": preset}
        return [
            {**_stage("decode", report.decode_times), **common},
            {**_stage("model in pipeline", report.model_times, per=batch, parallel=report.workers), **common},
            {**_stage("encode", report.encode_times), **common},
            {"stage": "end-to-end", "fps": report.fps, **_percentiles(report.latencies), **common,
             **_cpu_fields(cpu, report.frames, by_role=True),
             **peak_memory(stylizer.device)},
        ]


def end_to_end_shares(rows: list[dict]) -> list[dict]:
    """End-to-end FPS over model-only FPS, per frame size and batch: each round's (the two
    measured one after the other, rows tagged "round") and their median. On a CPU whose
    speed drifts by +-30% within minutes, the ratio of neighbouring measurements holds
    where the two absolute figures do not."""
    rounds: dict[tuple, dict] = {}
    for r in rows:
        if r["stage"] in ("model", "end-to-end") and "input" not in r:
            key = (r["width"], r["height"], r["batch"])
            rounds.setdefault(key, {}).setdefault(r.get("round", 1), {})[r["stage"]] = r["fps"]
    shares = []
    for (width, height, batch), by_round in rounds.items():
        each = [pair["end-to-end"] / pair["model"] for _, pair in sorted(by_round.items())
                if pair.get("model") and "end-to-end" in pair]
        if each:
            shares.append({"width": width, "height": height, "batch": batch,
                           "median": statistics.median(each), "rounds": each})
    return shares


def peak_memory(device: torch.device) -> dict:
    if device.type == "cuda":
        return {"peak_mem_mb": torch.cuda.max_memory_allocated(device) / 2**20}
    import resource

    # ru_maxrss is in KiB on Linux: the whole process's peak, not this measurement's.
    return {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
