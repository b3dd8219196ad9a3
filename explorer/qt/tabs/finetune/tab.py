"""The fine-tune tab: adapt the model to a text file, watch the loss, then use the adapted
model or compare it with the base one (the window's compare mode, in every tab)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from explorer.core import finetune_checks
from explorer.core.errors import InvalidParameterError
from explorer.core.finetune_params import SCRATCH_LR, SIZES, FinetuneParams
from explorer.core.params import spec
from explorer.plots.curves import LossCurve
from explorer.qt.widgets import dialogs
from explorer.core.slots import MAIN
from explorer.qt.shell.controller import ExplorerController
from explorer.qt.widgets.param_form import ParamForm
from explorer.qt.widgets.job_bar import JobBar
from explorer.qt.widgets.job_tab import JobTab
from explorer.qt.widgets.style import error_label_style
from explorer.qt.widgets.style import font_scale, on_zoom

JOB_LABEL = "Fine-tuning"
STOPPING_LOSES = "Stopping it saves nothing."


class FinetuneTab(JobTab):
    """Emits useModel(folder) when the person wants to explore the adapted model, and
    compareRequested(folder) to compare it with the model in use."""

    useModel = Signal(str)
    compareRequested = Signal(str)

    def __init__(self, controller: ExplorerController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("finetuneTab")
        self.controller = controller
        self.result: Any = None
        self._before: float | None = None  # the perplexity measured before training, this run

        self.base_model = QLineEdit()
        self.base_model.setObjectName("baseModelEdit")
        self.base_model.setPlaceholderText("the loaded model")
        self.base_model.setToolTip("Empty: start from the model loaded now. Or a hub id, or a model folder.")
        self.corpus = QLineEdit()
        self.corpus.setObjectName("corpusEdit")
        self.corpus.setToolTip("Your text: a .txt file (a document per line, or paragraphs), or .jsonl / .csv with a text column")
        self.corpus.setPlaceholderText(".txt (a document per line, or paragraphs), .jsonl or .csv")
        self.text_column = QLineEdit("text")
        self.text_column.setObjectName("textColumnEdit")
        self.text_column.setToolTip("In a .jsonl or .csv corpus: the field that holds the text")
        # The number boxes and check boxes, their ranges and labels: as FinetuneParams declares them.
        self.form = ParamForm(FinetuneParams, self)
        self.chunk_size = self.form["chunk_size"]
        self.mlm_probability = self.form["mlm_probability"]
        self.whole_word = self.form["whole_word"]
        self.max_steps = self.form["max_steps"]  # its lowest value, "use epochs", is None: epochs decide
        self.epochs = self.form["epochs"]
        self.lr = self.form["lr"]
        self.batch_size = self.form["batch_size"]
        self.seed = self.form["seed"]
        self.out = QLineEdit()
        self.out.setObjectName("outputDirEdit")
        self.out.setToolTip("Where the adapted model is saved: a new or empty folder (or one this app saved, with Overwrite)")
        self.out.setPlaceholderText("a new or empty folder")
        self.overwrite = self.form["overwrite"]
        # From scratch (lab 000): a new model of a preset size, each part changeable, and the base
        # model's tokenizer or a new vocabulary; shown only when from scratch is ticked.
        self.from_scratch = self.form["from_scratch"]
        self.preset = self.form["size"]
        self.layers = self.form["layers"]
        self.hidden = self.form["hidden"]
        self.heads = self.form["heads"]
        self.intermediate = self.form["intermediate"]
        self.new_vocab = self.form["new_vocab"]
        self.new_vocab.setSingleStep(1000)
        scratch_row = QHBoxLayout()
        scratch_row.addWidget(self.from_scratch)
        scratch_row.addWidget(self.preset, 1)
        sizes = QHBoxLayout()
        for words, box in (("layers", self.layers), ("hidden", self.hidden), ("heads", self.heads),
                           ("ffn", self.intermediate)):
            sizes.addWidget(QLabel(words))
            sizes.addWidget(box)
        self.sizes_row = QWidget()
        self.sizes_row.setObjectName("scratchSizes")
        self.sizes_row.setLayout(sizes)
        sizes.setContentsMargins(0, 0, 0, 0)

        form = QFormLayout()
        form.addRow("Base model", self.base_model)
        form.addRow("New model", scratch_row)
        form.addRow("Size", self.sizes_row)
        form.addRow("Vocabulary", self.new_vocab)
        self.settings_form = form
        form.addRow("Corpus", self._with_browse(self.corpus, self._browse_corpus))
        form.addRow("Text column", self.text_column)
        form.addRow("Chunk size (tokens)", self.chunk_size)
        masking = QHBoxLayout()
        masking.addWidget(self.mlm_probability)
        masking.addWidget(self.whole_word)
        form.addRow("Masking probability", masking)
        length = QHBoxLayout()
        length.addWidget(self.max_steps)
        length.addWidget(QLabel("or epochs"))
        length.addWidget(self.epochs)
        form.addRow("Steps", length)
        form.addRow("Learning rate", self.lr)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Seed", self.seed)
        out_row = self._with_browse(self.out, self._browse_out)
        form.addRow("Save to", out_row)
        form.addRow("", self.overwrite)

        self.start = QPushButton("Start")
        self.start.setObjectName("finetuneStartButton")
        self.start.setToolTip("Check the settings and the files, then train; Stop ends it and saves nothing")
        self.job = JobBar(self, stop_name="finetuneStopButton")
        self.message = QLabel("")
        self.message.setObjectName("finetuneMessage")
        self.message.setWordWrap(True)
        self.perplexity = QLabel("Perplexity: measured before and after training")
        self.perplexity.setObjectName("perplexityLabel")
        self.use = QPushButton("Use this model")
        self.use.setObjectName("useModelButton")
        self.use.setToolTip("Load the adapted model in place of the one in use")
        self.compare = QPushButton("Compare with the adapted model")
        self.compare.setToolTip("Open the adapted model beside the one in use: every tab then shows both.")
        self.compare.setObjectName("compareButton")
        for b in (self.use, self.compare):
            b.setEnabled(False)

        self.canvas = FigureCanvasQTAgg(Figure(figsize=(5, 2.4), dpi=100))
        self.canvas.setObjectName("lossCurve")
        self.curve = LossCurve(self.canvas.figure)
        on_zoom(self.canvas, self._fit_zoom)
        # An empty chart showed axes from -0.04 to 0.04: until there is a loss, a line says
        # where it will be instead.
        self.curve_note = QLabel("The training loss is drawn here, step by step, once training starts.")
        self.curve_note.setObjectName("lossCurveNote")
        self.curve_note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.canvas.hide()

        settings = QGroupBox("Settings")
        settings.setLayout(form)
        left = QVBoxLayout()
        left.addWidget(settings)
        left.addWidget(self.start)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.job)
        right.addWidget(self.message)
        right.addWidget(self.canvas, 1)
        right.addWidget(self.curve_note, 1)
        right.addWidget(self.perplexity)
        buttons = QHBoxLayout()
        buttons.addWidget(self.use)
        buttons.addWidget(self.compare)
        buttons.addStretch(1)
        right.addLayout(buttons)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 0)
        layout.addLayout(right, 1)

        self.start.clicked.connect(self.start_training)
        self.from_scratch.toggled.connect(self._scratch_toggled)
        self.preset.currentTextChanged.connect(self._preset_chosen)
        self._show_scratch(False)
        self.job.stopRequested.connect(self.cancel_job)
        self.use.clicked.connect(lambda: self.useModel.emit(self.result.out) if self.result else None)
        self.compare.clicked.connect(lambda: self.compareRequested.emit(self.result.out) if self.result else None)

    def _show_scratch(self, on: bool) -> None:
        for row in (self.sizes_row, self.new_vocab):
            self.settings_form.setRowVisible(row, on)
        self.preset.setEnabled(on)
        self.base_model.setPlaceholderText("the loaded model (its tokenizer)" if on else "the loaded model")

    def _scratch_toggled(self, on: bool) -> None:
        self._show_scratch(on)
        # A new model learns at a higher rate than one adapted: the box follows, unless set by hand.
        default_lr = spec(FinetuneParams, "lr").default
        if on and self.lr.value() == default_lr:
            self.lr.setValue(SCRATCH_LR)
        elif not on and self.lr.value() == SCRATCH_LR:
            self.lr.setValue(default_lr)

    def _preset_chosen(self, name: str) -> None:
        size = SIZES.get(name)
        if size is None:
            return
        for box, value in ((self.layers, size.layers), (self.hidden, size.hidden), (self.heads, size.heads),
                           (self.intermediate, size.intermediate)):
            box.setValue(value)

    def _fit_zoom(self) -> None:
        self.curve.set_font_scale(font_scale())
        self.canvas.draw_idle()

    def _with_browse(self, edit: QLineEdit, browse: Any) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(edit, 1)
        button = QPushButton("Browse…")
        button.setToolTip(edit.toolTip() or "Choose on this computer")
        button.clicked.connect(browse)
        row.addWidget(button)
        return row

    def _browse_corpus(self) -> None:
        start = str(dialogs.documents_folder())
        path, _ = QFileDialog.getOpenFileName(self, "Corpus", start, "Text (*.txt *.jsonl *.csv);;All files (*)")
        if path:
            self.corpus.setText(path)

    def _browse_out(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Save the adapted model to", str(dialogs.documents_folder()))
        if path:
            self.out.setText(path)

    def params(self) -> FinetuneParams:
        values = self.form.values()
        if not values["from_scratch"]:  # the size boxes are hidden then: they say nothing
            values.update(layers=None, hidden=None, heads=None, intermediate=None, new_vocab=None)
        return FinetuneParams(
            corpus=self.corpus.text().strip(),
            out=self.out.text().strip(),
            base_model=self.base_model.text().strip(),
            text_column=self.text_column.text().strip() or "text",
            **values,
        )

    def start_training(self) -> None:
        params = self.params()
        if not params.corpus or not params.out:
            self._show("Choose a corpus file and a folder to save to.", error=True)
            return
        try:  # what the CLI checks before any work (numbers, corpus, a writable folder with room)
            finetune_checks.check_params(dataclasses.replace(params, overwrite=True))
        except InvalidParameterError as exc:
            self._show(str(exc), error=True)
            return
        if not self._may_write(params):  # the overwrite question, in this tab's words
            return
        self.result = None
        self._before = None
        self.use.setEnabled(False)
        self.compare.setEnabled(False)
        self.curve.clear()
        self.canvas.hide()
        self.curve_note.show()
        self.perplexity.setText("Perplexity: measuring before training…")
        self._show("")
        self.start.setEnabled(False)
        self.job.start("preparing…")
        self.follow(self.controller.run_job(
            lambda session: session.finetune(params), label=JOB_LABEL, slot=MAIN, stopping_loses=STOPPING_LOSES
        ))

    def _may_write(self, params: FinetuneParams) -> bool:
        """A model folder is replaced only when asked to, and confirmed. (Whether it may be
        replaced at all, check_params has said: the CLI's rule, owned.replace_refusal.)"""
        out = Path(params.out).expanduser()
        try:
            holds_files = out.is_dir() and any(out.iterdir())
        except OSError as exc:
            self._show(f"'{params.out}' cannot be read: {exc.strerror or exc}.", error=True)
            return False
        if not holds_files:
            return True
        if not params.overwrite:
            self._show(
                f"'{params.out}' already holds a model: check \"replace what is there\" to replace it, "
                "or choose a new folder.",
                error=True,
            )
            return False
        question = (
            f"Replace the model in\n{out.resolve()}\nwith the one this run trains? "
            "What is there now is deleted once the new model is saved."
        )
        if not dialogs.confirm(self, "Replace the model?", question, "Replace", "Cancel"):
            self._show("Not started: the model there is kept.")
            return False
        return True

    def _show(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(error_label_style() if error else "")

    def job_progress(self, step: Any) -> None:
        if step.phase == "note":  # for reading: the message label, not the progress bar
            self._show(step.message)
            return
        self.job.update(step)
        if step.loss is not None:
            self.curve.add(step.done, step.loss)
            self.curve_note.hide()
            self.canvas.show()
            self.canvas.draw_idle()
        if step.phase == "evaluate" and step.perplexity is not None and step.done == 0:
            self._before = step.perplexity
            self._show_perplexity("training…")

    def _show_perplexity(self, after: str) -> None:
        if self._before is None:  # stopped or failed before the first measurement
            self.perplexity.setText(f"Perplexity: {after}")
        else:
            self.perplexity.setText(f"Perplexity before: {self._before:.2f}  ·  after: {after}")

    def job_finished(self, result: Any) -> None:
        self.result = result
        self.start.setEnabled(True)
        self.job.finish(f"done: {result.steps} steps, saved to {result.out}")
        self.perplexity.setText(
            f"Perplexity before: {result.perplexity_before:.2f}  ·  after: {result.perplexity_after:.2f}"
        )
        self.use.setEnabled(True)
        self.compare.setEnabled(True)
        self._show("\n".join([f"Saved to {Path(result.out)}.", *result.warnings]))

    def job_failed(self, message: str) -> None:
        self.start.setEnabled(True)
        self.job.finish("")
        self._show(message, error=True)
        self._show_perplexity("failed, not measured")

    def job_cancelled(self) -> None:
        self.start.setEnabled(True)
        self.job.finish("stopped")
        self._show("Stopped: nothing was saved.")
        self._show_perplexity("stopped, not measured")
