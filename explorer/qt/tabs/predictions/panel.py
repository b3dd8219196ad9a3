"""The model's guesses for every mask, as text a screen reader can read and a click can use."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from explorer.core.subwords import WORDPIECE_CONVENTION, SubwordConvention
from explorer.core.colours import PALETTE
from explorer.qt.widgets.style import error_label_style, on_zoom, plain_label_style, scaled_px

BAR_SCALE = 1000
BUTTON_STYLE = "text-align: left; padding: 2px 6px;"
# A guess the other model also has in its top-k (compare mode): marked by more than colour.
SHARED_STYLE = BUTTON_STYLE + f" font-weight: 600; border-left: 3px solid {PALETTE.agree};"


class CandidateRow(QWidget):
    chosen = Signal(object)  # the Candidate

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.candidate: Any = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.button = QPushButton(self)
        self.button.setObjectName("candidateButton")
        self.button.setFlat(True)
        self.button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.button.setStyleSheet(BUTTON_STYLE)
        self.shared = False
        self.button.clicked.connect(lambda: self.chosen.emit(self.candidate))
        self.bar = QProgressBar(self)
        self.bar.setObjectName("candidateBar")
        self.bar.setRange(0, BAR_SCALE)
        self.bar.setTextVisible(False)
        self.score = QLabel(self)
        self.score.setObjectName("candidateScore")
        self.score.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.button, 2)
        layout.addWidget(self.bar, 3)
        layout.addWidget(self.score, 0)
        self.fit_zoom()

    def fit_zoom(self) -> None:
        """Sizes that the text does not set by itself grow with the zoom: the bar's height, the widths."""
        self.button.setMinimumWidth(scaled_px(110))
        self.bar.setFixedHeight(scaled_px(10))
        self.bar.setMinimumWidth(scaled_px(80))
        self.score.setMinimumWidth(scaled_px(56))

    def set_candidate(self, candidate: Any, subwords: SubwordConvention = WORDPIECE_CONVENTION) -> None:
        self.candidate = candidate
        shown = subwords.label(candidate.text, candidate.continues_word) if candidate.text else candidate.token
        pct = f"{candidate.score * 100:.1f}%"
        self.button.setText(shown)
        where = "joined to the word before" if candidate.continues_word else "in place of the mask"
        self.button.setToolTip(f"Write “{candidate.text}” {where}  ·  {candidate.token}  ·  id {candidate.token_id}")
        self.button.setAccessibleName(f"{shown}, {pct}")
        self.bar.setValue(round(candidate.score * BAR_SCALE))
        self.bar.setAccessibleName(f"probability of {shown}")
        self.score.setText(pct)

    def set_shared(self, shared: bool) -> None:
        """Compare mode: the other model has this word in its top-k too."""
        self.shared = shared
        self.button.setStyleSheet(SHARED_STYLE if shared else BUTTON_STYLE)
        name = self.button.accessibleName().removesuffix(", in both")
        self.button.setAccessibleName(f"{name}, in both" if shared else name)


class MaskCard(QGroupBox):
    chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("maskCard")
        self.rows: list[CandidateRow] = []
        self.fit_zoom()
        self._layout = QVBoxLayout(self)
        self._layout.setSpacing(1)
        self._layout.addStretch(1)

    def fit_zoom(self) -> None:
        # Several masks sit side by side and share a wide window; one mask alone stops at a
        # width where its bars still read as bars.
        self.setMinimumWidth(scaled_px(260))
        self.setMaximumWidth(scaled_px(640))
        for row in self.rows:
            row.fit_zoom()

    def set_prediction(self, ordinal: int, prediction: Any, subwords: SubwordConvention = WORDPIECE_CONVENTION) -> None:
        self.setTitle(f"Mask {ordinal + 1}  ·  token {prediction.index}")
        cands = prediction.candidates
        while len(self.rows) < len(cands):
            row = CandidateRow(self)
            row.chosen.connect(self.chosen)
            self._layout.insertWidget(len(self.rows), row)
            self.rows.append(row)
        for row, cand in zip(self.rows, cands):
            row.set_candidate(cand, subwords)
            row.show()
        for row in self.rows[len(cands) :]:
            row.hide()


