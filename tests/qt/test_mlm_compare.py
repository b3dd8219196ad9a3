"""Compare mode in the MLM lab: both models' reconstruction and loss on the same masking.

The reference is the engine run directly on each model with the same text, rate, seed and
rule (explorer.engine.masking.mask_demo), not what the tab showed last time.
"""

from __future__ import annotations

import dataclasses
import shutil

import pytest
from PySide6.QtWidgets import QLabel, QWidget

from explorer.core.mlm_compare import (
    DIFFERENT_TOKENIZERS,
    SAME_MASKING,
    SAME_PIECES_OTHER_SWAPS,
    masking_note,
)
from explorer.core.model_names import short_name
from explorer.core.mlm_params import LAB_PASSAGE
from explorer.engine import models
from explorer.engine.masking import mask_demo
from explorer.qt.tabs.mlm.tab import RIGHT_COLOR, WRONG_COLOR, MlmTab
from explorer.qt.tabs.mlm.token_passage import TokenPassage

WAIT_MS = 30000


@pytest.fixture(scope="module")
def bert_copy_dir(model_dirs, tmp_path_factory):
    """The tiny BERT again, from another folder: another model, the same tokenizer."""
    folder = tmp_path_factory.mktemp("copy") / "bert-copy"
    shutil.copytree(model_dirs["bert"], folder)
    return folder


def compare_in_mlm(qtbot, window, folder) -> MlmTab:
    with qtbot.waitSignal(window.controller.compare.loaded, timeout=WAIT_MS):
        window.compare_with(str(folder))
    tab = window.findChild(MlmTab, "mlmTab")
    window.tabs.setCurrentWidget(tab)
    return tab


def wait_for_both(qtbot, tab: MlmTab, seed: int) -> None:
    def both() -> bool:
        a, b = tab.result, tab.compare_result
        return a is not None and b is not None and a.seed == b.seed == seed and a.text == b.text == LAB_PASSAGE

    qtbot.waitUntil(both, timeout=WAIT_MS)


def test_no_compare_pane_without_a_compared_model(qtbot, window):
    tab = window.findChild(MlmTab, "mlmTab")
    window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.result is not None, timeout=WAIT_MS)
    assert not window.findChild(QWidget, "mlmComparePane").isVisible()
    assert tab.compare_result is None


def test_same_tokenizer_same_masks_each_loss_as_the_engine_gives_it(qtbot, window, bert, bert_copy_dir):
    tab = compare_in_mlm(qtbot, window, bert_copy_dir)
    try:
        pane = window.findChild(QWidget, "mlmComparePane")
        assert pane.isVisible()
        other = models.load(str(bert_copy_dir))
        for seed in (0, 7):  # the first draw, then new masks on both sides
            tab.seed.setValue(seed)
            wait_for_both(qtbot, tab, seed)
            mine = mask_demo(bert, LAB_PASSAGE, rate=0.15, seed=seed, bert_rule=True)
            theirs = mask_demo(other, LAB_PASSAGE, rate=0.15, seed=seed, bert_rule=True)
            a, b = tab.result, tab.compare_result
            # Same ids, so the seed masks the same positions, and shows the model the same input.
            assert a.ids == b.ids
            assert a.masked_positions == b.masked_positions == theirs.masked_positions
            assert a.input_ids == b.input_ids == theirs.input_ids
            assert b.loss == pytest.approx(theirs.loss, abs=1e-5)
            assert b.accuracy == pytest.approx(theirs.accuracy)
            summary = window.findChild(QLabel, "mlmCompareSummary").text()
            assert f"loss {mine.loss:.4f} (bert) vs {theirs.loss:.4f} (bert-copy)" in summary
            assert f"accuracy {mine.accuracy:.0%} vs {theirs.accuracy:.0%}" in summary
            assert SAME_MASKING in summary and DIFFERENT_TOKENIZERS not in summary
            view = window.findChild(TokenPassage, "compareReconstruction")
            assert view.colored() == {m.index: RIGHT_COLOR if m.correct else WRONG_COLOR for m in theirs.masked}
    finally:
        window.compare_with("")


def test_other_tokenizer_its_own_masks_and_the_note_then_closing_hides_the_pane(qtbot, window, bert, model_dirs):
    tab = compare_in_mlm(qtbot, window, model_dirs["roberta"])
    pane = window.findChild(QWidget, "mlmComparePane")
    try:
        assert pane.isVisible() and "roberta" in tab.compare_title.text()
        tab.bert_rule.setChecked(False)  # every chosen token becomes the mask token
        qtbot.waitUntil(
            lambda: tab.result is not None and tab.compare_result is not None
            and tab.result.bert_rule is False and tab.compare_result.bert_rule is False,
            timeout=WAIT_MS,
        )
        roberta = models.load(str(model_dirs["roberta"]))
        mine = mask_demo(bert, LAB_PASSAGE, rate=0.15, seed=0, bert_rule=False)
        theirs = mask_demo(roberta, LAB_PASSAGE, rate=0.15, seed=0, bert_rule=False)
        b = tab.compare_result
        assert b.tokens == theirs.tokens != tab.result.tokens  # its own pieces
        assert b.masked_positions == theirs.masked_positions and b.input_ids == theirs.input_ids
        assert b.loss == pytest.approx(theirs.loss, abs=1e-5)
        summary = tab.compare_summary.text()
        assert f"loss {mine.loss:.4f} (bert) vs {theirs.loss:.4f} (roberta)" in summary
        assert DIFFERENT_TOKENIZERS in summary
        with qtbot.waitSignal(window.controller.compare.closed, timeout=WAIT_MS):
            window.compare_with("")
        assert not pane.isVisible() and tab.compare_result is None and tab.compare_summary.text() == ""
        # The main model still answers, and nothing is asked of a closed slot.
        tab.seed.setValue(3)
        qtbot.waitUntil(lambda: tab.result is not None and tab.result.seed == 3, timeout=WAIT_MS)
        assert not pane.isVisible() and tab.compare_result is None
    finally:
        window.compare_with("")


def test_the_note_says_when_the_losses_are_over_the_same_masked_tokens(bert, roberta):
    a = mask_demo(bert, LAB_PASSAGE, rate=0.5, seed=1, bert_rule=True)
    assert masking_note(a, a) == SAME_MASKING
    # Same pieces, but a random replacement from another vocabulary: positions agree, inputs do not.
    swapped = list(a.input_ids)
    swapped[a.masked_positions[0]] = (swapped[a.masked_positions[0]] + 1) % 50
    assert masking_note(a, dataclasses.replace(a, input_ids=tuple(swapped))) == SAME_PIECES_OTHER_SWAPS
    assert masking_note(a, mask_demo(roberta, LAB_PASSAGE, rate=0.5, seed=1, bert_rule=True)) == DIFFERENT_TOKENIZERS


def test_short_names():
    assert short_name("/tmp/models/bert-copy") == "bert-copy"
    assert short_name("C:\\models\\roberta\\") == "roberta"
    assert short_name("google/bert_uncased_L-2_H-128_A-2") == "google/bert_uncased_L-2_H-128_A-2"  # its owner names it too
    assert short_name("./models/x") == "x" and short_name("~/m/y/") == "y"
    long = "/m/bert-fine-tuned-on-the-kitchen-sentences-of-my-class-december"
    cut = short_name(long)
    assert len(cut) == 40 and cut.startswith("bert-fine-tuned") and cut.endswith("class-december") and "…" in cut
    assert short_name("bert-base-uncased") == "bert-base-uncased"
