"""The fine-tune tab: train a tiny model, watch the curve, use it, compare, stop."""

from __future__ import annotations

import pytest

from explorer.engine.finetune import CARD

WAIT_MS = 60000


@pytest.fixture
def window(window, tmp_path):
    """The shared window, on the Fine-tune tab with a corpus and an output folder filled in."""
    w = window
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(["the cat sat on the mat . the dog sat on the mat ."] * 100))
    tab = w.finetune
    w.tabs.setCurrentWidget(tab)
    tab.corpus.setText(str(corpus))
    tab.out.setText(str(tmp_path / "adapted"))
    tab.chunk_size.setValue(32)
    tab.lr.setValue(0.001)
    return w


def test_training_draws_the_curve_and_reports_perplexity(qtbot, window, tmp_path):
    tab = window.finetune
    tab.max_steps.setValue(20)
    with qtbot.waitSignal(window.controller.jobFinished, timeout=WAIT_MS, check_params_cb=lambda k, r: k == "finetune") as done:
        tab.start.click()
    result = done.args[1]
    assert tab.curve.steps == list(range(1, 21))
    assert tab.curve.losses == pytest.approx(list(result.losses))
    assert list(tab.curve.loss_line.get_xdata()) == list(range(1, 21))
    assert f"{result.perplexity_before:.2f}" in tab.perplexity.text()
    assert f"{result.perplexity_after:.2f}" in tab.perplexity.text()
    assert result.perplexity_after < result.perplexity_before
    assert (tmp_path / "adapted" / CARD).is_file()
    # The corpus repeats one line, so the tab says its perplexity is partly memory.
    assert "Saved to" in tab.message.text() and result.warnings and result.warnings[0] in tab.message.text()
    assert tab.use.isEnabled() and tab.compare.isEnabled()

    window.editor.setPlainText("the cat sat on the [MASK] .")
    window.editor.settle()
    with qtbot.waitSignal(window.controller.jobFinished, timeout=WAIT_MS, check_params_cb=lambda k, r: k == "compare"):
        tab.compare.click()
    assert len(tab.compare_base.visible_candidates()) == 1 and len(tab.compare_adapted.visible_candidates()) == 1
    assert tab.compare_base.visible_candidates() != tab.compare_adapted.visible_candidates()

    with qtbot.waitSignal(window.controller.modelLoaded, timeout=WAIT_MS) as loaded:
        tab.use.click()
    assert loaded.args[0].source == str((tmp_path / "adapted").resolve())


def test_stop_keeps_nothing_and_says_so(qtbot, window, tmp_path):
    tab = window.finetune
    tab.max_steps.setValue(100000)
    steps = []
    window.controller.jobProgress.connect(lambda kind, step: steps.append(step) if kind == "finetune" else None)
    tab.start.click()
    qtbot.waitUntil(lambda: any(s.phase == "train" and s.done >= 3 for s in steps), timeout=WAIT_MS)
    with qtbot.waitSignal(window.controller.jobCancelled, timeout=WAIT_MS):
        tab.job.stop.click()
    assert "nothing was saved" in tab.message.text()
    assert not (tmp_path / "adapted").exists()
    assert tab.start.isEnabled()


def test_bad_input_is_explained_before_training(qtbot, window, tmp_path):
    tab = window.finetune
    tab.corpus.setText(str(tmp_path / "missing.txt"))
    with qtbot.waitSignal(window.controller.jobFailed, timeout=WAIT_MS):
        tab.start.click()
    assert "does not exist" in tab.message.text()
    tab.corpus.setText("")
    tab.start.click()
    assert "Choose a corpus file" in tab.message.text()
