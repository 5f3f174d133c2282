"""Convolution and ReLU in one oneDNN call on the CPU, for the frame model.

Eager PyTorch runs a convolution, then ReLU as a second pass over the whole output;
with freed memory kept (vidstyle.cpu_memory) that pass took 23-28% of the full model's
time at 640x360 and 1280x720 on the AMX CPU (benchmarks/op_profile.py, RESULTS.md,
session 15). oneDNN can apply the ReLU as the convolution writes its output (the
"post-op" torch.compile also uses): the same numbers in one pass fewer.
"""
from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from torch import nn


def _pointwise_op():
    try:
        return torch.ops.mkldnn._convolution_pointwise
    except (AttributeError, RuntimeError):  # a torch built without oneDNN
        return None


_POINTWISE = _pointwise_op() if torch.backends.mkldnn.is_available() else None
log = logging.getLogger(__name__)
_works: dict[torch.dtype, bool] = {}


def fusion_available(dtype: torch.dtype) -> bool:
    """Whether this torch's oneDNN runs the fused call in `dtype` (tried once per dtype on a
    tiny input: some builds, e.g. for ARM, lack it), so that frames never have to find out."""
    if dtype not in _works:
        ok = _POINTWISE is not None and dtype in (torch.float32, torch.bfloat16)
        if ok:
            x = torch.ones(1, 2, 3, 3, dtype=dtype).contiguous(memory_format=torch.channels_last)
            w = torch.ones(2, 2, 1, 1, dtype=dtype)
            try:
                with torch.no_grad():
                    ok = bool((_POINTWISE(x, w, None, [0, 0], [1, 1], [1, 1], 1, "relu", [], "") == 2).all())
            except RuntimeError as exc:
                log.debug("fused convolution + ReLU unavailable in %s (%s)", dtype, exc)
                ok = False
        _works[dtype] = ok
    return _works[dtype]


class ConvReLU(nn.Conv2d):
    """A Conv2d followed by ReLU: one fused oneDNN call for CPU inference, else the two ops.

    The fused call is taken for 4-d CPU tensors in fp32 or bf16 in the weights' dtype,
    with no gradient wanted, autocast off and no tracing or compiling under way; anything
    else (CUDA, training, ONNX export) runs conv2d then ReLU, so the module stays correct
    wherever it goes. Use it where fusion_available(dtype) holds.
    """

    @classmethod
    def from_conv(cls, conv: nn.Conv2d) -> "ConvReLU":
        fused = cls(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                    conv.dilation, conv.groups, conv.bias is not None, conv.padding_mode,
                    device=conv.weight.device, dtype=conv.weight.dtype)
        fused.weight, fused.bias = conv.weight, conv.bias  # the same parameters, not copies
        return fused.train(conv.training)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (self.padding_mode == "zeros" and not isinstance(self.padding, str)
                and fused_call_fits(x, self.weight, self.bias)):
            return fused_conv(x, self.weight, self.bias, True, self.padding, self.stride,
                              self.dilation, self.groups)
        return F.relu(super().forward(x))


def fused_call_fits(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> bool:
    """Whether oneDNN's fused call may take this convolution: a 4-d CPU tensor in fp32 or bf16
    in the weights' dtype, no gradient wanted, autocast off, no tracing or compiling under way."""
    wants_grad = torch.is_grad_enabled() and (
        x.requires_grad or any(p.requires_grad for p in (weight, bias) if p is not None))
    return (_POINTWISE is not None and x.device.type == "cpu" and x.dim() == 4
            and x.dtype in (torch.float32, torch.bfloat16) and x.dtype == weight.dtype
            and not wants_grad and not torch.is_autocast_enabled("cpu")
            and not (torch.jit.is_tracing() or torch.jit.is_scripting() or torch.compiler.is_compiling()))


def fused_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, relu: bool,
               padding=(0, 0), stride=(1, 1), dilation=(1, 1), groups: int = 1) -> torch.Tensor:
    """The convolution in one oneDNN call, with its ReLU applied as it writes if `relu`
    (where fused_call_fits)."""
    return _POINTWISE(x, weight, bias, list(padding), list(stride), list(dilation), groups,
                      "relu" if relu else "none", [], "")


def fuse_conv_relu(module: nn.Module) -> int:
    """In place, every Conv2d followed by a ReLU within an nn.Sequential of `module` becomes
    a ConvReLU and the ReLU an nn.Identity, so parameter names and indices are unchanged.
    Returns how many pairs were fused."""
    fused = 0
    for seq in [m for m in module.modules() if isinstance(m, nn.Sequential)]:
        for i in range(len(seq) - 1):
            conv, relu = seq[i], seq[i + 1]
            if type(conv) is nn.Conv2d and isinstance(relu, nn.ReLU):
                seq[i], seq[i + 1] = ConvReLU.from_conv(conv), nn.Identity().train(relu.training)
                fused += 1
    return fused
