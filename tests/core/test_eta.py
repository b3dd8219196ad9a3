"""The time left follows the recent pace, not the average since the start."""

from __future__ import annotations

import pytest

from explorer.core.eta import RecentPace


def test_a_slow_set_up_does_not_inflate_the_estimate():
    pace = RecentPace()
    pace.add(0.0, 0)
    pace.add(60.0, 1)  # a minute of set-up before the first step (measuring perplexity)
    for step in range(2, 12):
        pace.add(60.0 + (step - 1) * 2.0, step)  # then 2 s a step
    # 100 steps, 11 done, 2 s a step: about 178 s, where the average since the start says ~485 s.
    assert pace.seconds_left(100) == pytest.approx(89 * 2.0)


def test_no_estimate_before_progress_and_a_new_phase_starts_afresh():
    pace = RecentPace()
    assert pace.seconds_left(10) is None
    pace.add(0.0, 0)
    assert pace.seconds_left(10) is None
    pace.add(1.0, 0)
    assert pace.seconds_left(10) is None  # time passed, nothing done yet
    pace.add(2.0, 5)
    pace.add(3.0, 1)  # counted from 0 again (another phase)
    pace.add(4.0, 2)
    assert pace.seconds_left(10) == pytest.approx(8.0)
