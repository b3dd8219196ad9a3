"""Progress of a long job: a bar, what it is doing, the time left, and Stop."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from explorer.core.eta import RecentPace

SCALE = 1000
LABEL_MIN, LABEL_MAX = 220, 420


class ElidedLabel(QLabel):
    """One line that shortens itself in the middle ("saved to /home/…/model") instead of
    squeezing its neighbours; text() and the tooltip keep all of it."""

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        super().setText(text)
        self._sync_tooltip()
        self.updateGeometry()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._sync_tooltip()

    def _sync_tooltip(self) -> None:
        # The tooltip is there exactly when the line is cut, at the width it has now.
        cut = self.fontMetrics().horizontalAdvance(self.text()) > self.contentsRect().width()
        self.setToolTip(self.text() if cut else "")

    def sizeHint(self) -> QSize:  # noqa: N802
        hint = super().sizeHint()
        return QSize(max(LABEL_MIN, min(hint.width(), LABEL_MAX)), hint.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(LABEL_MIN, super().minimumSizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideMiddle, self.contentsRect().width())
        painter.drawText(self.contentsRect(), int(self.alignment()), shown)


class JobBar(QWidget):
    """Passive: start() / update(step) / finish(message). Emits stopRequested."""

    stopRequested = Signal()

    def __init__(self, parent: QWidget | None = None, *, stop_name: str = "stopButton") -> None:
        super().__init__(parent)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, SCALE)
        self.bar.setTextVisible(True)
        self.label = ElidedLabel("", self)
        self.stop = QPushButton("Stop", self)
        self.stop.setObjectName(stop_name)
        self.stop.setToolTip("Stop the job at the end of its current step")
        self.stop.setEnabled(False)
        self.stop.clicked.connect(self.stopRequested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.label)
        layout.addWidget(self.stop)
        self._started = 0.0
        self._pace = RecentPace()
        self.running = False

    def start(self, message: str = "starting…") -> None:
        self._started = time.monotonic()
        self._pace = RecentPace()
        self.running = True
        self.bar.setRange(0, 0)  # busy until the first step says how much there is
        self.label.setText(message)
        self.stop.setEnabled(True)

    def update(self, step: Any) -> None:
        done, total = float(getattr(step, "done", 0)), float(getattr(step, "total", 0))
        text = getattr(step, "message", "")
        if total > 0:
            self.bar.setRange(0, SCALE)
            self.bar.setValue(int(SCALE * min(done / total, 1.0)))
            self.bar.setFormat(f"{done:g} / {total:g}")
            self._pace.add(time.monotonic(), done)
            left = self._pace.seconds_left(total)
            if left is not None:  # an estimate, and said to be one
                words = f"about {format_seconds(left)} left"
                text = f"{text}  ·  {words}" if text else words
        self.label.setText(text)

    def finish(self, message: str = "", *, empty: bool = False) -> None:
        """The job ended. `empty`: the bar goes back to empty (a preparation, such as reading
        the files, is not the run: a full bar then looked as if it had already run)."""
        self.running = False
        self.stop.setEnabled(False)
        if self.bar.maximum() == 0:
            self.bar.setRange(0, SCALE)
        if empty:
            self.bar.setValue(0)
            self.bar.setFormat("")
        self.label.setText(message)


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
