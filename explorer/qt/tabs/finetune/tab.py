"""The fine-tune tab: adapt the model to a text file, watch the loss, compare before and after."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
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
from explorer.core.finetune_params import FinetuneParams
from explorer.plots.curves import LossCurve
from explorer.qt.widgets import dialogs
from explorer.qt.shell.controller import ExplorerController
from explorer.qt.tabs.predictions.panel import FillMaskPanel
from explorer.qt.widgets.inputs import double_box, spin_box
from explorer.qt.widgets.job_bar import JobBar

KIND = "finetune"
COMPARE = "compare"
COMPARE_TITLES = ("Base model", "Adapted model")


class FinetuneTab(QWidget):
    """Emits useModel(folder) when the person wants to explore the adapted model."""

    useModel = Signal(str)

    def __init__(self, controller: ExplorerController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("finetuneTab")
        self.controller = controller
        self.sentence = ""
        self.result: Any = None
        self._before: float | None = None  # the perplexity measured before training, this run

        self.base_model = QLineEdit()
        self.base_model.setObjectName("baseModelEdit")
        self.base_model.setPlaceholderText("the loaded model")
        self.base_model.setToolTip("Empty: start from the model loaded now. Or a hub id, or a model folder.")
        self.corpus = QLineEdit()
        self.corpus.setObjectName("corpusEdit")
        self.corpus.setPlaceholderText(".txt (a document per line, or paragraphs), .jsonl or .csv")
        self.text_column = QLineEdit("text")
        self.text_column.setObjectName("textColumnEdit")
        self.chunk_size = spin_box("chunkSizeSpin", 8, 512, 128, label="Chunk size")
        self.mlm_probability = double_box(
            "mlmProbabilitySpin", 0.01, 0.9, 0.15, step=0.01, decimals=2, label="Masking probability"
        )
        self.whole_word = QCheckBox("mask whole words")
        self.whole_word.setObjectName("wholeWordCheck")
        self.max_steps = spin_box("maxStepsSpin", 0, 1_000_000, 200, label="Steps")
        self.max_steps.setSpecialValueText("use epochs")
        self.epochs = double_box("epochsSpin", 0.1, 100.0, 1.0, step=0.5, decimals=1, label="Epochs")
        self.lr = double_box("learningRateSpin", 1e-6, 1e-2, 5e-5, step=1e-5, decimals=6, label="Learning rate")
        self.batch_size = spin_box("ftBatchSizeSpin", 1, 256, 8, label="Batch size")
        self.seed = spin_box("ftSeedSpin", 0, 2**31 - 1, 42, label="Seed")
        self.out = QLineEdit()
        self.out.setObjectName("outputDirEdit")
        self.out.setPlaceholderText("a new or empty folder")
        self.overwrite = QCheckBox("replace what is there")
        self.overwrite.setObjectName("overwriteCheck")

        form = QFormLayout()
        form.addRow("Base model", self.base_model)
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
        self.job = JobBar(self, stop_name="finetuneStopButton")
        self.message = QLabel("")
        self.message.setObjectName("finetuneMessage")
        self.message.setWordWrap(True)
        self.perplexity = QLabel("Perplexity: measured before and after training")
        self.perplexity.setObjectName("perplexityLabel")
        self.use = QPushButton("Use this model")
        self.use.setObjectName("useModelButton")
        self.compare = QPushButton("Compare with the base model")
        self.compare.setObjectName("compareButton")
        for b in (self.use, self.compare):
            b.setEnabled(False)

        self.canvas = FigureCanvasQTAgg(Figure(figsize=(5, 2.4), dpi=100))
        self.canvas.setObjectName("lossCurve")
        self.curve = LossCurve(self.canvas.figure)
        self.compare_base = FillMaskPanel(self, name="compareBase")
        self.compare_adapted = FillMaskPanel(self, name="compareAdapted")
        for panel, title in ((self.compare_base, "base model"), (self.compare_adapted, "adapted model")):
            panel.show_message(f"The {title}'s guesses for the editor's sentence appear here after Compare.")

        settings = QGroupBox("Settings")
        settings.setLayout(form)
        left = QVBoxLayout()
        left.addWidget(settings)
        left.addWidget(self.start)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.job)
        right.addWidget(self.message)
        right.addWidget(self.canvas, 2)
        right.addWidget(self.perplexity)
        buttons = QHBoxLayout()
        buttons.addWidget(self.use)
        buttons.addWidget(self.compare)
        buttons.addStretch(1)
        right.addLayout(buttons)
        side_by_side = QHBoxLayout()
        self.compare_titles = []
        for panel, title in zip((self.compare_base, self.compare_adapted), COMPARE_TITLES):
            box = QGroupBox(title)
            box_layout = QVBoxLayout(box)
            box_layout.setContentsMargins(2, 2, 2, 2)
            box_layout.addWidget(panel)
            side_by_side.addWidget(box)
            self.compare_titles.append(box)
        right.addLayout(side_by_side, 3)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 0)
        layout.addLayout(right, 1)

        self.start.clicked.connect(self.start_training)
        self.job.stopRequested.connect(lambda: controller.cancel(KIND))
        self.use.clicked.connect(lambda: self.useModel.emit(self.result.out) if self.result else None)
        self.compare.clicked.connect(self.run_compare)
        controller.jobProgress.connect(self._on_progress)
        controller.jobFinished.connect(self._on_finished)
        controller.jobFailed.connect(self._on_failed)
        controller.jobCancelled.connect(self._on_cancelled)

    def _with_browse(self, edit: QLineEdit, browse: Any) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(edit, 1)
        button = QPushButton("Browse…")
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

    def set_sentence(self, text: str) -> None:
        self.sentence = text
        shown = self.compare_base.result
        if shown is not None and shown.text != text:
            self._clear_compare("The editor's sentence changed: press Compare to see the guesses for it.")

    def _clear_compare(self, message: str) -> None:
        """Guesses for another sentence (or before another run) never stay on show unmarked."""
        for panel, box, title in zip((self.compare_base, self.compare_adapted), self.compare_titles, COMPARE_TITLES):
            panel.clear(message)
            box.setTitle(title)

    def params(self) -> FinetuneParams:
        steps = self.max_steps.value()
        return FinetuneParams(
            corpus=self.corpus.text().strip(),
            out=self.out.text().strip(),
            base_model=self.base_model.text().strip(),
            text_column=self.text_column.text().strip() or "text",
            chunk_size=self.chunk_size.value(),
            mlm_probability=self.mlm_probability.value(),
            whole_word=self.whole_word.isChecked(),
            max_steps=steps or None,
            epochs=self.epochs.value(),
            lr=self.lr.value(),
            batch_size=self.batch_size.value(),
            seed=self.seed.value(),
            overwrite=self.overwrite.isChecked(),
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
        self._clear_compare("The base and adapted models' guesses for the editor's sentence appear here after Compare.")
        self.curve.clear()
        self.canvas.draw_idle()
        self.perplexity.setText("Perplexity: measuring before training…")
        self._show("")
        self.start.setEnabled(False)
        self.job.start("preparing…")
        self.controller.run_job(KIND, lambda session: session.finetune(params))

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

    def run_compare(self) -> None:
        if self.result is None:
            return
        text, out = self.sentence, self.result.out
        for panel in (self.compare_base, self.compare_adapted):
            panel.set_busy(True)
        self.controller.request(COMPARE, lambda session: session.compare(text, out, 10))

    def _show(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #b00020;" if error else "")

    def _on_progress(self, kind: str, step: Any) -> None:
        if kind != KIND:
            return
        if step.phase == "note":  # for reading: the message label, not the progress bar
            self._show(step.message)
            return
        self.job.update(step)
        if step.loss is not None:
            self.curve.add(step.done, step.loss)
            self.canvas.draw_idle()
        if step.phase == "evaluate" and step.perplexity is not None and step.done == 0:
            self._before = step.perplexity
            self._show_perplexity("training…")

    def _show_perplexity(self, after: str) -> None:
        if self._before is None:  # stopped or failed before the first measurement
            self.perplexity.setText(f"Perplexity: {after}")
        else:
            self.perplexity.setText(f"Perplexity before: {self._before:.2f}  ·  after: {after}")

    def _on_finished(self, kind: str, result: Any) -> None:
        if kind == COMPARE:
            base, adapted = result
            self.compare_base.set_result(base)
            self.compare_adapted.set_result(adapted)
            self.compare_titles[0].setTitle(f"Base model: {base.model}")
            self.compare_titles[1].setTitle(f"Adapted model: {Path(adapted.model).name}")
            return
        if kind != KIND:
            return
        self.result = result
        self.start.setEnabled(True)
        self.job.finish(f"done: {result.steps} steps, saved to {result.out}")
        self.perplexity.setText(
            f"Perplexity before: {result.perplexity_before:.2f}  ·  after: {result.perplexity_after:.2f}"
        )
        self.use.setEnabled(True)
        self.compare.setEnabled(True)
        self._show("\n".join([f"Saved to {Path(result.out)}.", *result.warnings]))

    def _on_failed(self, kind: str, message: str) -> None:
        if kind == COMPARE:
            self.compare_adapted.show_error(message)
        elif kind == KIND:
            self.start.setEnabled(True)
            self.job.finish("")
            self._show(message, error=True)
            self._show_perplexity("failed, not measured")

    def _on_cancelled(self, kind: str) -> None:
        if kind == KIND:
            self.start.setEnabled(True)
            self.job.finish("stopped")
            self._show("Stopped: nothing was saved.")
            self._show_perplexity("stopped, not measured")
