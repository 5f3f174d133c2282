"""Training the AdaIN decoder (Huang & Belongie 2017, section 6), on CPU or CUDA.

Loss = content + style_weight * style, with the content loss at relu4_1 against
the AdaIN target and the style loss summed over relu1_1..relu4_1 of the
*balanced* encoder (each tap divided by its mean activation on the data, see
encoder.FEATURE_SCALES), so colour and fine texture count as much as relu4_1.
"""
from __future__ import annotations

import csv
import json
import math
import os
import random
import shutil
import signal
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torchvision.utils import save_image as save_grid

from .adain import adain, calc_mean_std
from .decoder import Decoder
from .devices import autocast_dtype, resolve_device, tune_convolutions
from .encoder import Encoder
from .errors import VidstyleError
from .losses import content_loss, style_losses
from .run_folder import prepare_log, read_checkpoint
from .train_data import ImageBank, jitter_colours, random_crops


def parse_schedule(text: str) -> list[tuple[int, int]]:
    """'128:16000,256:2000' -> [(128, 16000), (256, 2000)] (crop size, steps)."""
    message = f"bad schedule {text!r}: expected CROP:STEPS[,CROP:STEPS...], crops multiples of 8 >= 32"
    try:
        stages = [tuple(int(v) for v in part.split(":")) for part in text.split(",")]
    except ValueError:
        raise VidstyleError(message) from None
    if not all(len(s) == 2 and s[0] >= 32 and s[0] % 8 == 0 and s[1] > 0 for s in stages):
        raise VidstyleError(message)
    return stages  # type: ignore[return-value]


@dataclass
class TrainConfig:
    content_dir: str
    style_dir: str
    out_dir: str
    schedule: list = field(default_factory=lambda: [(128, 16000), (256, 2000)])
    batch: int = 8
    lr: float = 1e-4
    lr_decay: float = 5e-5  # lr / (1 + lr_decay * step), as in the reference implementation
    style_weight: float = 10.0
    style_jitter: float = 0.5  # share of style crops whose colours are jittered
    checkpoint_every: int = 250
    sample_every: int = 500
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # bf16 autocast where it helps (CPU with bf16 units, CUDA), else fp32
    init_weights: str | None = None  # start from a shipped decoder instead of random
    sample_style_dir: str | None = None  # styles for the sample grid (default: style_dir)
    max_minutes: float | None = None  # stop cleanly (checkpoint, weights, samples) after this long
    history: list = field(default_factory=list)  # settings changed when going on: [{step, changed}]

    @property
    def total_steps(self) -> int:
        return sum(steps for _, steps in self.schedule)

    def crop_at(self, step: int) -> int:
        end = 0
        for crop, steps in self.schedule:
            end += steps
            if step < end:
                return crop
        return self.schedule[-1][0]


@dataclass
class StepReport:
    step: int
    total: int
    crop: int
    loss: float
    terms: dict  # the loss's parts, named as in Trainer.log_terms
    lr: float
    seconds: float


