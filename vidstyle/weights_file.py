"""Reading and writing model weights as safetensors, with a JSON training description."""
from __future__ import annotations

import importlib.resources
import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file
from torch import nn

from .errors import VidstyleError


def packaged_path(name: str) -> Path:
    """A shipped weights file: inside the installed package, else in the source tree's weights/."""
    try:
        ref = importlib.resources.files("vidstyle.weights").joinpath(name)
        if ref.is_file():
            return Path(str(ref))
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parent.parent / "weights" / name


def save_weights(module: nn.Module, path: str | Path, dtype: torch.dtype = torch.float16,
                 meta: dict | None = None) -> None:
    """Write the module's state (atomically); `meta` (JSON-able) describes how it was trained."""
    path = Path(path)
    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in module.state_dict().items()}
    tmp = path.with_name(path.name + ".partial")
    save_file(tensors, str(tmp), metadata={"train": json.dumps(meta or {})})
    os.chmod(tmp, 0o666 & ~_umask())  # safetensors creates it owner-only; weights are to share
    tmp.replace(path)


def _umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it
    os.umask(mask)
    return mask


def load_weights(module: nn.Module, path: Path, what: str, hint: str) -> nn.Module:
    """Fill `module` from the file at `path`; one clear error if it is missing or does not fit."""
    if not path.is_file():
        raise VidstyleError(f"{what} weights not found at {path}; {hint}")
    try:
        state = load_file(str(path))
    except (SafetensorError, ValueError, OSError) as exc:
        raise VidstyleError(f"{what} weights at {path} are unreadable ({str(exc).splitlines()[0]}); "
                            f"{hint}") from exc
    misfit = _misfit(module, state)
    if misfit:
        raise VidstyleError(f"{what} weights at {path} do not fit this model ({misfit}); {hint}")
    try:
        module.load_state_dict({k: v.float() for k, v in state.items()})
    except RuntimeError as exc:  # (names and shapes fit, so this is rarer: its first line)
        raise VidstyleError(f"{what} weights at {path} do not fit this model "
                            f"({str(exc).splitlines()[0]}); {hint}") from exc
    return module.eval().requires_grad_(False)


def _misfit(module: nn.Module, state: dict[str, torch.Tensor]) -> str:
    """How a file's tensors differ from the model's, counted with a first example of each kind
    ("" when they fit): torch's own message gives every key, on many lines."""
    if not state:
        return "the file holds no tensors"
    wanted = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    missing = [k for k in wanted if k not in state]
    unexpected = [k for k in state if k not in wanted]
    resized = [f"{k} is {tuple(state[k].shape)}, not {wanted[k]}" for k in wanted
               if k in state and tuple(state[k].shape) != wanted[k]]
    said = [f"{len(found)} {kind}, e.g. {found[0]}" for kind, found in
            (("missing", missing), ("not the model's", unexpected), ("of another shape", resized)) if found]
    return "; ".join(said)


def read_meta(path: str | Path) -> dict:
    """The JSON training description stored in a weights file ({} if none)."""
    with safe_open(str(path), framework="pt") as f:
        return json.loads((f.metadata() or {}).get("train", "{}"))
