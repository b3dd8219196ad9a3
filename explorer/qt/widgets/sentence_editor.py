"""The sentence editor: predictions follow the text as it is typed."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from explorer.qt.widgets.style import follow_zoom

DEBOUNCE_MS = 200


class SentenceEditor(QPlainTextEdit):
    """Emits `textSettled` once typing pauses (or at once on Ctrl+Enter)."""

    textSettled = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sentenceEditor")
        self.setAccessibleName("Sentence")
        self.setPlaceholderText("Type a sentence and put [MASK] where the model should guess…")
        self.mask_token = "[MASK]"
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.settle)
        self.textChanged.connect(self._debounce.start)
        follow_zoom(self, 1.4)  # read from the back of a classroom, and larger still when zoomed
        self._fit_height()

    def _fit_height(self) -> None:
        self.setFixedHeight(self.fontMetrics().lineSpacing() * 2 + 18)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # a zoom: two lines of the new size
            self._fit_height()

    def set_mask_token(self, token: str) -> None:
        self.mask_token = token
        self.setPlaceholderText(f"Type a sentence and put {token} where the model should guess…")

    def settle(self) -> None:
        self._debounce.stop()
        self.textSettled.emit(self.toPlainText())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.settle()
            return
        super().keyPressEvent(event)

    def insert_mask(self) -> None:
        """Insert the model's own mask token at the cursor, spaced from its neighbours."""
        cursor = self.textCursor()
        text = self.toPlainText()
        pos = cursor.selectionStart()
        before = text[pos - 1] if pos > 0 and not cursor.hasSelection() else ""
        insert = self.mask_token
        if before and not before.isspace():
            insert = " " + insert
        cursor.insertText(insert)
        self.setTextCursor(cursor)
        self.setFocus()

    def replace_span(self, start: int, end: int, text: str, *, glue_left: bool = False) -> None:
        """Replace characters [start, end) in one undoable edit."""
        content = self.toPlainText()
        if glue_left:
            while start > 0 and content[start - 1] in " \t":
                start -= 1
        cursor = QTextCursor(self.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(text)
        self.setTextCursor(cursor)
