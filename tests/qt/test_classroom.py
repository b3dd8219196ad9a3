"""The classroom issue, first part: a menu bar whose keys are the cheat sheet's, zoom, Ctrl+Q,
and the session remembered across starts (a damaged settings file never stops a start)."""

from __future__ import annotations

import os

import pytest
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QDialog, QTableWidget

from explorer.qt.shell.main_window import START_TEXT
from explorer.qt.shell.remembered import SETTINGS_ENV, Remembered
from explorer.qt.shell.shortcuts import SHORTCUTS
from explorer.qt.widgets.style import MAX_FONT_SCALE, MIN_FONT_SCALE, font_scale

WAIT_MS = 30000


def open_window(qtbot, model=None):
    from explorer.qt.shell.app import create_window

    w = create_window(model)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.controller.main.info is not None, timeout=WAIT_MS)
    return w


def close(w) -> None:
    w.close()
    assert w.controller.thread.wait(2000)


def test_the_menus_are_there_and_their_keys_are_the_cheat_sheets(window):
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles == ["&File", "&View", "&Model", "&Help"]
    actions = window.menus.actions
    for s in SHORTCUTS:
        if s.name in actions:
            assert [k.toString() for k in actions[s.name].shortcuts()] == [QKeySequence(k).toString() for k in s.keys]
    assert {"open_folder", "open_lama", "export", "quit", "zoom_in", "zoom_out", "zoom_reset", "reset", "download",
            "shortcuts", "explain", "about"} <= set(actions)
    # The cheat sheet lists every shortcut, with its keys.
    actions["shortcuts"].trigger()
    table = window.findChild(QDialog, "shortcutsDialog").findChild(QTableWidget, "shortcutsTable")
    assert table.rowCount() == len(SHORTCUTS)
    assert [table.item(r, 0).text() for r in range(table.rowCount())] == [" or ".join(s.keys) for s in SHORTCUTS]


def test_help_says_what_the_view_shows_and_what_runs_here(window):
    window.tabs.setCurrentWidget(window.attention_tab)
    window.menus.actions["explain"].trigger()
    text = window.findChild(QDialog, "explainDialog").findChild(type(window.status_model), "explainDialogText").text()
    assert "Rows are the token attending" in text and "Rollout" in text
    window.menus.actions["about"].trigger()
    about = window.findChild(QDialog, "aboutDialog").findChild(type(window.status_model), "aboutDialogText").text()
    assert "transformers" in about and "torch" in about and window.controller.main.info.name in about


def test_export_is_offered_where_a_view_can_be_exported(window):
    export = window.menus.actions["export"]
    window.tabs.setCurrentWidget(window.predictions)
    assert not export.isEnabled()
    window.tabs.setCurrentWidget(window.attention_tab)
    assert export.isEnabled()


def test_ctrl_q_quits_and_stops_the_model_thread(qtbot, bert_dir):
    w = open_window(qtbot, str(bert_dir))
    w.menus.actions["quit"].trigger()
    assert not w.isVisible()
    assert w.controller.thread.wait(2000)


def test_zoom_scales_the_sentence_and_the_guesses_and_stops_at_the_ends(qtbot, window):
    window.editor.setPlainText("The cat sat on the [MASK] .")
    qtbot.waitUntil(lambda: bool(window.fill_mask.cards and window.fill_mask.cards[0].rows), timeout=WAIT_MS)
    editor_pt = window.editor.font().pointSizeF()
    guess_pt = window.fill_mask.cards[0].rows[0].button.font().pointSizeF()
    window.menus.actions["zoom_in"].trigger()
    assert font_scale() == pytest.approx(1.1)
    assert window.editor.font().pointSizeF() == pytest.approx(editor_pt * 1.1)
    assert window.fill_mask.cards[0].rows[0].button.font().pointSizeF() == pytest.approx(guess_pt * 1.1)
    for _ in range(20):
        window.zoom_by(+1)
    assert font_scale() == MAX_FONT_SCALE
    for _ in range(20):
        window.zoom_by(-1)
    assert font_scale() == MIN_FONT_SCALE
    window.menus.actions["zoom_reset"].trigger()
    assert font_scale() == 1.0 and window.editor.font().pointSizeF() == pytest.approx(editor_pt)


def test_the_session_is_remembered_and_restored(qtbot, bert_dir):
    w = open_window(qtbot, str(bert_dir))
    w.editor.setPlainText("Paris is the [MASK] of France.")
    w.editor.settle()
    w.top_k.setValue(7)
    w.tabs.setCurrentWidget(w.attention_tab)
    w.zoom_by(+1)
    w.zoom_by(+1)
    close(w)
    w.zoom_by(0)  # as a fresh start has it

    again = open_window(qtbot)  # no model named: the last session's
    assert again.controller.main.info.name == str(bert_dir)
    assert again.editor.toPlainText() == "Paris is the [MASK] of France."
    assert again.top_k.value() == 7 and again.tabs.currentWidget() is again.attention_tab
    assert font_scale() == pytest.approx(1.25)
    assert again.remembered.recent_sentences()[0] == "Paris is the [MASK] of France."
    assert again.remembered.recent_folders() == [str(bert_dir)]
    again.menus.actions["reset"].trigger()
    assert again.editor.toPlainText() == START_TEXT and again.top_k.value() == 10 and font_scale() == 1.0
    assert again.remembered.session() == {}
    close(again)