class FillMaskPanel(QScrollArea):
    """Passive view: set_result / set_busy / show_error. Emits candidateChosen(mask, candidate)."""

    candidateChosen = Signal(int, object)

    def __init__(self, parent: QWidget | None = None, *, name: str = "fillMaskPanel") -> None:
        super().__init__(parent)
        # Names stay unique per panel, so automation finds the editor's panel, not a copy.
        self.setObjectName(name)
        self.setAccessibleName("Predictions")
        self.setWidgetResizable(True)
        body = QWidget(self)
        outer = QVBoxLayout(body)
        self.message = QLabel(body)
        self.message.setObjectName("fillMaskMessage" if name == "fillMaskPanel" else f"{name}Message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self.message)
        self._cards_layout = QHBoxLayout()
        self._cards_layout.setAlignment(Qt.AlignmentFlag.AlignTop)
        self._cards_layout.addStretch(0)  # what the cards leave, past their widest, stays on the right
        outer.addLayout(self._cards_layout)
        outer.addStretch(1)
        self.setWidget(body)
        self.cards: list[MaskCard] = []
        self.result: Any = None
        self.bar_colour = ""  # the platform's own bars (set_bar_colour)
        on_zoom(self, self._fit_zoom)
        self.show_message("Type a sentence with a mask to see the model's guesses.")

    def _fit_zoom(self) -> None:
        for card in self.cards:
            card.fit_zoom()

    def set_bar_colour(self, colour: str) -> None:
        """Compare mode paints each model's bars its own colour (PALETTE.compare_a / _b), so
        the two sides read apart at a glance; "" gives the platform's own bars back."""
        self.bar_colour = colour
        self.setStyleSheet(
            f"QProgressBar#candidateBar {{ border: none; background: {PALETTE.bar_trough}; }}"
            f" QProgressBar#candidateBar::chunk {{ background: {colour}; }}" if colour else ""
        )

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(error_label_style() if error else plain_label_style())
        self.message.setVisible(bool(text))

    def set_busy(self, busy: bool) -> None:
        # Old guesses stay readable while new ones compute; only their look changes.
        for card in self.cards:
            card.setEnabled(not busy)
        self.setProperty("busy", busy)

    def show_error(self, message: str) -> None:
        self.set_busy(False)
        self.show_message(message, error=True)

    def set_result(self, result: Any) -> None:
        self.result = result
        self.set_busy(False)
        self.show_message("\n".join(result.warnings))
        while len(self.cards) < len(result.masks):
            card = MaskCard(self.widget())
            ordinal = len(self.cards)
            card.chosen.connect(lambda cand, i=ordinal: self.candidateChosen.emit(i, cand))
            self._cards_layout.insertWidget(len(self.cards), card, 1)  # the cards share the width
            self.cards.append(card)
        for i, (card, prediction) in enumerate(zip(self.cards, result.masks)):
            card.set_prediction(i, prediction, result.subwords)
            card.show()
        for card in self.cards[len(result.masks) :]:
            card.hide()

    def clear(self, message: str) -> None:
        """No guesses, and why (they were for another sentence or model, say)."""
        self.result = None
        self.set_busy(False)
        for card in self.cards:
            card.hide()
        self.show_message(message)

    def mark_shared(self, shared: list[set[tuple[str, bool]]] | None) -> None:
        """Compare mode: mark, per mask, the guesses whose word (core.compare.word) is in
        `shared[mask]`; None clears every mark."""
        for n, card in enumerate(self.cards):
            words = shared[n] if shared is not None and n < len(shared) else set()
            for row in card.rows:
                row.set_shared(row.candidate is not None and (row.candidate.text, row.candidate.continues_word) in words)

    def shared_candidates(self) -> list[list[str]]:
        """Per mask, the guesses marked as shared (tests and UI automation)."""
        return [
            [row.button.text() for row in card.rows if not row.isHidden() and row.shared]
            for card in self.cards
            if not card.isHidden()
        ]

    def visible_candidates(self) -> list[list[str]]:
        """What a person sees per mask (used by tests and UI automation)."""
        return [
            [row.button.text() for row in card.rows if not row.isHidden()]
            for card in self.cards
            if not card.isHidden()
        ]
