"""What a stopped conversion must share with a new one to be continued by it: the input
(vidstyle.resume.input_fingerprint) and every option that changes the output."""
from __future__ import annotations

import json
from pathlib import Path

# Options that change how a conversion runs or what it shows, not the frames it writes.
_NOT_IN_THE_OUTPUT = {"inputs", "output", "overwrite", "skip_existing", "no_resume", "preview",
                      "verbose", "workers", "batch", "device", "run"}


def _files_named(args) -> list[Path]:
    """The files whose content the output depends on (styles, cues, mask, decoder)."""
    names = list(args.style or []) + [image for _, image in args.style_at or []]
    names += [args.cues, args.mask, args.decoder]
    return [Path(name) for name in names if name]


def resume_key(args, src: Path) -> dict:
    """The input's fingerprint, the options and the contents of the files they name."""
    from vidstyle.resume import input_fingerprint
    from vidstyle.sequences import is_sequence, sequence_files
    from vidstyle.style_cache import file_digest

    settings = {name: value for name, value in sorted(vars(args).items())
                if name not in _NOT_IN_THE_OUTPUT and not callable(value)}
    settings["file_contents"] = {str(path): file_digest(path) for path in _files_named(args)
                                 if path.is_file()}
    files = sequence_files(src) if is_sequence(src) else None
    key = {**input_fingerprint(src, files), "settings": settings}
    return json.loads(json.dumps(key, default=str))  # (a frame rate is a Fraction)


def what_changed(old: dict, new: dict) -> str:
    """'the input', '--alpha, --style' ...: how two keys differ, for a message."""
    changed = []
    if old.get("input") != new.get("input") or old.get("files") != new.get("files"):
        changed.append("the input")
    before, after = old.get("settings", {}), new.get("settings", {})
    for name in sorted(set(before) | set(after)):
        if before.get(name) != after.get(name):
            changed.append("a style, cue, mask or decoder file" if name == "file_contents"
                           else "--" + name.replace("_", "-"))
    return ", ".join(changed) or "the settings"
