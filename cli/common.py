"""Options shared by the commands, and turning them into library objects."""
from __future__ import annotations

import argparse
import math
import sys

from vidstyle.errors import VidstyleError, reason
from vidstyle.inputs import MAX_FRAME_LONG_SIDE, MAX_FRAME_SIZE  # (no av or torch: cheap to import)


class Terminated(KeyboardInterrupt):
    """SIGTERM (kill, a service manager) or SIGHUP (the terminal closed, an ssh session
    dropped), handled as Ctrl-C is: partial outputs are removed and training checkpoints
    kept; the exit code is 128 + the signal's number (143, 129)."""

    def __init__(self, signum: int = 15):
        super().__init__()
        self.signum = signum


def interrupted_exit_code(exc: KeyboardInterrupt) -> int:
    """What a command that handles Ctrl-C itself returns: 143 for SIGTERM, 129 for SIGHUP,
    130 for Ctrl-C."""
    return 128 + exc.signum if isinstance(exc, Terminated) else 130


# A wait InterruptsHeld says at once and no Ctrl-C cuts short (a style encoding in a thread,
# which stops at the end of the layer in hand: Python exiting under it aborts the process).
UNINTERRUPTIBLE_WAIT = "stopping the style being prepared (a few seconds at most)"


def say(text: str) -> None:
    """A 'vidstyle: ...' note on stderr, at once, in one write (notes come from several
    threads, and from signal handlers)."""
    try:
        sys.stderr.write(f"vidstyle: {text}\n")
        sys.stderr.flush()
    except RuntimeError:  # the signal came in the middle of another write to stderr
        import os

        os.write(2, f"vidstyle: {text}\n".encode())


class InterruptsHeld:
    """While outputs are being finished (a recording's last frames and its index), the first
    Ctrl-C only prints a note: the Ctrl-C that ended a live feed is often pressed twice, and
    the second would lose the recording. Another Ctrl-C interrupts as usual. A SIGTERM
    waits until the outputs are finished and is raised then (as Terminated: exit 143); a
    second one is raised at once. `note()`, asked on entering, says what is being finished."""

    def __init__(self, note):
        self._note = note
        self.note = ""
        self.presses = 0
        self.terminated = 0  # the SIGTERM or SIGHUP held back (0: none)
        self._previous: dict = {}

    def say(self, text: str) -> None:
        say(text)

    def _on_sigint(self, signum, frame) -> None:
        self.presses += 1
        if self.presses > 1:
            raise KeyboardInterrupt
        self.say(self.note if self.note == UNINTERRUPTIBLE_WAIT else f"{self.note}; Ctrl-C again gives it up")

    def _on_sigterm(self, signum, frame) -> None:
        if self.terminated:
            raise Terminated(signum)
        self.terminated = signum
        self.say(f"terminated: {self.note} first")

    def __enter__(self):
        import signal

        self.note = self._note()
        handlers = [(signal.SIGINT, self._on_sigint), (signal.SIGTERM, self._on_sigterm)]
        if hasattr(signal, "SIGHUP"):  # (a closed terminal: as SIGTERM)
            handlers.append((signal.SIGHUP, self._on_sigterm))
        for signum, handler in handlers:
            if signal.getsignal(signum) in (signal.SIG_IGN, None):  # ignored, or not Python's: leave it
                continue
            try:
                self._previous[signum] = signal.signal(signum, handler)
            except ValueError:  # not the main thread (an embedding program): leave signals alone
                break
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        import signal

        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        if self.terminated and exc_type is None:
            raise Terminated(self.terminated)


def _whole_number(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    if value < least:
        raise argparse.ArgumentTypeError(f"expected a number >= {least}, got {value}")
    return value


def positive_int(text: str) -> int:
    return _whole_number(text, 1)


def non_negative_int(text: str) -> int:
    return _whole_number(text, 0)


def frame_size_value(text: str) -> int:
    """--size: a shorter side up to 8K's (a typo such as 5000 for 500 would make an
    8888x5000 picture of a 16:9 input, and take the machine's memory)."""
    value = _whole_number(text, 1)
    if value > MAX_FRAME_SIZE:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_FRAME_SIZE} (8K's shorter side), "
                                         f"got {value}")
    return value


