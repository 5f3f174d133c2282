"""What a stopped conversion must share with a new one to be continued by it: the input
(vidstyle.resume.input_fingerprint), the model's weights and every option that changes
the output."""
from __future__ import annotations

import json
from pathlib import Path

# Options that change how a conversion runs or what it shows, not the frames it writes
# (the part of the input is compared as one [start, end]; the model by its weights).
_NOT_IN_THE_OUTPUT = {"inputs", "output", "overwrite", "skip_existing", "no_resume", "preview",
                      "verbose", "workers", "batch", "device", "compile", "run", "start", "duration",
                      "end", "model", "decoder"}
_FILES = ("style", "style_at", "cues", "mask")  # options naming files, compared by content


def model_digest(model_name: str, decoder: str | None) -> str:
    """The frame model and a digest of its weights file (--decoder, else the shipped one)."""
    from vidstyle import decoder as full, lite

    if decoder:
        path = Path(decoder)
    else:
        path = full.default_weights_path() if model_name == "full" else lite.default_weights_path(model_name)
    return f"{model_name} {_digest(path)}"


def _digest(path: Path) -> str:
    from vidstyle.style_cache import file_digest

    return file_digest(path) if path.is_file() else "missing"


def resume_key(args, src: Path, segment, model: str, styles=None) -> dict:
    """The input's fingerprint, the options (files by content, the part of the input as
    [start, end]; `styles` for --style's, as --each runs them one at a time) and the model
    (`model_digest`)."""
    from vidstyle.resume import input_fingerprint
    from vidstyle.sequences import is_sequence, sequence_files

    from .convert import read_cue_file

    settings = {name: value for name, value in sorted(vars(args).items())
                if name not in _NOT_IN_THE_OUTPUT and name not in _FILES and not callable(value)}
    settings["style"] = [_digest(Path(p)) for p in (args.style if styles is None else styles) or []]
    settings["style_at"] = [[time, _digest(Path(p))] for time, p in args.style_at or []]
    settings["cues"] = [[time, _digest(image)] for _, time, image in read_cue_file(args.cues)] \
        if args.cues else None
    settings["mask"] = _digest(Path(args.mask)) if args.mask else None
    settings["part"] = [segment.start, segment.end] if segment is not None else None
    settings["model"] = model
    files = sequence_files(src) if is_sequence(src) else None
    key = {**input_fingerprint(src, files), "settings": settings}
    return json.loads(json.dumps(key, default=str))  # (a frame rate is a Fraction)


def what_changed(old: dict | None, new: dict) -> str:
    """'the input', '--alpha, --style' ...: how two keys differ, for a message."""
    if old is None:
        return "its record cannot be read"
    changed = []
    if old.get("input") != new.get("input") or old.get("files") != new.get("files"):
        changed.append("the input")
    before, after = old.get("settings", {}), new.get("settings", {})
    names = {"part": "--start/--end/--duration", "model": "the model or its weights"}
    for name in sorted(set(before) | set(after)):
        if name not in before or name not in after or before[name] != after[name]:  # (or a new option)
            changed.append(names.get(name, "--" + name.replace("_", "-")))
    return ", ".join(changed) + " changed" if changed else "the settings changed"
