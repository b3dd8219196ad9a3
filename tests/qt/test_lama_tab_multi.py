"""The LAMA tab's "multi-token facts" box: LAMA's dropped multi-piece objects decoded jointly,
shown as words, scored apart in the summary."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QPushButton

from explorer.core.jobs import run_to_end
from explorer.core.lama_data import DEFAULT_PIECES, DROP_NOT_ONE_TOKEN, LamaReport, LamaSet
from explorer.engine.lama import evaluate
from explorer.qt.tabs.lama.table_model import TOP1

WAIT_MS = 30000


def lama_folder(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "common_vocab_cased.txt").write_text("cat\ndog\nbook\nmat\n", encoding="utf-8")
    (root / "Squad").mkdir()
    (root / "Squad" / "test.jsonl").write_text("\n".join(json.dumps(r) for r in [
        {"masked_sentences": ["The [MASK] sat on the mat ."], "obj_label": "cat", "id": "one"},
        {"masked_sentences": ["She wrote many [MASK] about the river ."], "obj_label": "books", "id": "two"},
        {"masked_sentences": ["He has two [MASK] and a cat ."], "obj_label": "dogs", "id": "three"},
    ]) + "\n", encoding="utf-8")
    return root


def run_tab(qtbot, window) -> None:
    with qtbot.waitSignal(window.lama.jobFinished, timeout=WAIT_MS, check_params_cb=lambda r: isinstance(r, LamaReport)):
        qtbot.mouseClick(window.findChild(QPushButton, "lamaRunButton"), Qt.MouseButton.LeftButton)


def test_multi_token_box_decodes_the_dropped_facts_and_scores_them_apart(qtbot, window, bert, tmp_path):
    qtbot.waitUntil(lambda: window.lama.data is not None, timeout=WAIT_MS)
    tab = window.lama
    box = tab.findChild(QCheckBox, "lamaMultiToken")
    assert box is tab.multi_token and "X-FACTR" in box.toolTip()
    tab.protocol.setCurrentIndex(tab.protocol.findData("lab"))
    assert not box.isEnabled()
    tab.protocol.setCurrentIndex(tab.protocol.findData("lama"))
    assert box.isEnabled() and not box.isChecked()
    root = lama_folder(tmp_path / "data")
    with qtbot.waitSignal(tab.jobFinished, timeout=WAIT_MS, check_params_cb=lambda r: isinstance(r, LamaSet)):
        tab.open_path(str(root))
    run_tab(qtbot, window)
    assert [r.dropped for r in tab._current_results()] == [None, DROP_NOT_ONE_TOKEN, DROP_NOT_ONE_TOKEN]

    box.setChecked(True)
    run_tab(qtbot, window)
    want = run_to_end(evaluate(bert, tab.data.facts, "lama", common_vocab=root / "common_vocab_cased.txt",
                               multi_token=DEFAULT_PIECES))
    got = tab._current_results()
    assert [(r.rank, r.top_tokens, r.multi_token) for r in got] == [(r.rank, r.top_tokens, r.multi_token) for r in want.results]
    # The table shows each fact's predicted answer: for a multi-token fact, the whole word.
    shown = {tab.proxy.index(row, TOP1).data() for row in range(tab.proxy.rowCount())}
    assert {r.top_tokens[0] for r in want.results} <= shown
    rows = tab.summary.score_rows()
    assert rows["single-token facts"][0] == 1 and rows["multi-token facts"][0] == 2
    assert tab.report().multi_token == DEFAULT_PIECES
    box.setChecked(False)
    assert [r.dropped for r in tab._current_results()] == [None, DROP_NOT_ONE_TOKEN, DROP_NOT_ONE_TOKEN]


def test_a_multi_token_facts_detail_says_what_its_scores_are(qtbot, window, tmp_path):
    qtbot.waitUntil(lambda: window.lama.data is not None, timeout=WAIT_MS)
    tab = window.lama
    tab.protocol.setCurrentIndex(tab.protocol.findData("lama"))
    tab.multi_token.setChecked(True)
    with qtbot.waitSignal(tab.jobFinished, timeout=WAIT_MS, check_params_cb=lambda r: isinstance(r, LamaSet)):
        tab.open_path(str(lama_folder(tmp_path / "data")))
    run_tab(qtbot, window)
    fact = 1  # "books": two pieces
    tab.detail.show_fact(tab.data.facts[fact], tab._current_results()[fact])
    header = [tab.detail.top.horizontalHeaderItem(c).text() for c in range(3)]
    assert header == ["#", "word", "per piece"]
    assert "multi-token" in tab.detail.heading.text() and "not one token" not in tab.detail.heading.text()
    tab.detail.show_fact(tab.data.facts[0], tab._current_results()[0])
    assert tab.detail.top.horizontalHeaderItem(2).text() == "probability"
