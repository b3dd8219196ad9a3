"""The Predictions tab's joint view and the Score tab, in the window, against the engine."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QPlainTextEdit, QPushButton, QSpinBox

from explorer.core.joint import JointParams
from explorer.engine.joint import joint_fill
from explorer.engine.scoring import score_sentences

WAIT_MS = 30000
TWO = "The [MASK] sat on the [MASK] ."


def joint_answered(w, text):
    r = w.predictions.joint.result
    return r is not None and r.text == text


def test_two_masks_list_the_joint_fillings_the_engine_finds(qtbot, window, bert):
    w = window
    panel = w.predictions.joint
    assert panel.objectName() == "jointFillPanel"
    w.findChild(QSpinBox, "jointBeam").setValue(3)
    w.editor.setPlainText(TWO)
    qtbot.waitUntil(lambda: joint_answered(w, TWO), timeout=WAIT_MS)
    expected = joint_fill(bert, TWO, JointParams(beam=3))
    shown = panel.visible_fillings()
    assert len(shown) == len(expected.fillings)
    for row, f in zip(shown, expected.fillings):
        assert f.text in row and f"{f.score:.2f}" in row
    independent = w.findChild(QLabel, "jointIndependent")
    assert independent.isVisible() and expected.independent.text in independent.text()


def test_clicking_a_filling_writes_it_and_undo_takes_it_back(qtbot, window):
    w = window
    w.editor.setPlainText(TWO)
    qtbot.waitUntil(lambda: joint_answered(w, TWO), timeout=WAIT_MS)
    best = w.predictions.joint.result.fillings[0]
    row = [b for b in w.predictions.joint.findChildren(QPushButton, "jointFilling") if b.isVisible()][0]
    qtbot.mouseClick(row, Qt.MouseButton.LeftButton)
    assert w.editor.toPlainText() == best.text
    w.editor.undo()
    assert w.editor.toPlainText() == TWO


def test_one_mask_asks_nothing_until_pieces_are_raised(qtbot, window, bert):
    w = window
    text = "The cat sat on the [MASK] ."
    w.editor.setPlainText(text)
    qtbot.waitUntil(lambda: w.fill_mask.result is not None and w.fill_mask.result.text == text, timeout=WAIT_MS)
    assert w.predictions.joint.result is None
    assert "How many tokens?" in w.findChild(QLabel, "jointFillPanelMessage").text()
    w.findChild(QSpinBox, "jointPieces").setValue(2)
    qtbot.waitUntil(lambda: joint_answered(w, text), timeout=WAIT_MS)
    result = w.predictions.joint.result
    assert result.max_pieces == 2 and {f.pieces for f in result.fillings} <= {1, 2}
    assert "per piece" in w.predictions.joint.visible_fillings()[0]


def test_order_box_offers_both_orders(window):
    box = window.findChild(QComboBox, "jointOrder")
    assert [box.itemText(i) for i in range(box.count())] == ["confidence", "left-to-right"]
    assert box.toolTip()


def test_the_score_tab_scores_each_line_as_the_engine_does(qtbot, window, bert):
    w = window
    w.tabs.setCurrentWidget(w.score)
    box = w.findChild(QPlainTextEdit, "scoreSentences")
    pair = ["The cat sat on the mat.", "The cat sat on the cat."]
    box.setPlainText("\n".join(pair) + "\n\n")
    with qtbot.waitSignal(w.score.scored, timeout=WAIT_MS) as got:
        qtbot.mouseClick(w.findChild(QPushButton, "scoreButton"), Qt.MouseButton.LeftButton)
    result = got.args[0]
    expected = score_sentences(bert, pair)
    assert [s.text for s in result.sentences] == pair  # the blank line is not a sentence
    assert [s.pll for s in result.sentences] == pytest.approx([s.pll for s in expected.sentences], abs=1e-4)
    cards = [c for c in w.score.cards if c.isVisible()]
    assert len(cards) == 2
    preferred = expected.preferred
    assert "preferred" in cards[preferred].lines[0][0].text()
    assert "preferred" not in cards[1 - preferred].lines[0][0].text()
    assert f"{expected.sentences[0].pll:.2f}" in cards[0].lines[0][0].text()
    assert "prefers" in w.findChild(QLabel, "scoreMessage").text()


def test_the_score_tab_says_what_to_do_with_nothing_to_score(qtbot, window):
    w = window
    w.findChild(QPlainTextEdit, "scoreSentences").setPlainText("   \n")
    w.score.score()
    assert "Type a sentence" in w.findChild(QLabel, "scoreMessage").text()


def test_compare_mode_scores_with_both_models(qtbot, window, model_dirs):
    w = window
    with qtbot.waitSignal(w.controller.compare.loaded, timeout=WAIT_MS):
        w.compare_with(str(model_dirs["roberta"]))
    try:
        w.tabs.setCurrentWidget(w.score)
        w.score.score()
        qtbot.waitUntil(lambda: len(w.score.shown_results()) == 2, timeout=WAIT_MS)
        card = w.score.cards[0]
        labels = [label.text() for label, _ in card.lines if label.isVisible()]
        assert labels[0].startswith("A: PLL") and labels[1].startswith("B: PLL")
        # B's joint view searches with A's settings and says so.
        assert not w.predictions.other_joint.form["beam"].isVisibleTo(w.predictions.other_joint)
        w.editor.setPlainText(TWO)
        qtbot.waitUntil(
            lambda: (r := w.predictions.other_joint.result) is not None and r.text == TWO, timeout=WAIT_MS)
    finally:
        w.compare_with("")


LONG_TWO = "The [MASK] sat on the mat while the dog barked at the [MASK] in the garden . " + (
    "It was a very good year for me and my grandmother in the city . " * 8)


def test_a_long_sentence_never_widens_the_page(qtbot, window):
    """Found in the walkthrough: each filling was one unwrapped line, 5000 px wide."""
    w = window
    w.editor.setPlainText(LONG_TWO)
    qtbot.waitUntil(lambda: joint_answered(w, LONG_TWO), timeout=WAIT_MS)
    panel = w.predictions.joint
    assert panel.minimumSizeHint().width() < 900
    assert w.predictions.minimumSizeHint().width() < 1200
    shown = [b.text() for b in panel.findChildren(QPushButton, "jointFilling") if b.isVisible()]
    assert shown and all("…" in t for t in shown)  # elided; the whole sentence is in the tooltip
    assert all(f.text in b.toolTip() for f, b in zip(panel.result.fillings, panel.rows))


def test_a_new_search_says_searching_not_the_last_texts_warning(qtbot, window):
    w = window
    many = " ".join(["[MASK]"] * 13)
    w.editor.setPlainText(many)
    qtbot.waitUntil(lambda: joint_answered(w, many), timeout=WAIT_MS)
    message = w.findChild(QLabel, "jointFillPanelMessage")
    assert "at most 12 masks" in message.text()
    w.predictions.joint.ask(TWO, 2)
    assert message.text() == "Searching…"
    qtbot.waitUntil(lambda: joint_answered(w, TWO), timeout=WAIT_MS)


def test_the_guesses_keep_room_above_the_joint_box(window):
    from explorer.qt.widgets.style import scaled_px

    assert window.fill_mask.minimumHeight() >= scaled_px(150)


def test_a_long_sentences_bars_wrap_within_the_card(qtbot, window):
    """Found in the walkthrough: a 141-token sentence's last 40 bars could not be reached."""
    w = window
    w.resize(1366, 768)
    w.tabs.setCurrentWidget(w.score)
    long = "the quick brown fox jumps over the lazy dog and " * 14
    w.findChild(QPlainTextEdit, "scoreSentences").setPlainText(long)
    with qtbot.waitSignal(w.score.scored, timeout=WAIT_MS):
        w.score.score()
    card = w.score.cards[0]
    bars = card.lines[0][1]
    qtbot.waitUntil(lambda: bars.height() >= bars.heightForWidth(bars.width()), timeout=WAIT_MS)
    lines = bars._lines(bars.width())
    assert len(lines) > 1 and sum(len(line) for line in lines) == len(bars.tokens)
    assert all(sum(bars._cell(bars.tokens[i]) for i in line) <= bars.width() for line in lines if len(line) > 1)
    assert card.minimumSizeHint().width() < 1366
    assert card.toolTip() == long.strip()


def test_scoring_nothing_clears_the_last_result(qtbot, window):
    w = window
    w.tabs.setCurrentWidget(w.score)
    with qtbot.waitSignal(w.score.scored, timeout=WAIT_MS):
        w.score.score()
    w.findChild(QPlainTextEdit, "scoreSentences").setPlainText("  \n")
    w.score.score()
    assert not any(card.isVisible() for card in w.score.cards)
