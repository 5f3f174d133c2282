"""Where models run and in what precision: shared by inference (stylizer) and training."""
from __future__ import annotations

import torch

from .errors import VidstyleError

PRECISIONS = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise VidstyleError("--device cuda asked for, but no CUDA GPU is available")
    if name not in ("cpu", "cuda"):
        raise VidstyleError(f"unknown device {name!r} (use auto, cpu or cuda)")
    return torch.device(name)


def cpu_has_bf16() -> bool:
    """True where oneDNN has native bf16 kernels (AVX-512 bf16 or AMX); elsewhere bf16 is
    emulated: a distillation step took ~36 s in bf16 against ~3.1 s in fp32 on an AVX2-only CPU."""
    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_precision(name: str, device: torch.device) -> torch.dtype:
    """Model weights' and activations' dtype for inference: "auto" is fp16 on CUDA, bf16 on
    CPUs with bf16 units, else fp32."""
    if name == "auto":
        if device.type == "cuda":
            return torch.float16
        return torch.bfloat16 if cpu_has_bf16() else torch.float32
    if name not in PRECISIONS:
        raise VidstyleError(f"unknown precision {name!r} (use auto, fp32, fp16 or bf16)")
    if name == "fp16" and device.type == "cpu":
        raise VidstyleError("fp16 is for GPUs; on the CPU use --precision bf16 or fp32")
    return PRECISIONS[name]


def autocast_dtype(name: str, device: torch.device) -> torch.dtype | None:
    """Training's autocast dtype (None: plain fp32): "auto" is bf16 on GPUs and CPUs with
    bf16 units, else fp32. fp16 is refused: its gradients underflow without loss scaling."""
    if name == "auto":
        if device.type == "cuda":  # bf16 units from Ampere (compute capability 8) on; emulated before
            return torch.bfloat16 if torch.cuda.get_device_capability(device)[0] >= 8 else None
        return torch.bfloat16 if cpu_has_bf16() else None
    if name not in PRECISIONS:
        raise VidstyleError(f"unknown precision {name!r} (use auto, fp32, fp16 or bf16)")
    if name == "fp16":
        raise VidstyleError("training in fp16 would need loss scaling, which vidstyle does not do; "
                            "use --precision bf16 or fp32")
    return None if name == "fp32" else PRECISIONS[name]


def tune_convolutions(device: torch.device) -> None:
    """Let cuDNN time its convolution algorithms: it pays where the frame size stays the same
    (file conversion, training, benchmarks), not in the webcam, whose size --fps changes."""
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True


_ISA_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")  # what decides bf16 and CPU speed


def describe_cpu(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The CPU's name and the vector units that decide its speed here, e.g. "AMD EPYC (avx2)":
    machines sold under one name differ (with or without AVX-512 bf16), and so do their FPS."""
    import platform

    name, flags = platform.processor() or platform.machine(), set()
    try:
        with open(cpuinfo) as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    name = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
                    break
    except OSError:  # not Linux: the name alone
        return name
    units = [f for f in _ISA_FLAGS if f in flags]
    return f"{name} ({', '.join(units) or 'no avx2'})"
