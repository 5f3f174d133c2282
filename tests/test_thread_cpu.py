import threading
import time

import pytest

from vidstyle import thread_cpu
from vidstyle.thread_cpu import MODEL, MODEL_IN_MAIN, ThreadCpu

pytestmark = pytest.mark.skipif(not thread_cpu.available(), reason="reads /proc (Linux)")


def spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def spin_then_wait(seconds: float, done: threading.Event) -> None:
    spin(seconds)
    done.wait()  # alive, but using no CPU, until the test lets it end


def test_cpu_time_is_counted_per_role_even_for_threads_that_ended():
    done = threading.Event()
    with ThreadCpu(interval=0.01) as cpu:
        encode = threading.Thread(target=spin_then_wait, args=(0.2, done), name="vidstyle-encode")
        model = threading.Thread(target=spin_then_wait, args=(0.3, done), name="vidstyle-model_0")
        for t in (encode, model):
            t.start()
        deadline = time.monotonic() + 30  # however loaded the machine
        while not _spun({encode: 0.2, model: 0.3}) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)  # sampled after their work
        done.set()
        for t in (encode, model):
            t.join()
        time.sleep(0.05)  # both threads are gone before the end
    roles = cpu.by_role()
    assert roles["encode thread"] == pytest.approx(0.2, abs=0.03)
    assert roles[MODEL] == pytest.approx(0.3, abs=0.03)
    assert list(roles)[0] == MODEL  # largest first
    assert cpu._role(cpu._thread.native_id) is None  # the sampler's own time is left out
    assert cpu.ms_per_frame(10)[MODEL] == pytest.approx(roles[MODEL] * 100)
    assert cpu.wall >= 0.15


def _spun(seconds: dict) -> bool:
    """Whether every thread has used its CPU seconds (each then waits on an event)."""
    ns = thread_cpu._cpu_ns()
    return all(ns.get(t.native_id, 0) >= s * 1e9 for t, s in seconds.items())


def test_the_main_thread_is_reported_as_running_the_model_when_it_does():
    with ThreadCpu(interval=0.01, model_in_main=True) as cpu:
        spin(0.1)
    assert cpu.by_role()[MODEL_IN_MAIN] >= 0.09
    with ThreadCpu(interval=0.01) as cpu:
        spin(0.1)
    assert cpu.by_role()["main thread"] >= 0.09


def test_nothing_is_measured_without_proc(monkeypatch):
    monkeypatch.setattr(thread_cpu, "available", lambda: False)
    with ThreadCpu() as cpu:
        spin(0.01)
    assert cpu.by_role() == {} and cpu.ms_per_frame(5) == {}
    assert thread_cpu.cores() >= 1