def long_side_value(text: str) -> int:
    """A longer side (eval's --size), up to 8K's: a typo must not take the machine's memory."""
    value = _whole_number(text, 1)
    if value > MAX_FRAME_LONG_SIDE:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_FRAME_LONG_SIDE} (8K's longer side), "
                                         f"got {value}")
    return value


def frame_dimensions(text: str, smallest: int = 1) -> tuple[int, int]:
    """WxH (bench's --sizes), each side at least `smallest` and the picture at most 8K."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes look like 640x360, got {text!r}")
    if min(w, h) < smallest:
        raise argparse.ArgumentTypeError(f"sizes are at least {smallest}x{smallest}, got {text!r}")
    if max(w, h) > MAX_FRAME_LONG_SIDE or min(w, h) > MAX_FRAME_SIZE:
        raise argparse.ArgumentTypeError(f"sizes are at most {MAX_FRAME_LONG_SIDE}x{MAX_FRAME_SIZE} "
                                         f"(8K), got {text!r}")
    return w, h


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
    if math.isinf(value):  # e.g. --transition inf would never finish its fade
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    value = _number(text)
    if not value > 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {value}")
    return value


def non_negative_float(text: str) -> float:
    value = _number(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def unit_float(text: str) -> float:
    value = _number(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a value between 0 and 1, got {value}")
    return value


def time_value(text: str) -> float:
    """Seconds from "90", "90.5", "1:30" or "1:02:03.5" (as ffmpeg's -ss takes them)."""
    bad = argparse.ArgumentTypeError(f"expected seconds or [h:]mm:ss, got {text!r}")
    parts = text.strip().split(":")
    if len(parts) > 3 or not all(parts):
        raise bad
    seconds = 0.0
    for i, part in enumerate(parts):
        try:
            value = float(part)
        except ValueError:
            raise bad from None
        last = i == len(parts) - 1
        if not math.isfinite(value) or value < 0 or (i and value >= 60) or (not last and value != int(value)):
            raise bad
        seconds = seconds * 60 + value
    return seconds


def add_device_args(p: argparse.ArgumentParser, compile_option: bool = True, training: bool = False) -> None:
    g = p.add_argument_group("device")
    g.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                   help="where the model runs (default: cuda if available, else cpu)")
    if training:
        g.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"],
                       help="autocast precision (default: bf16 on GPUs and CPUs with bf16 units, else fp32)")
    else:
        g.add_argument("--precision", default="auto", choices=["auto", "fp32", "fp16", "bf16"],
                       help="model precision (default: fp16 on cuda, bf16 on CPUs with bf16 units, "
                            "else fp32)")
    if compile_option:
        g.add_argument("--compile", action="store_true",
                       help="torch.compile the model: pays on long videos (compiles once per frame size)")


def add_network_args(p: argparse.ArgumentParser, default_model: str = "full") -> None:
    """Which frame model runs, its weights, and where: shared by every command that stylizes."""
    g = p.add_argument_group("model")
    # vidstyle.stylizer.MODELS, spelled out so that building the parser does not import torch.
    g.add_argument("--model", default=default_model, choices=["auto", "full", "lite", "tiny"],
                   help="'full': VGG-19 + decoder, the paper's model; 'lite': a small model "
                        "distilled from it, several times faster on CPUs, coarser strokes; 'tiny': "
                        "narrower still, ~1.5-1.8x faster than lite, coarser again; 'auto': the kind "
                        "of --decoder FILE, else full on a GPU, lite on a CPU with bf16 units and tiny "
                        f"on one without (default: {default_model})")
    g.add_argument("--decoder", metavar="FILE",
                   help="weights for --model (default: the shipped ones; a lite file with --model "
                        "lite or tiny)")
    g.add_argument("--work-size", type=positive_int, metavar="N",
                   help="run the model at shorter side N and scale its output back up: faster, softer "
                        "detail; frames already at most N run as they are (default: the frame's own size)")
    add_device_args(p)


