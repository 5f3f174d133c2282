"""Ctrl-C and SIGTERM held back over a few steps that must not be cut in two."""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

_HELD = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def signals_deferred():
    """Ctrl-C and SIGTERM held back until the block is done, then acted on as usual (in the
    main thread, where Python handles them; elsewhere, nothing). A signal sent to the
    process may reach any of its threads, so masking the main thread's would not hold it:
    the handlers are swapped for one that notes the signal, and the first noted is raised
    again once the block is done, to the handler that was there."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    noted: list[int] = []
    previous = {signum: signal.signal(signum, lambda signum, frame: noted.append(signum)) for signum in _HELD}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if noted:
            signal.raise_signal(noted[0])
