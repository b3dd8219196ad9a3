"""The Score tab: how likely the model finds whole sentences, and where it is surprised.

Each token in turn is masked and its log-probability read (explorer.engine.scoring); the
sentence's score, its pseudo-log-likelihood, is their sum. A bar per token shows the surprise
(−log p): the taller, the less the model expected that token there. Of a minimal pair the
sentence with the higher score is the one the model prefers. In compare mode both models
score the same sentences, each with its own bars.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QKeySequence, QPainter, QShortcut
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from explorer.core.colours import PALETTE
from explorer.core.model_names import short_name
from explorer.qt.shell.shortcuts import keys
from explorer.qt.widgets.style import SIDES, css, error_label_style, on_zoom, plain_label_style, scaled_px

EXAMPLE = "The keys to the cabinet are here.\nThe keys to the cabinet is here."
HELP = (
    "One sentence a line. The model hides each token in turn and says how likely the hidden token was; "
    "a sentence's score (its pseudo-log-likelihood, PLL) is the sum of those log-probabilities: higher "
    "(closer to 0) is likelier. Of two sentences that differ in one place, the higher score is the one "
    "the model prefers. Bars show the surprise at each token (−log p): tall means unexpected."
)
TITLE_CHARS = 90  # a sentence's title is cut past this
BAR_HEIGHT = 60  # px at 100% zoom for the most surprising token of the result


class SurpriseBars(QWidget):
    """One sentence's tokens with a bar above each: the bar's height is −log p, to a shared scale."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scoreBars")
        self.tokens: tuple[str, ...] = ()
        self.scores: tuple[float | None, ...] = ()
        self.colour = PALETTE.compare_a
        self.scale = 1.0  # the largest surprise shown in this tab: bars compare across sentences
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)  # a long sentence's tokens wrap onto more lines
        self.setSizePolicy(policy)
        on_zoom(self, self.updateGeometry)

    def set_scores(self, tokens: tuple[str, ...], scores: tuple[float | None, ...], colour: str, scale: float) -> None:
        shown = [(t, s) for t, s in zip(tokens, scores) if s is not None]  # [CLS]/[SEP] are not scored
        self.tokens = tuple(t for t, _ in shown)
        self.scores = tuple(s for _, s in shown)
        self.colour, self.scale = colour, max(scale, 1e-6)
        words = ", ".join(f"{t} {s:.2f}" for t, s in shown)
        self.setToolTip(f"log p of each token with only it hidden: {words}")
        self.setAccessibleName(f"Per-token log-probabilities: {words}")
        self.updateGeometry()
        self.update()

    def _cell(self, token: str) -> int:
        metrics = QFontMetrics(self.font())
        return max(metrics.horizontalAdvance(token), metrics.horizontalAdvance("-00.0")) + scaled_px(10)

    def _line_height(self) -> int:
        return scaled_px(BAR_HEIGHT) + 2 * QFontMetrics(self.font()).height() + scaled_px(6)

    def _lines(self, width: int) -> list[list[int]]:
        """The tokens' indices per line, wrapped at `width` as words wrap in a paragraph."""
        lines: list[list[int]] = [[]]
        x = 0
        for i, token in enumerate(self.tokens):
            w = self._cell(token)
            if lines[-1] and x + w > width:
                lines.append([])
                x = 0
            lines[-1].append(i)
            x += w
        return lines

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt's name)
        return len(self._lines(width)) * self._line_height()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(sum(self._cell(t) for t in self.tokens) or scaled_px(100), self._line_height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(scaled_px(100), self._line_height())

    def resizeEvent(self, event: Any) -> None:  # noqa: N802
        super().resizeEvent(event)
        wanted = self.heightForWidth(self.width())
        if self.minimumHeight() != wanted:
            self.setMinimumHeight(wanted)  # a box layout asks the width's height only so far

    def paintEvent(self, _event: Any) -> None:  # noqa: N802
        painter = QPainter(self)
        line = QFontMetrics(self.font()).height()
        bar_room = scaled_px(BAR_HEIGHT)
        for n, indices in enumerate(self._lines(self.width())):
            base = n * self._line_height() + line + bar_room
            x = 0
            for i in indices:
                token, score = self.tokens[i], self.scores[i]
                w = self._cell(token)
                surprise = -score if math.isfinite(score) else self.scale
                h = bar_room * min(1.0, max(0.0, surprise) / self.scale)
                painter.fillRect(QRectF(x + 3, base - h, w - 6, h), QColor(self.colour))
                painter.setPen(QColor(PALETTE.note))
                painter.drawText(QRectF(x, base - h - line, w, line), Qt.AlignmentFlag.AlignCenter, f"{score:.1f}")
                painter.setPen(self.palette().text().color())
                painter.drawText(QRectF(x, base + 2, w, line), Qt.AlignmentFlag.AlignCenter, token)
                x += w
        painter.end()


class SentenceCard(QGroupBox):
    """One sentence: its score per model, and its bars."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scoreSentence")
        self.layout_ = QVBoxLayout(self)
        self.layout_.setSpacing(2)
        self.lines: list[tuple[QLabel, SurpriseBars]] = []

    def show_scores(self, text: str, per_side: list[tuple[str, str, Any, bool]], scale: float) -> None:
        """per_side: (side name, colour, SentenceScore, preferred by that side)."""
        # A long sentence's title is cut (whole in the tooltip): a group box is never narrower than its title.
        self.setTitle(text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…")
        self.setToolTip(text)
        while len(self.lines) < len(per_side):
            label, bars = QLabel(self), SurpriseBars(self)
            label.setObjectName("scorePll")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.layout_.addWidget(label)
            self.layout_.addWidget(bars)
            self.lines.append((label, bars))
        for (label, bars), (side, colour, score, preferred) in zip(self.lines, per_side):
            mark = "   ✓ preferred" if preferred else ""
            who = f"{side}: " if side else ""
            tokens = f"{score.scored} token{'s' if score.scored != 1 else ''}"
            label.setText(f"{who}PLL {score.pll:.2f}  ({tokens}, mean {score.pll / max(1, score.scored):.2f}){mark}")
            label.setStyleSheet(css(colour, bold=preferred) if side else css(bold=preferred))
            bars.set_scores(score.display or score.tokens, score.token_scores, colour, scale)
            label.show()
            bars.show()
        for label, bars in self.lines[len(per_side):]:
            label.hide()
            bars.hide()


class ScoreTab(QWidget):
    """Scores the sentences typed in its box with the main model (and the compared one)."""

    scored = Signal(object)  # the main model's ScoreResult

    def __init__(self, main_slot: Any, compare_slot: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scoreTab")
        self.slots = [main_slot] + ([compare_slot] if compare_slot is not None else [])
        self.results: list[Any] = [None] * len(self.slots)
        self._asked: tuple[str, ...] = ()
        intro = QLabel(HELP, self)
        intro.setWordWrap(True)
        intro.setStyleSheet(css(PALETTE.note))
        self.sentences = QPlainTextEdit(self)
        self.sentences.setObjectName("scoreSentences")
        self.sentences.setAccessibleName("Sentences to score, one a line")
        self.sentences.setToolTip("One sentence a line; Ctrl+Enter scores them")
        self.sentences.setPlainText(EXAMPLE)
        self.sentences.setFixedHeight(scaled_px(70))
        self.button = QPushButton("Score", self)
        self.button.setObjectName("scoreButton")
        self.button.setToolTip("Score every sentence with the model in use (and the compared one) (Ctrl+Enter)")
        for key in keys("score"):  # in the box only: in the main sentence, Ctrl+Enter asks at once
            QShortcut(QKeySequence(key), self.sentences, activated=self.score, context=Qt.ShortcutContext.WidgetShortcut)
        self.message = QLabel("", self)
        self.message.setObjectName("scoreMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cards: list[SentenceCard] = []
        body = QWidget(self)
        self._cards_layout = QVBoxLayout(body)
        self._cards_layout.addStretch(1)
        self.results_area = QScrollArea(self)
        self.results_area.setObjectName("scoreResults")
        self.results_area.setWidgetResizable(True)
        self.results_area.setWidget(body)
        row = QHBoxLayout()
        row.addWidget(self.sentences, 1)
        side = QVBoxLayout()
        side.addWidget(self.button)
        side.addStretch(1)
        row.addLayout(side)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(self.results_area, 1)
        self.button.clicked.connect(self.score)
        if compare_slot is not None:
            compare_slot.closed.connect(self._show)
            compare_slot.loaded.connect(lambda _info: self._rescore())

    def texts(self) -> tuple[str, ...]:
        return tuple(line.strip() for line in self.sentences.toPlainText().splitlines() if line.strip())

    def score(self) -> None:
        texts = self.texts()
        if not texts:
            self.show_message("Type a sentence to score, one a line.", error=True)
            for card in self.cards:  # no result stays under the message as if it were this one's
                card.hide()
            self._asked = ()
            return
        self._asked = texts
        self.results = [None] * len(self.slots)
        asked = False
        for n, slot in enumerate(self.slots):
            job = slot.request(lambda model: model.score(list(texts)), lane=id(self))
            if job is None:
                continue
            asked = True
            job.finished.connect(lambda result, n=n, texts=texts: self._answer(n, texts, result))
            job.failed.connect(lambda message, _cause: self.show_message(message, error=True))
        self.show_message("Scoring…" if asked else "No model is loaded yet: wait for it to load, or pick one.", error=not asked)

    def _rescore(self) -> None:
        if self._asked:
            self.score()

    def _answer(self, n: int, texts: tuple[str, ...], result: Any) -> None:
        if texts != self._asked:
            return  # an answer for sentences since changed
        self.results[n] = result
        if n == 0:
            self.scored.emit(result)
        self._show()

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(error_label_style() if error else plain_label_style())

    def _show(self) -> None:
        shown = self._shown()
        named = len(shown) > 1  # a side's name only when there are two
        sides = [(SIDES[n][0] if named else "", SIDES[n][1], self.results[n]) for n in shown]
        if not sides:
            return
        texts = [s.text for s in sides[0][2].sentences]
        scale = max((-s for _, _, r in sides for one in r.sentences for s in one.token_scores
                     if s is not None and math.isfinite(s)), default=1.0)
        while len(self.cards) < len(texts):
            card = SentenceCard(self.results_area.widget())
            self._cards_layout.insertWidget(len(self.cards), card)
            self.cards.append(card)
        for i, (card, text) in enumerate(zip(self.cards, texts)):
            per_side = [(name, colour, r.sentences[i], r.preferred == i) for name, colour, r in sides]
            card.show_scores(text, per_side, scale)
            card.show()
        for card in self.cards[len(texts):]:
            card.hide()
        notes = list(dict.fromkeys(w for _, _, r in sides for w in r.warnings))
        if len(texts) > 1:
            for name, _, r in sides:
                best = r.sentences[r.preferred]
                who = f"{name} ({short_name(r.model)})" if name else short_name(r.model)
                notes.append(f"{who} prefers: {best.text}")
        self.show_message("\n".join(notes))

    def _shown(self) -> list[int]:
        """The sides whose scores are shown: those answered, B while it is still open."""
        return [n for n, r in enumerate(self.results) if r is not None and (n == 0 or self.slots[n].has_model)]

    def shown_results(self) -> list[Any]:
        return [self.results[n] for n in self._shown()]

