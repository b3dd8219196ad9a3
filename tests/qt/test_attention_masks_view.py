"""The Attention tab's mask switch (lab 000): causal re-asks the attention and the Predictions
tab's guesses, with a note that BERT was not trained so; padding shows a padded batch of two
sentences, its pad columns at 0; back to bidirectional restores."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit

from explorer.engine.attention import attention, padded_attention
from explorer.engine.fill_mask import fill_mask

WAIT_MS = 30000
TEXT = "The [MASK] sat on the mat with a cat and a dog."


def ids(result):
    return [c.token_id for c in result.masks[0].candidates]


@pytest.fixture
def shown(qtbot, window):
    """The window on TEXT, its guesses in and the Attention tab open on it."""
    window.editor.setPlainText(TEXT)
    with qtbot.waitSignal(window.predictions.answered, timeout=WAIT_MS, check_params_cb=lambda r: r.text == TEXT):
        window.editor.settle()
    with qtbot.waitSignal(window.attention.answered, timeout=WAIT_MS, check_params_cb=lambda r: r.text == TEXT):
        window.tabs.setCurrentWidget(window.attention_tab)
    return window


def select(qtbot, w, label: str, mask: str, *, predictions: bool = True):
    """Pick `label` in the mask selector; wait for the attention (and the guesses) under `mask`."""
    box = w.findChild(QComboBox, "attentionMaskSelector")
    signals = [w.attention.answered] + ([w.predictions.answered] if predictions else [])
    with qtbot.waitSignals(signals, timeout=WAIT_MS, check_params_cbs=[lambda r: r.mask == mask] * len(signals)):
        box.setCurrentIndex(box.findText(label))


def test_the_selector_offers_the_three_masks(shown):
    box = shown.findChild(QComboBox, "attentionMaskSelector")
    assert [box.itemText(i) for i in range(box.count())] == [
        "bidirectional (as trained)", "causal", "padding (two sentences)"]
    assert box.currentIndex() == 0 and shown.attention.result.mask == "bidirectional"
    assert shown.findChild(QLabel, "attentionMaskNote").isHidden()
    assert shown.findChild(QLabel, "predictionsMaskNote").isHidden()


def test_causal_reasks_both_tabs_with_a_note_and_bidirectional_restores(qtbot, shown, bert):
    w = shown
    before_attention, before_guesses = w.attention.result, w.fill_mask.result
    select(qtbot, w, "causal", "causal")
    r = w.attention.result
    t = len(r.tokens)
    np.testing.assert_array_equal(r.weights, attention(bert, TEXT, mask="causal").weights)
    assert (r.weights[:, :, np.triu(np.ones((t, t), dtype=bool), 1)] == 0).all()
    for h, image in enumerate(w.attention.canvas.heatmaps.images):  # what is drawn is the causal map
        np.testing.assert_allclose(image.get_array(), r.weights[0, h])
    for name in ("attentionMaskNote", "predictionsMaskNote"):
        note = w.findChild(QLabel, name)
        assert not note.isHidden() and "trained" in note.text()
    assert "causal" in w.attention.caption.text()
    guesses = w.fill_mask.result
    assert guesses.mask == "causal" and ids(guesses) == ids(fill_mask(bert, TEXT, w.top_k.value(), mask="causal"))
    assert ids(guesses) != ids(before_guesses)

    select(qtbot, w, "bidirectional (as trained)", "bidirectional")
    np.testing.assert_array_equal(w.attention.result.weights, before_attention.weights)
    assert ids(w.fill_mask.result) == ids(before_guesses)
    assert w.findChild(QLabel, "attentionMaskNote").isHidden()
    assert w.findChild(QLabel, "predictionsMaskNote").isHidden()


def test_causal_follows_the_editor_sentence(qtbot, shown, bert):
    w = shown
    select(qtbot, w, "causal", "causal")
    other = "A [MASK] ran into the big red house."
    w.editor.setPlainText(other)
    with qtbot.waitSignals([w.attention.answered, w.predictions.answered], timeout=WAIT_MS,
                           check_params_cbs=[lambda r: r.text == other and r.mask == "causal"] * 2):
        w.editor.settle()


def test_padding_shows_the_padded_sentence_with_zero_pad_columns(qtbot, shown, bert):
    w = shown
    line = w.findChild(QLineEdit, "attentionPaddingSentence")
    assert line.isHidden()
    guesses = w.fill_mask.result
    select(qtbot, w, "padding (two sentences)", "padding", predictions=False)
    assert not line.isHidden() and line.text() and len(line.text()) < len(TEXT)
    r = w.attention.result
    _long, short = padded_attention(bert, TEXT, line.text())
    assert r.text == line.text() and r.tokens == short.tokens and "[PAD]" in r.tokens
    np.testing.assert_array_equal(r.weights, short.weights)
    pads = [i for i, t in enumerate(r.tokens) if t == "[PAD]"]
    assert (r.weights[..., pads] == 0).all()
    image = w.attention.canvas.heatmaps.images[0]
    assert (np.asarray(image.get_array())[:, pads] == 0).all()
    assert "[PAD]" in w.attention.caption.text()
    assert w.fill_mask.result is guesses  # one sentence's guesses: padding changes nothing there

    line.setText("Hi.")
    with qtbot.waitSignal(w.attention.answered, timeout=WAIT_MS, check_params_cb=lambda r: r.text == "Hi."):
        line.editingFinished.emit()
    assert w.attention.result.tokens.count("[PAD]") > r.tokens.count("[PAD]")


def test_the_compared_model_follows_the_mask(qtbot, shown, model_dirs):
    w = shown
    with qtbot.waitSignal(w.controller.compare.loaded, timeout=WAIT_MS):
        w.compare_with(str(model_dirs["roberta"]))
    other = w.attention_tab.other
    qtbot.waitUntil(lambda: other.result is not None and other.result.text == TEXT, timeout=WAIT_MS)
    try:
        with qtbot.waitSignals([w.attention.answered, other.answered], timeout=WAIT_MS,
                               check_params_cbs=[lambda r: r.mask == "causal"] * 2):
            w.attention_tab.set_mask("causal")
        t = len(other.result.tokens)
        assert (other.result.weights[:, :, np.triu(np.ones((t, t), dtype=bool), 1)] == 0).all()
        qtbot.waitUntil(lambda: w.predictions.other.result is not None and w.predictions.other.result.mask == "causal",
                        timeout=WAIT_MS)
    finally:
        w.compare_with("")


def test_reset_to_defaults_brings_the_mask_back_to_bidirectional(qtbot, window):
    window.attention_tab.set_mask("causal")
    window.reset_to_defaults()
    assert window.attention_tab.findChild(QComboBox, "attentionMaskSelector").currentIndex() == 0