def stylizer_from_args(args):
    from vidstyle.stylizer import load_stylizer

    return load_stylizer(args.model, args.decoder, device=args.device, precision=args.precision,
                         compile=args.compile, work_size=args.work_size)


COLOR_MODES = ["match", "luminance"]  # vidstyle.color.MODES, without importing torch


def attach_default_color_mode(argv: list[str]) -> list[str]:
    """`--preserve-color clip.mp4` means the default mode, then an input.

    argparse gives an optional-valued option the next word whatever it is, so
    a path after the flag was refused as an unknown MODE. A word that looks
    like a path (it exists, or has a suffix or a separator) is not taken as
    the mode; other words still are, so a mistyped mode is still reported.
    """
    from pathlib import Path

    out = []
    for i, word in enumerate(argv):
        after = argv[i + 1] if i + 1 < len(argv) else None
        if (word == "--preserve-color" and after is not None and after not in COLOR_MODES
                and (Path(after).exists() or Path(after).suffix or "/" in after or "\\" in after)):
            word = "--preserve-color=match"
        out.append(word)
    return out


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def end_weights_at_a_path(argv: list[str]) -> list[str]:
    """`--weights 0.7 0.3 clip.mp4` means two weights, then an input.

    argparse gives `--weights W...` every word up to the next option, so an input after
    the weights was refused as a weight. Each number is passed as `--weights=W` (the
    option extends its list), so the first word that is not a number is left to the
    positionals; a mistyped weight then shows up as an input that does not exist.
    """
    out, i = [], 0
    while i < len(argv):
        if argv[i] == "--":
            return out + argv[i:]
        weights = argv[i].startswith("--we") and "--weights".startswith(argv[i])  # argparse takes --weig
        if weights and i + 1 < len(argv) and _is_number(argv[i + 1]):
            i += 1
            while i < len(argv) and _is_number(argv[i]):
                out.append(f"--weights={argv[i]}")
                i += 1
            continue
        out.append(argv[i])
        i += 1
    return out


def style_size_value(text: str) -> int:
    from vidstyle.style_cache import MAX_STYLE_SIZE, MIN_STYLE_SIZE

    size = positive_int(text)
    if not MIN_STYLE_SIZE <= size <= MAX_STYLE_SIZE:
        raise argparse.ArgumentTypeError(f"a style size is {MIN_STYLE_SIZE} to {MAX_STYLE_SIZE} pixels, "
                                         f"got {size}")
    return size


def add_model_args(p: argparse.ArgumentParser, styles_required: bool = True,
                   default_size: int | None = None, default_model: str = "full",
                   batch: bool = False) -> None:
    """The style and model options; `batch` adds --batch (only file conversion batches
    frames: stills differ in size, and the webcam runs its newest frame)."""
    g = p.add_argument_group("style")
    g.add_argument("--style", "-s", action="append", required=styles_required, metavar="IMAGE",
                   help="style image; repeat to blend several styles (the webcam also takes a folder "
                        "of styles to switch between)")
    g.add_argument("--weights", type=float, nargs="+", action="extend", metavar="W",
                   help="one weight per --style for blending (normalised to sum to 1; the numbers "
                        "after --weights, up to the first word that is not one)")
    g.add_argument("--alpha", type=unit_float, default=1.0,
                   help="content-style trade-off: 0 keeps the content, 1 full style (default 1)")
    g.add_argument("--preserve-color", nargs="?", const="match", choices=COLOR_MODES,
                   metavar="MODE", help="keep the content's colours: 'match' (default; the style's "
                   "colours are matched to the content's) or 'luminance' (stylize luminance only)")
    g.add_argument("--mask", metavar="FILE", help="mask image or video for two styles: white areas "
                   "get the first --style, black the second; grey blends")
    g.add_argument("--style-size", type=style_size_value, metavar="N",
                   help="scale each style image to shorter side N before taking its statistics, "
                        "which sets how busy the texture is: smaller N packs more of the painting's "
                        "marks into the picture, larger N gives calmer, smoother areas (64-2048; "
                        "default: 512, smaller styles as they are)")
    g.add_argument("--size", type=frame_size_value, metavar="N", default=default_size,
                   help="resize so the shorter side is N pixels (default: "
                        + (f"{default_size})" if default_size else "keep the input size)"))
    add_network_args(p, default_model=default_model)
    if batch:
        p.add_argument("--batch", type=positive_int, metavar="B",
                       help="frames per model step (default: 1 on CPU, 8 on CUDA)")


