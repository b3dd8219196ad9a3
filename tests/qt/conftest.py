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


@pytest.fixture
def window(qtbot, bert_dir):
    """The main window on the tiny BERT, shown and with its model loaded; closed afterwards,
    and its model thread must have stopped."""
    from explorer.qt.app import create_window

    w = create_window(str(bert_dir))
    qtbot.addWidget(w)
    w.resize(1280, 900)
    w.show()
    qtbot.waitUntil(lambda: w.controller.model_info is not None, timeout=15000)
    yield w
    w.close()
    assert w.controller.thread.wait(2000), "closing the window stops the model thread"
