"""Messages a person must see, across the top of the window, each with a way out."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


def _label(parent: QWidget, name: str) -> QLabel:
    label = QLabel(parent)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class ErrorBanner(QFrame):
    """A model that failed to load, or another error that stops the person."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.setStyleSheet("#errorBanner { background: #fdecea; border: 1px solid #f5c2c0; border-radius: 4px; }")
        layout = QHBoxLayout(self)
        self.label = _label(self, "errorText")
        self.open_folder = QPushButton("Open folder…", self)
        self.open_folder.setObjectName("bannerOpenFolder")
        close = QPushButton("Dismiss", self)
        close.clicked.connect(self.hide)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.open_folder)
        layout.addWidget(close)
        self.hide()

    def show_error(self, message: str, *, offer_folder: bool = False) -> None:
        self.label.setText(message)
        self.open_folder.setVisible(offer_folder)
        self.show()


class DemoBanner(QFrame):
    """Says that the bundled demo model is in use (and why), and offers the real thing."""

    openFolderRequested = Signal()
    downloadRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("demoBanner")
        self.setStyleSheet("#demoBanner { background: #fff8e1; border: 1px solid #f0d48a; border-radius: 4px; }")
        layout = QHBoxLayout(self)
        self.label = _label(self, "demoBannerText")
        self.open_folder = QPushButton("Open folder…", self)
        self.open_folder.setObjectName("demoOpenFolder")
        self.open_folder.setToolTip("Open a model folder that is on this computer")
        self.download = QPushButton("Download…", self)
        self.download.setObjectName("demoDownload")
        self.download.setToolTip("Fetch a model from the Hugging Face hub (needs a network)")
        close = QPushButton("Dismiss", self)
        close.clicked.connect(self.hide)
        self.open_folder.clicked.connect(self.openFolderRequested)
        self.download.clicked.connect(self.downloadRequested)
        for w in (self.open_folder, self.download, close):
            layout.addWidget(w)
        layout.insertWidget(0, self.label, 1)
        self.hide()

    def show_for(self, info: Any) -> None:
        """Shown while the demo model is loaded; hidden once any other model is."""
        if not info.is_demo:
            self.hide()
            return
        why = f" {info.notice}" if info.notice else ""
        self.label.setText(
            "<b>Demo model.</b> This is the small model that ships with BERT Explorer "
            f"(6 layers × 12 heads, trained on a few million words): not BERT, and rougher in its guesses.{why}"
        )
        self.show()
