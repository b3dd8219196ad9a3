from __future__ import annotations

import pytest

from explorer.qt.inference import live_threads


@pytest.fixture(autouse=True)
def no_thread_left_running():
    """Fail the test, rather than abort the whole run, if it leaves a model thread running."""
    yield
    left = [t for t in list(live_threads) if t.isRunning()]
    for t in left:
        t.stop(2000)
    assert not left, f"{len(left)} inference thread(s) were left running"
