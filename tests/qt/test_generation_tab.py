"""The Generate tab in the real window, on a tiny real model."""

from __future__ import annotations

import html
import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDoubleSpinBox,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QTextEdit,
)

from explorer.engine.generation import generate
from explorer.core.generation_params import GenerationParams
from explorer.core.jobs import run_to_end
from explorer.qt.shell.controller import ExplorerController
from explorer.qt.tabs.generate.tab import GenerationTab, step_html

WAIT_MS = 15000
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def window(window):
    """The shared window, on the Generate tab."""
    window.tabs.setCurrentWidget(window.generation)
    return window


def set_params(tab, **kw) -> None:
    tab.seed_text.setText(kw.get("seed_text", "The cat"))
    tab.length.setValue(kw.get("length", 5))
    tab.batch_size.setValue(kw.get("batch_size", 3))
    tab.max_iter.setValue(kw.get("max_iter", 20))
    tab.rng_seed.setValue(kw.get("seed", 3))
    tab.strategy.setCurrentText(kw.get("strategy", "parallel-sequential"))
    tab.temperature.setValue(kw.get("temperature", 1.0))


def test_named_widgets_exist(window):
    tab = window.findChild(GenerationTab, "generationTab")
    assert tab is window.generation
    assert isinstance(tab.findChild(QLineEdit, "seedTextEdit"), QLineEdit)
    for name in ("temperatureSpin", "temperatureDecaySpin"):
        assert isinstance(tab.findChild(QDoubleSpinBox, name), QDoubleSpinBox)
    for name in ("genTopKSpin", "maxIterSpin", "genLengthSpin", "batchSizeSpin", "burnInSpin", "rngSeedSpin"):
        assert isinstance(tab.findChild(QSpinBox, name), QSpinBox)
    assert [tab.strategy.itemText(i) for i in range(tab.strategy.count())] == ["parallel-sequential", "sequential", "parallel"]
    assert isinstance(tab.findChild(QComboBox, "strategySelector"), QComboBox)
    for name in ("generateButton", "stopButton", "copySamplesButton", "saveSamplesButton"):
        assert isinstance(tab.findChild(QPushButton, name), QPushButton)
    assert isinstance(tab.findChild(QTextEdit, "generationOutput"), QTextEdit)
    assert isinstance(tab.findChild(QListWidget, "generationSamples"), QListWidget)
    assert window.tabs.tabText(window.tabs.indexOf(tab)) == "Generate"
    # The model's length limit (64 for the tiny model) less [CLS] and [SEP].
    assert tab.length.maximum() == 62


def test_generate_fills_the_view_and_lists_the_samples(qtbot, window, bert):
    tab = window.generation
    set_params(tab, batch_size=4, max_iter=12, length=5)
    steps: list = []
    window.generation.jobProgress.connect(steps.append)
    with qtbot.waitSignal(window.generation.jobFinished, timeout=WAIT_MS):
        qtbot.mouseClick(tab.generate_button, LEFT)
    assert len(steps) == 12
    # Exactly what the engine gives for these parameters (same seed, same device).
    expected = run_engine(bert, tab.params())
    assert tab.sample_texts() == list(expected.samples)
    assert tab.samples.count() == 4
    assert [tab.samples.item(i).text() for i in range(4)] == [f"{i + 1}. {t}" for i, t in enumerate(expected.samples)]
    out = tab.output.toPlainText()
    # The lab's lines: iteration 1, then one per sweep of 5 positions, then the summary.
    assert [line.split()[1] for line in out.splitlines() if line.startswith("iter")] == ["1", "5", "10", "12"]
    assert "iter 12" in out and expected.samples[0] in out
    assert "done: 12 iterations" in out.splitlines()[-1]
    assert "12 iterations" in tab.samples_label.text()
    assert tab.generate_button.isEnabled() and not tab.stop_button.isEnabled()
    assert tab.copy_button.isEnabled() and tab.save_button.isEnabled()


