import pytest

from vidstyle.work_size import WorkSizeController


def model_seconds(size, per_megapixel=0.5, aspect=16 / 9):
    return per_megapixel * size * size * aspect / 1e6  # frame time grows with the pixel count


def settle(controller, frames=200, **cost):
    sizes = []
    for _ in range(frames):
        sizes.append(controller.update(model_seconds(controller.size, **cost)))
    return sizes


def test_a_slow_model_is_run_smaller_until_frames_meet_the_frame_rate():
    c = WorkSizeController(fps=15, largest=720)
    sizes = settle(c)
    assert c.size < 720
    assert 15 <= 1 / model_seconds(c.size) <= 15 * 1.25  # at or a little above the rate asked, not below
    assert len(set(sizes[-100:])) == 1  # settled: no hunting around the target
    assert all(s % 8 == 0 for s in sizes)


def test_a_fast_model_keeps_the_full_size_and_the_floor_holds_for_a_very_slow_one():
    fast = WorkSizeController(fps=15, largest=360)
    assert set(settle(fast, per_megapixel=0.05)) == {360}
    slow = WorkSizeController(fps=30, largest=720, smallest=96)
    settle(slow, per_megapixel=50)
    assert slow.size == 96


def test_the_size_grows_back_when_the_machine_speeds_up():
    c = WorkSizeController(fps=15, largest=720)
    settle(c, per_megapixel=2.0)  # another program slows the model down
    small = c.size
    settle(c, per_megapixel=0.5)
    assert c.size > small * 1.5


def test_single_slow_frames_do_not_move_the_size():
    c = WorkSizeController(fps=10, largest=360, every=5)
    settle(c, per_megapixel=0.2)
    assert c.size == 360
    for i in range(50):  # every fifth frame is 10x slower (a probe, a busy moment)
        c.update(model_seconds(360, 0.2) * (10 if i % 5 == 0 else 1))
    assert c.size == 360


def test_fps_must_be_positive():
    with pytest.raises(ValueError):
        WorkSizeController(fps=0, largest=360)
