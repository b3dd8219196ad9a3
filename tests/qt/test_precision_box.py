"""The Precision box: what each choice costs, and a model loaded in a fast precision says so."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from explorer.core.precisions import COST, precisions_for
from explorer.engine import devices

WAIT_MS = 20000


def test_each_offered_precision_says_what_it_costs(window):
    box = window.model_bar.dtype_selector
    offered = [box.itemText(i) for i in range(box.count())]
    assert offered == list(precisions_for("cpu"))
    for i, name in enumerate(offered):
        tip = box.itemData(i, Qt.ItemDataRole.ToolTipRole)
        assert (tip is None) if name == "auto" else (COST[name] in tip)


@pytest.mark.parametrize("precision", ["int8", "bfloat16"])
def test_a_model_loaded_in_a_fast_precision_shows_its_cost(qtbot, window, trained_dir, precision):
    if devices.cpu_lacks(precision):
        pytest.skip(devices.cpu_lacks(precision))
    with qtbot.waitSignal(window.controller.main.loaded, timeout=WAIT_MS):
        window.load_model(str(trained_dir), "cpu", precision)
    assert window.status_dtype.text() == precision
    assert COST[precision] in window.status_dtype.toolTip()
    window.editor.setPlainText("the man wrote a [MASK] in Paris .")
    qtbot.waitUntil(lambda: len(window.fill_mask.visible_candidates()) > 0, timeout=WAIT_MS)


def test_a_fine_tuned_model_opens_in_the_precision_in_use(qtbot, window, trained_dir):
    if devices.cpu_lacks("int8"):
        pytest.skip(devices.cpu_lacks("int8"))
    with qtbot.waitSignal(window.controller.main.loaded, timeout=WAIT_MS):
        window.load_model(str(trained_dir), "cpu", "int8")
    with qtbot.waitSignal(window.controller.main.loaded, timeout=WAIT_MS) as loaded:
        window.finetune.useModel.emit(str(trained_dir))  # "Use this model" after training
    assert loaded.args[0].dtype == "int8" and window.status_dtype.text() == "int8"