WORKERS_HELP = ("batches the model runs at once, each on its share of the CPU threads "
                "(default: 2 on a CPU with 2 or more threads, 1 on CUDA or with --compile)")


STEADY_HELP = ("0..1: carry each stylized frame along the video's motion into the next, so "
               "strokes stay on objects instead of shimmering; 0.5-0.7 suits most footage, very "
               "fast motion may show faint ghost strokes (default 0: off)")


def add_steady_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--steady", type=unit_float, default=0.0, metavar="S", help=STEADY_HELP)


def add_workers_arg(p: argparse.ArgumentParser, help_text: str = WORKERS_HELP,
                    default: int | None = None) -> None:
    p.add_argument("--workers", type=positive_int, metavar="N", default=default, help=help_text)


def check_style_args(args, folders: bool = False):
    """The style options as vidstyle.controls.Controls, refused now if bad: before the model
    loads, so a wrong --style, --weights or --mask costs no wait.

    `folders`: whether a folder of styles is allowed (the webcam's live switching).
    """
    from pathlib import Path

    from vidstyle.controls import Controls, check_readable
    from vidstyle.styles import expand_styles

    if not folders and any(Path(s).is_dir() for s in args.style):
        raise VidstyleError("a style folder blends nothing: add --each to convert with each of its "
                            "images in turn (for a blend, name the style images and --weights)")
    mask = Path(args.mask) if args.mask else None
    controls = Controls(expand_styles(args.style), args.weights, args.alpha, args.preserve_color, mask)
    controls.validate()
    # Images named directly; a folder's are read as the webcam reaches them.
    check_readable([Path(s) for s in args.style if not Path(s).is_dir()], mask)
    return controls


def build_stylizer(args):
    from vidstyle.style_cache import StyleCache
    from vidstyle.stylizer import default_batch

    stylizer = stylizer_from_args(args)
    if getattr(args, "batch", 0) is None:
        args.batch = default_batch(stylizer.device)
    return stylizer, StyleCache(stylizer.style_stats, style_size=getattr(args, "style_size", None))


def build_targets(controls, stylizer, cache, segment=None):
    """(target_for(frame_index, frames), close) for check_style_args' controls; `segment`:
    the part of the input converted (a mask video follows it)."""
    from vidstyle.controls import target_source

    return target_source(controls, cache, stylizer.style_stats, segment)


def refuse_overwriting_sources(jobs, extra=()) -> None:
    """No output of these (input, output, controls) jobs may be a style image or mask they
    read, nor one of `extra`'s (what, path) files (cue styles, a cue list)."""
    from vidstyle.outputs import refuse_outputs_over_sources

    sources = {}
    for _, _, controls in jobs:
        sources.update({("the style image", str(s)): s for s in controls.styles})
        sources[("the mask", str(controls.mask))] = controls.mask
    refuse_outputs_over_sources([dst for _, dst, _ in jobs],
                                [(what, path) for (what, _), path in sources.items()] + list(extra))


def add_existing_args(p: argparse.ArgumentParser, which: str, what: str) -> None:
    """--overwrite, or --skip-existing to leave `which` alone (going on with `what`)."""
    existing = p.add_mutually_exclusive_group()
    existing.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    existing.add_argument("--skip-existing", action="store_true",
                          help=f"leave {which} alone (to go on with {what} that was stopped: "
                               "outputs appear only when complete)")


def add_each_arg(p: argparse.ArgumentParser, verb: str, suffix: str) -> None:
    p.add_argument("--each", action="store_true",
                   help=f"{verb} with each style on its own (each --style image, and each image of a "
                        f"--style folder) instead of blending them: -o is a folder and gets "
                        f"INPUT_STYLE{suffix} for every input and style")


