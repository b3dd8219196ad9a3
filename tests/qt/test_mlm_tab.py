"""The MLM lab tab on a tiny real model, as a person would use it."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QLabel, QPlainTextEdit, QPushButton, QSpinBox, QTableWidget

from explorer.engine.layer_lens import layer_lens
from explorer.engine.masking import mask_demo
from explorer.core.mlm_params import LAB_PASSAGE
from explorer.qt.tabs.mlm.tab import RIGHT_COLOR, TREATMENT_COLORS, WRONG_COLOR, MlmTab

WAIT_MS = 15000


def wait_for_result(qtbot, tab: MlmTab, check) -> None:
    """Until the tab shows a result that passes `check`, and the lens of its selected token.

    State, not signals: a reload of the model (which the window may start on its own) or a
    stale answer must not make the test read the tab halfway.
    """
    qtbot.waitUntil(
        lambda: tab.result is not None and check(tab.result) and lens_matches(tab, tab.selected), timeout=WAIT_MS
    )


@pytest.fixture
def tab(qtbot, window) -> MlmTab:
    """The MLM tab open, with its first masks and the lens of the first masked position."""
    tab = window.findChild(MlmTab, "mlmTab")
    window.tabs.setCurrentWidget(tab)
    wait_for_result(qtbot, tab, lambda r: True)
    assert tab.selected == tab.result.masked[0].index  # the first masked token's lens, unasked
    return tab


def lens_matches(tab: MlmTab, position: int | None) -> bool:
    lens, result = tab.lens.result, tab.result
    return (
        None not in (lens, result, position) and lens.position == position and lens.input_ids == result.input_ids
    )


def expected_rows(result) -> list[tuple[str, ...]]:
    return [
        (str(m.index), m.original, m.input, m.predicted, f"{m.p_true:.4f}", f"{m.loss:.3f}")
        for m in result.masked
    ]


def test_named_widgets_and_the_lab_passage(window):
    tab = window.findChild(MlmTab, "mlmTab")
    assert window.tabs.tabText(window.tabs.indexOf(tab)) == "MLM lab"
    assert window.findChild(QPlainTextEdit, "mlmPassage").toPlainText() == LAB_PASSAGE
    assert window.findChild(QDoubleSpinBox, "mlmRate").value() == pytest.approx(0.15)
    assert window.findChild(QCheckBox, "mlmBertRule").isChecked()
    assert isinstance(window.findChild(QSpinBox, "mlmSeed"), QSpinBox)
    assert window.findChild(QPushButton, "remaskButton").text() == "Mask again"
    named = [("mlmLoss", QLabel), ("mlmAccuracy", QLabel), ("mlmTable", QTableWidget), ("mlmLensTable", QTableWidget)]
    for name, kind in named:
        assert isinstance(window.findChild(kind, name), kind), name
    for name in ("mlmMaskedView", "mlmReconstruction", "mlmLens", "mlmLensChart"):
        assert window.findChild(object, name) is not None, name
    # Nothing is computed for a tab nobody has opened.
    assert tab.result is None


def test_shows_what_the_engine_computes(tab, bert):
    ref = mask_demo(bert, LAB_PASSAGE, rate=0.15, seed=0, bert_rule=True)
    r = tab.result
    assert r.masked_positions == ref.masked_positions and r.input_ids == ref.input_ids
    assert r.loss == pytest.approx(ref.loss, abs=1e-5)
    assert tab.loss.text() == f"Loss {ref.loss:.4f}"
    right = sum(m.correct for m in ref.masked)
    assert tab.accuracy.text() == f"Accuracy {right}/{len(ref.masked)} = {ref.accuracy:.0%}"
    assert tab.table_rows() == expected_rows(ref)
    # Masked tokens coloured by what the model was shown; predictions by right or wrong.
    assert tab.masked_view.colored() == {m.index: TREATMENT_COLORS[m.treatment] for m in ref.masked}
    assert tab.reconstruction.colored() == {m.index: RIGHT_COLOR if m.correct else WRONG_COLOR for m in ref.masked}
    assert "reads at most" in tab.message.text()  # the tiny model reads 64 tokens of the passage


def test_remask_changes_the_masks_and_updates_loss_and_table(qtbot, tab):
    before, rows_before, loss_before = tab.result, tab.table_rows(), tab.loss.text()
    button = tab.findChild(QPushButton, "remaskButton")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    wait_for_result(qtbot, tab, lambda r: r.seed == before.seed + 1)
    after = tab.result
    assert tab.seed.value() == after.seed
    assert after.masked_positions != before.masked_positions
    assert tab.loss.text() == f"Loss {after.loss:.4f}" != loss_before
    assert tab.table_rows() == expected_rows(after) != rows_before
    assert set(tab.masked_view.colored()) == set(after.masked_positions)
    # Back to the first seed: the first masks again.
    tab.seed.setValue(before.seed)
    wait_for_result(qtbot, tab, lambda r: r.seed == before.seed)
    assert tab.result.masked_positions == before.masked_positions and tab.table_rows() == rows_before
    assert tab.loss.text() == loss_before


def test_clicking_a_token_shows_its_layer_lens(qtbot, tab, bert):
    r = tab.result
    position = next(i for i in range(len(r.tokens)) if not r.special[i] and i not in r.masked_positions)
    view = tab.masked_view
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.token_rect(position).center())
    qtbot.waitUntil(lambda: lens_matches(tab, position), timeout=WAIT_MS)
    lens = tab.lens.result
    assert tab.selected == position and view.selected == position
    ref = layer_lens(bert, r.input_ids, position)
    assert lens.top_ids.tolist() == ref.top_ids.tolist()
    # The chart: p(final prediction) at the embeddings and after each layer.
    np.testing.assert_allclose(tab.lens.chart.final_line.get_ydata(), ref.final_probs, atol=1e-6)
    assert len(tab.lens.chart.final_line.get_xdata()) == bert.num_layers + 1
    # The table: the top 5 of every readout.
    assert tab.lens.top_tokens_shown() == [list(t) for t in ref.top_tokens]
    assert not tab.table.selectionModel().selectedRows()  # an unmasked token has no row


def test_clicking_a_special_token_asks_nothing(qtbot, tab):
    selected = tab.selected
    view = tab.masked_view
    assert view.token_at(view.token_rect(0).center()) == 0  # the click lands on [CLS]
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.token_rect(0).center())
    assert tab.selected == selected


def test_clicking_a_table_row_shows_its_lens_with_the_true_token(qtbot, tab):
    m = tab.result.masked[2]
    table = tab.table
    cell = table.visualItemRect(table.item(2, 1)).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=cell)
    qtbot.waitUntil(lambda: lens_matches(tab, m.index), timeout=WAIT_MS)
    lens = tab.lens.result
    assert lens.true_token == m.original and lens.final_id == m.predicted_id
    assert lens.true_probs[-1] == pytest.approx(m.p_true, abs=1e-5)
    assert tab.masked_view.selected == m.index


def test_without_80_10_10_every_chosen_token_is_masked(qtbot, tab):
    tab.bert_rule.setChecked(False)
    wait_for_result(qtbot, tab, lambda r: not r.bert_rule)
    assert {row[2] for row in tab.table_rows()} == {"[MASK]"}


def test_a_new_passage_and_rate(qtbot, tab):
    tab.passage.setPlainText("The cat sat on the mat .")
    tab.rate.setValue(1.0)
    wait_for_result(qtbot, tab, lambda r: r.text == "The cat sat on the mat ." and r.rate == 1.0)
    assert [row[1] for row in tab.table_rows()] == ["The", "cat", "sat", "on", "the", "mat", "."]


def test_an_empty_passage_explains_itself(qtbot, tab):
    tab.passage.clear()
    qtbot.waitUntil(lambda: "empty" in tab.message.text(), timeout=WAIT_MS)



def test_loading_a_model_again_recomputes_and_keeps_the_token_in_view(qtbot, window, tab, bert_dir):
    m = tab.result.masked[1]
    tab.select_position(m.index)
    qtbot.waitUntil(lambda: lens_matches(tab, m.index), timeout=WAIT_MS)
    before = tab.result
    with qtbot.waitSignal(window.controller.main.loaded, timeout=WAIT_MS):
        window.load_model(str(bert_dir))
    wait_for_result(qtbot, tab, lambda r: r is not before)
    assert tab.result.masked_positions == before.masked_positions
    assert tab.selected == m.index and tab.lens.result.true_token == m.original
