"""Ctrl-C and SIGTERM held back over a few steps that must not be cut in two."""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager


@contextmanager
def signals_deferred():
    """Ctrl-C and SIGTERM held back until the block is done (in the main thread, where
    Python handles them; elsewhere, and where the system has no signal masks, nothing)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
