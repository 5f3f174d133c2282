"""Keeping freed memory (vidstyle.cpu_memory): glibc's settings hold for a process's life, so
each case runs in a fresh interpreter."""
import json
import os
import subprocess
import sys

import pytest

from vidstyle.cpu_memory import _glibc

needs_glibc = pytest.mark.skipif(_glibc() is None, reason="glibc's malloc only")

# Allocates, fills and frees a 96 MB block eight times in a worker thread (as the model's
# workers do with their feature maps) and counts the page faults after the first round.
# glibc's default maps such a block anew each time: a fault per 4 KB page, every round.
FAULTS_IN_A_THREAD = """
import ctypes, json, resource, sys, threading
from vidstyle.cpu_memory import freed_memory_kept, keep_freed_memory
kept = keep_freed_memory() if sys.argv[1] == "keep" else False
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
faults = []
def rounds():
    for _ in range(8):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        block = libc.malloc(96 << 20)
        libc.memset(block, 1, 96 << 20)
        libc.free(block)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
worker = threading.Thread(target=rounds)
worker.start()
worker.join()
print(json.dumps({"kept": kept, "reported": freed_memory_kept(), "faults": faults[1:]}))
"""


def _clean_environment() -> dict:
    """This environment without malloc settings of its own, which would win over ours."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("MALLOC_") and k not in ("GLIBC_TUNABLES", "VIDSTYLE_KEEP_FREED_MEMORY")}


def _huge_pages_always() -> bool:  # a 96 MB block then faults in 2 MB pages even by default
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return "[always]" in f.read()
    except OSError:
        return False


def _run(setting: str, **env) -> dict:
    environ = _clean_environment()
    out = subprocess.run([sys.executable, "-c", FAULTS_IN_A_THREAD, setting], env={**environ, **env},
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


@needs_glibc
def test_freed_blocks_are_reused_in_worker_threads():
    pages = (96 << 20) // os.sysconf("SC_PAGE_SIZE")
    default = _run("default")
    assert not default["kept"]
    if not _huge_pages_always():
        assert min(default["faults"]) > pages // 2  # mapped anew every round
    kept = _run("keep")
    assert kept["kept"] and kept["reported"]
    assert max(kept["faults"]) < pages // 100  # the freed block was reused


@needs_glibc
def test_the_environments_own_malloc_settings_win():
    assert not _run("keep", MALLOC_ARENA_MAX="4")["kept"]
    assert not _run("keep", GLIBC_TUNABLES="glibc.malloc.mmap_threshold=65536")["kept"]
    assert _run("keep", GLIBC_TUNABLES="glibc.cpu.hwcaps=-AVX512F")["kept"]  # not malloc's: ours apply


@needs_glibc
def test_the_command_line_keeps_freed_memory_unless_told_not_to(tmp_path):
    def bench(**env) -> dict:
        command = ("bench --model tiny --sizes 32x32 --steps 1 --seconds 0 --no-file --json -").split()
        # Run outside the checkout: there `vidstyle` would be the source folder, which has no cli/
        # (the installed package maps cli/ to vidstyle.cli).
        out = subprocess.run([sys.executable, "-m", "vidstyle.cli.main", *command], cwd=tmp_path,
                             env={**_clean_environment(), **env}, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    assert bench()["freed_memory_kept"] is True
    assert bench(VIDSTYLE_KEEP_FREED_MEMORY="0")["freed_memory_kept"] is False


def test_a_trim_threshold_beyond_a_c_int_is_refused():
    from vidstyle.cpu_memory import keep_freed_memory

    for bad in (-1, 1 << 31):
        with pytest.raises(ValueError, match="trim_threshold"):
            keep_freed_memory(trim_threshold=bad)