def free_name(stem: str, is_taken, also=()) -> str:
    """`stem`, else each of `also`, else stem_2, stem_3, ...: the first that `is_taken`
    refuses not (tried one by one: a million candidates built up front took 0.14 s a name)."""
    import itertools

    candidates = itertools.chain([stem], also, (f"{stem}_{k}" for k in itertools.count(2)))
    return next(name for name in candidates if not is_taken(name))


def each_style_jobs(pairs: list, controls) -> list:
    """--each: (input, output, controls with one style) for every (input, output) pair and
    style of `controls`, the output named OUTPUT_STYLE (never two alike, whatever the case)."""
    from dataclasses import replace

    jobs, taken = [], set()
    for src, dst in pairs:
        for style in controls.styles:
            name = free_name(f"{dst.stem}_{style.stem}",
                             lambda n: str(dst.parent / n).lower() in taken)  # (per output folder)
            taken.add(str(dst.parent / name).lower())
            one_style = replace(controls, styles=[style], weights=None)
            jobs.append((src, dst.with_name(name + dst.suffix), one_style))
    return jobs


OUTPUT_DEFAULT_HELP = ("; without -o: INPUT_STYLE{suffix} in the current folder (INPUT_STYLE1+STYLE2 for "
                       "a blend), for inputs named as files")


def default_output(args) -> bool:
    """Without -o, the results go into the current folder named INPUT_STYLE (True then;
    blend_jobs or --each names them). Folders of inputs still need -o: a second run in the
    same place would take the first one's results for inputs."""
    from pathlib import Path

    if args.output is not None:
        return False
    if any(Path(i).is_dir() for i in args.inputs):
        raise VidstyleError("a folder of inputs needs -o, a folder for the results (without -o the "
                            "results of files named one by one go into the current folder)")
    args.output = "./"
    return True


def blend_jobs(pairs: list, controls, cued=()) -> list:
    """(input, output, controls) with each output named OUTPUT_STYLE after the styles it
    blends (OUTPUT_STYLE1+STYLE2) and the `cued` style images it switches to, for results
    written without -o: two files of one name count twice (wave+wave_2), and where the
    names grow long the name says how many more."""
    from pathlib import Path

    files = list(dict.fromkeys(Path(style).resolve() for style in [*controls.styles, *cued]))
    names: list[str] = []
    for f in files:
        names.append(free_name(f.stem, names.__contains__))
    label = "+".join(names)
    if len(label) > 100:  # (a file name has at most 255 bytes)
        kept = []
        for name in names:
            if len("+".join(kept + [name])) > 80:
                break
            kept.append(name)
        kept = kept or [names[0][:80]]
        label = "+".join(kept) + (f"+{len(names) - len(kept)}more" if len(names) > len(kept) else "")
    return [(src, dst.with_name(f"{dst.stem}_{label}{dst.suffix}"), controls) for src, dst in pairs]


def names_a_folder(output: str) -> bool:
    """Whether -o names a folder: an existing one, a trailing slash, or a name without extension."""
    from pathlib import Path

    path = Path(output)
    return path.is_dir() or output.endswith(("/", "\\")) or not path.suffix


def outputs_in_folder(files: list, folder, suffix: str, within: list | None = None) -> list:
    """One output per input inside `folder`, named after the input, never two alike.

    `within[i]`: the subfolder of `folder` that input i's output goes in (the input's
    own, under a folder named as input: day1/a.mp4 and day2/a.mp4 of clips/ become
    day1/a.mp4 and day2/a.mp4, whatever else the scan finds later). Where names still
    meet, inputs of the output's own type take the plain name first: a.mp4 and a.mov
    become a.mp4 and a_mov.mp4, and a second a.mp4 a_2.mp4.
    """
    from pathlib import Path

    from vidstyle.sequences import is_sequence, sequence_stem

    taken: set[str] = set()
    outs: list = [None] * len(files)
    own_type_first = sorted(range(len(files)), key=lambda i: Path(files[i]).suffix.lower() != suffix.lower())
    for i in own_type_first:
        f = Path(files[i])
        place = Path(folder) / (within[i] if within else "")
        stem = sequence_stem(f) if is_sequence(f) else f.stem  # shot_%04d.png -> shot
        kind = [f"{stem}_{f.suffix.lstrip('.')}"] if f.suffix.lower() != suffix.lower() else []
        name = free_name(stem, lambda c: str(place / c).lower() in taken, also=kind)
        taken.add(str(place / name).lower())
        outs[i] = place / f"{name}{suffix}"
    return outs


