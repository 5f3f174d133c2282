import random
import threading
import time

import pytest
import torch

from vidstyle.parallel import FrameWorkers


def test_results_come_in_input_order_however_long_each_takes():
    rng = random.Random(0)
    delays = [rng.uniform(0, 0.01) for _ in range(40)]

    def slow_square(i):
        time.sleep(delays[i])
        return i * i

    with FrameWorkers(3) as pool:
        assert list(pool.map(slow_square, range(40))) == [i * i for i in range(40)]


def test_work_runs_in_several_threads_at_most_workers_plus_one_items_ahead():
    consumed, yielded, ahead, names = [0], [0], [], set()

    def items():
        for i in range(30):
            consumed[0] += 1
            ahead.append(consumed[0] - yielded[0])
            yield i

    def work(i):
        names.add(threading.current_thread().name)
        time.sleep(0.002)
        return i

    with FrameWorkers(2) as pool:
        for _ in pool.map(work, items()):
            yielded[0] += 1
        assert len(names) == 2 and all(n.startswith("vidstyle-model") for n in names)
        assert max(ahead) == 3  # two running plus one waiting
        ahead.clear()
        consumed[0] = yielded[0] = 0
        for _ in pool.map(work, items(), ahead=0):  # the next item only once a worker is free
            yielded[0] += 1
        assert max(ahead) == 2


def test_workers_get_their_share_of_threads_and_the_callers_count_is_kept():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with FrameWorkers(2) as pool:
            seen = set(pool.map(lambda _: torch.get_num_threads(), range(8)))
        assert seen == {1} and torch.get_num_threads() == 2
        with FrameWorkers(1) as pool:  # one worker: the caller's thread, untouched
            assert set(pool.map(lambda _: torch.get_num_threads(), range(2))) == {2}
    finally:
        torch.set_num_threads(before)


def test_an_error_in_a_worker_reaches_the_caller_and_stops_the_rest():
    ran = []

    def work(i):
        ran.append(i)
        if i == 3:
            raise ValueError("frame 3 is bad")
        time.sleep(0.01)
        return i

    with FrameWorkers(2) as pool:
        with pytest.raises(ValueError, match="frame 3"):
            list(pool.map(work, range(100)))
    assert len(ran) < 10


def test_zero_workers_is_refused():
    with pytest.raises(ValueError):
        FrameWorkers(0)


def test_workers_default_to_two_on_a_multicore_cpu_and_one_on_cuda_or_compiled():
    from types import SimpleNamespace

    from vidstyle.errors import VidstyleError
    from vidstyle.stylizer import resolve_workers

    before = torch.get_num_threads()
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    try:
        torch.set_num_threads(2)
        assert resolve_workers(None, SimpleNamespace(device=cpu, compiled=False)) == 2
        assert resolve_workers(None, SimpleNamespace(device=cpu, compiled=True)) == 1
        assert resolve_workers(None, SimpleNamespace(device=cuda, compiled=False)) == 1
        assert resolve_workers(3, SimpleNamespace(device=cpu, compiled=False)) == 3
        torch.set_num_threads(1)
        assert resolve_workers(None, SimpleNamespace(device=cpu, compiled=False)) == 1
    finally:
        torch.set_num_threads(before)
    with pytest.raises(VidstyleError, match="at least 1"):
        resolve_workers(0, SimpleNamespace(device=cpu, compiled=False))
    with pytest.raises(VidstyleError, match="not thread-safe"):
        resolve_workers(2, SimpleNamespace(device=cpu, compiled=True))
