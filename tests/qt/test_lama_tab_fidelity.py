"""The LAMA tab's "clean input" box: protocol lama reads the input as LAMA's code does, or, with
the box ticked, as the tokenizer normally does; each keeps its own results."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QPushButton

from explorer.core.jobs import collect as run
from explorer.core.lama_data import LamaReport, LamaSet
from explorer.engine.lama import evaluate
from explorer.qt.tabs.lama.table_model import CORRECT

WAIT_MS = 20000


def lama_folder(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "common_vocab_cased.txt").write_text("London\nParis\nBerlin\nFrance\ncat\ndog\n", encoding="utf-8")
    (root / "Squad").mkdir()
    (root / "Squad" / "test.jsonl").write_text("\n".join(json.dumps(r) for r in [
        {"masked_sentences": ["Nice was born in [MASK])."], "obj_label": "Paris", "id": "glued"},
        {"masked_sentences": ["He went to Paris .", "He died in [MASK] ."], "obj_label": "London", "id": "two"},
    ]) + "\n", encoding="utf-8")
    return root


def open_and_run(qtbot, window, path: Path | None = None) -> None:
    tab = window.lama
    if path is not None:
        with qtbot.waitSignal(tab.jobFinished, timeout=WAIT_MS, check_params_cb=lambda r: isinstance(r, LamaSet)):
            tab.open_path(str(path))
        return
    with qtbot.waitSignal(tab.jobFinished, timeout=WAIT_MS, check_params_cb=lambda r: isinstance(r, LamaReport)):
        qtbot.mouseClick(window.findChild(QPushButton, "lamaRunButton"), Qt.MouseButton.LeftButton)


def test_clean_input_box_runs_each_way_and_keeps_each_ones_results(qtbot, window, bert, tmp_path):
    qtbot.waitUntil(lambda: window.lama.data is not None, timeout=WAIT_MS)
    tab = window.lama
    box = tab.findChild(QCheckBox, "lamaCleanInput")
    assert box is tab.clean_input and "[MASK]" in box.toolTip() and "segment" in box.toolTip()
    tab.protocol.setCurrentIndex(tab.protocol.findData("lab"))
    assert not box.isEnabled()  # the lab protocol reads the input one way only
    tab.protocol.setCurrentIndex(tab.protocol.findData("lama"))
    assert box.isEnabled() and not box.isChecked()

    root = lama_folder(tmp_path / "data")
    open_and_run(qtbot, window, root)
    facts = tab.data.facts
    common = root / "common_vocab_cased.txt"
    want = {clean: run(evaluate(bert, facts, "lama", common_vocab=common, clean_input=clean))[0] for clean in (False, True)}
    assert [r.rank for r in want[False].results] != [r.rank for r in want[True].results] or \
        [r.top_scores for r in want[False].results] != [r.top_scores for r in want[True].results]

    open_and_run(qtbot, window)
    lamas = [(r.rank, r.top_tokens, r.top_scores) for r in tab._current_results()]
    assert lamas == [(r.rank, r.top_tokens, r.top_scores) for r in want[False].results]
    box.setChecked(True)
    assert [tab.proxy.index(r, CORRECT).data() for r in range(tab.proxy.rowCount())] == [""] * 2  # not run this way yet
    open_and_run(qtbot, window)
    assert [(r.rank, r.top_tokens, r.top_scores) for r in tab._current_results()] == \
        [(r.rank, r.top_tokens, r.top_scores) for r in want[True].results]
    assert tab.report().clean_input
    box.setChecked(False)
    assert [(r.rank, r.top_tokens, r.top_scores) for r in tab._current_results()] == lamas
