"""The wordpieces of the current text; clicking one masks it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFontMetrics
from PySide6.QtWidgets import QApplication, QListView, QListWidget, QListWidgetItem, QWidget

from explorer.qt.widgets.style import PALETTE, on_zoom, scaled_px

SPECIAL_COLOR = QColor(PALETTE.special_token)
MASK_COLOR = QColor(PALETTE.mask_bg)


ROW_HEIGHT = 26  # one token chip
MAX_HEIGHT = 72  # px at 100%: two rows of chips, then it scrolls


class TokenStrip(QListWidget):
    """Emits tokenClicked(index) for a token of the text (not for [CLS]/[SEP] and the like)."""

    tokenClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tokenView")
        self.setAccessibleName("Tokens")
        self.setToolTip("The wordpieces the model reads. Click one to mask it.")
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setSpacing(3)
        self.setUniformItemSizes(False)
        self.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.itemClicked.connect(self._on_clicked)
        self._tokenization: Any = None
        self._mask_token = ""
        on_zoom(self, self._fit_zoom)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """One row of tokens (more rows scroll): a list's own minimum is about three rows, which
        a 768-pixel screen cannot spare beside the menus, the banner and a tab."""
        hint = super().minimumSizeHint()
        return QSize(hint.width(), self._row_height() + 2 * self.frameWidth() + 2 * self.spacing() + 4)

    def _row_height(self) -> int:
        """A chip's height: ROW_HEIGHT at 100%, more with a zoomed font (measured, even hidden)."""
        return max(ROW_HEIGHT, QFontMetrics(QApplication.font(self)).height() + 10)

    def _fit_zoom(self) -> None:
        """Chips sized for the font, or a zoomed text is cut to "[M…"."""
        self.setMaximumHeight(scaled_px(MAX_HEIGHT))
        self.set_tokenization(self._tokenization, self._mask_token)
        self.updateGeometry()

    def set_tokenization(self, tokenization: Any, mask_token: str = "") -> None:
        self._tokenization, self._mask_token = tokenization, mask_token
        metrics = QFontMetrics(QApplication.font(self))
        self.clear()
        if tokenization is None:
            return
        for i, (shown, token_id, (start, end), special) in enumerate(
            zip(tokenization.display, tokenization.ids, tokenization.offsets, tokenization.special)
        ):
            item = QListWidgetItem(shown)
            item.setData(Qt.ItemDataRole.UserRole, i)
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            where = f"characters {start}–{end}" if end > start else "added by the tokenizer"
            item.setToolTip(f"{tokenization.tokens[i]}  ·  id {token_id}  ·  {where}")
            item.setSizeHint(QSize(max(28, metrics.horizontalAdvance(shown) + 16), self._row_height()))
            if shown == mask_token or tokenization.tokens[i] == mask_token:
                item.setBackground(QBrush(MASK_COLOR))
            elif special:
                item.setForeground(QBrush(SPECIAL_COLOR))
            self.addItem(item)

    def _on_clicked(self, item: QListWidgetItem) -> None:
        index = int(item.data(Qt.ItemDataRole.UserRole))
        tok = self._tokenization
        if tok is None or tok.special[index]:
            return
        self.tokenClicked.emit(index)
