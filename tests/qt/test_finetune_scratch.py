"""The Fine-tune tab from scratch: tick it, choose lab 000's toy size, train, use the new model."""

from __future__ import annotations

import json

from explorer.core.finetune_params import SCRATCH_LR, SIZES

WAIT_MS = 60000
LINES = [f"the {a} sat on the {b} ." for a in ("cat", "dog", "bird", "fish") for b in ("mat", "rug", "log")] * 30


def test_the_size_controls_show_only_from_scratch_and_follow_the_preset(qtbot, window):
    tab = window.finetune
    window.tabs.setCurrentWidget(tab)
    boxes = [tab.layers, tab.hidden, tab.heads, tab.intermediate, tab.new_vocab]
    assert [b.objectName() for b in boxes] == [
        "scratchLayers", "scratchHidden", "scratchHeads", "scratchIntermediate", "scratchNewVocab"]
    assert tab.from_scratch.objectName() == "finetuneFromScratch" and tab.preset.objectName() == "scratchPreset"
    assert not any(b.isVisible() for b in boxes) and not tab.preset.isEnabled()
    assert tab.params().from_scratch is False and tab.params().hidden is None  # fine-tuning: no sizes
    tab.from_scratch.setChecked(True)
    assert all(b.isVisible() for b in boxes) and tab.preset.isEnabled()
    assert tab.lr.value() == SCRATCH_LR  # a new model's learning rate
    tab.preset.setCurrentText("toy")
    toy = SIZES["toy"]
    assert (tab.layers.value(), tab.hidden.value(), tab.heads.value(), tab.intermediate.value()) == (
        toy.layers, toy.hidden, toy.heads, toy.intermediate)
    p = tab.params()
    assert p.from_scratch and p.size == "toy" and p.model_size() == toy and p.new_vocab is None
    tab.new_vocab.setValue(500)
    assert tab.params().new_vocab == 500
    tab.from_scratch.setChecked(False)
    assert not any(b.isVisible() for b in boxes) and tab.lr.value() == 5e-5


def test_bad_sizes_are_explained_before_training(qtbot, window, tmp_path, monkeypatch):
    tab = window.finetune
    (tmp_path / "c.txt").write_text("\n".join(LINES))
    tab.corpus.setText(str(tmp_path / "c.txt"))
    tab.out.setText(str(tmp_path / "new"))
    started: list = []
    monkeypatch.setattr(window.controller, "run_job", lambda *a, **k: started.append(a))
    tab.from_scratch.setChecked(True)
    tab.hidden.setValue(30)
    tab.heads.setValue(4)
    tab.start.click()
    assert "not a multiple of the 4 attention heads" in tab.message.text() and not started


def test_train_the_toy_model_from_scratch_and_use_it(qtbot, window, tmp_path):
    tab = window.finetune
    window.tabs.setCurrentWidget(tab)
    (tmp_path / "c.txt").write_text("\n".join(LINES))
    tab.corpus.setText(str(tmp_path / "c.txt"))
    out = tmp_path / "new"
    tab.out.setText(str(out))
    tab.from_scratch.setChecked(True)
    tab.preset.setCurrentText("toy")
    tab.new_vocab.setValue(100)
    tab.chunk_size.setValue(16)
    tab.max_steps.setValue(30)
    tab.lr.setValue(0.003)
    steps: list = []
    tab.jobProgress.connect(steps.append)
    with qtbot.waitSignal(tab.jobFinished, timeout=WAIT_MS) as done:
        tab.start.click()
    result = done.args[0]
    assert any("training a vocabulary" in s.message for s in steps)
    assert result.scratch["hidden"] == 8 and result.scratch["layers"] == 4 and result.scratch["new_vocabulary"]
    assert result.perplexity_after < result.perplexity_before
    assert f"{result.perplexity_before:.2f}" in tab.perplexity.text()
    assert tab.curve.steps == list(range(1, 31))
    config = json.loads((out / "config.json").read_text())
    assert (config["hidden_size"], config["num_hidden_layers"], config["num_attention_heads"]) == (8, 4, 2)
    assert tab.use.isEnabled()
    with qtbot.waitSignal(window.controller.main.loaded, timeout=WAIT_MS) as loaded:
        tab.use.click()
    assert loaded.args[0].source == str(out.resolve())
