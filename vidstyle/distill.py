"""Distilling the lite model (vidstyle.lite) from the full model.

Per batch of random content/style crops, the full model (frozen VGG-19 encoder
+ the shipped decoder) makes the target: its stylized crop at a random alpha.
The lite encoder and decoder learn together to reproduce it through the same
AdaIN with the same VGG style statistics:

    loss = L1(lite output, full output)
         + perceptual_weight * sum over relu1_1..relu3_1 of MSE(VGG(lite output), VGG(full output))
         + feature_weight * MSE(lite features, VGG relu4_1)
         + style_weight * sum over relu1_1..relu4_1 of the paper's mean/std loss(VGG(lite output), VGG(style))

The pixel term makes the pair reproduce the frames users see; the perceptual
term (the balanced VGG's shallow layers) keeps edges and brush texture that a
pixel loss alone lets a small network blur; the feature term anchors the lite
encoder in VGG's relu4_1 space, where the cached style statistics live. The
style term (off by default: 0) is the decoder recipe's own style loss on the lite
output: pixel and perceptual terms average the teacher's strokes away, and this
term asks for the style's texture statistics directly. It applies to the alpha = 1
half only (a blended frame should not match the style's statistics). Half of
each batch (rounded up) uses alpha = 1, the rest alpha ~ U(0, 1).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from .adain import adain, calc_mean_std
from .decoder import Decoder, default_weights_path
from .encoder import Encoder
from .errors import VidstyleError
from .lite import FEATURE_KERNEL, WIDTHS, LiteModel
from .losses import style_losses
from .train import TrainConfig, Trainer


@dataclass
class DistillConfig(TrainConfig):
    schedule: list = field(default_factory=lambda: [(128, 20000)])
    lr: float = 5e-4  # a small network trained from scratch on a smooth target takes a larger step
    sample_every: int = 1000
    teacher: str | None = None  # the full model's decoder weights (default: the shipped ones)
    widths: tuple | None = None  # None: the --init file's, else lite.WIDTHS
    feature_kernel: int | None = None  # None: the --init file's, else lite.FEATURE_KERNEL
    feature_weight: float = 0.02
    perceptual_weight: float = 0.02
    style_weight: float = 0.0


log = logging.getLogger(__name__)


def file_sha256(path: str | Path) -> str | None:
    """A file's SHA-256 (None where it cannot be read: loading it says why)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def shallow_taps(encoder: Encoder, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """relu1_1, relu2_1 and relu3_1 of the encoder (a third of its cost: no relu4_1)."""
    f1 = encoder.slice1(x)
    f2 = encoder.slice2(f1)
    return f1, f2, encoder.slice3(f2)


class DistillTrainer(Trainer):
    weights_name = "lite.safetensors"
    log_terms = ("pixel", "perceptual", "feature")

    def __init__(self, config: DistillConfig, encoder: Encoder | None = None,
                 teacher: Decoder | None = None, resume: bool = False):
        super().__init__(config, encoder, resume)
        if config.style_weight > 0:  # the log gets the column only when the term is on
            self.log_terms = (*self.log_terms, "style")
        mf = torch.channels_last
        # Which weights teach, by content: the default is the shipped decoder, which a new
        # stage replaces (a run going on would then learn from another teacher unsaid).
        taught_by = config.teacher or default_weights_path()
        self.teacher_sha256 = None if teacher is not None else file_sha256(taught_by)
        teacher = teacher if teacher is not None else Decoder.load(config.teacher)
        self.teacher = teacher.to(self.device, memory_format=mf).eval().requires_grad_(False)

    def extra_state(self) -> dict:
        return {"teacher_sha256": self.teacher_sha256} if self.teacher_sha256 else {}

    def check_resumed(self, state: dict) -> None:
        before = state.get("teacher_sha256")
        if before and self.teacher_sha256 and before != self.teacher_sha256:
            log.warning("the teacher's weights (%s) are not those the run learned from so far: it goes on "
                        "learning from these (--teacher names a file of the others)",
                        self.cfg.teacher or "the shipped decoder")

    def build_model(self) -> LiteModel:
        if not self.init_weights:
            model = LiteModel(tuple(self.cfg.widths or WIDTHS), self.cfg.feature_kernel or FEATURE_KERNEL)
            self.cfg.widths, self.cfg.feature_kernel = model.widths, model.feature_kernel
            return model
        model = LiteModel.load(self.init_weights)
        if self.cfg.widths and tuple(self.cfg.widths) != model.widths:
            try:  # a narrower model starts from the file's strongest channels
                model = model.narrowed(tuple(self.cfg.widths))
            except ValueError as exc:
                raise VidstyleError(f"--widths: {exc}") from exc
        if self.cfg.feature_kernel and self.cfg.feature_kernel != model.feature_kernel:
            if self.cfg.feature_kernel != 1:
                raise VidstyleError("--feature-kernel: a model with 1x1 feature convolutions cannot "
                                    "start one with 3x3 ones")
            model = model.with_pointwise_features()
        self.cfg.widths, self.cfg.feature_kernel = model.widths, model.feature_kernel
        return model

    def step_loss(self, content: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, dict]:
        n = content.shape[0]
        alpha = torch.rand(n, 1, 1, 1, generator=self.gen).to(self.device)
        full = (n + 1) // 2
        alpha[:full] = 1.0
        use_style = self.cfg.style_weight > 0
        with self._autocast():
            with torch.no_grad():
                c_feat = self.encoder(content)
                s_taps = self.encoder(style, all_taps=True)
                s_mean, s_std = calc_mean_std(s_taps[-1])
                target = self.teacher(adain(c_feat, s_mean, s_std, alpha)).float().clamp(0, 1)
                target_taps = shallow_taps(self.encoder, target)
            feat = self.model.encoder(content)
            out = self.model.decoder(adain(feat, s_mean, s_std, alpha))
            out_taps = shallow_taps(self.encoder, out)
            if use_style:  # relu4_1 of the alpha = 1 outputs, on top of the shallow taps
                full_taps = [t[:full] for t in out_taps]
                full_taps.append(self.encoder.slice4(full_taps[-1]))
                style_term = style_losses(full_taps, [t[:full] for t in s_taps], one_pass=True).sum()
        pixel = F.l1_loss(out.float(), target)
        perceptual = sum(F.mse_loss(o.float(), t.float()) for o, t in zip(out_taps, target_taps))
        feature = F.mse_loss(feat.float(), c_feat.float())
        loss = pixel + self.cfg.perceptual_weight * perceptual + self.cfg.feature_weight * feature
        terms = {"pixel": pixel.item(), "perceptual": perceptual.item(), "feature": feature.item()}
        if use_style:
            loss = loss + self.cfg.style_weight * style_term
            terms["style"] = style_term.item()
        return loss, terms

    def sample_stylize(self, content: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
        return self.model.decoder(adain(self.model.encoder(content), mean, std))
