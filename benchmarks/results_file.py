"""The JSON every benchmark script writes: its fields plus when, where and with what it ran."""
from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from vidstyle.devices import describe_cpu


def write_results(path: str | None, **fields) -> None:
    """Write fields, with date, machine, thread count and torch version, to path (if given)."""
    if not path:
        return
    doc = {"date": time.strftime("%Y-%m-%d"), "machine": describe_cpu(),
           "threads": torch.get_num_threads(), "torch": torch.__version__, **fields}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(doc, indent=2))
