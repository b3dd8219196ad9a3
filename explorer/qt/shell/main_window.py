"""The main window: composes the panels and wires them to the controller. Computes nothing."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from explorer import DEFAULT_MODEL
from explorer.core.mask_modes import BIDIRECTIONAL
from explorer.core.precisions import AUTO, COST
from explorer.core.slots import MAIN
from explorer.qt.widgets import dialogs
from explorer.qt.tabs.attention.compare import AttentionTab
from explorer.qt.widgets.page_tabs import PageTabs
from explorer.qt.shell.banners import DemoBanner, ErrorBanner
from explorer.qt.shell.controller import ExplorerController
from explorer.qt.tabs.predictions.tab import PredictionsTab
from explorer.qt.tabs.internals.tab import InternalsTab
from explorer.qt.tabs.score.tab import ScoreTab
from explorer.qt.tabs.finetune.tab import FinetuneTab
from explorer.qt.tabs.generate.tab import GenerationTab
from explorer.qt.shell.inference import CAUSE_MODEL, CAUSE_SETTINGS
from explorer.qt.widgets.inputs import CappedSpinBox
from explorer.qt.tabs.lama.tab import LamaTab
from explorer.qt.tabs.mlm.tab import MlmTab
from explorer.qt.shell.menus import Menus
from explorer.qt.shell.model_bar import ModelBar
from explorer.qt.shell.presentation import Presentation
from explorer.qt.shell.remembered import Remembered, apply_session, capture_session
from explorer.qt.shell.shortcuts import keys
from explorer.qt.widgets.style import apply_zoom, font_scale, zoom_step
from explorer.qt.shell.resources import app_icon
from explorer.qt.widgets.sentence_editor import SentenceEditor
from explorer.qt.widgets.token_strip import TokenStrip

START_TEXT = "Nice to [MASK] you."
MAX_TOP_K = 50
DEFAULT_TOP_K = 10
READY = "ready"


def model_summary(info: Any) -> str:
    """The status bar's words for a model: its short name and its shape."""
    return f"{info.short_name}  ({info.num_layers} layers × {info.num_heads} heads)"


