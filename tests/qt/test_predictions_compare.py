"""Compare mode in the Predictions tab and the compare selector: two models, one sentence."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QComboBox

from explorer.core.colours import PALETTE
from explorer.engine import models
from explorer.engine.fill_mask import fill_mask

WAIT_MS = 30000
TEXT = "The cat sat on the [MASK] ."


def words(result, n=0):
    return {(c.text, c.continues_word) for c in result.masks[n].candidates}


@pytest.fixture
def compared(qtbot, window, model_dirs):
    """The window on tiny BERT, compared with tiny RoBERTa (another architecture and vocabulary)."""
    with qtbot.waitSignal(window.controller.compare.loaded, timeout=WAIT_MS):
        window.compare_with(str(model_dirs["roberta"]))
    yield window
    window.compare_with("")


def ask(qtbot, w, text=TEXT):
    other = w.predictions.other
    w.editor.setPlainText(text)
    qtbot.waitUntil(
        lambda: w.fill_mask.result is not None and w.fill_mask.result.text == text
        and other.result is not None and other.result.text == text,
        timeout=WAIT_MS,
    )


def test_the_selector_offers_none_the_presets_the_demo_and_a_folder(window):
    box = window.findChild(QComboBox, "compareModelSelector")
    items = [box.itemText(i) for i in range(box.count())]
    assert items[0] == "none" and "demo" in items and "bert-base-uncased" in items and items[-1] == "Open folder…"
    assert box.currentText() == "none"
    assert not window.predictions.boxes[1].isVisible() and not window.predictions.agreement.isVisible()


def test_both_models_answer_side_by_side_as_each_would_alone(qtbot, compared, model_dirs, bert):
    w = compared
    # The box shows the folder's name; the whole path is what it stands for, and its tooltip.
    box = w.model_bar.compare_selector
    assert box.currentText() == model_dirs["roberta"].name
    assert box.itemData(box.currentIndex()) == str(model_dirs["roberta"]) and str(model_dirs["roberta"]) in box.toolTip()
    assert w.predictions.boxes[1].isVisible() and w.predictions.agreement.isVisible()
    ask(qtbot, w)
    roberta = models.load(str(model_dirs["roberta"]))
    k = w.top_k.value()
    # Each side shows exactly what that model gives on its own (the engine, run here directly).
    mine, theirs = fill_mask(bert, TEXT, k), fill_mask(roberta, TEXT, k)
    assert [c.token for c in w.fill_mask.result.masks[0].candidates] == [c.token for c in mine.masks[0].candidates]
    assert [c.token for c in w.predictions.other.result.masks[0].candidates] == [c.token for c in theirs.masks[0].candidates]
    # Shared guesses are marked on both sides: exactly the words both top-k lists hold.
    shared = words(mine) & words(theirs)
    marked_main = {(r.candidate.text, r.candidate.continues_word) for r in w.fill_mask.cards[0].rows if r.shared and not r.isHidden()}
    marked_other = {(r.candidate.text, r.candidate.continues_word) for r in w.predictions.other.cards[0].rows if r.shared and not r.isHidden()}
    assert marked_main == marked_other == shared
    same = mine.masks[0].candidates[0].text == theirs.masks[0].candidates[0].text
    overlap = len(shared) / max(len(words(mine)), len(words(theirs)))
    line = w.predictions.agreement.text()
    assert ("same top-1" if same else "different top-1") in line and f"{overlap:.0%}" in line


def test_a_model_compared_with_itself_agrees_everywhere(qtbot, window, bert_dir):
    with qtbot.waitSignal(window.controller.compare.loaded, timeout=WAIT_MS):
        window.compare_with(str(bert_dir))
    try:
        ask(qtbot, window)
        assert "same top-1" in window.predictions.agreement.text() and "100%" in window.predictions.agreement.text()
        assert window.fill_mask.shared_candidates() == window.fill_mask.visible_candidates()
    finally:
        window.compare_with("")


def test_choosing_none_closes_the_compared_model(qtbot, compared):
    w = compared
    ask(qtbot, w)
    with qtbot.waitSignal(w.controller.compare.closed, timeout=WAIT_MS):
        w.compare_with("")
    assert not w.controller.compare.has_model
    assert not w.predictions.boxes[1].isVisible() and not w.predictions.agreement.isVisible()
    assert w.fill_mask.shared_candidates() == [[]]
    assert w.model_bar.compare_selector.currentText() == "none"
    # The main model still answers.
    w.editor.setPlainText("A [MASK] here .")
    qtbot.waitUntil(lambda: w.fill_mask.result is not None and w.fill_mask.result.text == "A [MASK] here .", timeout=WAIT_MS)


def test_a_compare_model_that_cannot_load_is_said_and_the_main_one_stays(qtbot, window, tmp_path):
    main = window.controller.main.info
    with qtbot.waitSignal(window.controller.compare.failed, timeout=WAIT_MS):
        window.compare_with(str(tmp_path / "no such model"))
    assert window.banner.isVisible() and "compare" in window.banner.label.text()
    assert window.controller.main.info == main and not window.controller.compare.has_model
    assert window.model_bar.compare_selector.currentText() == "none"


def test_a_failed_compare_load_leaves_the_tab_where_the_person_is(qtbot, window, tmp_path):
    window.tabs.setCurrentWidget(window.attention_tab)
    with qtbot.waitSignal(window.controller.compare.failed, timeout=WAIT_MS):
        window.compare_with(str(tmp_path / "no such model"))
    assert window.tabs.currentWidget() is window.attention_tab


def test_a_folder_picked_again_from_the_box_opens_the_whole_path(qtbot, window, model_dirs):
    bar, folder = window.model_bar, str(model_dirs["roberta"])
    with qtbot.waitSignal(window.controller.compare.loaded, timeout=WAIT_MS):
        window.compare_with(folder)
    with qtbot.waitSignal(window.controller.compare.closed, timeout=WAIT_MS):
        bar.compare_selector.activated.emit(0)  # "none"
    index = bar.compare_selector.findText(model_dirs["roberta"].name)
    with qtbot.waitSignal(bar.compareRequested, timeout=WAIT_MS) as asked:
        bar.compare_selector.activated.emit(index)
    assert asked.args == [folder]
    qtbot.waitUntil(lambda: window.controller.compare.has_model, timeout=WAIT_MS)
    window.compare_with("")
    qtbot.waitUntil(lambda: not window.controller.compare.has_model, timeout=WAIT_MS)


def test_a_model_that_would_not_fit_is_refused_before_loading(qtbot, window, model_dirs, monkeypatch):
    from explorer.engine import memory

    monkeypatch.setattr(memory, "free_bytes", lambda _device: 1000)  # a machine almost out of memory
    with qtbot.waitSignal(window.controller.compare.failed, timeout=WAIT_MS) as failed:
        window.compare_with(str(model_dirs["roberta"]))
    assert "needs about" in failed.args[0] and "free" in failed.args[0]
    assert not window.controller.compare.has_model and window.controller.main.has_model


def test_loading_a_new_main_model_keeps_the_compared_one(qtbot, compared, model_dirs):
    w = compared
    with qtbot.waitSignal(w.controller.main.loaded, timeout=WAIT_MS):
        w.load_model(str(model_dirs["distilbert"]))
    assert w.controller.compare.has_model
    ask(qtbot, w)
    assert w.predictions.boxes[0].title() == f"A: {model_dirs['distilbert'].name}"
    assert w.predictions.boxes[1].title() == f"B: {model_dirs['roberta'].name}"
    assert w.predictions.boxes[1].toolTip() == w.controller.compare.info.name
    # Each side's bars in its own colour, and the platform's bars again once alone.
    assert PALETTE.compare_a in w.fill_mask.styleSheet() and PALETTE.compare_b in w.predictions.other.styleSheet()
    with qtbot.waitSignal(w.controller.compare.closed, timeout=WAIT_MS):
        w.compare_with("")
    assert w.fill_mask.styleSheet() == "" and w.predictions.boxes[0].title() == ""
