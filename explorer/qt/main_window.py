"""The main window: composes the panels and wires them to the controller. Computes nothing."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from explorer import DEFAULT_MODEL
from explorer.qt.attention_view import AttentionView
from explorer.qt.banners import DemoBanner, ErrorBanner
from explorer.qt.controller import ExplorerController
from explorer.qt.fill_mask_panel import FillMaskPanel
from explorer.qt.finetune_tab import FinetuneTab
from explorer.qt.generation_tab import GenerationTab
from explorer.qt.lama_tab import LamaTab
from explorer.qt.mlm_tab import MlmTab
from explorer.qt.model_bar import ModelBar
from explorer.qt.resources import app_icon
from explorer.qt.sentence_editor import SentenceEditor
from explorer.qt.token_strip import TokenStrip

START_TEXT = "Nice to [MASK] you."


class MainWindow(QMainWindow):
    def __init__(self, controller: ExplorerController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle("BERT Explorer")
        self.setWindowIcon(app_icon())
        self._fit_to_screen()
        self.controller = controller
        self._wanted_model = ""  # the last model asked for other than the demo: Download offers it

        self.model_bar = ModelBar(self)
        toolbar = QToolBar("Model", self)
        toolbar.setObjectName("modelToolbar")
        toolbar.setMovable(False)
        toolbar.addWidget(self.model_bar)
        self.addToolBar(toolbar)

        self.banner = ErrorBanner(self)
        self.demo_banner = DemoBanner(self)
        self.editor = SentenceEditor(self)
        self.insert_mask_button = QPushButton("Insert mask", self)
        self.insert_mask_button.setObjectName("insertMaskButton")
        self.insert_mask_button.setToolTip("Insert the model's mask token at the cursor (Ctrl+M)")
        self.top_k = QSpinBox(self)
        self.top_k.setObjectName("topKSpin")
        self.top_k.setAccessibleName("Guesses per mask")
        self.top_k.setRange(1, 50)
        self.top_k.setValue(10)
        self.top_k.setPrefix("top ")
        self.tokens = TokenStrip(self)
        self.fill_mask = FillMaskPanel(self)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("tabs")
        self.tabs.addTab(self.fill_mask, "Predictions")
        self.attention = AttentionView(self)
        self.tabs.addTab(self.attention, "Attention")
        self.mlm = MlmTab(self.controller, self)
        self.tabs.addTab(self.mlm, "MLM lab")
        self.generation = GenerationTab(self.controller, self)
        self.tabs.addTab(self.generation, "Generate")
        self.finetune = FinetuneTab(self.controller, self)
        self.tabs.addTab(self.finetune, "Fine-tune")
        self.lama = LamaTab(self.controller, self)
        self.tabs.addTab(self.lama, "LAMA")

        sentence = QWidget(self)
        sentence_layout = QVBoxLayout(sentence)
        sentence_layout.setContentsMargins(0, 0, 0, 0)
        editor_row = QHBoxLayout()
        editor_row.addWidget(self.editor, 1)
        side = QVBoxLayout()
        side.addWidget(self.insert_mask_button)
        side.addWidget(self.top_k)
        side.addStretch(1)
        editor_row.addLayout(side)
        sentence_layout.addLayout(editor_row)
        sentence_layout.addWidget(self.tokens)
        # The heatmaps want height; a splitter lets a person trade it against the editor.
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.setObjectName("mainSplitter")
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(sentence)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.addWidget(self.banner)
        layout.addWidget(self.demo_banner)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)
        self._build_status_bar()
        self._wire()
        self.editor.setPlainText(START_TEXT)

    def _fit_to_screen(self) -> None:
        screen = self.screen().availableGeometry() if self.screen() else None
        width, height = 1280, 900
        if screen is not None and screen.width() > 0:
            width = min(width, int(screen.width() * 0.92))
            height = min(height, int(screen.height() * 0.92))
        self.resize(width, height)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.status_model = QLabel("no model", self)
        self.status_model.setObjectName("statusModel")
        self.status_device = QLabel("", self)
        self.status_device.setObjectName("statusDevice")
        self.status_dtype = QLabel("", self)
        self.status_dtype.setObjectName("statusDtype")
        self.status_load = QLabel("starting", self)
        self.status_load.setObjectName("statusLoad")
        self.load_progress = QProgressBar(self)
        self.load_progress.setObjectName("loadProgress")
        self.load_progress.setMaximumWidth(160)
        self.load_progress.hide()
        for w in (self.status_load, self.load_progress):
            bar.addWidget(w)
        for w in (self.status_model, self.status_device, self.status_dtype):
            bar.addPermanentWidget(w)

    def _wire(self) -> None:
        c = self.controller
        self.model_bar.loadRequested.connect(self.load_model)
        self.banner.open_folder.clicked.connect(self.model_bar.open_folder)
        self.demo_banner.openFolderRequested.connect(self.model_bar.open_folder)
        self.demo_banner.downloadRequested.connect(self._ask_download)
        self.editor.textSettled.connect(self._request_predictions)
        self.editor.textSettled.connect(self.attention.set_text)
        self.editor.textSettled.connect(self.finetune.set_sentence)
        self.finetune.useModel.connect(self.load_model)
        self.attention.requestAttention.connect(c.request_attention)
        self.lama.showInAttention.connect(self.attention.set_text)
        self.lama.openInEditor.connect(self.editor.setPlainText)
        c.attentionReady.connect(self.attention.set_result)
        c.attentionFailed.connect(self.attention.show_error)
        self.top_k.valueChanged.connect(lambda _k: self.editor.settle())
        self.insert_mask_button.clicked.connect(self.editor.insert_mask)
        QShortcut(QKeySequence("Ctrl+M"), self, activated=self.editor.insert_mask)
        self.fill_mask.candidateChosen.connect(self._write_candidate)
        self.tokens.tokenClicked.connect(self._mask_token)
        c.devicesFound.connect(self.model_bar.set_devices)
        c.modelLoading.connect(self._on_loading)
        c.modelProgress.connect(self._on_load_progress)
        c.modelLoaded.connect(self._on_loaded)
        c.modelFailed.connect(self._on_load_failed)
        c.fillMaskReady.connect(self._on_fill_mask)
        c.fillMaskFailed.connect(self.fill_mask.show_error)
        c.busyChanged.connect(self._on_busy)

    # --- actions ----------------------------------------------------------------------
    def load_model(self, name: str, device: str = "auto", dtype: str = "auto", *, fallback: bool = False) -> None:
        """Load `name`; with fallback (at start-up), the demo model if `name` cannot be had."""
        self.model_bar.set_model_name(name, device, dtype)
        self.controller.load_model(name, device, dtype, fallback=fallback)

    def _ask_download(self) -> None:
        """Loading a hub model downloads it into the cache, with progress in the status bar."""
        name, ok = QInputDialog.getText(
            self, "Download a model", "Hugging Face hub id (needs a network; it is kept in the local cache):",
            text=self._wanted_model or DEFAULT_MODEL,
        )
        if ok and name.strip():
            self.load_model(name.strip(), self.model_bar.device_selector.currentText(), self.model_bar.dtype_selector.currentText())

    def _request_predictions(self, text: str) -> None:
        self.controller.request_fill_mask(text, self.top_k.value())

    def _current_result(self) -> Any:
        result = self.fill_mask.result
        # Offsets belong to the text they were computed for; never apply them to another.
        return result if result is not None and result.text == self.editor.toPlainText() else None

    def _write_candidate(self, ordinal: int, candidate: Any) -> None:
        result = self._current_result()
        if result is None or ordinal >= len(result.masks):
            return
        mask = result.masks[ordinal]
        self.editor.replace_span(mask.char_start, mask.char_end, candidate.text, glue_left=candidate.continues_word)

    def _mask_token(self, index: int) -> None:
        result = self._current_result()
        if result is None:
            return
        start, end = result.tokenization.offsets[index]
        if end > start:
            self.editor.replace_span(start, end, self.editor.mask_token)

    # --- answers ----------------------------------------------------------------------
    def _on_loading(self, name: str) -> None:
        if name != "demo":
            self._wanted_model = name
        self.status_load.setText(f"loading {name}…")
        if self.controller.model_info is None:
            self.fill_mask.show_message(f"Loading {name}… the guesses appear once it is ready.")
        self.load_progress.setRange(0, 0)
        self.load_progress.show()

    def _on_load_progress(self, step: Any) -> None:
        self.status_load.setText(step.message)
        if step.total:
            self.load_progress.setRange(0, 1000)
            self.load_progress.setValue(int(1000 * step.done / step.total))
        else:
            self.load_progress.setRange(0, 0)

    def _on_loaded(self, info: Any) -> None:
        self.load_progress.hide()
        self.banner.hide()
        self.demo_banner.show_for(info)
        if info.is_demo:
            self.model_bar.show_model(info.name)
        self.status_load.setText("ready")
        self.status_model.setText(f"{info.name}  ({info.num_layers} layers × {info.num_heads} heads)")
        self.status_device.setText(info.device)
        self.status_dtype.setText(info.dtype)
        self.editor.set_mask_token(info.mask_token)
        self.attention.invalidate()
        self.editor.settle()

    def _on_load_failed(self, message: str) -> None:
        self.load_progress.hide()
        info = self.controller.model_info
        self.status_load.setText("load failed" if info is None else f"load failed; still using {info.name}")
        if info is None:
            self.fill_mask.show_message("No model is loaded: pick one above, or open a model folder.")
        self.banner.show_error(message, offer_folder=True)
        if info is not None:
            self.model_bar.show_model(info.name)  # what is in use
        self.model_bar.forget_last()

    def _on_fill_mask(self, result: Any) -> None:
        self.fill_mask.set_result(result)
        self.tokens.set_tokenization(result.tokenization, self.editor.mask_token)

    def _on_busy(self, kind: str, busy: bool) -> None:
        if kind == "fill_mask":
            self.fill_mask.set_busy(busy)
        elif kind == "attention":
            self.attention.set_busy(busy)

    def closeEvent(self, event: QCloseEvent) -> None:
        # Hide first: a step that cannot be interrupted (weights loading) may hold the
        # bounded wait below for up to 2 s, and the window should not hang there meanwhile.
        self.hide()
        self.controller.shutdown()
        super().closeEvent(event)
