"""The frame path: uint8 frames in, encoder -> AdaIN (cached statistics) -> decoder, uint8 out.

One `Stylizer` owns the encoder and decoder on one device in one precision.
On CPUs with bf16 units the model runs in bf16 *and* channels_last (6x fp32 on
an AMX CPU, 1.9x on our AVX-512 one); on CUDA in fp16. AdaIN statistics stay fp32.
Frame models: "full" (VGG-19 + mirror decoder, the paper's), "lite" (vidstyle.lite,
distilled from it, ~10x fewer multiply-adds) and "tiny" (the lite architecture at
16/32/64 channels, ~2x faster again); all use VGG-19 style statistics.
"""
from __future__ import annotations

import copy
import logging
import threading
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .adain import StyleStats, adain, masked_adain
from .color import rgb_to_yuv, yuv_to_rgb
from .conv_relu import fuse_conv_relu, fusion_available
from .decoder import Decoder
from .devices import PRECISIONS, cpu_has_bf16, resolve_device, resolve_precision  # noqa: F401 (re-exported)
from .encoder import Encoder
from .errors import StyleWorkStopped, VidstyleError
from .images import resize_shorter
from .lite import WEIGHTS_FILES as LITE_MODELS
from .lite import LiteModel, is_lite_file, stored_architecture
from .lite import default_weights_path as lite_weights_path
from . import upsample_conv
from .max_pool import replace_max_pools

log = logging.getLogger(__name__)
MODELS = ("auto", "full", *LITE_MODELS)
# Each of the three 2x poolings needs 2+ pixels left for the next reflection pad.
MIN_SIDE = 16


def default_batch(device: torch.device) -> int:
    # Batching gains nothing per frame on this CPU; on a GPU it fills the device.
    return 8 if device.type == "cuda" else 1


def default_workers(device: torch.device, compiled: bool = False) -> int:
    """Frames the model runs at once (vidstyle.parallel): two on a CPU with two or more threads.

    One on CUDA (batches fill the GPU) and when compiled (torch.compile is not
    thread-safe, and inductor bakes each kernel's thread count in).
    """
    if device.type == "cuda" or compiled:
        return 1
    return 2 if torch.get_num_threads() >= 2 else 1


def tunes_threads(stylizer: "Stylizer") -> bool:
    """Whether frames' thread counts are chosen by timing (vidstyle.thread_tuner): on a CPU,
    eager only (inductor builds each compiled kernel for a fixed thread count)."""
    return stylizer.device.type == "cpu" and not stylizer.compiled


def resolve_workers(workers: int | None, stylizer: "Stylizer") -> int:
    """`workers` checked against the stylizer, or its default when None."""
    if workers is None:
        return default_workers(stylizer.device, stylizer.compiled)
    if workers < 1:
        raise VidstyleError("--workers must be at least 1")
    if workers > 1 and stylizer.compiled:
        raise VidstyleError("a compiled model runs one batch at a time (torch.compile is not "
                            "thread-safe): leave out --workers or --compile")
    return workers


@dataclass
class Target:
    """What each frame is pushed towards, and how (the paper's run-time controls).

    stats: style statistics (C,); alpha: content-style trade-off, one for the batch or
    a tuple with one per frame (a fade, vidstyle.fades). With `mask`
    ((1 or N, 1, H, W) in [0, 1], any size) white areas get `stats` and black
    areas `stats_b`. `luminance_only` stylizes luminance and keeps the chroma.
    """

    stats: StyleStats
    alpha: float | tuple[float, ...] = 1.0
    mask: torch.Tensor | None = None
    stats_b: StyleStats | None = None
    luminance_only: bool = False

    def __post_init__(self):
        if (self.mask is None) != (self.stats_b is None):
            raise ValueError("a mask needs a second style, and a second style needs a mask")


class StyleNet(nn.Module):
    """Encoder + AdaIN + decoder as one module, for one call per batch."""

    def __init__(self, encoder: Encoder, decoder: Decoder):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, x: torch.Tensor, style_mean: torch.Tensor, style_std: torch.Tensor,
                alpha: float = 1.0, mask: torch.Tensor | None = None,
                mean_b: torch.Tensor | None = None, std_b: torch.Tensor | None = None) -> torch.Tensor:
        h, w = x.shape[-2:]
        f = self.encoder(x)
        if mask is None:
            t = adain(f, style_mean, style_std, alpha)
        else:
            m = F.interpolate(mask.float(), size=f.shape[-2:], mode="area")
            t = masked_adain(f, m, style_mean, style_std, mean_b, std_b, alpha)
        # Max-pools round up, so the output can be a few pixels larger: crop.
        return self.decoder(t)[..., :h, :w]


