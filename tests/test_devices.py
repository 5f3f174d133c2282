"""Precision choices: "auto" must never pick an emulated bf16 on a CPU without bf16 units."""
import pytest
import torch

from vidstyle import devices
from vidstyle.errors import VidstyleError

CPU = torch.device("cpu")


@pytest.mark.parametrize("has_bf16, inference, training", [(True, torch.bfloat16, torch.bfloat16),
                                                           (False, torch.float32, None)])
def test_auto_precision_follows_the_cpu(monkeypatch, has_bf16, inference, training):
    monkeypatch.setattr(devices, "cpu_has_bf16", lambda: has_bf16)
    assert devices.resolve_precision("auto", CPU) == inference
    assert devices.autocast_dtype("auto", CPU) == training


def test_auto_precision_on_cuda_ignores_the_cpu(monkeypatch):
    monkeypatch.setattr(devices, "cpu_has_bf16", lambda: False)
    asked = []

    def capability(major):
        return lambda device=None: asked.append(device) or (major, 0)

    monkeypatch.setattr(torch.cuda, "get_device_capability", capability(9))  # an H100
    cuda = torch.device("cuda:1")
    assert devices.resolve_precision("auto", cuda) == torch.float16
    assert devices.autocast_dtype("auto", cuda) == torch.bfloat16
    monkeypatch.setattr(torch.cuda, "get_device_capability", capability(7))  # a V100: bf16 emulated
    assert devices.autocast_dtype("auto", cuda) is None
    assert asked == [cuda, cuda]  # the GPU that will train, not the current one


def test_named_precisions():
    assert devices.autocast_dtype("fp32", CPU) is None
    assert devices.autocast_dtype("bf16", CPU) == torch.bfloat16  # asked for: emulated if need be
    assert devices.resolve_precision("bf16", CPU) == torch.bfloat16
    with pytest.raises(VidstyleError, match="fp16 is for GPUs"):
        devices.resolve_precision("fp16", CPU)
    with pytest.raises(VidstyleError, match="unknown precision"):
        devices.autocast_dtype("fp8", CPU)
    with pytest.raises(VidstyleError, match="loss scaling"):  # training in fp16, even on a GPU
        devices.autocast_dtype("fp16", torch.device("cuda"))


CPUS = [("fpu avx avx2 fma", "avx2"),
        ("avx2 avx512f avx512_bf16 amx_bf16 amx_tile", "avx2, avx512f, avx512_bf16, amx_bf16"),
        ("fpu sse2", "no avx2")]


@pytest.mark.parametrize("flags, units", CPUS)
def test_describe_cpu_names_the_vector_units(tmp_path, flags, units):
    info = tmp_path / "cpuinfo"
    info.write_text(f"processor\t: 0\nmodel name\t: Some CPU 9000\nflags\t\t: {flags}\n\n")
    assert devices.describe_cpu(str(info)) == f"Some CPU 9000 ({units})"