def subfolders_within(inputs: list[str], files: list) -> list:
    """For each file, its folder relative to the input folder it was found in (Path('.')
    for files named directly), so that outputs can mirror the inputs' folders; where
    several folders are named, each one's results go under its name."""
    from pathlib import Path

    folders = [Path(i) for i in inputs if Path(i).is_dir()]
    named = {Path(i) for i in inputs}
    within = []
    for f in map(Path, files):
        home = next((d for d in folders if f not in named and f.is_relative_to(d)), None)
        if home is None:
            within.append(Path("."))
            continue
        under = Path(home.resolve().name) if len(folders) > 1 else Path(".")
        within.append(under / f.relative_to(home).parent)
    return within


def plan_outputs(inputs: list[str], output: str, suffixes: set[str], suffix: str, what: str,
                 sequences: bool = False, named_after: bool = False) -> list:
    """(input, output) pairs for files and folders of files with `suffixes`: one input
    gives OUTPUT itself; several inputs, or a folder, make OUTPUT a folder of `suffix`
    files. Refused before any work: an output that would replace one of the inputs, and a
    file name given where a folder is needed (`-o all.mp4` for several inputs).
    With `sequences`, inputs like `frames/shot_%04d.png` are image sequences (one input each).
    `named_after`: the outputs are only names the real ones are made from (--each's
    INPUT_STYLE), which the caller checks against the inputs."""
    from pathlib import Path

    from vidstyle.inputs import IMAGE_SUFFIXES, VIDEO_SUFFIXES, expand_files
    from vidstyle.outputs import check_writable, refuse_inputs_as_outputs

    out = Path(output)
    if out.name.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES and not output.endswith(("/", "\\")):
        raise VidstyleError(f"-o {output} is only an extension; give a file name, e.g. out{out.name}")
    files, folder_input = expand_files(inputs, suffixes, what, exclude=out, once=True, sequences=sequences)
    if len(files) == 1 and not folder_input and not names_a_folder(output):
        pairs = [(files[0], out)]
    else:
        if len(files) > 1 or folder_input:
            many = f"{len(files)} inputs" if len(files) > 1 else f"the input {inputs[0]} is a folder"
        else:
            many = "a name without an extension or with a trailing slash names a folder"
        if out.exists() and not out.is_dir():
            raise VidstyleError(f"{out} is a file, but {many}: -o must be a folder")
        if not names_a_folder(output):
            raise VidstyleError(f"-o {output} looks like a file name, but {many}: -o must be a folder "
                                f"(for a folder with a dot in its name, end it with a slash)")
        pairs = list(zip(files, outputs_in_folder(files, out, suffix, subfolders_within(inputs, files))))
    if not named_after:
        refuse_inputs_as_outputs(pairs)
    for dst in {dst.parent: dst for _, dst in pairs}.values():  # one test per output folder
        check_writable(dst, f"the results into {dst.parent}" if named_after else None)
    return pairs


def os_error(exc: OSError) -> str:
    """An OS error in one line: what went wrong and with which file."""
    return f"{reason(exc)}: {exc.filename}" if exc.filename else reason(exc)


def fail(message: str, code: int = 1) -> int:
    print(f"vidstyle: error: {message}", file=sys.stderr)
    return code


def column(text: str, width: int) -> str:
    """`text` cut or padded to `width` terminal columns: a CJK character takes two, a
    combining mark none (str's own padding counts characters, and misaligned such names)."""
    import unicodedata

    out, used = [], 0
    for char in text:
        w = 0 if unicodedata.combining(char) else 2 if unicodedata.east_asian_width(char) in "WF" else 1
        if used + w > width:
            break
        out.append(char)
        used += w
    return "".join(out) + " " * (width - used)
