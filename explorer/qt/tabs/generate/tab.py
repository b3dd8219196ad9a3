"""The Generate tab: sample text from the model (Wang & Cho 2019) and watch the chain move.

Passive about the model: it builds GenerationParams, starts a long job on its model slot,
and shows the steps that come back. Stop keeps the samples
of the last step that arrived.
"""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from explorer.core.generation_params import GenerationParams, GenerationResult, format_temperature
from explorer.core.params import spec
from explorer.qt.widgets import dialogs
from explorer.qt.widgets.param_form import ParamForm
from explorer.qt.widgets.job_bar import JobBar
from explorer.qt.widgets.style import PALETTE, css, error_label_style
from explorer.qt.widgets.job_tab import JobTab

log = logging.getLogger(__name__)

JOB_LABEL = "Generating"  # the status line: "Generating: 36/300"
STOPPING_LOSES = "Stopping it keeps the samples so far."
SAVE_FORMATS = (("Text, one sample a line", ".txt"), ("JSON Lines", ".jsonl"))
RENDER_INTERVAL_MS = 50  # steps of a small model arrive far faster than anyone can read
MAX_LINES = 2000  # the live view keeps the newest lines
CHANGED_STYLE = css(background=PALETTE.changed_bg, weight=600)
RESAMPLED_STYLE = css(background=PALETTE.resampled_bg)  # sampled this step, but drew the same token
MASK_STYLE = css(PALETTE.mask_text)
SEED_STYLE = css(PALETTE.seed)
ITER_STYLE = css(PALETTE.muted) + " font-family: monospace; white-space: pre;"
NOTE_STYLE = css(PALETTE.note, italic=True)


def step_html(step: Any, sample: int = 0, mask_token: str = "[MASK]") -> str:
    """One line of the live view: "iter N (temp T)" and the sample, its new token highlighted."""
    sampled = set(step.positions)
    parts: list[str] = []
    for pos, (piece, starts, kind) in enumerate(zip(step.pieces[sample], step.starts_word[sample], step.kinds)):
        if not piece:
            continue
        style = ""
        if pos in sampled:
            style = CHANGED_STYLE if bool(step.changed[sample][pos]) else RESAMPLED_STYLE
        elif piece == mask_token:
            style = MASK_STYLE
        elif kind == "seed":
            style = SEED_STYLE
        text = html.escape(piece)
        token = f'<span style="{style}">{text}</span>' if style else text
        parts.append((" " if parts and starts else "") + token)
    temp = format_temperature(step.temperature)
    head = f'<span style="{ITER_STYLE}">iter {step.iteration:<5} (temp {temp})  </span>'
    return head + "".join(parts)



GENERATE_HELP = "Sample text from the model with these settings; Stop keeps what is done"

