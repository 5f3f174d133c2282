"""signals_deferred: a stop that comes in the middle of a few steps acts once they are done."""
import os
import signal

import pytest

from vidstyle.signals import signals_deferred


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_stop_sent_to_the_process_waits_for_the_block(signum):
    seen = []

    def handler(number, frame):
        seen.append(number)
        raise KeyboardInterrupt

    before = signal.signal(signum, handler)
    try:
        steps = []
        with pytest.raises(KeyboardInterrupt):
            with signals_deferred():
                os.kill(os.getpid(), signum)  # (as a terminal sends it: to the process)
                for _ in range(10000):  # (Python would run the handler at any of these)
                    pass
                steps.append("done")
        assert steps == ["done"] and seen == [signum]
        assert signal.getsignal(signum) is handler  # put back
    finally:
        signal.signal(signum, before)


def test_a_handler_that_is_not_pythons_is_left_alone(monkeypatch):
    real_getsignal, swapped = signal.getsignal, []
    monkeypatch.setattr(signal, "getsignal", lambda n: None if n == signal.SIGTERM else real_getsignal(n))
    real_signal = signal.signal
    monkeypatch.setattr(signal, "signal", lambda n, h: (swapped.append(n), real_signal(n, h))[1])
    with signals_deferred():
        pass
    assert signal.SIGTERM not in swapped and signal.SIGINT in swapped
