import time

import pytest
import torch

from vidstyle.parallel import FrameWorkers
from vidstyle.thread_tuner import ThreadTuner, candidate_counts


class FakeMachine:
    """A clock and a frame whose cost depends on the thread count and on another program's load."""

    def __init__(self):
        self.now = 0.0
        self.threads = None
        self.busy = False  # another program holds a core
        self.calls: list[int] = []

    def cost(self, threads: int) -> float:
        if self.busy:  # two threads wait at every barrier for the descheduled one
            return {1: 0.068, 2: 0.16}[threads]
        return {1: 0.068, 2: 0.038}[threads]

    def frame(self, _item=None):
        self.calls.append(self.threads)
        self.now += self.cost(self.threads)

    def set_threads(self, n: int) -> None:
        self.threads = n

    def tuner(self, **kw) -> ThreadTuner:
        return ThreadTuner(2, clock=lambda: self.now, set_threads=self.set_threads, warm=set(), **kw)


def run_for(machine, tuner, seconds):
    end = machine.now + seconds
    start_calls = len(machine.calls)
    while machine.now < end:
        tuner.call(machine.frame)
    return machine.calls[start_calls:]


def test_candidates_are_all_one_fewer_and_half():
    assert candidate_counts(2) == [2, 1]
    assert candidate_counts(8) == [8, 7, 4]
    assert candidate_counts(1) == [1]
    assert not ThreadTuner(1, set_threads=lambda n: None).enabled


def test_an_idle_machine_keeps_all_threads_and_pays_little_for_checking():
    m = FakeMachine()
    tuner = m.tuner()
    calls = run_for(m, tuner, 60)
    assert tuner.current == 2
    assert calls[-1] == 2
    # Re-checks back off while the answer stays the same: few frames run at one thread.
    assert calls.count(1) / len(calls) < 0.02


def test_a_busy_core_moves_work_to_one_thread_at_once_and_back_when_it_is_free():
    m = FakeMachine()
    tuner = m.tuner()
    run_for(m, tuner, 30)
    assert tuner.current == 2
    m.busy = True
    calls = run_for(m, tuner, 2)  # the slowdown is seen within a few frames, not at the next re-check
    assert tuner.current == 1
    assert calls.count(2) <= 8
    calls = run_for(m, tuner, 30)
    assert calls.count(1) / len(calls) > 0.95
    m.busy = False
    run_for(m, tuner, tuner.max_recheck_s + 1)  # the periodic re-check finds two threads fast again
    assert tuner.current == 2


def test_the_first_call_at_a_thread_count_is_not_timed():
    m = FakeMachine()
    costs = iter([5.0] + [0.05] * 100)  # the first call at two threads starts its pool: slow
    m.cost = lambda threads: next(costs) if threads == 2 else 0.07
    tuner = m.tuner(samples=1)
    run_for(m, tuner, 1)
    assert tuner.current == 2


def test_frame_workers_tune_the_callers_threads_and_restore_them():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with FrameWorkers(1, tune_threads=True) as pool:
            seen = set(pool.map(lambda _: torch.get_num_threads(), range(20)))
        assert seen == {1, 2}  # the probe tried both
        assert torch.get_num_threads() == 2
        with FrameWorkers(1) as pool:  # without tuning, the caller's count throughout
            assert set(pool.map(lambda _: torch.get_num_threads(), range(20))) == {2}
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("compiled,device,expected", [(False, "cpu", True), (True, "cpu", False),
                                                      (False, "cuda", False)])
def test_threads_are_tuned_for_eager_cpu_frames_only(compiled, device, expected):
    from types import SimpleNamespace

    from vidstyle.stylizer import tunes_threads

    assert tunes_threads(SimpleNamespace(device=torch.device(device), compiled=compiled)) is expected


def test_pool_workers_with_several_threads_are_tuned_and_tuners_outlive_one_map():
    before = torch.get_num_threads()
    torch.set_num_threads(4)
    try:
        def frame(_):
            # Work that takes a while, so that both workers get their share and are
            # timed steadily (an instant call let one worker take nearly all items).
            time.sleep(0.005)
            return torch.get_num_threads()

        with FrameWorkers(2, tune_threads=True) as pool:  # two threads each
            seen = set(pool.map(frame, range(40)))
            assert seen == {2, 1}
            assert len(pool._tuners) == 2 and pool.threads_settled
            probes = [t.probes for t in pool._tuners]
            list(pool.map(frame, range(4)))  # a second map goes on where the first stopped
            assert [t.probes for t in pool._tuners] == probes
    finally:
        torch.set_num_threads(before)


def test_an_early_stop_still_restores_the_callers_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with FrameWorkers(1, tune_threads=True) as pool:
            for n in pool.map(lambda _: torch.get_num_threads(), range(100)):
                if n == 1:  # stopped in the middle of a probe
                    break
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_a_new_thread_starts_with_no_warm_thread_counts():
    import threading

    from vidstyle.thread_tuner import _warm_counts

    _warm_counts().add(2)
    seen = []
    t = threading.Thread(target=lambda: seen.append(set(_warm_counts())))
    t.start()
    t.join()
    assert seen == [set()]