def test_typing_on_replaces_the_newest_recent_sentence_instead_of_adding_copies():
    r = Remembered()
    for text in ("The", "The cat", "The cat [MASK].", "A dog [MASK].", "The cat [MASK]."):
        r.remember_sentence(text)
    assert r.recent_sentences() == ["The cat [MASK].", "A dog [MASK]."]
    for i in range(30):
        r.remember_sentence(f"sentence {i} [MASK]")
    assert len(r.recent_sentences()) == 20


@pytest.mark.parametrize("content", [
    b"\x00\xff\xfe garbage \x00\n[[[",
    b"[General]\nversion=1\ntop_k=abc\nzoom=99\ntab=-3\nlayer=nan\nsentence=\nrecent_sentences=@Invalid()\n",
    b"[General]\nversion=7\nsentence=from another version\ntop_k=5\n",
])
def test_a_bad_or_foreign_settings_file_never_stops_a_start(qtbot, bert_dir, content):
    with open(os.environ[SETTINGS_ENV], "wb") as handle:
        handle.write(content)
    w = open_window(qtbot, str(bert_dir))
    assert w.editor.toPlainText() == START_TEXT and w.top_k.value() == 10 and w.tabs.currentIndex() == 0
    assert font_scale() == 1.0
    close(w)
    assert Remembered().session()["top_k"] == 10  # and it was written afresh on the way out


def test_the_model_menu_loads_what_the_model_bar_would(qtbot, window, model_dirs):
    window.remembered.remember_folder(str(model_dirs["distilbert"]))
    window.menus.recent_folders.aboutToShow.emit()
    entry = next(a for a in window.menus.recent_folders.actions() if a.text() == str(model_dirs["distilbert"]))
    with qtbot.waitSignal(window.controller.main.loaded, timeout=WAIT_MS) as loaded:
        entry.trigger()
    assert loaded.args[0].name == str(model_dirs["distilbert"])
    assert QApplication.instance() is not None


def test_zoom_reaches_the_heatmap_labels_the_table_rows_and_the_bars(qtbot, window):
    from explorer.plots.heatmaps import GRID_FONT

    window.editor.setPlainText("The cat sat on the [MASK] .")
    window.tabs.setCurrentWidget(window.attention_tab)
    view = window.attention
    qtbot.waitUntil(lambda: view.result is not None and bool(view.canvas.heatmaps.axes), timeout=WAIT_MS)
    title_pt = view.canvas.heatmaps.axes[0].title.get_fontsize()
    assert title_pt == pytest.approx(GRID_FONT + 1)
    rows = window.lama.table.verticalHeader().defaultSectionSize()
    window.tabs.setCurrentWidget(window.predictions)
    qtbot.waitUntil(lambda: bool(window.fill_mask.cards and window.fill_mask.cards[0].rows), timeout=WAIT_MS)
    bar = window.fill_mask.cards[0].rows[0].bar.height()
    for _ in range(3):
        window.zoom_by(+1)  # 100 -> 110 -> 125 -> 150%
    assert font_scale() == pytest.approx(1.5)
    assert view.canvas.heatmaps.font_scale == pytest.approx(1.5)
    assert view.canvas.heatmaps.axes[0].title.get_fontsize() == pytest.approx(GRID_FONT * 1.5 + 1)
    assert window.lama.table.verticalHeader().defaultSectionSize() > rows
    assert window.fill_mask.cards[0].rows[0].bar.height() == round(bar * 1.5)
    assert window.finetune.curve.ax.xaxis.label.get_fontsize() == pytest.approx(8 * 1.5)  # the charts too
    assert window.mlm.lens.chart.font_scale == pytest.approx(1.5)


def test_presentation_mode_enters_large_and_plain_and_esc_puts_everything_back(qtbot, window):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from explorer.qt.shell.presentation import ZOOM

    window.demo_banner.show()
    palette = QApplication.palette().color(QApplication.palette().ColorRole.Highlight).name()
    window.menus.actions["presentation"].trigger()
    assert window.presentation.active and window.isFullScreen()
    assert font_scale() == pytest.approx(ZOOM)
    assert not window.menuBar().isVisible() and not window.statusBar().isVisible()
    assert not window.demo_banner.isVisible() and not window.tokens.isVisible() and not window.tabs.tabBar().isVisible()
    assert window.editor.isVisible() and window.tabs.currentWidget().isVisible()
    assert QApplication.palette().color(QApplication.palette().ColorRole.WindowText).name() == "#000000"
    # The keys still work with the menu bar hidden; Esc leaves.
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.presentation.active and not window.isFullScreen()
    assert font_scale() == 1.0
    assert window.menuBar().isVisible() and window.statusBar().isVisible() and window.demo_banner.isVisible()
    assert window.tokens.isVisible() and window.tabs.tabBar().isVisible()
    assert QApplication.palette().color(QApplication.palette().ColorRole.Highlight).name() == palette


