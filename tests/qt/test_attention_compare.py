"""Compare mode in the Attention tab: the same layer of two models side by side, matched by
index when the depths differ, and main − compare when the shapes and tokens match.

Every weight shown is checked against transformers' own eager `output_attentions`, computed
here from the saved folders, not through the app's engine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from explorer.core.attention_math import difference_refusal, layer_match_note, matched_layer
from explorer.core.colours import PALETTE
from explorer.qt.tabs.attention.view import AVERAGE, HEADS

WAIT_MS = 30000
TEXT = "The cat sat on the mat."


@pytest.fixture(scope="module")
def deeper_bert(tmp_path_factory, bert_dir) -> Path:
    """The tiny BERT's tokenizer and config with 3 layers instead of 2 (other weights)."""
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

    folder = tmp_path_factory.mktemp("models") / "deepbert"
    config = BertConfig.from_pretrained(bert_dir)
    config.num_hidden_layers = 3
    torch.manual_seed(3)
    BertForMaskedLM(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(bert_dir).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def other_bert(tmp_path_factory) -> Path:
    """The same shape and vocabulary as the tiny BERT, other random weights."""
    from explorer.engine.synthetic import make_model

    return make_model(tmp_path_factory.mktemp("models") / "bert_b", "bert", seed=1)


def eager(folder: Path, text: str = TEXT) -> np.ndarray:
    """(layers, heads, T, T) from transformers itself, eager attention."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForMaskedLM.from_pretrained(folder, attn_implementation="eager").eval()
    with torch.no_grad():
        out = model(**tok(text, return_tensors="pt"), output_attentions=True)
    return torch.stack(out.attentions)[:, 0].numpy()


def images(view) -> list[np.ndarray]:
    return [np.asarray(image.get_array()) for image in view.canvas.heatmaps.images]


def assert_shows(view, maps: np.ndarray) -> None:
    shown = images(view)
    assert len(shown) == len(maps)
    for got, want in zip(shown, maps):
        np.testing.assert_allclose(got, want, atol=1e-5)


def open_compare(qtbot, w, folder) -> None:
    with qtbot.waitSignal(w.controller.compare.loaded, timeout=WAIT_MS):
        w.compare_with(str(folder))


def close_compare(qtbot, w) -> None:
    w.compare_with("")
    qtbot.waitUntil(lambda: not w.controller.compare.has_model, timeout=WAIT_MS)


def show(qtbot, w, text: str = TEXT) -> None:
    tab = w.attention_tab
    w.editor.setPlainText(text)
    w.editor.settle()
    w.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(
        lambda: tab.main.result is not None and tab.main.result.text == text
        and tab.other.result is not None and tab.other.result.text == text,
        timeout=WAIT_MS,
    )


def test_alone_the_tab_holds_only_the_main_view(qtbot, window):
    tab = window.attention_tab
    assert tab.objectName() == "attentionTab" and window.attention is tab.main
    assert window.attention.objectName() == "attentionView" and tab.other.objectName() == "compareAttentionView"
    window.tabs.setCurrentWidget(window.attention)  # a view inside a page brings its page to the front
    assert window.tabs.currentWidget() is tab
    assert window.attention.isVisible() and not tab.other.isVisible()
    assert not tab.difference.isVisible() and not tab.note.isVisible()


def test_a_deeper_model_beside_matches_transformers_and_the_note_says_how_layers_match(qtbot, window, bert_dir, deeper_bert):
    w, tab = window, window.attention_tab
    open_compare(qtbot, w, deeper_bert)
    try:
        show(qtbot, w)
        assert tab.other.isVisible()
        a, b = eager(bert_dir), eager(deeper_bert)
        assert a.shape[0] == 2 and b.shape[0] == 3
        for layer in (0, 1):
            tab.main.layer.setValue(layer)
            assert tab.other.layer.value() == layer
            assert_shows(tab.main, a[layer])
            assert_shows(tab.other, b[layer])
        # The view follows too: the average of heads of the same layer.
        tab.main.mode.setCurrentText(AVERAGE)
        assert tab.other.mode.currentText() == AVERAGE
        assert_shows(tab.other, b[1].mean(axis=0)[None])
        tab.main.mode.setCurrentText(HEADS)
        note = tab.note.text()
        assert tab.note.isVisible()
        assert "bert has 2 layers, deepbert 3" in note and "matched by index" in note
        assert "layer 2 of deepbert has no match" in note
        # 2 x 12 against 3 x 12: no difference, and the tooltip says why.
        assert not tab.difference.isEnabled() and "layers" in tab.difference.toolTip()
    finally:
        close_compare(qtbot, w)
    qtbot.waitUntil(lambda: not tab.other.isVisible(), timeout=WAIT_MS)
    assert tab.other.result is None and not tab.note.isVisible() and not tab.difference.isVisible()


def test_a_main_model_deeper_than_the_compared_one_clamps_and_says_so(qtbot, window, bert_dir, deeper_bert):
    w, tab = window, window.attention_tab
    with qtbot.waitSignal(w.controller.main.loaded, timeout=WAIT_MS):
        w.load_model(str(deeper_bert))
    open_compare(qtbot, w, bert_dir)
    try:
        show(qtbot, w)
        a, b = eager(deeper_bert), eager(bert_dir)
        tab.main.layer.setValue(2)
        assert tab.other.layer.value() == 1
        assert_shows(tab.main, a[2])
        assert_shows(tab.other, b[1])
        assert "layer 2 of deepbert has no match: bert shows its last layer, 1" in tab.note.text()
        tab.main.layer.setValue(0)
        assert tab.other.layer.value() == 0
        assert_shows(tab.other, b[0])
        # B's controls follow A's and are not shown twice; a line says what B shows.
        tab.main.layer.setValue(2)
        assert not tab.other.layer.isVisible() and not tab.other.mode.isVisible()
        assert tab.other.follows.text().startswith("layer 1 · heads")
    finally:
        close_compare(qtbot, w)


def test_another_architecture_beside_and_no_difference_across_tokenizers(qtbot, window, model_dirs):
    w, tab = window, window.attention_tab
    open_compare(qtbot, w, model_dirs["roberta"])
    try:
        show(qtbot, w)
        b = eager(model_dirs["roberta"])
        tab.main.layer.setValue(1)
        assert_shows(tab.other, b[1])
        assert not tab.note.isVisible()  # the same depth: nothing to say
        assert tab.difference.isVisible() and not tab.difference.isEnabled()
        assert "tokens" in tab.difference.toolTip()
    finally:
        close_compare(qtbot, w)


def test_the_difference_is_a_minus_b_per_head_on_a_diverging_symmetric_scale(qtbot, window, bert_dir, other_bert):
    w, tab = window, window.attention_tab
    open_compare(qtbot, w, other_bert)
    try:
        show(qtbot, w)
        a, b = eager(bert_dir), eager(other_bert)
        assert tab.difference.isEnabled()
        assert [box.title() for box in tab.boxes] == ["A: bert", "B: bert_b"]
        assert tab.boxes[1].toolTip() == str(other_bert)
        tab.difference.setChecked(True)
        assert tab.boxes[1].title() == "A − B: bert minus bert_b"
        tab.other.canvas.hovered.emit("head 0: cat → sat 0.120")
        assert tab.other.hover.text().startswith("A − B") and "cat → sat" in tab.other.hover.text()
        for layer in (0, 1):
            tab.main.layer.setValue(layer)
            want = a[layer] - b[layer]
            assert_shows(tab.other, want)
            assert_shows(tab.main, a[layer])  # the main side is untouched
            m = float(np.abs(want).max())
            for image in tab.other.canvas.heatmaps.images:
                assert image.get_cmap().name == PALETTE.difference_cmap
                lo, hi = image.get_clim()
                assert lo == pytest.approx(-m, rel=1e-5) and hi == pytest.approx(m, rel=1e-5)
        tab.difference.setChecked(False)
        assert tab.boxes[1].title() == "B: bert_b"
        assert_shows(tab.other, b[1])
        assert tab.other.canvas.heatmaps.images[0].get_cmap().name == PALETTE.heatmap_cmap
    finally:
        close_compare(qtbot, w)


def test_a_model_minus_itself_is_zero_everywhere(qtbot, window, bert_dir):
    w, tab = window, window.attention_tab
    open_compare(qtbot, w, bert_dir)
    try:
        show(qtbot, w)
        tab.difference.setChecked(True)
        heads = tab.main.result.num_heads
        for layer in (0, 1):
            tab.main.layer.setValue(layer)
            shown = images(tab.other)
            assert len(shown) == heads and all(np.all(s == 0) for s in shown)
    finally:
        tab.difference.setChecked(False)
        close_compare(qtbot, w)


def test_layer_matching_and_refusals_written_out():
    assert [matched_layer(layer, 2) for layer in range(4)] == [0, 1, 1, 1]
    assert layer_match_note("bert", 2, "roberta", 2, 1) == ""
    assert layer_match_note("/x/bert", 2, "/y/roberta", 3, 0) == (
        "bert has 2 layers, roberta 3: layers matched by index; layer 2 of roberta has no match"
    )
    assert layer_match_note("a", 4, "b", 2, 1).endswith("layers 2 to 3 of a have no match")
    assert layer_match_note("m", 2, "m", 3, 0).startswith("m (A) has 2 layers, m (B) 3")
    assert layer_match_note("a", 4, "b", 2, 3).endswith("layer 3 of a has no match: b shows its last layer, 1")

    class R:
        def __init__(self, model, text, tokens, layers, heads):
            self.model, self.text, self.tokens = model, text, tokens
            self.weights = np.zeros((layers, heads, len(tokens), len(tokens)))

    x = R("a", "t", ("[CLS]", "t", "[SEP]"), 2, 12)
    assert difference_refusal(x, R("b", "t", ("[CLS]", "t", "[SEP]"), 2, 12)) == ""
    assert "same sentence" in difference_refusal(x, R("b", "u", ("[CLS]", "u", "[SEP]"), 2, 12))
    assert "2 layers × 12 heads, b 2 × 8" in difference_refusal(x, R("b", "t", ("[CLS]", "t", "[SEP]"), 2, 8))
    assert "tokens" in difference_refusal(x, R("b", "t", ("<s>", "t", "</s>"), 2, 12))
