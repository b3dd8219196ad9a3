"""The joint view: the masks filled together, as whole sentences with their scores.

Beside the per-mask cards (each mask's own guesses), this lists the best fillings of all the
masks at once (explorer.engine.joint: each choice read back by the model before the next,
ranked by pseudo-log-likelihood) and what each mask's own best guess gives, scored the same
way. "How many tokens?" lets a lone mask stand for a word of several pieces.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from explorer.core.colours import PALETTE
from explorer.core.joint import JointParams
from explorer.qt.widgets.param_form import ParamForm
from explorer.qt.widgets.style import css, error_label_style, plain_label_style

ROW_STYLE = "text-align: left; padding: 2px 6px;"
EXPLAIN = (
    "The masks filled together: each choice is read back by the model before the next mask is filled, "
    "and each filling is scored by its pseudo-log-likelihood (the sum over the masks of log p of the "
    "chosen word with only that mask hidden). Higher (closer to 0) is better. Click a filling to write it "
    "into the sentence (Ctrl+Z takes it back)."
)
ONE_MASK = "One mask: its guesses are above. Set How many tokens? above 1 to look for words of several pieces."


CAPTIONS = {"max_pieces": "How many tokens?", "order": "order"}


def _score(value: float) -> str:
    return f"{value:.2f}" if math.isfinite(value) else "not a number"


class JointPanel(QGroupBox):
    """Asks its model slot for the joint fillings of a text; emits fillingChosen(result, filling)."""

    fillingChosen = Signal(object, object)
    settingsChanged = Signal()

    def __init__(
        self, slot: Any, parent: QWidget | None = None, *, name: str = "jointFillPanel", leader: JointPanel | None = None
    ) -> None:
        super().__init__("Together: the masks filled jointly", parent)
        self.setObjectName(name)
        self.setToolTip(EXPLAIN)
        self.slot = slot
        self.result: Any = None
        self.form = ParamForm(JointParams, self)
        controls = QHBoxLayout()
        for key in ("max_pieces", "beam", "order", "results"):
            control = self.form[key]
            if key in CAPTIONS:
                caption = QLabel(CAPTIONS[key], self)
                caption.setBuddy(control)
                controls.addWidget(caption)
            controls.addWidget(control)
            signal = getattr(control, "valueChanged", None) or control.currentIndexChanged
            signal.connect(lambda *_: self.settingsChanged.emit())
        controls.addStretch(1)
        # Compare mode: B searches with A's settings (one set of controls, as in the other tabs).
        self.leader = leader
        if leader is not None:
            for control in self.form.controls.values():
                control.hide()
            for n in range(controls.count()):
                widget = controls.itemAt(n).widget()
                if isinstance(widget, QLabel):
                    widget.hide()
            controls.insertWidget(0, QLabel("Searches with A's settings.", self))
            leader.settingsChanged.connect(self.settingsChanged)
        self.message = QLabel("", self)
        self.message.setObjectName(f"{name}Message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.independent = QLabel("", self)
        self.independent.setObjectName(f"{name}Independent" if name != "jointFillPanel" else "jointIndependent")
        self.independent.setWordWrap(True)
        self.independent.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.independent.setToolTip("Each mask's own best guess, as the per-mask view shows it, scored the same way.")
        self.rows: list[QPushButton] = []
        self._rows_layout = QVBoxLayout()
        self._rows_layout.setSpacing(1)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.message)
        layout.addLayout(self._rows_layout)
        layout.addWidget(self.independent)

    def params(self) -> JointParams:
        return self.leader.params() if self.leader is not None else JointParams(**self.form.values())

    def ask(self, text: str, masks: int) -> bool:
        """Ask for the joint fillings of `text` with `masks` masks; False when there is nothing
        to ask (one mask and one piece, no mask, or no model yet)."""
        params = self.params()
        if masks == 0:
            self.clear("")
            return False
        if masks == 1 and params.max_pieces == 1:
            self.clear(ONE_MASK)
            return False
        job = self.slot.request(lambda model: model.joint_fill(text, params), lane=id(self))
        if job is None:
            return False
        self.set_busy(True)
        job.finished.connect(self.set_result)
        job.failed.connect(lambda message, _cause: self.show_message(message, error=True))
        return True

    def set_busy(self, busy: bool) -> None:
        # Old fillings stay readable (greyed) while the new text is searched; the old message,
        # which may be about another text, gives way.
        for row in self.rows:
            row.setEnabled(not busy)
        if busy:
            self.show_message("Searching…")

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(error_label_style() if error else plain_label_style())
        self.message.setVisible(bool(text))

    def clear(self, message: str) -> None:
        self.result = None
        for row in self.rows:
            row.hide()
        self.independent.setText("")
        self.independent.hide()
        self.show_message(message)

    def set_result(self, result: Any) -> None:
        self.result = result
        per_piece = result.max_pieces > 1
        while len(self.rows) < len(result.fillings):
            row = QPushButton(self)
            row.setObjectName("jointFilling")
            # A long sentence is elided to the box's width (whole in the tooltip), never widening the page.
            row.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            row.setFlat(True)
            row.setCursor(Qt.CursorShape.PointingHandCursor)
            row.setStyleSheet(ROW_STYLE)
            n = len(self.rows)
            row.clicked.connect(lambda _=False, n=n: self._choose(n))
            self._rows_layout.addWidget(row)
            self.rows.append(row)
        for n, (row, f) in enumerate(zip(self.rows, result.fillings)):
            score = f"{_score(f.per_piece)} per piece" if per_piece else _score(f.score)
            row.setProperty("full_text", f"{n + 1}.  {f.text}    {score}")
            parts = "  ".join(f"{t} {_score(p)}" for t, p in zip(f.tokens, f.parts))
            row.setToolTip(f"{f.text}\nPieces and their log p with only that mask hidden: {parts}\n"
                           "Click to write it into the sentence.")
            row.setAccessibleName(f"Filling {n + 1}: {f.text}, score {score}")
            row.setEnabled(True)
            row.show()
        for row in self.rows[len(result.fillings):]:
            row.hide()
        self._elide()
        notes = list(result.warnings)
        if result.fillings:
            notes.append(f"Ranked by {result.ranked_by}; beam {result.beam}, {result.order} order.")
        self.show_message("\n".join(notes))
        ind = result.independent
        if ind is not None and len(result.fillings):
            best = result.fillings[0]
            if best.token_ids == ind.token_ids:
                verdict = "the same as the best joint filling"
            elif per_piece:
                verdict = "the best one-piece guess"
            else:
                verdict = f"{_score(best.score - ind.score)} below the best"
            self.independent.setText(f"Each mask alone: {ind.text}    {_score(ind.score)}  ({verdict})")
            self.independent.setStyleSheet(css(PALETTE.note))
            self.independent.show()
        else:
            self.independent.hide()

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(50, self.contentsRect().width() - 30)
        for row in self.rows:
            full = row.property("full_text") or ""
            row.setText(row.fontMetrics().elidedText(full, Qt.TextElideMode.ElideMiddle, width))

    def _choose(self, n: int) -> None:
        if self.result is not None and n < len(self.result.fillings):
            self.fillingChosen.emit(self.result, self.result.fillings[n])

    def visible_fillings(self) -> list[str]:
        """The fillings as shown (tests and UI automation)."""
        return [row.property("full_text") for row in self.rows if not row.isHidden()]
