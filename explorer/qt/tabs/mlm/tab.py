"""The MLM lab: mask a passage as BERT is trained, read the loss, the reconstruction, and the
model's prediction layer by layer (labs 001-003, hands-on).

The tab asks its model slot for two answers, each on a lane of its own (the newest wins):
the masking and its loss (`mask_demo`), and one position through every layer (`layer_lens`).
Both run on the model thread. In compare mode it asks the compare slot too, on a third lane,
for `mask_demo` with the same text, rate, seed and rule, and shows that model's reconstruction
and its loss beside the main one's (core.mlm_compare says whether the two are comparable).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from explorer.core.errors import InvalidParameterError
from explorer.core.mlm_compare import compare_summary
from explorer.core.mlm_params import KEPT, LAB_PASSAGE, MASKED, RANDOM, MaskDemoParams, check_rate, check_text
from explorer.qt.tabs.mlm.lens_panel import LensPanel
from explorer.qt.tabs.mlm.token_passage import TokenPassage
from explorer.qt.widgets.param_form import ParamForm
from explorer.qt.widgets.style import PALETTE, css, error_label_style, follow_zoom, follow_zoom_rows, plain_label_style

DEMO, LENS, COMPARE_DEMO = "mask_demo", "layer_lens", "compare_mask_demo"
DEBOUNCE_MS = 400
TREATMENT_COLORS = {MASKED: PALETTE.mask_bg, RANDOM: PALETTE.random_bg, KEPT: PALETTE.kept_bg}
RIGHT_COLOR, WRONG_COLOR = PALETTE.right_bg, PALETTE.wrong_bg
TREATMENT_TEXT = {
    MASKED: "replaced by the mask token",
    RANDOM: "replaced by a random token",
    KEPT: "kept as it was, but still predicted",
}
TABLE_COLUMNS = ("pos", "original", "model read", "prediction", "p(true)", "loss")


def legend_html() -> str:
    def chip(color: str, text: str) -> str:
        return f'<span style="background-color:{color}">&nbsp;{text}&nbsp;</span>'

    return "  ".join(
        [
            chip(TREATMENT_COLORS[MASKED], "masked"),
            chip(TREATMENT_COLORS[RANDOM], "random token"),
            chip(TREATMENT_COLORS[KEPT], "kept"),
            "&nbsp;&nbsp;prediction:",
            chip(RIGHT_COLOR, "right"),
            chip(WRONG_COLOR, "wrong"),
        ]
    )


class MlmTab(QWidget):
    """Passive about the model: it asks its slot's model and shows what comes back; with a
    compare slot, that slot's model too, while it has one."""

    def __init__(self, slot: Any, parent: QWidget | None = None, *, compare: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("mlmTab")
        self.slot = slot
        self.compare = compare
        self.result: Any = None
        self.compare_result: Any = None  # the compared model's answer for the controls shown
        self.selected: int | None = None
        self._dirty = True  # the shown result does not match the controls (or there is none)
        self._compare_dirty = True  # the same, for the compared model's answer
        self._awaiting_model_result = False  # a new model is loaded; the result shown is the old one's
        self._build()
        self._wire()
        self.show_message("Waiting for a model…")

    # --- building -----------------------------------------------------------------------
    def _build(self) -> None:
        self.passage = QPlainTextEdit(self)
        self.passage.setObjectName("mlmPassage")
        self.passage.setAccessibleName("Passage to mask")
        self.passage.setPlaceholderText("Type or paste a passage; about 15% of its tokens will be masked.")
        self.passage.setPlainText(LAB_PASSAGE)
        self.passage.setFixedHeight(self.passage.fontMetrics().lineSpacing() * 4 + 14)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)

        # The rate, the seed and the 80/10/10 switch: as MaskDemoParams declares them.
        self.form = ParamForm(MaskDemoParams, self)
        self.rate = self.form["rate"]
        self.bert_rule = self.form["bert_rule"]
        self.seed = self.form["seed"]
        self.remask = QPushButton("Mask again", self)
        self.remask.setObjectName("remaskButton")
        self.remask.setToolTip("Draw new masks (the next seed)")
        self.busy = QLabel("", self)
        self.busy.setObjectName("mlmBusy")

        self.message = QLabel("", self)
        self.message.setObjectName("mlmMessage")
        self.message.setWordWrap(True)
        self.loss = QLabel("", self)
        self.loss.setObjectName("mlmLoss")
        self.loss.setToolTip("transformers' MLM loss: the mean of −log p(true token) over the masked positions")
        self.accuracy = QLabel("", self)
        self.accuracy.setObjectName("mlmAccuracy")
        self.accuracy.setToolTip("Masked positions where the model's top guess is the true token")
        for label in (self.loss, self.accuracy):
            font = label.font()
            font.setBold(True)
            label.setFont(font)
            follow_zoom(label, 1.2)
        self.loss_note = QLabel("", self)
        self.loss_note.setObjectName("mlmLossNote")
        self.loss_note.setStyleSheet(css(PALETTE.note))
        legend = QLabel(legend_html(), self)
        legend.setObjectName("mlmLegend")

        self.masked_view = TokenPassage(self)
        self.masked_view.setObjectName("mlmMaskedView")
        self.masked_view.setAccessibleName("The passage as the model reads it")
        self.reconstruction = TokenPassage(self)
        self.reconstruction.setObjectName("mlmReconstruction")
        self.reconstruction.setAccessibleName("The model's reconstruction")

        self.table = QTableWidget(0, len(TABLE_COLUMNS), self)
        self.table.setObjectName("mlmTable")
        self.table.setAccessibleName("Masked positions")
        self.table.setHorizontalHeaderLabels(list(TABLE_COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        follow_zoom_rows(self.table, 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        for col in (1, 2, 3):  # the tokens take the room that is left
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)
        self.lens = LensPanel(self)
        self.compare_pane = self._build_compare_pane()

        controls = QGridLayout()
        controls.addWidget(self.rate, 0, 0)
        controls.addWidget(self.seed, 0, 1)
        controls.addWidget(self.bert_rule, 1, 0)
        controls.addWidget(self.remask, 1, 1)
        controls.addWidget(self.busy, 2, 0, 1, 2)
        top = QHBoxLayout()
        top.addWidget(self.passage, 1)
        top.addLayout(controls)
        summary = QHBoxLayout()
        summary.addWidget(self.loss)
        summary.addWidget(self.loss_note)
        summary.addSpacing(24)
        summary.addWidget(self.accuracy)
        summary.addStretch(1)
        summary.addWidget(legend)

        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(_caption("The passage as the model reads it (click a token for its layer lens)", self))
        left_layout.addWidget(self.masked_view, 2)
        left_layout.addWidget(_caption("The model's reconstruction: its top guess at every masked position", self))
        left_layout.addWidget(self.reconstruction, 2)
        left_layout.addWidget(self.compare_pane, 2)
        left_layout.addWidget(self.table, 4)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.setObjectName("mlmSplitter")
        split.setChildrenCollapsible(False)
        # On a 768-pixel screen the column (two passages, the compared model's pane, the
        # table) is taller than the room: it scrolls rather than push the window off-screen.
        scroll = QScrollArea(self)
        scroll.setObjectName("mlmLeftScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(left)
        split.addWidget(scroll)
        split.addWidget(self.lens)
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 4)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addLayout(summary)
        layout.addWidget(split, 1)

    def _build_compare_pane(self) -> QWidget:
        """The compared model's name, reconstruction, and its loss beside the main one's."""
        pane = QWidget(self)
        pane.setObjectName("mlmComparePane")
        self.compare_title = QLabel("", pane)
        self.compare_title.setObjectName("mlmCompareTitle")
        self.compare_title.setStyleSheet(css(PALETTE.note))
        self.compare_summary = QLabel("", pane)
        self.compare_summary.setObjectName("mlmCompareSummary")
        self.compare_summary.setWordWrap(True)
        self.compare_summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.compare_summary.setToolTip(
            "The seed draws the masks over each model's own tokens: the same pieces are masked "
            "only where the two tokenizers cut the passage the same way."
        )
        self.compare_reconstruction = TokenPassage(pane)
        self.compare_reconstruction.setObjectName("compareReconstruction")
        self.compare_reconstruction.setAccessibleName("The compared model's reconstruction")
        layout = QVBoxLayout(pane)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.compare_title)
        layout.addWidget(self.compare_summary)
        layout.addWidget(self.compare_reconstruction, 1)
        pane.hide()
        return pane

    def _wire(self) -> None:
        self.passage.textChanged.connect(self._debounce.start)
        self._debounce.timeout.connect(self.refresh)
        self.rate.valueChanged.connect(lambda _v: self.refresh())
        self.seed.valueChanged.connect(lambda _v: self.refresh())
        self.bert_rule.toggled.connect(lambda _b: self.refresh())
        self.remask.clicked.connect(self.mask_again)
        self.masked_view.tokenClicked.connect(self.select_position)
        self.reconstruction.tokenClicked.connect(self.select_position)
        self.table.itemSelectionChanged.connect(self._on_table_selection)
        self.slot.loaded.connect(self._on_model_loaded)
        if self.compare is not None:
            self.compare.loaded.connect(self._on_compare_loaded)
            self.compare.closed.connect(self._on_compare_closed)

    # --- asking -------------------------------------------------------------------------
    def params(self) -> tuple[str, float, int, bool]:
        v = self.form.values()
        return self.passage.toPlainText(), v["rate"], v["seed"], v["bert_rule"]

    def mask_again(self) -> None:
        """New masks: the next seed, so every draw can be repeated by typing its seed."""
        self.seed.setValue(self.seed.value() + 1 if self.seed.value() < self.seed.maximum() else 0)

    def refresh(self) -> None:
        """The controls changed: compute again now if the tab is open, else once it opens."""
        self._debounce.stop()
        self._dirty = self._compare_dirty = True
        self._maybe_request()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._maybe_request()

    @property
    def comparing(self) -> bool:
        return self.compare is not None and self.compare.has_model

    def _maybe_request(self) -> None:
        if not (self._dirty or self._compare_dirty) or not self.isVisible():
            return
        text, rate, seed, rule = self.params()
        try:
            check_text(text)
            check_rate(rate)
        except InvalidParameterError as exc:
            self._dirty = self._compare_dirty = False
            self.show_message(str(exc), error=True)
            return
        if self._dirty:
            asked = self._ask(
                self.slot, DEMO, lambda model: model.mask_demo(text, rate, seed, rule),
                self._on_demo, lambda m: self.show_message(m, error=True), self._demo_busy,
            )
            if asked:
                self._dirty = False  # else no model yet: the slot's loaded signal asks again
        if self._compare_dirty and self.comparing:
            # The same text, rate, seed and rule: the masks are drawn over its own tokens.
            asked = self._ask(
                self.compare, COMPARE_DEMO, lambda model: model.mask_demo(text, rate, seed, rule),
                self._on_compare_demo, self._on_compare_failed, self._compare_busy,
            )
            if asked:
                self._compare_dirty = False

    def select_position(self, position: int) -> None:
        """Show the layer lens for a token of the current result (masked or not)."""
        r = self.result
        if r is None or not 0 <= position < len(r.input_ids) or r.special[position]:
            return
        self.selected = position
        self.masked_view.set_selected(position)
        self.reconstruction.set_selected(position)
        self._select_row_of(position)
        if self._awaiting_model_result:
            return  # the old result's ids may not fit the new model; asked again with the new result
        true_id = r.ids[position] if position in r.masked_positions else None
        ids = r.input_ids
        asked = self._ask(
            self.slot, LENS, lambda model: model.layer_lens(ids, position, true_id),
            self._on_lens, self.lens.show_message, self.lens.set_busy,
        )
        if not asked:
            self.lens.show_message("No model is loaded.")

    def _ask(self, slot: Any, lane: str, call: Any, answer: Any, failed: Any, busy: Any) -> bool:
        """One request on one of the tab's lanes; False (nothing asked) without a model."""
        job = slot.request(call, lane=(id(self), lane))
        if job is None:
            return False
        busy(True)
        job.finished.connect(answer)
        job.failed.connect(lambda message, _cause: failed(message))
        job.ended.connect(lambda: busy(False))
        return True

    def _select_row_of(self, position: int) -> None:
        self.table.blockSignals(True)
        try:
            rows = [m.index for m in self.result.masked]
            if position in rows:
                self.table.selectRow(rows.index(position))
            else:
                self.table.clearSelection()
        finally:
            self.table.blockSignals(False)

    def _on_table_selection(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows and self.result is not None:
            self.select_position(self.result.masked[rows[0].row()].index)

    # --- answers ------------------------------------------------------------------------
    def _on_model_loaded(self, _info: Any) -> None:
        # The old result stays on screen (and the selection with it) until the new model's
        # arrives: a reload of the same model then changes nothing a person is looking at.
        self._awaiting_model_result = True
        self.refresh()

    def _demo_busy(self, busy: bool) -> None:
        self.busy.setText("computing…" if busy else "")

    def _on_demo(self, result: Any) -> None:
        text, rate, seed, rule = self.params()
        if (result.text, result.rate, result.seed, result.bert_rule) == (text, rate, seed, rule):
            self.set_result(result)

    def _on_compare_loaded(self, info: Any) -> None:
        # Another model (or the same again): its old answer no longer says anything.
        self.compare_result = None
        self.compare_title.setText(f"Compared with {info.short_name}: its reconstruction on the same seed")
        self.compare_title.setToolTip(info.name)
        self.compare_reconstruction.clear()
        self._show_compare_summary()
        self.compare_pane.show()
        self._compare_dirty = True
        self._maybe_request()

    def _on_compare_closed(self) -> None:
        self.compare_result = None
        self.compare_pane.hide()
        self.compare_reconstruction.clear()
        self.compare_summary.clear()
        self._compare_dirty = True  # asked again if a model is opened to compare

    def _compare_busy(self, busy: bool) -> None:
        if busy:
            self.compare_summary.setStyleSheet(plain_label_style())
            self.compare_summary.setText("computing…")
        elif self.compare_summary.text() == "computing…":
            self._show_compare_summary()  # superseded or cancelled: say what is shown

    def _on_compare_failed(self, message: str) -> None:
        self.compare_summary.setStyleSheet(error_label_style())
        self.compare_summary.setText(message)

    def _on_compare_demo(self, result: Any) -> None:
        text, rate, seed, rule = self.params()
        if not self.comparing or (result.text, result.rate, result.seed, result.bert_rule) != (text, rate, seed, rule):
            return
        self.compare_result = result
        by_pos = {m.index: m for m in result.masked}
        self.compare_reconstruction.set_tokens(
            result.reconstruction(),
            result.offsets,
            result.special,
            {i: RIGHT_COLOR if m.correct else WRONG_COLOR for i, m in by_pos.items()},
            {i: _prediction_tip(m) for i, m in by_pos.items()},
            subwords=result.subwords,
        )
        self._show_compare_summary()

    def _show_compare_summary(self) -> None:
        """Both models' loss and accuracy, once both have answered for the same controls."""
        a, b = self.result, self.compare_result
        self.compare_summary.setStyleSheet(plain_label_style())
        if not self.comparing:
            self.compare_summary.clear()
        elif a is None or b is None or (a.text, a.rate, a.seed, a.bert_rule) != (b.text, b.rate, b.seed, b.bert_rule):
            self.compare_summary.setText("Comparing…")
        else:
            self.compare_summary.setText(compare_summary(a, b))

    def _on_lens(self, result: Any) -> None:
        current = self.result
        if current is not None and result.input_ids == current.input_ids and result.position == self.selected:
            self.lens.set_result(result)

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(error_label_style() if error else plain_label_style())
        self.message.setVisible(bool(text))

    def set_result(self, r: Any) -> None:
        # Same tokens (new masks, or the same model again): keep looking at the same token.
        keep = self.selected if self.result is not None and self.result.ids == r.ids else None
        self.result = r
        self._awaiting_model_result = False
        self.show_message("\n".join(r.warnings))
        right = sum(m.correct for m in r.masked)
        self.loss.setText(f"Loss {r.loss:.4f}")
        self.accuracy.setText(f"Accuracy {right}/{len(r.masked)} = {r.accuracy:.0%}")
        self.loss_note.setText(f"(mean −log p(true) over {len(r.masked)} masked tokens, as transformers computes it)")
        self.loss.setAccessibleName(f"MLM loss {r.loss:.4f}, the mean over {len(r.masked)} masked tokens")
        by_pos = {m.index: m for m in r.masked}
        self.masked_view.set_tokens(
            r.input_display,
            r.offsets,
            r.special,
            {i: TREATMENT_COLORS[m.treatment] for i, m in by_pos.items()},
            {i: _input_tip(m) for i, m in by_pos.items()},
            subwords=r.subwords,
        )
        self.reconstruction.set_tokens(
            r.reconstruction(),
            r.offsets,
            r.special,
            {i: RIGHT_COLOR if m.correct else WRONG_COLOR for i, m in by_pos.items()},
            {i: _prediction_tip(m) for i, m in by_pos.items()},
            subwords=r.subwords,
        )
        self._fill_table(r)
        self._show_compare_summary()
        self.selected = None
        if keep is not None:
            self.select_position(keep)
        elif r.masked:
            self.select_position(r.masked[0].index)

    def _fill_table(self, r: Any) -> None:
        self.table.blockSignals(True)
        try:
            self.table.clearSelection()
            self.table.setRowCount(len(r.masked))
            for row, m in enumerate(r.masked):
                cells = (str(m.index), m.original, m.input, m.predicted, f"{m.p_true:.4f}", f"{m.loss:.3f}")
                for col, text in enumerate(cells):
                    item = QTableWidgetItem(text)
                    if col in (0, 4, 5):
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    self.table.setItem(row, col, item)
                self.table.item(row, 2).setBackground(QBrush(QColor(TREATMENT_COLORS[m.treatment])))
                self.table.item(row, 2).setToolTip(TREATMENT_TEXT[m.treatment])
                self.table.item(row, 3).setBackground(QBrush(QColor(RIGHT_COLOR if m.correct else WRONG_COLOR)))
                self.table.item(row, 3).setToolTip(f"p = {m.predicted_prob:.4f}")
        finally:
            self.table.blockSignals(False)

    def table_rows(self) -> list[tuple[str, ...]]:
        """The table as a person reads it (tests, UI automation)."""
        return [
            tuple(self.table.item(row, col).text() for col in range(self.table.columnCount()))
            for row in range(self.table.rowCount())
        ]


def _caption(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setStyleSheet(css(PALETTE.note))
    return label


def _input_tip(m: Any) -> str:
    return f"position {m.index}: “{m.original}” {TREATMENT_TEXT[m.treatment]} (“{m.input}”)"


def _prediction_tip(m: Any) -> str:
    verdict = "right" if m.correct else f"wrong: the true token is “{m.original}” (p = {m.p_true:.4f})"
    return f"position {m.index}: the model's top guess “{m.predicted}” (p = {m.predicted_prob:.4f}), {verdict}"

