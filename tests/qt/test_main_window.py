"""The main window on a tiny real model, as a person would use it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
)
from transformers import pipeline

from explorer.qt.shell.app import create_window
from explorer.qt.tabs.predictions.panel import CandidateRow
from explorer.qt.shell.model_bar import OPEN_FOLDER

WAIT_MS = 15000


def type_sentence(qtbot, w, text: str) -> None:
    editor = w.findChild(QPlainTextEdit, "sentenceEditor")
    editor.clear()
    with qtbot.waitSignal(w.predictions.answered, timeout=WAIT_MS, check_params_cb=lambda r: r.text == text):
        qtbot.keyClicks(editor, text)


def test_named_widgets_exist(window):
    assert isinstance(window.findChild(QPlainTextEdit, "sentenceEditor"), QPlainTextEdit)
    assert isinstance(window.findChild(QScrollArea, "fillMaskPanel"), QScrollArea)
    assert isinstance(window.findChild(QSpinBox, "topKSpin"), QSpinBox)
    assert isinstance(window.findChild(QListWidget, "tokenView"), QListWidget)
    assert window.findChild(QPushButton, "insertMaskButton") is not None
    assert window.findChild(object, "modelSelector") is not None
    assert window.findChild(object, "deviceSelector") is not None
    assert window.findChild(QSpinBox, "topKSpin").value() == 10


def test_typing_gives_k_candidates_per_mask_matching_the_pipeline(qtbot, window, bert):
    type_sentence(qtbot, window, "Nice to [MASK] you.")
    shown = window.fill_mask.visible_candidates()
    assert len(shown) == 1 and len(shown[0]) == 10
    ref = pipeline("fill-mask", model=bert.model, tokenizer=bert.tokenizer, top_k=10)("Nice to [MASK] you.")
    expected = [r["token_str"] for r in ref]
    assert shown[0] == expected  # the continuation pieces keep their "##", as the pipeline shows them
    # As real text: each row's score label reads as a percentage of the pipeline's score.
    rows = window.fill_mask.cards[0].findChildren(CandidateRow)
    assert rows[0].score.text() == f"{ref[0]['score'] * 100:.1f}%"
    assert rows[0].button.accessibleName().startswith(expected[0])


def test_k_selector_and_several_masks(qtbot, window):
    window.top_k.setValue(3)
    type_sentence(qtbot, window, "The [MASK] sat on the [MASK] .")
    assert [len(c) for c in window.fill_mask.visible_candidates()] == [3, 3]
    type_sentence(qtbot, window, "The [MASK] sat.")
    assert len(window.fill_mask.visible_candidates()) == 1


def test_clicking_a_candidate_writes_it_at_that_mask(qtbot, window):
    type_sentence(qtbot, window, "The [MASK] sat on the [MASK] .")
    card = window.fill_mask.cards[1]
    row = next(r for r in card.rows if not r.candidate.continues_word)
    with qtbot.waitSignal(window.predictions.answered, timeout=WAIT_MS):
        qtbot.mouseClick(row.button, Qt.MouseButton.LeftButton)
    assert window.editor.toPlainText() == f"The [MASK] sat on the {row.candidate.text} ."


def test_clicking_a_continuation_piece_glues_it_to_the_word(qtbot, window):
    type_sentence(qtbot, window, "The cat [MASK]")
    window.top_k.setValue(50)
    qtbot.waitUntil(lambda: len(window.fill_mask.visible_candidates()[0]) == 50, timeout=WAIT_MS)
    row = next(r for r in window.fill_mask.cards[0].rows if r.candidate.continues_word)
    qtbot.mouseClick(row.button, Qt.MouseButton.LeftButton)
    assert window.editor.toPlainText() == f"The cat{row.candidate.text}"


def test_clicking_a_token_masks_it(qtbot, window):
    type_sentence(qtbot, window, "The cat sat on the mat.")
    strip = window.tokens
    index = next(i for i in range(strip.count()) if strip.item(i).text() == "cat")
    item_rect = strip.visualItemRect(strip.item(index))
    with qtbot.waitSignal(window.predictions.answered, timeout=WAIT_MS):
        qtbot.mouseClick(strip.viewport(), Qt.MouseButton.LeftButton, pos=item_rect.center())
    assert window.editor.toPlainText() == "The [MASK] sat on the mat."
    assert len(window.fill_mask.visible_candidates()) == 1


def test_clicking_a_special_token_changes_nothing(qtbot, window):
    type_sentence(qtbot, window, "The cat sat.")
    strip = window.tokens
    qtbot.mouseClick(strip.viewport(), Qt.MouseButton.LeftButton, pos=strip.visualItemRect(strip.item(0)).center())
    assert window.editor.toPlainText() == "The cat sat."


def test_ctrl_m_inserts_the_models_mask_token(qtbot, window):
    type_sentence(qtbot, window, "The cat")
    window.editor.moveCursor(window.editor.textCursor().MoveOperation.End)
    with qtbot.waitSignal(window.predictions.answered, timeout=WAIT_MS):
        qtbot.keyClick(window.editor, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert window.editor.toPlainText() == "The cat [MASK]"
    assert len(window.fill_mask.visible_candidates()) == 1


def test_no_mask_and_empty_text_explain_themselves(qtbot, window):
    type_sentence(qtbot, window, "The cat sat.")
    message = window.findChild(QLabel, "fillMaskMessage")
    assert "No mask" in message.text() and window.fill_mask.visible_candidates() == []
    window.editor.clear()
    qtbot.waitUntil(lambda: "empty" in message.text(), timeout=WAIT_MS)


def test_status_bar_names_model_device_and_dtype(window, bert_dir):
    # The folder's own name and the model's shape; the whole path in the tooltip.
    assert window.status_model.text().startswith(f"{bert_dir.name}  (2 layers × 12 heads)")
    assert window.status_model.toolTip() == str(bert_dir)
    assert window.status_device.text() == "cpu"
    assert window.status_dtype.text() == "float32"
    assert window.status_load.text() == "ready"


def test_a_bad_model_path_is_explained_in_the_window(qtbot, window, tmp_path):
    window.load_model(str(tmp_path / "nope"))
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=WAIT_MS)
    assert "does not exist" in window.banner.label.text()
    assert "still using" in window.status_load.text()
    # The model that was loaded keeps working.
    type_sentence(qtbot, window, "The [MASK] sat.")
    assert len(window.fill_mask.visible_candidates()) == 1


def test_roberta_model_uses_its_own_mask(qtbot, model_dirs):
    w = create_window(str(model_dirs["roberta"]))
    qtbot.addWidget(w)
    try:
        qtbot.waitUntil(lambda: w.controller.main.info is not None, timeout=WAIT_MS)
        w.editor.setPlainText("Nice to")
        w.editor.moveCursor(w.editor.textCursor().MoveOperation.End)
        with qtbot.waitSignal(w.predictions.answered, timeout=WAIT_MS, check_params_cb=lambda r: "<mask>" in r.text):
            w.insert_mask_button.click()
        assert w.editor.toPlainText() == "Nice to <mask>"
        assert len(w.fill_mask.visible_candidates()) == 1
    finally:
        w.close()
        assert w.controller.thread.wait(2000)


def test_offline_start_without_any_model_explains_itself(qtbot, tmp_path, monkeypatch):
    """Neither the default model nor the demo model (its weights gone) can be opened."""
    import huggingface_hub

    from explorer.engine import demo_model

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(demo_model, "delta_path", lambda: tmp_path / "gone.safetensors")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    w = create_window()  # the default hub model
    qtbot.addWidget(w)
    w.show()
    try:
        assert w.model_bar.model_selector.currentText() == "bert-base-cased"
        qtbot.waitUntil(lambda: w.banner.isVisible(), timeout=WAIT_MS)
        assert "Open a model folder" in w.banner.label.text()
        assert "demo model" in w.banner.label.text()
        assert w.banner.open_folder.isVisible()
        assert not w.demo_banner.isVisible()
        assert w.status_load.text() == "load failed"
        assert "No model is loaded" in w.fill_mask.message.text()
    finally:
        w.close()
        assert w.controller.thread.wait(2000)


def test_ctrl_enter_predicts_at_once(qtbot, window):
    window.editor.textChanged.disconnect()  # no debounce: only Ctrl+Enter can ask now
    window.editor.setPlainText("The [MASK] sat on the mat.")
    with qtbot.waitSignal(window.predictions.answered, timeout=WAIT_MS) as blocker:
        qtbot.keyClick(window.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert blocker.args[0].text == "The [MASK] sat on the mat."
    assert window.editor.toPlainText() == "The [MASK] sat on the mat."  # no newline typed


def test_the_model_never_runs_on_the_ui_thread(qtbot, window):
    import threading

    from explorer.engine import fill_mask as engine_fill_mask

    seen: list[str] = []
    original = engine_fill_mask.fill_mask

    def spy(*args, **kwargs):
        seen.append(threading.current_thread().name)
        return original(*args, **kwargs)

    engine_fill_mask.fill_mask = spy
    try:
        type_sentence(qtbot, window, "The [MASK] sat.")
    finally:
        engine_fill_mask.fill_mask = original
    assert seen and threading.main_thread().name not in seen


def test_closing_while_the_model_loads_stops_promptly(qtbot, bert_dir):
    w = create_window(str(bert_dir), device="cpu")
    qtbot.addWidget(w)
    w.close()  # at once: the thread is still importing torch or loading
    assert w.controller.thread.wait(2000)


def test_leaving_the_model_box_does_not_reload_the_model(qtbot, window):
    loads: list[str] = []
    window.controller.main.loading.connect(loads.append)
    box = window.model_bar.model_selector
    box.setFocus()
    qtbot.mouseClick(window.editor.viewport(), Qt.MouseButton.LeftButton)  # focus leaves the box
    box.activated.emit(box.currentIndex())  # what an editable box emits when focus leaves it
    assert loads == []
    window.model_bar.device_selector.setCurrentText("cpu")
    window.model_bar.device_selector.activated.emit(1)  # a real change still reloads
    assert len(loads) == 1
    qtbot.waitUntil(lambda: window.status_load.text() == "ready", timeout=WAIT_MS)


def test_object_names_of_the_predictions_are_unique(window):
    assert len(window.findChildren(QScrollArea, "fillMaskPanel")) == 1
    assert len(window.findChildren(QLabel, "fillMaskMessage")) == 1


# --- the defects a new user hit (issue 21) ---------------------------------------------------

def answer_folder_dialog(monkeypatch, folder) -> list[tuple]:
    """Make the folder dialog return `folder` at once; the list records each time it was asked."""
    asked: list[tuple] = []

    def dialog(*args, **kwargs):
        asked.append(args)
        return str(folder)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(dialog))
    return asked


def test_open_folder_loads_the_folder(qtbot, window, model_dirs, monkeypatch):
    folder = model_dirs["distilbert"]
    answer_folder_dialog(monkeypatch, folder)
    # What the error banner's and the demo banner's Open folder… buttons call.
    with qtbot.waitSignal(window.controller.main.loaded, timeout=WAIT_MS) as loaded:
        window.model_bar.open_folder()
    assert loaded.args[0].source == str(folder.resolve())
    assert window.status_model.toolTip() == str(folder) and folder.name in window.status_model.text()
    assert window.model_bar.model_selector.currentText() == str(folder)


def test_open_folder_from_the_model_list_loads_the_folder(qtbot, window, model_dirs, monkeypatch):
    folder = model_dirs["roberta"]
    answer_folder_dialog(monkeypatch, folder)
    box = window.model_bar.model_selector
    index = box.findText(OPEN_FOLDER)
    with qtbot.waitSignal(window.controller.main.loaded, timeout=WAIT_MS) as loaded:
        box.setCurrentIndex(index)
        box.activated.emit(index)  # what choosing the entry emits
    assert loaded.args[0].source == str(folder.resolve())
    assert box.currentText() == str(folder)
    assert window.editor.mask_token == "<mask>"  # the guesses follow the new model


def test_focus_starts_in_the_sentence_editor(qtbot, window):
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT_MS)
    assert QApplication.focusWidget() is window.editor
    assert window.editor.textCursor().atEnd()  # what a person types first follows the example


def test_a_name_that_fails_to_load_leaves_the_list(qtbot, window, bert_dir):
    box = window.model_bar.model_selector
    presets = [box.itemText(i) for i in range(box.count())]
    box.setFocus()
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), "demoabc")
    with qtbot.waitSignal(window.controller.main.failed, timeout=WAIT_MS):
        qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)
    assert box.findText("demoabc") < 0
    assert [box.itemText(i) for i in range(box.count())] == presets
    assert box.currentText() == str(bert_dir)  # the model in use
    assert window.banner.isVisible() and window.banner.open_folder.isVisible()


def test_precision_offers_only_what_the_device_runs(qtbot, window):
    bar = window.model_bar
    offered = lambda: [bar.dtype_selector.itemText(i) for i in range(bar.dtype_selector.count())]  # noqa: E731
    from explorer.core.precisions import precisions_for

    on_cpu = list(precisions_for("cpu"))  # float32, and bfloat16 / int8 where this CPU runs them
    assert offered() == on_cpu and on_cpu[:2] == ["auto", "float32"] and "float16" not in on_cpu
    bar.set_devices(["cpu", "cuda"])
    assert offered() == ["auto", "float32", "float16", "bfloat16"]  # auto is the GPU now
    bar.dtype_selector.setCurrentText("float16")
    bar.device_selector.setCurrentText("cpu")
    loads: list[tuple] = []
    bar.loadRequested.connect(lambda *args: loads.append(args))
    bar.device_selector.activated.emit(bar.device_selector.currentIndex())
    assert offered() == on_cpu
    assert bar.dtype_selector.currentText() == "auto"  # float16 is not offered on a CPU
    assert loads == [(str(window.controller.main.info.name), "cpu", "auto")]
    bar.set_devices(["cpu", "mps"])
    bar.device_selector.setCurrentText("mps")
    bar.device_selector.activated.emit(bar.device_selector.currentIndex())
    assert offered() == ["auto", "float32", "float16"]
    qtbot.waitUntil(lambda: window.status_load.text() == "ready" or window.banner.isVisible(), timeout=WAIT_MS)


def test_the_precisions_offered_are_ones_the_engine_runs():
    from explorer.engine.devices import resolve_dtype
    from explorer.core.errors import InvalidParameterError
    from explorer.core.precisions import PRECISIONS, precisions_for

    for device in ("cpu", "cuda", "mps"):
        for name in precisions_for(device, [device]):
            resolve_dtype(name, device)  # never refused
    assert "float16" not in PRECISIONS["cpu"] and "int8" not in PRECISIONS["cuda"]
    with pytest.raises(InvalidParameterError, match="needs a GPU"):
        resolve_dtype("float16", "cpu")
    with pytest.raises(InvalidParameterError, match="int8 is for the CPU"):
        resolve_dtype("int8", "cuda")


def test_a_precision_error_offers_a_way_out_that_fits(qtbot, window, bert_dir):
    with qtbot.waitSignal(window.controller.main.failed, timeout=WAIT_MS):
        window.load_model(str(bert_dir), "cpu", "float16")  # e.g. `bert-explorer gui --dtype float16`
    banner = window.banner
    assert banner.isVisible() and "float16" in banner.label.text()
    assert not banner.open_folder.isVisible()  # a folder would not help
    assert banner.use_auto.isVisible()
    assert window.model_bar.dtype_selector.currentText() == "auto"  # what is in use
    with qtbot.waitSignal(window.controller.main.loaded, timeout=WAIT_MS) as loaded:
        banner.use_auto.click()
    assert loaded.args[0].dtype == "float32" and not banner.isVisible()


def test_top_k_says_its_maximum(qtbot, window):
    spin = window.top_k
    assert "50" in spin.toolTip()
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "999")
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)
    assert spin.value() == 50
    assert "50" in window.statusBar().currentMessage()
    spin.setValue(10)  # the note spoke of the maximum: it goes once fewer are shown
    assert window.statusBar().currentMessage() == ""


@pytest.mark.parametrize("click, expected", [("Stop and switch", True), ("Keep running", False)])
def test_confirm_answers_with_the_button_pressed_and_escape_keeps(qtbot, monkeypatch, click, expected):
    from PySide6.QtWidgets import QMessageBox

    from explorer.qt.widgets import dialogs

    seen: list = []

    def press(box):
        seen.append(([b.text() for b in box.buttons()], box.escapeButton().text(), box.text()))
        next(b for b in box.buttons() if b.text() == click).click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", press)
    assert dialogs.confirm(None, "Switch model?", "LAMA is running", "Stop and switch", "Keep running") is expected
    assert seen == [(["Stop and switch", "Keep running"], "Keep running", "LAMA is running")]