class MainWindow(QMainWindow):
    def __init__(self, controller: ExplorerController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle("BERT Explorer")
        self.setWindowIcon(app_icon())
        self._fit_to_screen()
        self.controller = controller
        self._wanted_model = ""  # the last model asked for other than the demo: Download offers it
        self._asked: tuple[str, str, str, bool] | None = None  # the last load: model, device, dtype, fallback
        self._show_predictions_when_compared = False  # compare_with(show_predictions=True) is loading
        self._loading = False
        self._idle_status = "starting"  # the status line when no job runs and nothing loads
        self._jobs: dict[int, str] = {}  # a running job's id -> what the status line says of it

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
        self.top_k = CappedSpinBox(self)
        self.top_k.setObjectName("topKSpin")
        self.top_k.setAccessibleName("Guesses per mask")
        self.top_k.setToolTip(f"Guesses per mask: 1 to {MAX_TOP_K}")
        self.top_k.setRange(1, MAX_TOP_K)
        self.top_k.setValue(DEFAULT_TOP_K)
        self.top_k.setPrefix("top ")
        self.top_k.setKeyboardTracking(False)  # typing 25 asks once for 25, not for 2 first
        self.tokens = TokenStrip(self)
        main = controller.main
        self.predictions = PredictionsTab(main, controller.compare, self)
        self.fill_mask = self.predictions.main  # the main model's guesses
        self.tabs = PageTabs(self)
        self.tabs.setObjectName("tabs")
        self.tabs.addTab(self.predictions, "Predictions")
        self.score = ScoreTab(main, controller.compare, self)
        self.tabs.addTab(self.score, "Score")
        self.attention_tab = AttentionTab(main, controller.compare, self)
        self.attention = self.attention_tab.main  # the main model's attention
        self.tabs.addTab(self.attention_tab, "Attention")
        self.internals = InternalsTab(main, self)  # lab 002: the forward pass by hand
        self.tabs.addTab(self.internals, "Internals")
        self.editor.textSettled.connect(self.internals.set_text)
        self.mlm = MlmTab(main, self, compare=controller.compare)
        self.tabs.addTab(self.mlm, "MLM lab")
        self.generation = GenerationTab(main, self)
        self.tabs.addTab(self.generation, "Generate")
        self.finetune = FinetuneTab(self.controller, self)
        self.tabs.addTab(self.finetune, "Fine-tune")
        self.lama = LamaTab(self.controller, main, self, compare=controller.compare)
        self.tabs.addTab(self.lama, "LAMA")

        sentence = QWidget(self)
        sentence_layout = QVBoxLayout(sentence)
        sentence_layout.setContentsMargins(0, 0, 0, 0)
        editor_row = QHBoxLayout()
        editor_row.addWidget(self.editor, 1)
        self.editor_side = QVBoxLayout()  # (the menus add the Recent button here)
        self.editor_side.addWidget(self.insert_mask_button)
        self.editor_side.addWidget(self.top_k)
        self.editor_side.addStretch(1)
        editor_row.addLayout(self.editor_side)
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
        self.remembered = Remembered()
        self._wire()
        self.presentation = Presentation(self)
        self.menus = Menus(self)
        self.editor.setPlainText(START_TEXT)
        self.editor.moveCursor(QTextCursor.MoveOperation.End)  # typing at once goes after the example, not into it
        # Typing goes into the sentence, not into the model box (where Enter would load it).
        self.editor.setFocus()

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
        self.status_compare = QLabel("", self)
        self.status_compare.setObjectName("statusCompare")
        self.status_compare.hide()
        for w in (self.status_load, self.load_progress):
            bar.addWidget(w)
        for w in (self.status_model, self.status_compare, self.status_device, self.status_dtype):
            bar.addPermanentWidget(w)

    def _wire(self) -> None:
        c = self.controller
        self.model_bar.loadRequested.connect(self.load_model)
        self.banner.open_folder.clicked.connect(self.model_bar.open_folder)
        self.banner.use_auto.clicked.connect(self._load_with_auto)
        self.demo_banner.openFolderRequested.connect(self.model_bar.open_folder)
        self.demo_banner.downloadRequested.connect(self.ask_download)
        self.editor.textSettled.connect(self._request_predictions)
        self.editor.textSettled.connect(self.remembered.remember_sentence)
        self.editor.textSettled.connect(self.attention_tab.set_text)
        self.finetune.useModel.connect(self._use_model)
        # The fine-tuned model beside its base: the predictions show it best, once it is open.
        self.finetune.compareRequested.connect(lambda folder: self.compare_with(folder, show_predictions=True))
        self.lama.showInAttention.connect(self.attention_tab.set_text)
        # The Attention tab's mask (lab 000): causal re-asks the guesses too, bidirectional restores them.
        self.attention_tab.maskChanged.connect(self.predictions.set_mask)
        self.lama.openInEditor.connect(self.editor.setPlainText)
        self.top_k.valueChanged.connect(lambda _k: self.editor.settle())
        self.top_k.capped.connect(
            lambda k: self.statusBar().showMessage(f"At most {k} guesses per mask: showing {k}.", 8000)
        )
        self.top_k.valueChanged.connect(self._forget_cap_note)
        self.insert_mask_button.clicked.connect(self.editor.insert_mask)
        for key in keys("insert_mask"):
            QShortcut(QKeySequence(key), self, activated=self.editor.insert_mask)
        self.predictions.candidateChosen.connect(self._write_candidate)
        self.predictions.fillingChosen.connect(self._write_filling)
        self.predictions.answered.connect(self._on_fill_mask)
        self.tokens.tokenClicked.connect(self._mask_token)
        c.devicesFound.connect(self.model_bar.set_devices)
        c.main.loading.connect(self._on_loading)
        c.main.progress.connect(self._on_load_progress)
        c.main.loaded.connect(self._on_loaded)
        c.main.failed.connect(self._on_load_failed)
        c.jobStarted.connect(self._follow_job)
        self.model_bar.compareRequested.connect(self.compare_with)
        c.compare.loading.connect(self._on_compare_loading)
        c.compare.loaded.connect(self._on_compare_loaded)
        c.compare.failed.connect(self._on_compare_failed)
        c.compare.closed.connect(self._on_compare_closed)

    # --- actions ----------------------------------------------------------------------
    def load_model(self, name: str, device: str = AUTO, dtype: str = AUTO, *, fallback: bool = False) -> None:
        """Load `name`; with fallback (at start-up), the demo model if `name` cannot be had.

        A job that runs on the model in use (LAMA, fine-tuning, generation) is stopped first,
        if the person agrees; if not, nothing changes."""
        if not self._may_stop_jobs_for(name):
            self.model_bar.show_in_use()
            return
        self._asked = (name, device, dtype, fallback)
        self.model_bar.set_model_name(name, device, dtype)
        self.controller.main.load(name, device, dtype, fallback=fallback)

    def compare_with(self, name: str, *, show_predictions: bool = False) -> None:
        """Open `name` beside the model in use (the compare slot), on the same device and
        precision; "" closes the compared model. Every tab has a compare mode, so the tab
        shown stays, unless show_predictions asks for the Predictions tab once it has loaded
        (never for a load that fails: its message belongs where the person is)."""
        compare = self.controller.compare
        self._show_predictions_when_compared = show_predictions and bool(name)
        if not name:
            compare.close()
            return
        self.model_bar.compare_shown(name)
        compare.load(name, *self._device_and_precision())

    def _use_model(self, folder: str) -> None:
        """A fine-tuned model opens on the device and in the precision of the one in use."""
        self.load_model(folder, *self._device_and_precision())

    def _device_and_precision(self) -> tuple[str, str]:
        """The device and precision last asked for (auto, auto before any)."""
        return (self._asked[1], self._asked[2]) if self._asked is not None else (AUTO, AUTO)

    def _on_compare_loading(self, name: str) -> None:
        self.status_load.setText(f"loading {name} to compare…")

    def _on_compare_loaded(self, info: Any) -> None:
        self.model_bar.compare_shown(info.name)
        self._show_status()
        self.status_compare.setText(f"compared with {model_summary(info)}")
        self.status_compare.setToolTip(info.name)
        self.status_compare.show()
        if self._show_predictions_when_compared:
            self._show_predictions_when_compared = False
            self.tabs.setCurrentWidget(self.predictions)

    def _on_compare_failed(self, message: str, _cause: str) -> None:
        self._show_predictions_when_compared = False
        compare = self.controller.compare
        self.model_bar.compare_shown(compare.info.name if compare.info is not None else "")
        self._show_status()
        self.banner.show_error(f"Could not open the model to compare with: {message}", offer_folder=False, offer_auto=False)

    def _on_compare_closed(self) -> None:
        self.model_bar.compare_shown("")
        self.status_compare.hide()

    def _may_stop_jobs_for(self, name: str) -> bool:
        running = [j for j in self.controller.jobs_in_flight() if j.slot == MAIN and j.stopping_loses]
        if not running:
            return True
        lines = [f"{self._jobs.get(j.request_id, j.label)} (when asked). {j.stopping_loses}" for j in running]
        text = "\n".join([
            f"Loading {name} has to wait until this is done:", "", *lines, "",
            "Stop it and switch now, or keep it running on the model in use?",
        ])
        if not dialogs.confirm(self, "Switch model?", text, "Stop and switch", "Keep running"):
            return False
        for job in running:
            job.cancel()
        return True

    def _load_with_auto(self) -> None:
        """The error banner's way out of a device or precision this machine does not run."""
        self.banner.hide()
        if self._asked is not None:
            self.load_model(self._asked[0], AUTO, AUTO, fallback=self._asked[3])

    def ask_download(self) -> None:
        """Loading a hub model downloads it into the cache, with progress in the status bar."""
        name, ok = QInputDialog.getText(
            self, "Download a model", "Hugging Face hub id (needs a network; it is kept in the local cache):",
            text=self._wanted_model or DEFAULT_MODEL,
        )
        if ok and name.strip():
            self.load_model(name.strip(), self.model_bar.device_selector.currentText(), self.model_bar.dtype_selector.currentText())

    def _request_predictions(self, text: str) -> None:
        self.predictions.ask(text, self.top_k.value())

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

    def _write_filling(self, result: Any, filling: Any) -> None:
        """A joint filling written over the sentence it was found for (one undoable edit)."""
        text = self.editor.toPlainText()
        if result.text == text:
            self.editor.replace_span(0, len(text), filling.text)

    def _mask_token(self, index: int) -> None:
        result = self._current_result()
        if result is None:
            return
        start, end = result.tokenization.offsets[index]
        if end > start:
            self.editor.replace_span(start, end, self.editor.mask_token)

    # --- answers ----------------------------------------------------------------------
    def _show_status(self) -> None:
        """A load's own progress, else the newest running job, else ready (or why not)."""
        if self._loading:
            return  # the load's progress messages hold the line
        running = list(self._jobs.values())
        self.status_load.setText(running[-1] if running else self._idle_status)

    def _on_loading(self, name: str) -> None:
        if name != "demo":
            self._wanted_model = name
        self._loading = True
        self.status_load.setText(f"loading {name}…")
        if not self.controller.main.has_model:
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
        self.model_bar.model_loaded(info.name)  # the demo one, perhaps, opened instead
        self._loading, self._idle_status = False, READY
        self._show_status()
        self.status_model.setText(model_summary(info))
        self.status_model.setToolTip(info.name)
        self.remembered.remember_folder(info.name)
        self.status_device.setText(info.device)
        self.status_dtype.setText(info.dtype)
        self.status_dtype.setToolTip(f"Precision {info.dtype}: {COST.get(info.dtype, '')}".rstrip(": "))
        self.editor.set_mask_token(info.mask_token)
        self.editor.settle()

    def _on_load_failed(self, message: str, cause: str = "") -> None:
        self.load_progress.hide()
        info = self.controller.main.info
        self._loading = False
        self._idle_status = "load failed" if info is None else f"load failed; still using {info.name}"
        self._show_status()
        if info is None:
            self.fill_mask.show_message("No model is loaded: pick one above, or open a model folder.")
        # Only a way out that fits: another folder will not help a refused precision.
        settings_asked = self._asked is not None and self._asked[1:3] != (AUTO, AUTO)
        self.banner.show_error(
            message, offer_folder=cause == CAUSE_MODEL, offer_auto=cause == CAUSE_SETTINGS and settings_asked
        )
        self.model_bar.show_in_use()  # and the failed name leaves the box

    def _on_fill_mask(self, result: Any) -> None:
        self.fill_mask.set_result(result)
        self.tokens.set_tokenization(result.tokenization, self.editor.mask_token)

    def _follow_job(self, job: Any) -> None:
        """The status line names a long job while it runs ("LAMA running: 120/305")."""
        key = job.request_id
        self._jobs[key] = f"{job.label}…"
        self._show_status()

        def progress(step: Any) -> None:
            total = getattr(step, "total", 0) or 0
            if key in self._jobs and total > 0:
                self._jobs[key] = f"{job.label}: {getattr(step, 'done', 0):,}/{total:,}"
                self._show_status()

        def ended() -> None:
            self._jobs.pop(key, None)
            self._show_status()

        job.progress.connect(progress)
        job.ended.connect(ended)

    def _forget_cap_note(self, k: int) -> None:
        if k < MAX_TOP_K:  # the note about the maximum no longer describes what is shown
            self.statusBar().clearMessage()

    # --- the view: zoom, defaults, the session remembered ---------------------------------
    def zoom_by(self, step: int) -> None:
        """One step in (+1), out (-1), or back to 100% (0); the status line says the zoom."""
        applied = apply_zoom(zoom_step(font_scale(), step))
        self.statusBar().showMessage(f"zoom {applied:.0%}", 3000)

    def reset_to_defaults(self) -> None:
        """View ▸ Reset to defaults: forget the remembered session and show the app as on a first start."""
        self.presentation.leave()
        self.remembered.clear()
        apply_zoom(1.0)
        self.top_k.setValue(DEFAULT_TOP_K)
        self.attention.mode.setCurrentIndex(0)
        self.attention.layer.setValue(0)
        self.attention_tab.set_mask(BIDIRECTIONAL)  # as BERT was trained; the guesses follow
        self.tokens.show()
        self.menus.actions["token_strip"].setChecked(True)
        self.tabs.setCurrentIndex(0)
        self.editor.setPlainText(START_TEXT)
        self.statusBar().showMessage(
            "Back to the defaults (sentence, tab, zoom, top-k); the model and the recent sentences stay.", 8000)

    def last_asked_model(self) -> str:
        """The model last asked for (the demo may be open in its place)."""
        return self._asked[0] if self._asked is not None else ""

    def restore(self, session: dict[str, Any]) -> None:
        """What Remembered.session() found (remembered.apply_session checks each value)."""
        apply_session(self, session)

    def _remember(self) -> None:
        self.remembered.remember_sentence(self.editor.toPlainText())
        self.remembered.save(capture_session(self))

    def closeEvent(self, event: QCloseEvent) -> None:
        self.presentation.leave()  # the session remembered is the ordinary one
        try:
            self._remember()
        except Exception:  # noqa: BLE001 (a settings file that cannot be written never stops a quit)
            logging.getLogger(__name__).warning("could not remember the session", exc_info=True)
        # Hide first: a step that cannot be interrupted (weights loading) may hold the
        # bounded wait below for up to 2 s, and the window should not hang there meanwhile.
        self.hide()
        self.controller.shutdown()
        super().closeEvent(event)
