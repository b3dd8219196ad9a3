"""Start-up with no network and no cached model: the window opens on the bundled demo model."""

from __future__ import annotations

import huggingface_hub
import pytest
from PySide6.QtWidgets import QInputDialog

from explorer.engine.fill_mask import fill_mask
from explorer.qt.shell.app import create_window


@pytest.fixture
def no_hub(tmp_path, monkeypatch, demo_lm):
    """The hub unreachable (nothing listens where it should be), the default model not cached,
    and no offline setting: the app has to find out for itself, quickly."""
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    return demo_lm


@pytest.fixture
def started(qtbot, no_hub):
    """The window as `bert-explorer` opens it (default model), shown; closed afterwards."""
    w = create_window()
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()
    assert w.controller.thread.wait(2000)


def test_banner_and_demo_predictions_within_5_seconds(qtbot, no_hub, started):
    demo_lm, w = no_hub, started
    # The demo model is assembled already (the fixture): this is the start a person sees
    # from the second start on, the default model failing and the demo loading.
    qtbot.waitUntil(lambda: w.fill_mask.result is not None, timeout=5000)
    assert w.demo_banner.isVisible() and not w.banner.isVisible()
    text = w.demo_banner.label.text()
    assert "demo model" in text.lower() and "bert-base-cased" in text and "not BERT" in text
    assert w.demo_banner.open_folder.isVisible() and w.demo_banner.download.isVisible()
    assert w.controller.main.info.is_demo
    assert w.model_bar.model_selector.currentText() == "demo"
    assert w.status_model.text().startswith("demo")
    expected = fill_mask(demo_lm, w.editor.toPlainText(), w.top_k.value())
    shown = [c.token for c in w.fill_mask.result.masks[0].candidates]
    assert shown == [c.token for c in expected.masks[0].candidates]


def test_download_offline_explains_and_keeps_the_demo(qtbot, started, monkeypatch):
    w = started
    qtbot.waitUntil(lambda: w.controller.main.info is not None, timeout=15000)
    asked = []

    def answer(parent, title, label, text=""):
        asked.append(text)
        return "bert-base-cased", True

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(answer))
    with qtbot.waitSignal(w.controller.main.failed, timeout=15000):
        w.demo_banner.download.click()
    assert asked == ["bert-base-cased"]  # offered the model that could not be had
    assert w.banner.isVisible() and "Cannot reach the Hugging Face hub" in w.banner.label.text()
    assert w.controller.main.info.is_demo  # still working on the demo model
    assert w.status_load.text() == "load failed; still using demo"
    assert w.model_bar.model_selector.currentText() == "demo"


def test_choosing_a_real_model_hides_the_demo_banner(qtbot, started, bert_dir):
    w = started
    qtbot.waitUntil(lambda: w.demo_banner.isVisible(), timeout=15000)
    with qtbot.waitSignal(w.controller.main.loaded, timeout=15000):
        w.load_model(str(bert_dir))
    assert not w.demo_banner.isVisible()


def test_a_model_named_on_purpose_is_not_swapped_for_the_demo(qtbot, no_hub):
    w = create_window("bert-base-cased")  # as `bert-explorer gui --model bert-base-cased`
    qtbot.addWidget(w)
    w.show()
    try:
        qtbot.waitUntil(lambda: w.banner.isVisible(), timeout=15000)
        assert "Cannot reach the Hugging Face hub" in w.banner.label.text()
        assert w.controller.main.info is None and not w.demo_banner.isVisible()
    finally:
        w.close()
        assert w.controller.thread.wait(2000)