def run_engine(lm, params):
    return run_to_end(generate(lm, params))


def test_stop_keeps_the_partial_samples_and_fill_mask_stays_live(qtbot, window):
    tab = window.generation
    set_params(tab, max_iter=1_000_000, batch_size=2)
    with qtbot.waitSignal(window.generation.jobProgress, timeout=WAIT_MS):
        tab.generate_button.click()
    assert tab.running and not tab.generate_button.isEnabled() and tab.stop_button.isEnabled()
    # Typing in the editor is served between generation steps.
    with qtbot.waitSignal(window.predictions.answered, timeout=WAIT_MS, check_params_cb=lambda r: r.text == "A [MASK] here."):
        window.editor.setPlainText("A [MASK] here.")
        window.editor.settle()
    assert tab.running
    with qtbot.waitSignal(window.generation.jobCancelled, timeout=WAIT_MS):
        qtbot.mouseClick(tab.stop_button, LEFT)
    assert not tab.running and tab.generate_button.isEnabled()
    last = tab.last_step
    assert tab.result.stopped and tab.result.iterations == last.iteration < 1_000_000
    assert tab.result.model == window.controller.main.info.name
    assert tab.sample_texts() == list(last.texts) and tab.samples.count() == 2
    assert f"stopped at iteration {last.iteration}" in tab.output.toPlainText()


def test_copy_and_save(qtbot, window, tmp_path):
    tab = window.generation
    set_params(tab, batch_size=3, max_iter=6)
    with qtbot.waitSignal(window.generation.jobFinished, timeout=WAIT_MS):
        tab.generate_button.click()
    samples = tab.sample_texts()
    tab.copy_button.click()
    assert QApplication.clipboard().text() == "\n".join(samples)
    tab.save_samples(tmp_path / "s.txt")
    assert (tmp_path / "s.txt").read_text(encoding="utf-8").splitlines() == samples
    tab.save_samples(tmp_path / "s.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in rows] == samples and [r["index"] for r in rows] == [0, 1, 2]
    assert rows[0]["params"]["batch_size"] == 3 and rows[0]["model"] == tab.result.model


def test_engine_errors_show_in_the_tab(qtbot, window):
    tab = window.generation
    set_params(tab, seed_text="the cat " * 40)  # longer than the tiny model reads
    with qtbot.waitSignal(window.generation.jobFailed, timeout=WAIT_MS):
        tab.generate_button.click()
    assert tab.message.isVisible() and "shorten the seed text" in tab.message.text()
    assert tab.generate_button.isEnabled() and tab.samples.count() == 0


def test_generate_waits_for_a_model(qtbot):
    controller = ExplorerController(lambda: object())
    tab = GenerationTab(controller.main)
    qtbot.addWidget(tab)
    assert not tab.generate_button.isEnabled() and not tab.stop_button.isEnabled()
    assert not tab.copy_button.isEnabled()


def test_live_line_highlights_the_sampled_token(bert):
    steps = generate(bert, GenerationParams(seed_text="The cat", length=3, batch_size=1, max_iter=3, strategy="sequential"))
    first = next(steps)
    steps.close()
    line = step_html(first)
    assert line.startswith('<span style="color: #777777')  # "iter 1 (temp 1.00)"
    assert "iter 1" in line and "(temp 1.00)" in line
    new_piece = html.escape(first.pieces[0][first.positions[0]])
    assert f'<span style="background-color: #ffd866; font-weight: 600;">{new_piece}</span>' in line
    assert line.count("[MASK]") == 2  # the two positions not reached yet, greyed


def test_save_defaults_to_documents_with_a_name_that_says_the_view(qtbot, window, save_dialog):
    documents, offered = save_dialog
    tab = window.generation
    set_params(tab, max_iter=2)
    with qtbot.waitSignal(window.generation.jobFinished, timeout=WAIT_MS):
        tab.generate_button.click()
    tab.save_button.click()
    assert offered == [str(documents / "generated_samples.txt")]
