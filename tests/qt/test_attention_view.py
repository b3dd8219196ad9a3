"""The attention tab on a tiny real model, and on a synthetic 512-token result."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from matplotlib.backend_bases import MouseEvent
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QPushButton

from explorer.core.attention_math import head_average, rollout
from explorer.core.results import AttentionResult
from explorer.qt.tabs.attention.view import AVERAGE, ROLLOUT, AttentionView

WAIT_MS = 15000
TEXT = "Nice to [MASK] you."


@pytest.fixture
def shown(qtbot, window):
    """The window with the attention tab open on TEXT."""
    window.editor.setPlainText(TEXT)
    with qtbot.waitSignal(window.attention.answered, timeout=WAIT_MS, check_params_cb=lambda r: r.text == TEXT):
        window.editor.settle()
        window.tabs.setCurrentWidget(window.attention)
    return window


def pixel(ax, col: float, row: float) -> tuple[float, float]:
    return tuple(ax.transData.transform((col, row)))


def test_computes_only_while_the_tab_is_visible(qtbot, window):
    asked: list[str] = []
    window.attention.requestAttention.connect(asked.append)
    window.editor.setPlainText("The cat sat.")
    with qtbot.waitSignal(window.predictions.answered, timeout=WAIT_MS):
        window.editor.settle()
    assert asked == [] and window.attention.result is None
    with qtbot.waitSignal(window.attention.answered, timeout=WAIT_MS):
        window.tabs.setCurrentWidget(window.attention)
    assert asked == ["The cat sat."]


def test_grid_has_one_image_per_head_and_follows_the_layer(qtbot, shown):
    view = shown.attention
    result = view.result
    canvas = view.canvas
    assert len(canvas.heatmaps.images) == result.num_heads == 12
    assert sum(ax.get_visible() for ax in canvas.figure.axes) == 12
    for h, image in enumerate(canvas.heatmaps.images):
        np.testing.assert_allclose(image.get_array(), result.weights[0, h])
    draws = canvas.full_draws
    view.layer.setValue(1)
    for h, image in enumerate(canvas.heatmaps.images):
        np.testing.assert_allclose(image.get_array(), result.weights[1, h])
    assert canvas.full_draws == draws  # a layer change swaps image data; the labels stay


def test_page_keys_step_layers(qtbot, shown):
    view = shown.attention
    view.canvas.setFocus()
    qtbot.keyClick(view.canvas, Qt.Key.Key_PageDown)
    assert view.layer.value() == 1
    qtbot.keyClick(view.layer, Qt.Key.Key_PageUp)
    assert view.layer.value() == 0


def test_the_grid_follows_the_editor(qtbot, shown):
    with qtbot.waitSignal(shown.attention.answered, timeout=WAIT_MS):
        shown.editor.setPlainText("The cat sat on the mat.")
        shown.editor.settle()
    assert shown.attention.canvas.heatmaps.tokens[1:4] == ("The", "cat", "sat")


def test_hover_reads_a_weight(qtbot, shown):
    view = shown.attention
    ax = view.canvas.heatmaps.axes[5]
    x, y = pixel(ax, 3, 1)  # row 1 ("Nice") attends to column 3 ("[MASK]")
    MouseEvent("motion_notify_event", view.canvas, x, y)._process()
    weight = view.result.weights[0, 5, 1, 3]
    assert view.hover.text() == f"Nice → [MASK]: {weight:.3f}"


def test_clicking_a_head_opens_it_large_with_every_token(qtbot, shown):
    view = shown.attention
    view.layer.setValue(1)
    ax = view.canvas.heatmaps.axes[7]
    x, y = pixel(ax, 2, 2)
    MouseEvent("button_press_event", view.canvas, x, y, button=1)._process()
    detail = shown.findChild(type(view.detail), "headDetail")
    assert detail is not None and detail.isVisible()
    image = detail.canvas.heatmaps.images[0]
    np.testing.assert_allclose(image.get_array(), view.result.weights[1, 7])
    big = detail.canvas.heatmaps.axes[0]
    tokens = list(view.result.tokens)
    assert [t.get_text() for t in big.get_yticklabels()] == tokens
    assert [t.get_text() for t in big.get_xticklabels()] == tokens
    assert "layer 1, head 7" in detail.windowTitle()


def test_average_rollout_and_hiding_special_tokens(qtbot, shown):
    view = shown.attention
    r = view.result
    view.mode.setCurrentText(AVERAGE)
    assert len(view.canvas.heatmaps.images) == 1
    np.testing.assert_allclose(view.canvas.heatmaps.images[0].get_array(), head_average(r.weights)[0], atol=1e-6)
    view.mode.setCurrentText(ROLLOUT)
    view.layer.setValue(1)
    np.testing.assert_allclose(view.canvas.heatmaps.images[0].get_array(), rollout(r.weights)[1], atol=1e-6)
    view.hide_special.setChecked(True)
    shown_map = np.asarray(view.canvas.heatmaps.images[0].get_array())
    assert shown_map.shape == (len(r.tokens) - 2,) * 2
    np.testing.assert_allclose(shown_map.sum(-1), 1.0, atol=1e-5)
    assert "[CLS]" not in view.canvas.heatmaps.tokens and "[MASK]" in view.canvas.heatmaps.tokens


def test_export_png_and_svg_that_open(qtbot, shown, tmp_path):
    view = shown.attention
    for name in ("grid.png", "grid.svg"):
        view.export_grid(str(tmp_path / name))
    png = QImage(str(tmp_path / "grid.png"))
    assert not png.isNull() and png.width() > 100
    root = ET.parse(tmp_path / "grid.svg").getroot()
    assert root.tag.endswith("svg") and len(list(root.iter())) > 100
    view.open_detail(0)
    view.detail.export(str(tmp_path / "head.png"))
    view.detail.export(str(tmp_path / "head.svg"))
    assert not QImage(str(tmp_path / "head.png")).isNull()
    assert ET.parse(tmp_path / "head.svg").getroot().tag.endswith("svg")


def synthetic_result(t: int, heads: int = 12, layers: int = 2) -> AttentionResult:
    rng = np.random.default_rng(0)
    w = rng.random((layers, heads, t, t), dtype=np.float32)
    w /= w.sum(-1, keepdims=True)
    tokens = ("[CLS]",) + tuple(f"w{i}" for i in range(t - 2)) + ("[SEP]",)
    special = (True,) + (False,) * (t - 2) + (True,)
    return AttentionResult("synthetic", "x", tokens, special, w, head_average(w), rollout(w))


def test_512_tokens_draw_without_unreadable_labels(qtbot):
    view = AttentionView()
    qtbot.addWidget(view)
    view.resize(1100, 800)
    view.show()
    result = synthetic_result(512)
    view.set_result(result)
    assert len(view.canvas.heatmaps.images) == 12
    assert np.asarray(view.canvas.heatmaps.images[0].get_array()).shape == (512, 512)
    assert all(len(ax.get_xticklabels()) == 0 for ax in view.canvas.heatmaps.axes)
    view.open_detail(0)
    labels = [t.get_text() for t in view.detail.canvas.heatmaps.axes[0].get_yticklabels()]
    assert 10 < len(labels) < 120 and labels[0] == "[CLS]"  # thinned to what can be read
    view.detail.close()


def test_sixteen_heads_make_a_four_by_four_grid(qtbot):
    view = AttentionView()
    qtbot.addWidget(view)
    view.show()
    view.set_result(synthetic_result(10, heads=16))
    axes = view.canvas.heatmaps.axes
    assert len(axes) == 16
    rows = {round(ax.get_position().y0, 3) for ax in axes}
    cols = {round(ax.get_position().x0, 3) for ax in axes}
    assert len(rows) == 4 and len(cols) == 4


def test_page_keys_step_the_layer_whatever_has_focus_on_this_tab(qtbot, shown):
    view = shown.attention
    shown.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is shown, timeout=WAIT_MS)
    top_k = shown.top_k.value()
    # The top-k box, the sentence editor (two lines: Ctrl+Home/End move in it) and a check box.
    for widget in (shown.top_k, shown.editor, view.hide_special):
        widget.setFocus()
        qtbot.waitUntil(widget.hasFocus, timeout=WAIT_MS)
        qtbot.keyClick(widget, Qt.Key.Key_PageDown)
        assert view.layer.value() == 1, widget.objectName()
        qtbot.keyClick(widget, Qt.Key.Key_PageUp)
        assert view.layer.value() == 0, widget.objectName()
    assert shown.top_k.value() == top_k  # never another spin box
    # On another tab the keys are the focused widget's own.
    shown.tabs.setCurrentWidget(shown.predictions)
    shown.top_k.setFocus()
    qtbot.keyClick(shown.top_k, Qt.Key.Key_PageUp)
    assert view.layer.value() == 0 and shown.top_k.value() == min(top_k + 10, shown.top_k.maximum())


def test_exports_default_to_documents_with_a_name_that_says_the_view(qtbot, shown, save_dialog):
    documents, offered = save_dialog
    view = shown.attention
    view.layer.setValue(1)
    view.export_button.click()
    view.mode.setCurrentText(ROLLOUT)
    view.export_button.click()
    view.mode.setCurrentText(AVERAGE)
    view.export_button.click()
    view.mode.setCurrentText("Heads")
    view.open_detail(5)
    view.detail.findChild(QPushButton, "exportHeadButton").click()
    view.detail.close()
    assert offered == [str(documents / name) for name in
                       ("heads_layer1.png", "rollout_layer1.png", "average_layer1.png", "head_layer1_head5.png")]


def test_exports_default_to_home_without_a_documents_folder(qtbot, shown, save_dialog):
    documents, offered = save_dialog
    documents.rmdir()
    shown.attention.export_button.click()
    assert offered == [str(documents.parent / "heads_layer0.png")]
