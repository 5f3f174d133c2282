"""Ctrl-C, SIGTERM and SIGHUP held back over a few steps that must not be cut in two."""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

# The signals that stop a run (SIGHUP: a closed terminal; not on Windows).
STOPPING = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None)


@contextmanager
def signals_deferred():
    """The stopping signals held back until the block is done, then acted on as usual (in
    the main thread, where Python handles them; elsewhere, nothing). A signal sent to the
    process may reach any of its threads, so masking the main thread's would not hold it:
    the handlers are swapped for one that notes the signal, and the first noted is raised
    again once the block is done, to the handler that was there. Signals whose handler is
    not Python's (an embedding program's) are left alone."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    noted: list[int] = []
    swapped: dict[int, object] = {}
    try:
        for signum in STOPPING:
            handler = signal.getsignal(signum)
            if handler is None:
                continue
            signal.signal(signum, lambda signum, frame: noted.append(signum))
            swapped[signum] = handler
        yield
    finally:
        raised = None
        for signum, handler in swapped.items():
            while True:  # (a signal that came after its own handler was put back runs it here)
                try:
                    signal.signal(signum, handler)
                    break
                except BaseException as exc:  # (kept, raised once all are back)
                    raised = raised or exc
        if raised is not None:
            raise raised
        if noted:
            signal.raise_signal(noted[0])
