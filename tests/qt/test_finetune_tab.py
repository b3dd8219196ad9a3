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
    window.tabs.setCurrentWidget(tab)
    # No empty axes before there is a loss to draw: a line says where it will be.
    assert not tab.canvas.isVisible() and tab.curve_note.isVisible()
    with qtbot.waitSignal(tab.jobFinished, timeout=WAIT_MS) as done:
        tab.start.click()
    result = done.args[0]
    assert tab.canvas.isVisible() and not tab.curve_note.isVisible()
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

    # Compare opens the adapted model beside the one in use, and shows the predictions.
    with qtbot.waitSignal(window.controller.compare.loaded, timeout=WAIT_MS) as compared:
        tab.compare.click()
    assert compared.args[0].source == str((tmp_path / "adapted").resolve())
    assert window.tabs.currentWidget() is window.predictions
    assert window.controller.main.info.source != compared.args[0].source

    with qtbot.waitSignal(window.controller.main.loaded, timeout=WAIT_MS) as loaded:
        tab.use.click()
    assert loaded.args[0].source == str((tmp_path / "adapted").resolve())


def test_stop_keeps_nothing_and_says_so(qtbot, window, tmp_path):
    tab = window.finetune
    tab.max_steps.setValue(100000)
    steps = []
    window.finetune.jobProgress.connect(steps.append)
    tab.start.click()
    qtbot.waitUntil(lambda: any(s.phase == "train" and s.done >= 3 for s in steps), timeout=WAIT_MS)
    with qtbot.waitSignal(window.finetune.jobCancelled, timeout=WAIT_MS):
        tab.job.stop.click()
    assert "nothing was saved" in tab.message.text()
    assert not (tmp_path / "adapted").exists()
    assert tab.start.isEnabled()


def test_bad_input_is_explained_before_training(qtbot, window, tmp_path, monkeypatch):
    tab = window.finetune
    tab.corpus.setText(str(tmp_path / "missing.txt"))
    tab.out.setText(str(tmp_path / "adapted"))
    started: list = []
    monkeypatch.setattr(window.controller, "run_job", lambda *a, **k: started.append(a))
    tab.start.click()  # checked in the tab, as the CLI checks: no job starts
    assert "does not exist" in tab.message.text()
    assert tab.start.isEnabled() and not started
    tab.corpus.setText("")
    tab.start.click()
    assert "Choose a corpus file" in tab.message.text()


# --- issue 21: stale displays, switching model mid-run, the overwrite rule ---------------------

def start_and_wait_for_training(qtbot, window) -> list:
    """Start a long run; return once it trains (its perplexity before is measured by then)."""
    steps: list = []
    window.finetune.jobProgress.connect(steps.append)
    window.finetune.max_steps.setValue(100000)
    window.finetune.start.click()
    qtbot.waitUntil(lambda: any(s.phase == "train" and s.done >= 2 for s in steps), timeout=WAIT_MS)
    return steps


def test_after_stop_the_perplexity_says_it_was_not_measured(qtbot, window):
    tab = window.finetune
    start_and_wait_for_training(qtbot, window)
    assert "training…" in tab.perplexity.text()
    with qtbot.waitSignal(window.finetune.jobCancelled, timeout=WAIT_MS):
        tab.job.stop.click()
    assert "training…" not in tab.perplexity.text()
    assert "after: stopped, not measured" in tab.perplexity.text()


def test_switching_model_while_training_asks_and_stop_and_switch_says_what_happened(qtbot, window, model_dirs, monkeypatch):
    from explorer.qt.widgets import dialogs

    tab = window.finetune
    start_and_wait_for_training(qtbot, window)
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "confirm", lambda _parent, _title, text, *_a, **_k: asked.append(text) or False)
    loads: list[str] = []
    window.controller.main.loading.connect(loads.append)
    window.model_bar.loadRequested.emit(str(model_dirs["distilbert"]), "auto", "auto")
    assert len(asked) == 1 and "Fine-tuning" in asked[0]
    # Keep running: nothing is loaded and the model box shows the model in use again.
    assert loads == [] and tab.job.running
    assert window.model_bar.model_selector.currentText() == window.controller.main.info.name
    monkeypatch.setattr(dialogs, "confirm", lambda *_a, **_k: True)
    with qtbot.waitSignal(window.controller.main.loaded, timeout=WAIT_MS) as loaded:
        window.model_bar.loadRequested.emit(str(model_dirs["distilbert"]), "auto", "auto")
    assert loaded.args[0].source == str(model_dirs["distilbert"].resolve())
    assert "nothing was saved" in tab.message.text() and "not measured" in tab.perplexity.text()
    assert not tab.job.running and tab.start.isEnabled()


# The overwrite rule is the CLI's (explorer.core.owned.replace_refusal), applied before the run.

@pytest.fixture
def no_training(window, monkeypatch):
    """Record the jobs the tab would start instead of starting them (a handle never answered)."""
    from explorer.qt.shell.controller import Job

    started: list[str] = []

    def run_job(_call, *, label="", **_kw):
        started.append(label)
        return Job(window.controller, -1, label=label)

    monkeypatch.setattr(window.controller, "run_job", run_job)
    return started


def test_a_folder_that_is_not_a_model_folder_is_never_replaced(qtbot, window, tmp_path, no_training):
    tab = window.finetune
    mine = tmp_path / "my documents"
    mine.mkdir()
    (mine / "thesis.txt").write_text("years of work")
    tab.out.setText(str(mine))
    tab.overwrite.setChecked(True)
    tab.start.click()
    assert no_training == []
    assert "never replaced" in tab.message.text() and "b00020" in tab.message.styleSheet()
    assert (mine / "thesis.txt").read_text() == "years of work"


def test_the_folder_holding_the_corpus_is_never_replaced(qtbot, window, tmp_path, no_training):
    tab = window.finetune
    tab.out.setText(str(tmp_path))  # holds corpus.txt
    tab.overwrite.setChecked(True)
    tab.start.click()
    assert no_training == [] and "corpus.txt" in tab.message.text()


def test_replacing_a_model_folder_asks_first(qtbot, window, tmp_path, no_training, monkeypatch):
    from explorer.qt.widgets import dialogs

    tab = window.finetune
    saved = tmp_path / "adapted"
    saved.mkdir()
    (saved / "config.json").write_text('{"model_type": "bert"}')
    (saved / "model.safetensors").write_bytes(b"weights")
    (saved / CARD).write_text("{}")
    answers = [False, True]
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "confirm", lambda _p, _t, text, *_a, **_k: asked.append(text) or answers.pop(0))
    # Not checked: said before anything starts.
    tab.start.click()
    assert no_training == [] and asked == []
    assert "replace what is there" in tab.message.text()
    tab.overwrite.setChecked(True)
    tab.start.click()  # asked, and the answer is no
    assert no_training == [] and len(asked) == 1 and str(saved) in asked[0]
    assert "Not started" in tab.message.text()
    tab.start.click()  # asked, and the answer is yes
    assert no_training == ["Fine-tuning"] and len(asked) == 2


def test_a_new_or_empty_folder_starts_without_asking(qtbot, window, tmp_path, no_training, monkeypatch):
    from explorer.qt.widgets import dialogs

    monkeypatch.setattr(dialogs, "confirm", lambda *_a, **_k: pytest.fail("asked about a new folder"))
    window.finetune.start.click()
    (tmp_path / "empty").mkdir()
    window.finetune.out.setText(str(tmp_path / "empty"))
    window.finetune.start_training()  # the button waits for the run that never started
    assert no_training == ["Fine-tuning", "Fine-tuning"]
