"""A training run's folder (vidstyle.train, vidstyle.distill): whether it holds a run,
starting one over, the settings its checkpoint keeps for going on, and its log.csv."""
from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, fields
from pathlib import Path

import torch

from .errors import VidstyleError

# The files that say a folder holds a run (a run's checkpoint may have been removed to keep
# only its weights and log: those are not to be replaced without a word either).
RUN_FILES = ("checkpoint.pt", "log.csv", "decoder.safetensors", "lite.safetensors")

# Settings of this machine and this command, not of the run: going on takes them from the new command.
_OF_THE_COMMAND = ("out_dir", "device", "precision", "max_minutes")
# Settings a run going on keeps whatever is given, and why.
_KEPT = {"init_weights": "sets how a run starts", "seed": "sets how a run starts",
         "widths": "is the model's shape", "feature_kernel": "is the model's shape"}
# Settings naming files and folders: kept as typed, so relative to the folder a run began in.
_PATHS = ("content_dir", "style_dir", "sample_style_dir", "init_weights", "teacher")


def check_run_folder(out_dir: str | Path, resume: bool, overwrite: bool) -> None:
    """Refuse to start a new run in a folder holding one (its checkpoint and weights would be
    replaced, its log mixed with the new run's) unless it goes on (`resume`) or is to be
    started over (`overwrite`: clear_run_folder once the new run's data is found good), and
    to go on where there is no checkpoint to go on from. Removes nothing."""
    out = Path(out_dir)
    if resume and overwrite:
        raise VidstyleError("--resume goes on with a run and --overwrite starts it over: give one of them")
    found = [name for name in RUN_FILES if (out / name).is_file()]
    if resume:
        if found and "checkpoint.pt" not in found:
            raise VidstyleError(f"{out} holds a run's {found[0]} but no checkpoint.pt to go on from (a run "
                                f"stopped before its first one, or it was removed): --overwrite starts it "
                                f"over, or --out another folder")
        return
    if found and not overwrite:
        raise VidstyleError(f"{out} holds a run already ({found[0]}): --resume goes on with it, "
                            f"--overwrite starts it over, or --out another folder")


def clear_run_folder(out_dir: str | Path) -> None:
    """Remove the run a folder holds (its checkpoint, log, weights and sample grids)."""
    out = Path(out_dir)
    for path in [*(out / name for name in RUN_FILES), *out.glob("samples_*.png")]:
        path.unlink(missing_ok=True)


def read_checkpoint(path: Path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # (torch raises several kinds for a damaged file)
        raise VidstyleError(f"cannot resume from {path}: cannot read it "
                            f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from exc


@dataclass
class RunRecord:
    """What a run's checkpoint says of it."""
    settings: dict  # its config, as saved
    step: int
    cwd: str | None  # the folder its command ran in (its relative paths are from there)


def read_run(out_dir: str | Path) -> RunRecord | None:
    """The run whose checkpoint is in out_dir (None without one)."""
    path = Path(out_dir) / "checkpoint.pt"
    if not path.is_file():
        return None
    state = read_checkpoint(path)
    try:
        return RunRecord(json.loads(state["config"]), int(state["step"]), state.get("cwd"))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # (older or damaged)
        raise VidstyleError(f"cannot resume from {path}: its settings cannot be read "
                            f"({type(exc).__name__}: {exc}); --overwrite starts the run over") from exc


@dataclass
class SettingChange:
    """A setting given when going on with a run that differs from the run's own."""
    name: str  # the config field
    run: object  # the run's value
    given: object
    kept_because: str | None  # why the run's value stays (None: the given one replaces it)


def config_to_go_on(config_type: type, run: RunRecord, given: dict) -> tuple:
    """(the config for going on with a run, what was changed): the run's own settings (a
    `--resume` that forgot its run's --lr or --teacher changed the run without a word), with
    those given in their place (a longer schedule, a lower learning rate), except those of a
    run's start and its model's shape. Relative paths are taken from where the run began;
    the changes made are added to its `history`."""
    known = {f.name for f in fields(config_type)}
    settings = {k: v for k, v in run.settings.items() if k in known and k not in _OF_THE_COMMAND}
    if settings.get("schedule"):  # (JSON keeps tuples as lists)
        settings["schedule"] = [tuple(stage) for stage in settings["schedule"]]
    if settings.get("widths"):
        settings["widths"] = tuple(settings["widths"])
    if run.cwd and Path(run.cwd) != Path.cwd():
        for name in _PATHS:
            if settings.get(name) and not os.path.isabs(settings[name]):
                settings[name] = os.path.normpath(os.path.join(run.cwd, settings[name]))
    changes = []
    for name, value in given.items():
        if name in settings and value != settings[name]:
            changes.append(SettingChange(name, settings[name], value, _KEPT.get(name)))
            if name in _KEPT:
                continue
        settings[name] = value
    applied = {c.name: [c.run, c.given] for c in changes if c.kept_because is None}
    if applied:
        settings["history"] = [*settings.get("history", []), {"step": run.step, "changed": applied}]
    try:
        return config_type(**settings), changes
    except TypeError as exc:  # (a config missing a setting: damaged)
        raise VidstyleError(f"cannot go on with the run: its settings are incomplete ({exc})") from exc


def prepare_log(path: Path, columns: list[str], step: int) -> list[str]:
    """Ready `path` (log.csv) for the rows of a run at `step` and return the columns to write
    them under: a new log at step 0; going on, the rows after `step` (written after the
    checkpoint, before a crash: written again now) are dropped, and columns a setting given
    when going on adds (distill's style term) join the header."""
    if step == 0 or not path.is_file():
        with open(path, "w", newline="") as fh:
            csv.writer(fh).writerow(columns)
        return columns
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or columns)
        rows = [row for row in reader if row.get("step", "").isdigit() and int(row["step"]) <= step]
    at = header.index("seconds") if "seconds" in header else len(header)
    header[at:at] = [c for c in columns if c not in header]
    tmp = path.with_suffix(".partial")
    with open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, header, restval="", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)
    return header
