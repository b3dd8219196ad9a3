from __future__ import annotations

import pytest

from explorer.qt.shell.inference import live_threads


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
    from explorer.qt.shell.app import create_window

    w = create_window(str(bert_dir))
    qtbot.addWidget(w)
    w.resize(1280, 900)
    w.show()
    qtbot.waitUntil(lambda: w.controller.main.info is not None, timeout=15000)
    yield w
    w.close()
    assert w.controller.thread.wait(2000), "closing the window stops the model thread"


@pytest.fixture
def save_dialog(monkeypatch, tmp_path):
    """A home folder of our own (with Documents) and a save dialog that records the path it
    was offered and returns nothing (as Cancel does). Yields (documents folder, offered paths)."""
    from PySide6.QtWidgets import QFileDialog

    home = tmp_path / "home"
    documents = home / "Documents"
    documents.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("XDG_DOCUMENTS_DIR", raising=False)
    offered: list[str] = []

    def dialog(_parent, _caption="", directory="", _filter="", *args, **kwargs):
        offered.append(directory)
        return "", ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(dialog))
    return documents, offered
