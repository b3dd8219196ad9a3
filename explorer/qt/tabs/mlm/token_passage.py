"""A passage shown as running text whose tokens can be coloured, explained and clicked.

Rich text rather than one widget per token: a 500-token passage stays one cheap widget and
wraps like prose. Every token's span in the document is kept, so a click or a hover maps
back to the token under the mouse.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from PySide6.QtCore import QEvent, QPoint, QRect, Qt, Signal
from PySide6.QtGui import QMouseEvent, QTextCursor
from PySide6.QtWidgets import QTextEdit, QToolTip, QWidget

from explorer.core.subwords import WORDPIECE_CONVENTION, SubwordConvention
from explorer.qt.widgets.style import PALETTE, follow_zoom

SPECIAL_COLOR = PALETTE.special_token
HAIR_SPACE = "\u200a"  # between glued pieces that are both coloured, so two masks do not merge


def joins_previous(offsets: Sequence[tuple[int, int]], special: Sequence[bool], i: int) -> bool:
    """True when token i continues the word of token i-1 (no space between them in the text)."""
    if i == 0 or special[i] or special[i - 1]:
        return False
    return offsets[i][0] == offsets[i - 1][1] and offsets[i][1] > offsets[i][0]


class TokenPassage(QTextEdit):
    """Read-only. set_tokens(...) draws; emits tokenClicked(index) for a non-special token."""

    tokenClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.viewport().setCursor(Qt.CursorShape.PointingHandCursor)
        follow_zoom(self, 1.15)
        self._spans: list[tuple[int, int]] = []
        self._special: tuple[bool, ...] = ()
        self._tips: dict[int, str] = {}
        self.selected: int | None = None
        self._last: tuple | None = None
        self._subwords = WORDPIECE_CONVENTION

    def set_tokens(
        self,
        shown: Sequence[str],
        offsets: Sequence[tuple[int, int]],
        special: Sequence[bool],
        colors: Mapping[int, str] | None = None,
        tips: Mapping[int, str] | None = None,
        selected: int | None = None,
        subwords: SubwordConvention = WORDPIECE_CONVENTION,
    ) -> None:
        """`shown`: each token as the model's token views show it (WordPiece's keep "##");
        `subwords`: the model's convention, which says what mark a glued piece drops."""
        self._last = (tuple(shown), tuple(offsets), tuple(special), dict(colors or {}), dict(tips or {}))
        self._subwords = subwords
        self.selected = selected
        self._render()

    def set_selected(self, index: int | None) -> None:
        if index != self.selected and self._last is not None:
            self.selected = index
            self._render()

    def _render(self) -> None:
        assert self._last is not None
        shown, offsets, special, colors, tips = self._last
        self._special, self._tips = special, tips
        parts: list[str] = []
        spans: list[tuple[int, int]] = []
        pos = 0
        for i, text in enumerate(shown):
            glued = joins_previous(offsets, special, i)
            mark = self._subwords.continuation_prefix
            if glued and mark and text.startswith(mark):
                text = text[len(mark):] or text  # "##ing" reads as part of its word
            if i > 0:
                sep = (HAIR_SPACE if (i in colors or i - 1 in colors) else "") if glued else " "
                parts.append(sep)
                pos += len(sep)
            style = []
            if i in colors:
                style.append(f"background-color:{colors[i]}")
            if special[i]:
                style.append(f"color:{SPECIAL_COLOR}")
            if i == self.selected:
                style.append("font-weight:bold; text-decoration:underline")
            parts.append(f'<span style="{";".join(style)}">{html.escape(text)}</span>' if style else html.escape(text))
            spans.append((pos, pos + len(text)))
            pos += len(text)
        self._spans = spans
        # pre-wrap: Qt would otherwise turn the hair space into a full one.
        self.setHtml("<p style='line-height:140%; white-space:pre-wrap'>" + "".join(parts) + "</p>")

    def colored(self) -> dict[int, str]:
        """Token index -> background colour, as drawn (tests, UI automation)."""
        return dict(self._last[3]) if self._last is not None else {}

    # --- mapping the mouse to tokens ------------------------------------------------------
    def token_at(self, pos: QPoint) -> int | None:
        """The token under a point of the viewport, or None between lines or past the end."""
        cursor = self.cursorForPosition(pos)
        rect = self.cursorRect(cursor)
        if not rect.top() - 2 <= pos.y() <= rect.bottom() + 2:
            return None
        char = cursor.position() - 1 if pos.x() < rect.x() else cursor.position()
        for i, (start, end) in enumerate(self._spans):
            if start <= char < end:
                return i
        return None

    def token_rect(self, index: int) -> QRect:
        """Where token `index` starts, in viewport coordinates (for tests and UI automation)."""
        start, end = self._spans[index]
        cursor = QTextCursor(self.document())
        cursor.setPosition(start)
        first = self.cursorRect(cursor)
        cursor.setPosition(min(start + 1, end))
        after = self.cursorRect(cursor)
        width = after.x() - first.x() if after.top() == first.top() else 6
        return QRect(first.x(), first.y(), max(2, width), first.height())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            index = self.token_at(event.position().toPoint())
            if index is not None and not self._special[index]:
                self.tokenClicked.emit(index)
        super().mouseReleaseEvent(event)

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            index = self.token_at(event.pos())  # type: ignore[attr-defined]
            tip = self._tips.get(index, "") if index is not None else ""
            if tip:
                QToolTip.showText(event.globalPos(), tip, self.viewport())  # type: ignore[attr-defined]
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)
