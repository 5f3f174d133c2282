"""Small building blocks shared by the encoder and the decoder."""
import torch
import torch.nn.functional as F
from torch import nn


class ReflectionPad(nn.Module):
    """1-pixel reflection padding that keeps the input's dtype under autocast.

    CPU autocast runs reflection padding in fp32 and converts back and forth;
    disabling autocast here keeps bf16 activations in bf16 (a measured ~3x on
    training steps on this CPU).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device_type=x.device.type, enabled=False):
            return F.pad(x, (1, 1, 1, 1), mode="reflect")


def conv3x3(c_in: int, c_out: int) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, kernel_size=3, padding=0)