class GenerationTab(JobTab):
    def __init__(self, slot: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("generationTab")
        self.slot = slot  # the ModelSlot whose model writes
        self.result: GenerationResult | None = None
        self.last_step: Any = None
        self._params: GenerationParams | None = None
        self._model_name = ""
        self._pending: Any = None  # the newest step not drawn yet
        self._line_open = False  # the last line of the live view shows a step still changing
        self._mask_token = "[MASK]"
        self._build()
        self._wire()
        self._set_running(False)
        if slot.has_model:
            self._on_model(slot.info)

    # --- building -------------------------------------------------------------------
    def _build(self) -> None:
        seed_text = spec(GenerationParams, "seed_text")
        self.seed_text = QLineEdit(self)
        self.seed_text.setObjectName("seedTextEdit")
        self.seed_text.setAccessibleName(seed_text.label)
        self.seed_text.setPlaceholderText("Text to start from (optional), e.g. My favorite class is")
        self.seed_text.setToolTip(seed_text.help)
        # The other controls, their ranges, labels and tooltips: as GenerationParams declares them.
        self.form = ParamForm(GenerationParams, self)
        self.strategy = self.form["strategy"]
        self.length = self.form["length"]
        self.batch_size = self.form["batch_size"]
        self.temperature = self.form["temperature"]
        self.decay = self.form["temperature_decay"]
        self.top_k = self.form["top_k"]
        self.burn_in = self.form["burn_in"]
        self.max_iter = self.form["max_iter"]
        self.rng_seed = self.form["seed"]
        self.generate_button = QPushButton("Generate", self)
        self.generate_button.setObjectName("generateButton")
        self.generate_button.setToolTip(GENERATE_HELP)
        self.generate_button.setDefault(True)
        self.job_bar = JobBar(self)
        self.job_bar.setObjectName("generationProgress")
        self.stop_button = self.job_bar.stop
        self.message = QLabel("", self)
        self.message.setObjectName("generationMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()

        self.output = QTextEdit(self)
        self.output.setObjectName("generationOutput")
        self.output.setAccessibleName("Sample 1 as it changes")
        self.output.setReadOnly(True)
        self.output.document().setMaximumBlockCount(MAX_LINES)
        self.output.setPlaceholderText(
            "Sample 1 shows here as it changes, one line per sweep; the token just sampled is highlighted."
        )
        self.samples = QListWidget(self)
        self.samples.setObjectName("generationSamples")
        self.samples.setAccessibleName("Samples")
        self.samples.setAlternatingRowColors(True)
        self.samples.setWordWrap(True)
        self.samples_label = QLabel("Samples", self)
        self.samples_label.setObjectName("samplesLabel")
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setObjectName("copySamplesButton")
        self.copy_button.setToolTip("Copy every sample, one a line")
        self.save_button = QPushButton("Save…", self)
        self.save_button.setObjectName("saveSamplesButton")
        self.save_button.setToolTip("Save the samples as .txt (one a line) or .jsonl (with the parameters)")

        seed_row = QHBoxLayout()
        seed_label = QLabel("Start with", self)
        seed_label.setBuddy(self.seed_text)
        seed_row.addWidget(seed_label)
        seed_row.addWidget(self.seed_text, 1)
        strategy_label = QLabel("Strategy", self)
        strategy_label.setBuddy(self.strategy)
        seed_row.addWidget(strategy_label)
        seed_row.addWidget(self.strategy)
        knobs = QHBoxLayout()
        labelled = [
            ("Length", self.length), ("Samples", self.batch_size), ("Temperature", self.temperature),
            ("Decay / sweep", self.decay), ("Top-k", self.top_k), ("Burn-in", self.burn_in),
            ("Max iterations", self.max_iter), ("Seed", self.rng_seed),
        ]
        for i, (text, widget) in enumerate(labelled):
            label = QLabel(text, self)
            label.setBuddy(widget)
            knobs.addSpacing(12 if i else 0)
            knobs.addWidget(label)
            knobs.addWidget(widget)
        knobs.addStretch(1)
        run_row = QHBoxLayout()
        run_row.addWidget(self.generate_button)
        run_row.addWidget(self.job_bar, 1)

        samples_box = QWidget(self)
        samples_layout = QVBoxLayout(samples_box)
        samples_layout.setContentsMargins(0, 0, 0, 0)
        samples_head = QHBoxLayout()
        samples_head.addWidget(self.samples_label, 1)
        samples_head.addWidget(self.copy_button)
        samples_head.addWidget(self.save_button)
        samples_layout.addLayout(samples_head)
        samples_layout.addWidget(self.samples, 1)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.setObjectName("generationSplitter")
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.output)
        splitter.addWidget(samples_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)

        layout = QVBoxLayout(self)
        layout.addLayout(seed_row)
        layout.addLayout(knobs)
        layout.addLayout(run_row)
        layout.addWidget(self.message)
        layout.addWidget(splitter, 1)

        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(RENDER_INTERVAL_MS)
        self._render_timer.timeout.connect(self._render_pending)
        # Follow new lines unless the reader has scrolled up to look at older ones. The range
        # grows only once the document is laid out again, so follow it, not each insert.
        self._follow = True
        bar = self.output.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_range)

    def _wire(self) -> None:
        self.generate_button.clicked.connect(self.start)
        self.seed_text.returnPressed.connect(self.start)
        self.job_bar.stopRequested.connect(self.stop)
        self.copy_button.clicked.connect(self.copy_samples)
        self.save_button.clicked.connect(self._save_dialog)
        self.slot.loaded.connect(self._on_model)

    # --- state ----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.job_bar.running

    def _set_running(self, running: bool) -> None:
        has_model = self.slot.has_model
        self.generate_button.setEnabled(has_model and not running)
        self.generate_button.setToolTip(GENERATE_HELP if has_model else "Waiting for a model to load")
        has_samples = self.result is not None and bool(self.result.samples)
        self.copy_button.setEnabled(has_samples and not running)
        self.save_button.setEnabled(has_samples and not running)

    def params(self) -> GenerationParams:
        return GenerationParams(seed_text=self.seed_text.text(), **self.form.values())

    # --- actions --------------------------------------------------------------------
    def start(self) -> None:
        if self.running or not self.generate_button.isEnabled():
            return
        params = self.params()
        problems = params.problems()
        if problems:
            self.show_error(" ".join(problems))
            return
        self._params = params
        self._model_name = str(getattr(self.slot.info, "name", ""))
        self.result = None
        self.last_step = None
        self._pending = None
        self._line_open = False
        self._follow = True
        self.message.hide()
        self.output.clear()
        self.samples.clear()
        self.samples_label.setText("Samples")
        self.job_bar.start("starting…")
        self._set_running(True)
        self.follow(self.slot.run_job(lambda model: model.generate(params), label=JOB_LABEL, stopping_loses=STOPPING_LOSES))

    def stop(self) -> None:
        if self.running:
            self.cancel_job()
            self.job_bar.stop.setEnabled(False)
            self.job_bar.label.setText("stopping…")

    def copy_samples(self) -> None:
        QGuiApplication.clipboard().setText("\n".join(self.sample_texts()))

    def sample_texts(self) -> list[str]:
        return list(self.result.samples) if self.result is not None else []

    def save_samples(self, path: str | Path) -> None:
        """.jsonl: one object a sample, with the model and the parameters; anything else:
        plain text, one sample a line."""
        if self.result is None:
            raise ValueError("There are no samples to save yet.")
        path = Path(path)
        r = self.result
        if path.suffix.lower() == ".jsonl":
            lines = [
                json.dumps(
                    {"index": i, "text": text, "model": r.model, "iterations": r.iterations, "params": r.params.to_json()},
                    ensure_ascii=False,
                )
                for i, text in enumerate(r.samples)
            ]
        else:
            lines = list(r.samples)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        log.info("saved %d samples to %s", len(r.samples), path)

    def _save_dialog(self) -> None:
        path = dialogs.ask_save_path(self, "Save samples", "generated_samples.txt", SAVE_FORMATS)
        if not path:
            return
        try:
            self.save_samples(path)
        except OSError as exc:
            self.show_error(f"Could not save the samples to {path}: {exc.strerror or exc}")

    def show_error(self, message: str) -> None:
        self.message.setText(message)
        self.message.setStyleSheet(error_label_style())
        self.message.show()

    # --- answers from the model thread ----------------------------------------------
    def _on_model(self, info: Any) -> None:
        if info is None:
            return
        self._mask_token = getattr(info, "mask_token", self._mask_token)
        max_length = int(getattr(info, "max_length", 512))
        self.length.setMaximum(max(1, max_length - 2))
        self._set_running(self.running)

    def job_progress(self, step: Any) -> None:
        if not self.running:
            return
        self.last_step = step
        self.job_bar.update(step)
        if step.iteration == 1 or step.sweep_end:
            # A line to keep, like the lab's printout: draw it now rather than coalesce it away.
            self._pending = None
            self._render_timer.stop()
            self._draw(step, keep=True)
        else:
            self._pending = step
            if not self._render_timer.isActive():
                self._render_timer.start()

    def _on_scrolled(self, value: int) -> None:
        self._follow = value >= self.output.verticalScrollBar().maximum() - 4

    def _on_range(self, _low: int, high: int) -> None:
        if self._follow:
            self.output.verticalScrollBar().setValue(high)

    def _render_pending(self) -> None:
        if self._pending is not None:
            self._draw(self._pending, keep=False)
            self._pending = None

    def _draw(self, step: Any, *, keep: bool) -> None:
        """Write the step into the live line (the last one); `keep` starts a new line after it."""
        cursor = QTextCursor(self.output.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.movePosition(QTextCursor.MoveOperation.StartOfBlock, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        cursor.insertHtml(step_html(step, 0, self._mask_token))
        if keep:
            cursor.insertBlock()
            cursor.setCharFormat(QTextCharFormat())
        self._line_open = not keep

    def _note(self, text: str) -> None:
        cursor = QTextCursor(self.output.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.movePosition(QTextCursor.MoveOperation.StartOfBlock, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        cursor.insertHtml(f'<span style="{NOTE_STYLE}">{html.escape(text)}</span>')

    def _flush(self) -> None:
        """Keep the newest step as a line of its own, so the closing note goes below it."""
        self._render_timer.stop()
        if self._pending is not None:
            self._draw(self._pending, keep=True)
            self._pending = None
        elif self._line_open:
            cursor = QTextCursor(self.output.document())
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertBlock()
            cursor.setCharFormat(QTextCharFormat())
            self._line_open = False

    def job_finished(self, result: Any) -> None:
        if not self.running:
            return
        self._flush()
        note = f"done: {result.iterations} iterations in {result.seconds:.1f} s"
        self._note(note)
        self.job_bar.finish(note)
        self._show_result(result)

    def job_cancelled(self) -> None:
        if not self.running:
            return
        self._flush()
        step = self.last_step
        if step is None or self._params is None:
            self._note("stopped before the first iteration")
            self.job_bar.finish("stopped")
            self._set_running(False)
            return
        note = f"stopped at iteration {step.iteration} of {step.total}"
        self._note(note)
        self.job_bar.finish(note)
        self._show_result(GenerationResult.from_step(self._model_name, self._params, step, stopped=True))

    def job_failed(self, message: str) -> None:
        if not self.running:
            return
        self._flush()
        self.job_bar.finish("failed")
        self.show_error(message)
        self._set_running(False)

    def _show_result(self, result: GenerationResult) -> None:
        self.result = result
        self.samples.clear()
        for i, text in enumerate(result.samples, 1):
            item = QListWidgetItem(f"{i}. {text}")
            item.setData(Qt.ItemDataRole.UserRole, text)
            self.samples.addItem(item)
        how = f"after {result.iterations}"
        if result.stopped:
            how = f"stopped after {result.iterations} of {result.params.max_iter}"
        self.samples_label.setText(f"{len(result.samples)} samples, {how} iterations")
        self._set_running(False)
