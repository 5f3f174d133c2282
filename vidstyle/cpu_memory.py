"""Keeping freed memory for reuse, so that each frame's feature maps are not mapped anew.

The frame model allocates and frees the same large feature maps on every frame. glibc
hands blocks above its mmap threshold (at most 32 MB) back to the kernel when they are
freed, and a thread's arena maps heaps of at most 64 MB, so each frame's maps are mapped
and zero-filled again, page by page: 75,836 minor page faults per 640x360 frame and
509,567 per 1280x720 frame for the full model (benchmarks/malloc_reuse.py, RESULTS.md).
Keeping the memory made the model 1.25x faster at 640x360 and 1.55x at 1280x720.

This is a process-wide setting, so the library never applies it by itself: the command
line does, before any thread starts.
"""
from __future__ import annotations

import ctypes
import os
import sys

# glibc's mallopt parameter numbers (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_MAX, _M_ARENA_MAX = -1, -4, -8
# the environment's own malloc settings, which win over ours
_MALLOC_ENV = ("MALLOC_ARENA_MAX", "MALLOC_MMAP_MAX_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_",
               "MALLOC_TOP_PAD_")

_kept = False


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
            return None
        return ctypes.CDLL(None)  # the process's own C library
    except (ValueError, OSError, AttributeError):  # musl and others have no CS_GNU_LIBC_VERSION
        return None


def malloc_set_by_environment() -> bool:
    """Whether the environment tunes glibc's malloc itself (MALLOC_ARENA_MAX, GLIBC_TUNABLES...)."""
    return (any(name in os.environ for name in _MALLOC_ENV)
            or "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", ""))


def keep_freed_memory(trim_threshold: int = 1 << 30) -> bool:
    """Have glibc's malloc keep freed memory for reuse, for the whole process.

    All threads share one arena (a thread's own arena would still map blocks over
    64 MB and unmap them when freed), no block is given its own mapping, and up to
    `trim_threshold` bytes of free memory at the top of the heap are kept rather than
    handed back. Call it before threads start: threads that already have an arena keep
    theirs. The process's resident memory then stays near its peak until it exits.

    Returns whether it was applied: not off glibc (macOS, Windows, musl), and not when
    the environment sets malloc's tunables itself (those are the user's choice). glibc
    cannot report its current settings, so if one of them is refused the ones before it
    stay applied; glibc refuses none of these values.
    """
    global _kept
    if not 0 <= trim_threshold < 1 << 31:  # mallopt takes a C int
        raise ValueError(f"trim_threshold must be between 0 and 2**31 - 1 bytes, not {trim_threshold}")
    libc = _glibc()
    if libc is None or malloc_set_by_environment():
        return False
    settings = ((_M_ARENA_MAX, 1), (_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, trim_threshold))
    _kept = all(libc.mallopt(param, value) == 1 for param, value in settings)
    return _kept


def freed_memory_kept() -> bool:
    """Whether keep_freed_memory applied its settings in this process."""
    return _kept