class Stylizer:
    """Frames through encoder -> AdaIN -> decoder on one device in one precision.

    `frame_encoder` (default: a copy of `encoder`) is what frames go through, e.g.
    the lite encoder; styles always go through `encoder`, the full VGG-19.
    `work_size` runs the model with the frame's shorter side at that many pixels
    and scales its output back to the frame's size (faster, softer detail);
    frames whose shorter side is already at most `work_size` run as they are.
    On a CPU, each convolution and the ReLU after it run as one oneDNN call
    (vidstyle.conv_relu; the same output); `fuse_relu=False` keeps them apart. Also on a
    CPU, each decoder upsampling and the convolution after it run as one convolution at
    the low resolution (vidstyle.upsample_conv; the same sums, 4/9 of the work;
    not measured on CUDA yet); `fold_upsampling=False` keeps them apart. Eager on a CPU,
    max-pooling skips the indices only a backward pass needs (vidstyle.max_pool; the same
    values); `pool_without_indices=False` keeps PyTorch's.
    """

    def __init__(self, decoder: nn.Module | None = None, device: str = "auto",
                 precision: str = "auto", encoder: Encoder | None = None, compile: bool = False,
                 frame_encoder: nn.Module | None = None, work_size: int | None = None,
                 model_name: str | None = None, fuse_relu: bool = True, fold_upsampling: bool = True,
                 pool_without_indices: bool = True):
        if work_size is not None and work_size < MIN_SIDE:
            raise VidstyleError(f"the work size must be at least {MIN_SIDE} pixels, got {work_size}")
        self.device = resolve_device(device)
        self.dtype = resolve_precision(precision, self.device)
        self.work_size = work_size
        self.model_name = model_name or ("full" if frame_encoder is None else "custom")
        decoder = decoder if decoder is not None else Decoder.load()
        encoder = encoder if encoder is not None else Encoder(balanced=True)
        frame_encoder = frame_encoder if frame_encoder is not None else encoder
        # Styles are encoded once, in fp32 (exact and the same on every device and
        # precision, so cached statistics can be shared); frames use a fast copy.
        # Copies also because converting dtype/layout is in place and callers may share modules.
        self._style_encoder = copy.deepcopy(encoder).float().to(self.device).eval()
        self._style_work_stopped = threading.Event()
        net = StyleNet(copy.deepcopy(frame_encoder), copy.deepcopy(decoder)).eval().requires_grad_(False)
        self.net = net.to(self.device, self.dtype, memory_format=torch.channels_last)
        self._fuse_relu = fuse_relu
        self._pool_without_indices = pool_without_indices
        self.relu_fused = False
        self.pools_without_indices = False
        self.upsampling_folded = False
        self._eager = self.net
        # Compiled or not: inductor does not find this fold by itself (the lite model compiled
        # ran 1.14x faster with it, RESULTS.md session 28).
        if fold_upsampling and self.device.type == "cpu":
            fused = fuse_relu and fusion_available(self.dtype)
            self.upsampling_folded = upsample_conv.fold_upsampling(self._eager, fused) > 0
        if not compile:
            self._fuse_eager()
        self.compiled = False
        if compile:
            self._compile()

    def _compile(self) -> None:
        """torch.compile (inductor, frozen weights); each new frame size compiles once (~25 s
        on 2 CPU cores) and then ran 6% faster on CPU here. Falls back to eager on failure."""
        try:
            if self.device.type == "cpu":  # (a CUDA build of torch says no CUDA is here at the first compile)
                logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)
            # (frozen weights for this model only: setting inductor's config froze the user's models too)
            self.net = torch.compile(self._eager, dynamic=False, options={"freezing": True})
            self.compiled = True
        except Exception as exc:  # an unsupported platform must not stop the user
            log.warning("torch.compile unavailable (%s); running eagerly", exc)
            self._fall_back_to_eager()

    def _fuse_eager(self) -> None:
        """Convolution + ReLU pairs fused on CPU where the build has the call, and max-pools
        without indices on CPU (compiling fuses by itself; on CUDA cuDNN picks its own kernels)."""
        if self._pool_without_indices and self.device.type == "cpu":
            self.pools_without_indices = replace_max_pools(self._eager) > 0 or self.pools_without_indices
        if self._fuse_relu and self.device.type == "cpu" and fusion_available(self.dtype):
            self.relu_fused = fuse_conv_relu(self._eager) > 0 or self.relu_fused

    def _fall_back_to_eager(self) -> None:
        """Eager from now on, fused as an eager stylizer would have been."""
        self.net, self.compiled = self._eager, False
        self._fuse_eager()

    @property
    def precision(self) -> str:
        return {v: k for k, v in PRECISIONS.items()}[self.dtype]

    def describe(self) -> dict:
        """What runs: the frame model, the size it runs at, the device and the precision."""
        return {"model": self.model_name, "work_size": self.work_size,
                "device": str(self.device), "precision": self.precision, "relu_fused": self.relu_fused,
                "upsampling_folded": self.upsampling_folded,
                "pools_without_indices": self.pools_without_indices}

    # -- styles ----------------------------------------------------------
    @torch.no_grad()
    def style_stats(self, image: torch.Tensor) -> StyleStats:
        """Statistics of one style image (3, H, W) float in [0, 1], computed in fp32.

        Uses its own encoder copy, so it may run in another thread (webcam style
        switching) while frames go through the fast one.
        """
        x = image[None].to(self.device, torch.float32, memory_format=torch.channels_last)
        layers = getattr(self._style_encoder, "layers", None)
        if layers is None:  # (an encoder of another kind runs whole)
            return StyleStats.from_features(self._style_encoder(x))
        for layer in layers():  # layer by layer, so that stop_style_work stops it within one
            if self._style_work_stopped.is_set():
                raise StyleWorkStopped
            x = layer(x)
        return StyleStats.from_features(x)

    def stop_style_work(self) -> None:
        """Give up style encoding: one in progress (in another thread) raises StyleWorkStopped
        at its next layer, and so does every later one. For a live feed closing: a 2048 px
        style in the background held a quit for up to a minute on two cores."""
        self._style_work_stopped.set()

    # -- frames ----------------------------------------------------------
    def to_device(self, frames: np.ndarray | torch.Tensor) -> torch.Tensor:
        """(N, H, W, 3) uint8 -> (N, 3, H, W) model dtype in [0, 1], channels_last, on device."""
        if isinstance(frames, np.ndarray):
            # A read-only array (np.asarray of a PIL image) makes torch warn; the pipeline's
            # decoded frames are writable and are not copied.
            t = torch.from_numpy(frames if frames.flags.writeable else frames.copy())
        else:
            t = frames
        if self.device.type == "cuda" and t.device.type == "cpu":
            t = t.pin_memory().to(self.device, non_blocking=True)
        else:
            t = t.to(self.device)
        # An NHWC tensor permuted to NCHW is already channels_last in memory.
        return t.permute(0, 3, 1, 2).to(self.dtype).div_(255.0)

    @torch.no_grad()
    def stylize_tensor(self, x: torch.Tensor, target: Target, size: int | None = None) -> torch.Tensor:
        """(N, 3, H, W) in [0, 1] (model dtype) -> stylized (N, 3, H', W') in [0, 1]."""
        if size:
            x = resize_shorter(x.float(), size).to(self.dtype).contiguous(memory_format=torch.channels_last)
        mean, std = target.stats.as_4d(self.device)
        extra = {}
        if target.mask is not None:
            extra = dict(zip(("mean_b", "std_b"), target.stats_b.as_4d(self.device)),
                         mask=target.mask.to(self.device))
        if target.luminance_only:
            yuv = rgb_to_yuv(x.float())
            grey = yuv[:, :1].expand(-1, 3, -1, -1).to(self.dtype)
            y_out = rgb_to_yuv(self._run(grey.contiguous(memory_format=torch.channels_last),
                                         mean, std, target.alpha, extra).float())[:, :1]
            return yuv_to_rgb(torch.cat([y_out, yuv[:, 1:]], 1)).clamp_(0, 1)
        return self._run(x, mean, std, target.alpha, extra).clamp_(0, 1)

    def _run(self, x: torch.Tensor, mean, std, alpha, extra: dict) -> torch.Tensor:
        """The network on x, at work_size if one is set, with the eager fallback."""
        h, w = x.shape[-2:]
        if min(h, w) < MIN_SIDE:
            raise VidstyleError(f"frames of {w}x{h} are too small for the model: it needs at least "
                                f"{MIN_SIDE} pixels on each side")
        if isinstance(alpha, tuple):  # one per frame, broadcast by adain as (N, 1, 1, 1)
            if len(alpha) != x.shape[0]:
                raise ValueError(f"{len(alpha)} alphas for {x.shape[0]} frames")
            alpha = torch.tensor(alpha, dtype=torch.float32, device=self.device).view(-1, 1, 1, 1)
        elif self.compiled:  # a tensor's value is not guarded: a new alpha must not recompile
            alpha = torch.full((), float(alpha), device=self.device)
        work_size = self.work_size  # read once: a live controller may change it meanwhile
        scaled = bool(work_size) and min(h, w) > work_size
        if scaled:
            x = resize_shorter(x.float(), work_size).to(self.dtype).contiguous(
                memory_format=torch.channels_last)
        try:
            out = self.net(x, mean, std, alpha, **extra)
        except torch.cuda.OutOfMemoryError:
            raise
        except Exception as exc:
            if not self.compiled:
                raise
            log.warning("compiled model failed (%s); falling back to eager", exc)
            self._fall_back_to_eager()
            out = self.net(x, mean, std, alpha, **extra)
        if scaled:
            out = F.interpolate(out.float(), size=(h, w), mode="bilinear", align_corners=False)
        return out

    @torch.no_grad()
    def stylize_frames(self, frames: np.ndarray, target: Target, size: int | None = None) -> np.ndarray:
        """(N, H, W, 3) uint8 RGB -> stylized (N, H', W', 3) uint8 RGB."""
        out = self.stylize_tensor(self.to_device(frames), target, size)
        u8 = out.mul_(255.0).round_().to(torch.uint8).permute(0, 2, 3, 1)
        return u8.cpu().numpy() if u8.is_contiguous() else u8.contiguous().cpu().numpy()


