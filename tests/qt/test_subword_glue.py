"""Choosing a guess glues a word piece to the word before for every subword convention:
BERT's "##s", RoBERTa's "s" (no "Ġ"), XLM-R's "s" (no "▁"). The reference is the model's own
tokenizer: the editor must then hold what it decodes from the ids with the mask replaced."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from transformers import AutoTokenizer

from explorer.core.subwords import BPE, SENTENCEPIECE, WORDPIECE, SubwordConvention
from explorer.qt.tabs.mlm.token_passage import TokenPassage

WAIT_MS = 15000
SENTENCE = "The cat [MASK]"


@pytest.fixture(scope="module")
def sp_dir(tmp_path_factory):
    from explorer.engine.synthetic import make_model

    return make_model(tmp_path_factory.mktemp("sp") / "xlmr", "xlm-roberta")


@pytest.fixture(params=[("bert", WORDPIECE), ("roberta", BPE), ("sp", SENTENCEPIECE)], ids=lambda p: p[0])
def model(request, model_dirs, sp_dir):
    name, kind = request.param
    return (sp_dir if name == "sp" else model_dirs[name]), kind


@pytest.fixture
def window_on(qtbot, model):
    from explorer.qt.shell.app import create_window

    folder, kind = model
    w = create_window(str(folder))
    qtbot.addWidget(w)
    w.resize(1280, 900)
    w.show()
    qtbot.waitUntil(lambda: w.controller.main.info is not None, timeout=WAIT_MS)
    yield w, folder, kind
    w.close()
    assert w.controller.thread.wait(2000), "closing the window stops the model thread"


def _ask(qtbot, w, text: str) -> None:
    with qtbot.waitSignal(w.predictions.answered, timeout=WAIT_MS, check_params_cb=lambda r: r.text == text):
        w.editor.setPlainText(text)


def _reference(tokenizer, result, candidate) -> str:
    ids = list(result.tokenization.ids)
    ids[result.masks[0].index] = candidate.token_id
    return tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)


def test_choosing_a_piece_or_a_word_writes_what_the_model_reads(qtbot, window_on):
    w, folder, kind = window_on
    assert w.controller.main.info.subwords.kind == kind  # the convention crossed in the model info
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    w.top_k.setValue(50)
    _ask(qtbot, w, SENTENCE)
    result = w.fill_mask.result
    assert result.subwords.kind == kind
    rows = [r for r in w.fill_mask.cards[0].rows if not r.isHidden()]
    piece = next(r for r in rows if r.candidate.continues_word and r.candidate.text.isalpha())
    word = next(r for r in rows if not r.candidate.continues_word and r.candidate.text.isalpha())
    mark = "##" if kind == WORDPIECE else "…"
    assert piece.button.text() == mark + piece.candidate.text
    assert word.button.text() == word.candidate.text

    expected = _reference(tokenizer, result, piece.candidate)
    assert expected.startswith("The cat" + piece.candidate.text)  # glued: no space between
    qtbot.mouseClick(piece.button, Qt.MouseButton.LeftButton)
    assert w.editor.toPlainText() == expected

    _ask(qtbot, w, SENTENCE)
    word = next(r for r in w.fill_mask.cards[0].rows if r.candidate.token_id == word.candidate.token_id)
    expected = _reference(tokenizer, w.fill_mask.result, word.candidate)
    assert expected == "The cat " + word.candidate.text
    qtbot.mouseClick(word.button, Qt.MouseButton.LeftButton)
    assert w.editor.toPlainText() == expected


def _passage_text(passage: TokenPassage) -> str:
    return passage.toPlainText().replace("\u200a", "")


@pytest.mark.parametrize(
    ("kind", "shown", "expected"),
    [
        (WORDPIECE, ["cat", "##s"], "cats"),  # "##" is WordPiece's mark: dropped when glued
        (BPE, ["cat", "##"], "cat##"),  # RoBERTa's "##" is two '#' characters, not a mark
        (SENTENCEPIECE, ["cat", "##"], "cat##"),
    ],
)
def test_the_passage_drops_only_the_models_own_continuation_mark(qtbot, kind, shown, expected):
    passage = TokenPassage()
    qtbot.addWidget(passage)
    passage.set_tokens(shown, [(0, 3), (3, 5)], [False, False], subwords=SubwordConvention(kind))
    assert _passage_text(passage) == expected
