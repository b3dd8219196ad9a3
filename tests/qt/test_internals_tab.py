"""The Internals tab on the tiny BERT: every step drawn, the green check, the choices."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.core.colours import PALETTE
from explorer.core.internals import STEP_NAMES
from explorer.qt.tabs.internals.tab import CAUSAL, EXTRA_TITLES, InternalsTab, check_text

WAIT_MS = 15000
TEXT = "The cat sat on the mat."


@pytest.fixture
def shown(qtbot, window):
    window.editor.setPlainText(TEXT)
    with qtbot.waitSignal(window.internals.answered, timeout=WAIT_MS, check_params_cb=lambda r: r.text == TEXT):
        window.editor.settle()
        window.tabs.setCurrentWidget(window.internals)
    return window


def test_tab_sits_after_attention(window):
    tabs = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert tabs[tabs.index("Attention") + 1] == "Internals"
    assert window.internals.objectName() == "internalsTab"


def test_every_step_drawn_and_the_green_check(qtbot, shown):
    tab: InternalsTab = shown.internals
    keys = tab.step_keys()
    assert [k for k in keys if k in STEP_NAMES] == list(STEP_NAMES)  # in the computation's order
    assert set(EXTRA_TITLES) <= set(keys)
    for key in keys:
        tab.select_step(key)
        assert tab.current_step() == key and tab.figure.axes, key
    assert "B × H × S × d = 1 × 12 ×" in "\n".join(tab.steps.item(i).text() for i in range(tab.steps.count()))
    assert tab.result.ok and tab.check.text().startswith("✓ Recomputed by hand")
    assert PALETTE.correct in tab.check.styleSheet()


def test_layer_head_and_mask_ask_again(qtbot, shown):
    tab: InternalsTab = shown.internals
    layer, head, mask = tab.findChild(type(tab.layer), "internalsLayer"), tab.findChild(type(tab.head), "internalsHead"), tab.findChild(type(tab.mask), "internalsMask")
    assert layer.maximum() == 1 and head.maximum() == 11
    with qtbot.waitSignal(tab.answered, timeout=WAIT_MS, check_params_cb=lambda r: r.layer == 1):
        layer.setValue(1)
    with qtbot.waitSignal(tab.answered, timeout=WAIT_MS, check_params_cb=lambda r: r.head == 7):
        head.setValue(7)
    with qtbot.waitSignal(tab.answered, timeout=WAIT_MS, check_params_cb=lambda r: r.mask_mode == CAUSAL):
        mask.setCurrentIndex(mask.findData(CAUSAL))
    r = tab.result
    assert r.ok and not np.triu(r.arrays["probs"], 1).any()
    assert tab.note.isVisible() and "not trained" in tab.note.text()
    assert r.max_abs_diff["attentions"] < 1e-4  # the same weights as the model's (and the Attention tab's)


def test_a_mismatch_is_loud_and_an_unsupported_model_says_so(qtbot, shown):
    tab: InternalsTab = shown.internals
    bad = tab.result.__class__(**{**tab.result.__dict__, "max_abs_diff": {"hidden_states": 0.5, "attentions": 0.0}})
    text, style = check_text(bad)
    assert text.startswith("✗ MISMATCH") and PALETTE.error in style
    tab.show_error("Internals are not supported for this model (x): its architecture (AlbertForMaskedLM) ...")
    assert tab.note.isVisible() and "not supported for this model" in tab.note.text() and tab.check.text() == ""