def pick_model(weights: str | None = None, device: str = "auto") -> str:
    """What "auto" means: the kind of model in `weights` if given; else full on a GPU, lite on a
    CPU with bf16 units and tiny on one without (fp32 there: the lite model ran 4.3 FPS at
    640x360 on such a CPU, the tiny one 7.4; benchmarks/RESULTS.md)."""
    if weights:
        return "lite" if is_lite_file(weights) else "full"
    if resolve_device(device).type == "cuda":
        return "full"
    preferred = "lite" if cpu_has_bf16() else "tiny"
    for name in (preferred, *LITE_MODELS):  # the next best if a packager left one out
        if lite_weights_path(name).is_file():
            return name
    log.warning("no lite or tiny model is installed; using the full model")
    return "full"


def load_stylizer(model: str = "full", weights: str | None = None, **options) -> Stylizer:
    """A Stylizer for the named frame model with its shipped weights (or the file `weights`).

    model: "full", "lite", "tiny" or "auto" (pick_model). options: device, precision,
    compile, work_size, encoder, fuse_relu, fold_upsampling, pool_without_indices (see Stylizer).
    """
    if model == "auto":
        model = pick_model(weights, options.get("device", "auto"))
    if model == "full" and weights and is_lite_file(weights):
        raise VidstyleError(f"{weights} is a lite model file; use --model lite, tiny or auto")
    if model == "full":
        return Stylizer(Decoder.load(weights), model_name="full", **options)
    if model in LITE_MODELS:
        if weights and _holds_a_full_decoder(weights):
            raise VidstyleError(f"{weights} is a full model's decoder; use --model full or auto")
        lite = LiteModel.load(weights, model)
        return Stylizer(lite.decoder, frame_encoder=lite.encoder, model_name=_lite_name(lite, model, weights),
                        **options)
    raise VidstyleError(f"unknown model {model!r} (use {', '.join(MODELS)})")


def _lite_name(lite: LiteModel, asked: str, weights: str | None) -> str:
    """What a lite-architecture file is (describe() reports it): the shipped model whose
    widths and feature kernel it has, else "custom" with them; the name asked for when no
    file was given."""
    if not weights:
        return asked
    for name in dict.fromkeys((asked, *LITE_MODELS)):  # (the name asked for first)
        shipped = lite_weights_path(name)
        if shipped.is_file() and stored_architecture(shipped) == (lite.widths, lite.feature_kernel):
            return name
    kernel = ", 1x1 features" if lite.feature_kernel == 1 else ""
    return f"custom ({'/'.join(map(str, lite.widths))}{kernel})"


def _holds_a_full_decoder(path: str) -> bool:
    """Whether a weights file is the full model's decoder (its tensors are named layers.*;
    a lite model's are encoder.* and decoder.*). False where it cannot be read: loading says why."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            names = list(f.keys())
    except (SafetensorError, OSError, ValueError):
        return False
    return bool(names) and all(name.startswith("layers.") for name in names)
