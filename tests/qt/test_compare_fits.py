"""Compare mode fits a 1366×768 laptop screen: no tab, in any compare state, asks the window
for more room than the screen has (the walkthrough saw the Attention tab ask for 1680 px and
the MLM lab for 801 px, with the window then growing off-screen)."""

from __future__ import annotations

import shutil

import pytest

from explorer.qt.tabs.attention.view import AVERAGE

WAIT_MS = 30000
# What a 1366×768 screen leaves a window: its title bar and a panel take about 60 px.
SCREEN_W, SCREEN_H = 1366, 708
LONG_NAME = "bert-fine-tuned-on-the-kitchen-sentences-of-my-class-december"


@pytest.fixture(scope="module")
def long_named(tmp_path_factory, bert_dir):
    folder = tmp_path_factory.mktemp("a-rather-long-folder-of-models-for-class") / LONG_NAME
    shutil.copytree(bert_dir, folder)
    return folder


def needs(w) -> tuple[int, int]:
    size = w.minimumSizeHint().expandedTo(w.minimumSize())
    return size.width(), size.height()


def answered(w) -> bool:
    """The tabs that compute when shown have their answers (and so their longest labels)."""
    comparing = w.controller.compare.has_model
    tab = w.tabs.currentWidget()
    if tab is w.attention_tab:
        views = (tab.main, tab.other) if comparing else (tab.main,)
        return all(v.result is not None for v in views)
    if tab is w.lama:  # the shipped sample, read when the tab is first shown
        return tab.data is not None
    if tab is w.mlm:
        return tab.result is not None and (tab.compare_result is not None or not comparing)
    return True


def visit_every_tab(qtbot, w) -> dict[str, tuple[int, int]]:
    seen = {}
    for i in range(w.tabs.count()):
        w.tabs.setCurrentIndex(i)
        qtbot.waitUntil(lambda: answered(w), timeout=WAIT_MS)
        seen[w.tabs.tabText(i)] = needs(w)
    return seen


def too_big(seen: dict[str, tuple[int, int]], screen: tuple[int, int] = (SCREEN_W, SCREEN_H)) -> dict[str, tuple[int, int]]:
    return {tab: (width, height) for tab, (width, height) in seen.items() if width > screen[0] or height > screen[1]}


@pytest.mark.parametrize("screen", [(1366, 708), (1280, 660)])  # a laptop; 1080p at 150% scaling
def test_every_tab_fits_the_screen_while_comparing_and_after(qtbot, window, long_named, screen):
    w = window
    w.resize(*screen)
    w.demo_banner.show()  # as on a first start, on the demo model: the tightest height
    w.editor.setPlainText("The cat sat on the [MASK] with a rather long sentence that goes on and on and on.")
    with qtbot.waitSignal(w.controller.compare.loaded, timeout=WAIT_MS):
        w.compare_with(str(long_named))
    assert too_big(visit_every_tab(qtbot, w), screen) == {}

    tab = w.attention_tab
    w.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.other.result is not None and tab.main.result is not None, timeout=WAIT_MS)
    tab.difference.setChecked(True)
    tab.main.mode.setCurrentText(AVERAGE)
    assert too_big({"Attention, difference": needs(w)}, screen) == {}
    assert w.width() <= screen[0] and w.height() <= screen[1], "the window itself never grew"

    w.compare_with("")
    qtbot.waitUntil(lambda: not w.controller.compare.has_model, timeout=WAIT_MS)
    assert too_big(visit_every_tab(qtbot, w), screen) == {}
    assert outside(w) == []


def outside(w) -> list[str]:
    """Named widgets shown in the window whose rectangle leaves the window's (after a layout).
    What sits inside a scroll area scrolls into view, so the scroll areas are checked, not it."""
    from PySide6.QtCore import QPoint, QRect
    from PySide6.QtWidgets import QAbstractScrollArea, QWidget

    def scrolled(widget: QWidget) -> bool:
        parent = widget.parentWidget()
        while parent is not None and parent is not w:
            if isinstance(parent, QAbstractScrollArea):
                return True
            parent = parent.parentWidget()
        return False

    w.layout().activate()
    frame = QRect(QPoint(0, 0), w.size())
    return [
        child.objectName() for child in w.findChildren(QWidget)
        if child.objectName() and not child.objectName().startswith("qt_") and child.isVisible()
        and child.window() is w and not scrolled(child)
        and not frame.contains(QRect(child.mapTo(w, QPoint(0, 0)), child.size()))
    ]
