"""Entry point: `vidstyle COMMAND ...`."""
from __future__ import annotations

import argparse
import logging
import signal
import sys

import vidstyle  # (its package alone: no av or torch)

from . import bench, convert, distill, evaluate, image, train, webcam
from .common import Terminated, attach_default_color_mode, end_weights_at_a_path, fail

COMMANDS = (convert, image, webcam, bench, train, distill, evaluate)


class _LogFormat(logging.Formatter):
    """'vidstyle: warning: ...', as the CLI's own 'vidstyle: error: ...' lines read."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return f"vidstyle: {record.levelname.lower()}: {record.getMessage()}"


def _on_sigterm(signum, frame):
    raise Terminated(signum)


def _keep_freed_memory() -> None:
    """Process-wide, so the command line (which owns the process) sets it, before torch starts
    any thread: each frame's feature maps then reuse memory instead of faulting it in anew
    (vidstyle.cpu_memory). VIDSTYLE_KEEP_FREED_MEMORY=0 (or no/off/false) leaves the C
    library's defaults."""
    import os

    from vidstyle.cpu_memory import keep_freed_memory

    setting = os.environ.get("VIDSTYLE_KEEP_FREED_MEMORY", "1").strip().lower()
    wanted = setting not in ("0", "no", "off", "false")
    kept = wanted and keep_freed_memory()
    logging.getLogger("vidstyle").debug("freed memory kept for reuse: %s", "yes" if kept else "no")


class _OneLineErrors(argparse.ArgumentParser):
    def error(self, message):
        """One line and exit 2, not argparse's usage block first (a command's usage runs to
        15 lines, and the error under it is what matters)."""
        self.exit(2, f"{self.prog}: error: {message} ('{self.prog} --help' lists the options)\n")


class _CommandParser(_OneLineErrors):
    """A command's parser that takes inputs between options (`convert a.mp4 -s x.png b.mp4`).

    argparse stops filling a positional at the first option, so inputs after one were refused
    as unrecognized; parse_known_intermixed_args collects the positionals from anywhere. It calls
    parse_known_args itself, hence the guard."""

    _intermixing = False
    _given: list = []

    def parse_known_args(self, args=None, namespace=None):
        if self._intermixing:
            return super().parse_known_args(args, namespace)
        args = list(args or [])
        if "--" in args:
            # Intermixed parsing drops a name after "--" that starts with "-" (Python 3.11):
            # the inputs are files, so such a one is given as ./NAME, the same file.
            at = args.index("--")
            args[at + 1:] = [f"./{a}" if a.startswith("-") and a != "-" else a for a in args[at + 1:]]
        self._given = args
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False

    def error(self, message):
        """A missing required option said with the options given that this command lacks: a
        misspelt --stlye made "--style is required", without naming the typo."""
        if message.startswith("the following arguments are required"):
            unknown = [name for name in dict.fromkeys(self._options_given()) if not self._knows(name)]
            if unknown:
                message += f" (this command has no {', '.join(unknown)})"
        super().error(message)

    def _options_given(self):
        for arg in self._given:
            if arg == "--":  # what follows is positional
                return
            if arg.startswith("--"):
                yield arg.split("=")[0]

    def _knows(self, name: str) -> bool:
        """An option of this command, or one argparse takes as its abbreviation (--over)."""
        return any(known == name or (self.allow_abbrev and known.startswith(name))
                   for known in self._option_string_actions)


def not_python_osc_chatter(record: logging.LogRecord) -> bool:
    """Leave out python-osc's debug line for every message it hands its default handler,
    logged on the root logger ("No handler matched but default handler present")."""
    return not (record.name == "root" and record.levelno < logging.INFO and "pythonosc" in record.pathname)


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineErrors(
        prog="vidstyle",
        description="Real-time arbitrary style transfer (AdaIN) for video files, webcams and images.",
        epilog="Run 'vidstyle COMMAND --help' for a command's options and examples.")
    parser.add_argument("-v", "--verbose", action="store_true", help="show debug logging")
    parser.add_argument("--version", action="version", version=f"vidstyle {vidstyle.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                parser_class=_CommandParser)
    for module in COMMANDS:
        module.register(sub)
    for command in sub.choices.values():  # -v after the command too; SUPPRESS keeps one given before
        command.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                             help="show debug logging")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    if all(a in ("-v", "--verbose") for a in argv):  # the commands, rather than "COMMAND is required"
        parser.print_help(sys.stderr)
        return 2
    args = parser.parse_args(end_weights_at_a_path(attach_default_color_mode(argv)))
    handler = logging.StreamHandler()
    handler.setFormatter(_LogFormat())
    handler.addFilter(not_python_osc_chatter)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, handlers=[handler])
    logging.getLogger("PIL").setLevel(logging.INFO)  # its debug lines (every PNG chunk) drown ours
    _keep_freed_memory()
    previous = {}
    # (SIGHUP: the terminal closed; under nohup it is ignored, and stays so)
    for signum in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if signum is None or signal.getsignal(signum) is signal.SIG_IGN:
            continue
        try:
            previous[signum] = signal.signal(signum, _on_sigterm)
        except ValueError:  # not the main thread (an embedding program): leave signals alone
            break
    try:  # Ctrl-C while torch is still importing is an interruption too
        return _run(args)
    except Terminated as exc:
        what = "terminated" if exc.signum == signal.SIGTERM else "hung up"
        return fail(what + _what_it_left(exc), 128 + exc.signum)
    except KeyboardInterrupt as exc:
        return fail("interrupted" + _what_it_left(exc), 130)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _what_it_left(stop: KeyboardInterrupt) -> str:
    """What a command says of a stop's outcome (e.g. convert's stop in its first minute)."""
    said = getattr(stop, "said", None)
    return f": {said}" if said else ""


def _run(args) -> int:
    import torch

    from vidstyle.errors import VidstyleError

    try:
        return args.run(args) or 0
    except VidstyleError as exc:
        return fail(str(exc))
    except OSError as exc:  # (a file gone, a full disk, a folder without permission: one line)
        from .common import os_error

        return fail(os_error(exc))
    except torch.cuda.OutOfMemoryError:
        return fail("out of GPU memory; try a smaller --batch or --size (e.g. --size 360)")
    except RuntimeError as exc:
        if "can't allocate memory" not in str(exc):  # torch's CPU allocator; anything else is a bug
            raise
        return fail("out of memory; try a smaller --size or --batch")


if __name__ == "__main__":
    sys.exit(main())