def test_the_grid_fills_a_wide_room_and_a_lone_map_sits_in_the_middle():
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from explorer.core.attention_math import grid_shape
    from explorer.plots.heatmaps import Heatmaps

    assert grid_shape(12) == (3, 4)  # no room given: as before
    assert grid_shape(12, 1456 / 560) == (2, 6) and grid_shape(12, 1.0) == (3, 4) and grid_shape(12, 0.4) == (6, 2)
    for heads in range(1, 20):
        for aspect in (0.4, 1.0, 1.8, 3.5):
            rows, cols = grid_shape(heads, aspect)
            assert rows * cols >= heads and rows * cols - heads < cols  # every head, no empty row

    figure = Figure(figsize=(12, 5), dpi=100)
    FigureCanvasAgg(figure)
    maps = Heatmaps(figure)
    maps.show(np.full((1, 6, 6), 1 / 6, dtype=np.float32), list("abcdef"), ["average"], (1, 1), detail=True)
    figure.canvas.draw()
    image, bar = maps.axes[0].get_position(), maps._colorbar.ax.get_position()
    assert (image.x0 + bar.x1) / 2 == pytest.approx(0.5, abs=0.06)  # the map and its bar, centred
    assert bar.x0 > image.x1 and bar.x0 - image.x1 < 0.05  # the bar beside the map, not at the edge


def test_every_control_says_what_it_does(window):
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QTabBar, QToolBar

    def qt_own(control) -> bool:  # parts Qt adds itself: a table's corner, scroll arrows, a clear button
        parent = control.parent()
        return (control.objectName().startswith("qt_") or control.objectName().startswith("Scroll")
                or isinstance(parent, (QAbstractSpinBox, QComboBox, QLineEdit, QTabBar, QToolBar)) and not control.objectName())

    silent = [
        f"{type(c).__name__} {c.objectName() or getattr(c, 'text', lambda: '')()}"
        for kind in (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit)
        for c in window.findChildren(kind)
        if not qt_own(c) and not c.toolTip().strip()
    ]
    assert silent == []


def test_the_readmes_shortcut_table_is_the_one_declared():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for s in SHORTCUTS:
        row = f"| {' or '.join(f'`{k}`' for k in s.keys)} | {s.what} | {s.where} |"
        assert row in readme, row


def test_the_model_menus_device_and_precision_mirror_the_bar(window):
    bar = window.model_bar
    for menu, combo in ((window.menus.devices, bar.device_selector), (window.menus.precisions, bar.dtype_selector)):
        menu.aboutToShow.emit()
        assert [a.text() for a in menu.actions()] == [combo.itemText(i) for i in range(combo.count())]
        assert [a.text() for a in menu.actions() if a.isChecked()] == [combo.currentText()]


def test_zoomed_token_chips_hold_their_text_and_heatmaps_keep_a_height(qtbot, window):
    from PySide6.QtGui import QFontMetrics

    window.editor.setPlainText("The cat sat on the [MASK] .")
    qtbot.waitUntil(lambda: window.tokens.count() > 0, timeout=WAIT_MS)
    canvas = window.attention.canvas
    low = canvas.minimumHeight()
    for _ in range(4):
        window.zoom_by(+1)  # 110, 125, 150, 175%
    metrics = QFontMetrics(QApplication.font(window.tokens))
    for i in range(window.tokens.count()):
        item = window.tokens.item(i)
        assert item.sizeHint().width() >= metrics.horizontalAdvance(item.text())  # not cut to "[M…"
        assert item.sizeHint().height() >= metrics.height()
    assert canvas.minimumHeight() == round(low * 1.75)  # the page scrolls rather than squash the maps


def test_reset_to_defaults_keeps_the_recent_sentences_and_folders(window, bert_dir):
    window.remembered.remember_sentence("A teacher's prepared [MASK].")
    window.remembered.remember_folder(str(bert_dir))
    before = (window.remembered.recent_sentences(), window.remembered.recent_folders())
    assert before[0][0] == "A teacher's prepared [MASK]." and before[1][0] == str(bert_dir)
    window.menus.actions["reset"].trigger()
    assert (window.remembered.recent_sentences(), window.remembered.recent_folders()) == before
    assert window.remembered.session() == {}


def test_ctrl_c_in_the_terminal_quits_as_ctrl_q_does(qtbot, bert_dir):
    import signal

    from explorer.qt.shell.app import quit_on_ctrl_c

    w = open_window(qtbot, str(bert_dir))
    w.editor.setPlainText("Said before Ctrl+C [MASK].")
    previous = signal.getsignal(signal.SIGINT)
    try:
        quit_on_ctrl_c(w)
        signal.raise_signal(signal.SIGINT)
        qtbot.waitUntil(lambda: not w.isVisible(), timeout=WAIT_MS)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert w.controller.thread.wait(2000)
    assert Remembered().session()["sentence"] == "Said before Ctrl+C [MASK]."  # the session was saved
