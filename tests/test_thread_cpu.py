import threading
import time

import pytest

from vidstyle import thread_cpu
from vidstyle.thread_cpu import MODEL, ThreadCpu

pytestmark = pytest.mark.skipif(not thread_cpu.available(), reason="reads /proc (Linux)")


def spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_cpu_time_is_counted_per_role_even_for_threads_that_ended():
    with ThreadCpu(interval=0.01) as cpu:
        encode = threading.Thread(target=spin, args=(0.2,), name="vidstyle-encode")
        model = threading.Thread(target=spin, args=(0.3,), name="vidstyle-model_0")
        for t in (encode, model):
            t.start()
        for t in (encode, model):
            t.join()
        time.sleep(0.05)  # both threads are gone before the end
    roles = cpu.by_role()
    assert roles["encode thread"] == pytest.approx(0.2, abs=0.05)
    assert roles[MODEL] == pytest.approx(0.3, abs=0.05)
    assert list(roles)[0] == MODEL  # largest first
    assert not any("sampler" in role for role in roles)
    assert cpu.ms_per_frame(10)[MODEL] == pytest.approx(roles[MODEL] * 100)


def test_the_main_thread_counts_as_the_model_when_it_runs_it():
    with ThreadCpu(interval=0.01, model_in_main=True) as cpu:
        spin(0.1)
    assert cpu.by_role()[MODEL] >= 0.09
    with ThreadCpu(interval=0.01) as cpu:
        spin(0.1)
    assert cpu.by_role()["main thread"] >= 0.09


def test_nothing_is_measured_without_proc(monkeypatch):
    monkeypatch.setattr(thread_cpu, "available", lambda: False)
    with ThreadCpu() as cpu:
        spin(0.01)
    assert cpu.by_role() == {} and cpu.ms_per_frame(5) == {}
    assert thread_cpu.cores() >= 1