class Trainer:
    """Trains the decoder; subclasses (vidstyle.distill) swap the model and the loss."""

    weights_name = "decoder.safetensors"
    log_terms = ("content", "style", "style_relu1_1", "style_relu2_1", "style_relu3_1", "style_relu4_1")

    def __init__(self, config: TrainConfig, encoder: Encoder | None = None, resume: bool = False):
        """`resume`: the run goes on from the checkpoint in out_dir, if there is one (its
        weights then replace --init's, which is not read: it may have moved since)."""
        self.cfg = config
        self.device = resolve_device(config.device)
        self.amp_dtype = autocast_dtype(config.precision, self.device)
        tune_convolutions(self.device)  # every step has the same shapes
        self.out = Path(config.out_dir)
        self.init_weights = None if resume and self.checkpoint_path.is_file() else config.init_weights
        self.content = ImageBank(config.content_dir)
        self.style = ImageBank(config.style_dir)
        self.sample_style = ImageBank(config.sample_style_dir) if config.sample_style_dir else self.style
        try:  # (after the data is found good: a bad folder left an empty run folder behind)
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise VidstyleError(f"cannot create output folder {self.out}: {exc.strerror}") from exc
        mf = torch.channels_last
        self.encoder = (encoder or Encoder(balanced=True)).to(self.device, memory_format=mf)
        torch.manual_seed(config.seed)  # before the model: its random start follows --seed too
        random.seed(config.seed)
        self.model = self.build_model().to(self.device, memory_format=mf).train().requires_grad_(True)
        self.optim = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.gen = torch.Generator().manual_seed(config.seed)  # the loss's own draws (distill's alpha)
        # The batches' draws, in step order; may run a step ahead in a thread (prefetch).
        self.data_gen = torch.Generator().manual_seed(config.seed + 1)
        self._data_state = self.data_gen.get_state()  # before the next batch: what a checkpoint keeps
        # On a GPU the host's crops (~54 ms a batch at 256 px on one core) would idle it, so
        # the next batch is drawn in a thread while the GPU runs this step.
        self.prefetch = self.device.type == "cuda"
        self._loader = None
        self._pending = None  # ((step, crop), future) of the batch being drawn
        self.step = 0
        self.stopped_by_time = False  # train() ended at config.max_minutes

    def build_model(self) -> torch.nn.Module:
        """The trained module: anything with state_dict() and save(path, meta=...)."""
        decoder = Decoder()
        if self.init_weights:
            decoder.load_state_dict(Decoder.load(self.init_weights).state_dict())
        return decoder

    @property
    def decoder(self) -> torch.nn.Module:
        """The trained module under its older name (the full trainer's decoder)."""
        return self.model

    # -- checkpoints -------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path:
        return self.out / "checkpoint.pt"

    def save_checkpoint(self) -> None:
        state = {
            "model": self.model.state_dict(),
            "optim": self.optim.state_dict(),
            "step": self.step,
            "gen": self.gen.get_state(),
            "data_gen": self._data_state,
            "torch_rng": torch.get_rng_state(),
            "config": json.dumps(asdict(self.cfg)),
            "cwd": os.getcwd(),  # (the config's relative paths are from here)
            **self.extra_state(),
        }
        tmp = self.checkpoint_path.with_suffix(".partial")
        try:
            torch.save(state, tmp)
            tmp.replace(self.checkpoint_path)
            self.model.save(self.out / self.weights_name, meta=self.describe())
        except (OSError, RuntimeError) as exc:  # (torch says a full disk as "unexpected pos")
            tmp.unlink(missing_ok=True)  # (a full disk stays full with it)
            if shutil.disk_usage(self.out).free < 64 << 20:
                why = "the disk is full"
            else:
                why = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
            raise VidstyleError(f"cannot save the checkpoint in {self.out} ({why}); the last one saved is "
                                f"still there") from exc

    def extra_state(self) -> dict:
        """More for the checkpoint to keep (subclasses)."""
        return {}

    def check_resumed(self, state: dict) -> None:
        """Look over a checkpoint gone on from (subclasses: e.g. a teacher changed since)."""

    def resume(self) -> bool:
        """Continue exactly where the checkpoint in out_dir stopped; False if there is none."""
        if not self.checkpoint_path.is_file():
            return False
        state = read_checkpoint(self.checkpoint_path)
        try:
            # "decoder": the key of checkpoints written before the trainer was generalised.
            self.model.load_state_dict(state["model"] if "model" in state else state["decoder"])
            self.optim.load_state_dict(state["optim"])
        except (RuntimeError, KeyError, ValueError, TypeError) as exc:  # (a state dict of other shapes)
            raise VidstyleError(f"cannot resume from {self.checkpoint_path}: it holds another model "
                                f"(made by another command, or with other --widths or --feature-kernel: "
                                f"give those of the run, or --out a new folder)") from exc
        self.step = int(state["step"])
        self.gen.set_state(state["gen"])
        self._drop_pending()
        if "data_gen" in state:  # older checkpoints drew batches from "gen"
            self.data_gen.set_state(state["data_gen"])
        self._data_state = self.data_gen.get_state()
        torch.set_rng_state(state["torch_rng"])
        self.check_resumed(state)
        return True

    def describe(self) -> dict:
        return {"step": self.step, "config": asdict(self.cfg), "device": str(self.device),
                "amp": str(self.amp_dtype), "torch": torch.__version__}

    # -- one step ----------------------------------------------------------
    def _autocast(self):
        if self.amp_dtype is None:
            return torch.autocast(self.device.type, enabled=False)
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def _draw(self, crop: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One batch of content and style crops on the host, and data_gen's state after it."""
        n = self.cfg.batch
        content = random_crops(self.content, n, crop, self.data_gen)
        style = random_crops(self.style, n, crop, self.data_gen)
        k = round(n * self.cfg.style_jitter)
        if k:
            style[:k] = jitter_colours(style[:k], self.data_gen)
        if self.device.type == "cuda":  # pinned: the copy to the GPU runs asynchronously
            content, style = content.pin_memory(), style.pin_memory()
        return content, style, self.data_gen.get_state()

    def _batch(self, crop: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """This step's batch on the device (drawn ahead in a thread with prefetch), and
        data_gen's state after it, for the step to keep once it is done (a checkpoint
        written when a stop cuts the step short draws this batch again)."""
        if not self.prefetch:
            content, style, after = self._draw(crop)
        else:
            if self._loader is None:
                from concurrent.futures import ThreadPoolExecutor

                self._loader = ThreadPoolExecutor(1, thread_name_prefix="vidstyle-batches")
            if self._pending is None or self._pending[0] != (self.step, crop):
                self._drop_pending()
                self._pending = ((self.step, crop), self._loader.submit(self._draw, crop))
            content, style, after = self._pending[1].result()
            # data_gen is only ever used by that one thread, in step order.
            nxt = self.step + 1, self.cfg.crop_at(self.step + 1)
            self._pending = (nxt, self._loader.submit(self._draw, nxt[1]))
        mf = torch.channels_last
        return (content.to(self.device, memory_format=mf, non_blocking=True),
                style.to(self.device, memory_format=mf, non_blocking=True), after)

    def _drop_pending(self) -> None:
        """Forget a batch drawn ahead (resume, the end): its draws are undone from _data_state."""
        if self._pending is not None:
            self._pending[1].result()
            self._pending = None
            self.data_gen.set_state(self._data_state)

    def close(self) -> None:
        """Stop the batch thread, if any; data_gen is left where a checkpoint says it is."""
        self._drop_pending()
        if self._loader is not None:
            self._loader.shutdown()
            self._loader = None

    def losses(self, content: torch.Tensor, style: torch.Tensor):
        with self._autocast():
            with torch.no_grad():
                c_feat = self.encoder(content)
                s_taps = self.encoder(style, all_taps=True)
                s_mean, s_std = calc_mean_std(s_taps[-1])
                target = adain(c_feat, s_mean, s_std)
            out = self.model(target)
            o_taps = self.encoder(out, all_taps=True)
            loss_c = content_loss(o_taps[-1], target)
            loss_s = style_losses(o_taps, s_taps, one_pass=True)
        return loss_c, loss_s, out

    def step_loss(self, content: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """The loss to minimise on one batch, and its parts for the log (log_terms)."""
        loss_c, loss_s, _ = self.losses(content, style)
        terms = {"content": loss_c.item(), "style": loss_s.sum().item()}
        terms.update(zip(self.log_terms[2:], loss_s.tolist()))
        return loss_c + self.cfg.style_weight * loss_s.sum(), terms

    def train_step(self) -> StepReport:
        t0 = time.perf_counter()
        crop = self.cfg.crop_at(self.step)
        lr = self.cfg.lr / (1.0 + self.cfg.lr_decay * self.step)
        for group in self.optim.param_groups:
            group["lr"] = lr
        content, style, drawn = self._batch(crop)
        loss, terms = self.step_loss(content, style)
        if not math.isfinite(loss.item()):
            raise VidstyleError(f"training diverged at step {self.step} (loss {loss.item()})")
        self.optim.zero_grad(set_to_none=True)
        loss.backward()
        self.optim.step()
        self._data_state = drawn
        self.step += 1
        return StepReport(self.step, self.cfg.total_steps, crop, loss.item(), terms, lr,
                          time.perf_counter() - t0)

    # -- samples -----------------------------------------------------------
    def sample_stylize(self, content: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
        return self.model(adain(self.encoder(content), mean, std))

    @torch.no_grad()
    def save_samples(self, size: int = 256, n: int = 4) -> Path:
        """A grid: rows are content crops, columns the styles; first row/column the inputs."""
        g = torch.Generator().manual_seed(1234)  # same crops every time, for comparison
        contents = random_crops(self.content, n, size, g, scale_range=(1.0, 1.0))
        styles = random_crops(self.sample_style, n, size, g, scale_range=(1.0, 1.0))
        self.model.eval()
        mf = torch.channels_last
        tiles = [torch.ones(3, size, size)] + list(styles)
        with self._autocast():
            s_stats = [calc_mean_std(self.encoder(s[None].to(self.device, memory_format=mf)))
                       for s in styles]
            for c in contents:
                image = c[None].to(self.device, memory_format=mf)
                tiles.append(c)
                for mean, std in s_stats:
                    tiles.append(self.sample_stylize(image, mean, std)[0].float().clamp(0, 1).cpu())
        self.model.train()
        path = self.out / f"samples_{self.step:06d}.png"
        save_grid(torch.stack(tiles), path, nrow=n + 1, padding=2, pad_value=1.0)
        return path


_clock = time.monotonic  # for train()'s time limit; tests replace it


@contextmanager
def _sigterm_as_interrupt():
    """SIGTERM stops training like Ctrl-C does: checkpoint, then stop. A handler the
    program installed itself (the vidstyle CLI's) is left in place."""
    def handler(signum, frame):
        raise KeyboardInterrupt
    previous = None
    try:
        if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
            previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        pass
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def train(config: TrainConfig, resume: bool = False,
          on_step: Callable[[StepReport], None] | None = None,
          trainer: Trainer | None = None) -> Trainer:
    """Run (or continue) training to config.total_steps; checkpoints every N steps and on stop.

    With config.max_minutes, stops after the step that passes that time, as at the last
    step (a GPU lent for a fixed time, a session that ends at a fixed hour); `--resume`
    continues. Raises KeyboardInterrupt after checkpointing when interrupted (Ctrl-C or SIGTERM).
    """
    trainer = trainer or Trainer(config)
    if resume:
        trainer.resume()
    log_path = trainer.out / "log.csv"
    columns = ["step", "crop", "lr", "loss", *trainer.log_terms, "seconds"]
    header = prepare_log(log_path, columns, trainer.step)
    with open(log_path, "a", newline="") as fh, _sigterm_as_interrupt():
        writer = csv.DictWriter(fh, header, restval="", extrasaction="ignore")
        started = _clock()
        try:
            while trainer.step < config.total_steps:
                if config.max_minutes is not None and _clock() - started >= 60 * config.max_minutes:
                    trainer.stopped_by_time = True
                    break
                r = trainer.train_step()
                writer.writerow({"step": r.step, "crop": r.crop, "lr": f"{r.lr:.3g}", "loss": f"{r.loss:.5f}",
                                 **{k: f"{r.terms[k]:.5f}" for k in trainer.log_terms},
                                 "seconds": f"{r.seconds:.3f}"})
                fh.flush()  # (a step's row is there to read as it ends, not at the next checkpoint)
                if on_step:
                    on_step(r)
                if r.step % config.checkpoint_every == 0:
                    trainer.save_checkpoint()
                if r.step % config.sample_every == 0:
                    trainer.save_samples()
        except KeyboardInterrupt:
            trainer.save_checkpoint()
            raise
        finally:
            trainer.close()
    trainer.save_checkpoint()
    trainer.save_samples()
    return trainer
