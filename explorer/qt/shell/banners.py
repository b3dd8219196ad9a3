"""Messages a person must see, across the top of the window, each with a way out."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from explorer.qt.widgets.style import PALETTE, banner_style


class _Banner(QFrame):
    """A coloured strip: text, then the subclass's buttons, then Dismiss."""

    def __init__(self, name: str, colours: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setStyleSheet(f"#{name} {{ {colours} border-radius: 4px; }}")
        self._layout = QHBoxLayout(self)
        self.label = QLabel(self)
        self.label.setObjectName(f"{name}Text")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._layout.addWidget(self.label, 1)
        self._dismiss = QPushButton("Dismiss", self)
        self._dismiss.setToolTip("Hide this message")
        self._dismiss.clicked.connect(self.hide)
        self._layout.addWidget(self._dismiss)
        self.hide()

    def _button(self, text: str, name: str, tip: str = "") -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setToolTip(tip)
        self._layout.insertWidget(self._layout.indexOf(self._dismiss), button)
        return button


class ErrorBanner(_Banner):
    """A model that failed to load, or another error that stops the person.

    Its buttons are offered only where they fit the error: another model folder when the
    model could not be had, the automatic device and precision when those were refused."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("errorBanner", banner_style(PALETTE.error_banner_bg, PALETTE.error_banner_border), parent)
        self.label.setObjectName("errorText")  # the name tests and people already know
        self.open_folder = self._button("Open folder…", "bannerOpenFolder", "Open a model folder that is on this computer")
        self.use_auto = self._button(
            "Use auto device and precision", "bannerUseAuto", "Load the model again with the device and precision set to auto"
        )

    def show_error(self, message: str, *, offer_folder: bool = False, offer_auto: bool = False) -> None:
        self.label.setText(message)
        self.open_folder.setVisible(offer_folder)
        self.use_auto.setVisible(offer_auto)
        self.show()


class DemoBanner(_Banner):
    """Says that the bundled demo model is in use (and why), and offers the real thing."""

    openFolderRequested = Signal()
    downloadRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("demoBanner", banner_style(PALETTE.demo_banner_bg, PALETTE.demo_banner_border), parent)
        self.open_folder = self._button("Open folder…", "demoOpenFolder", "Open a model folder that is on this computer")
        self.download = self._button("Download…", "demoDownload", "Fetch a model from the Hugging Face hub (needs a network)")
        self.open_folder.clicked.connect(self.openFolderRequested)
        self.download.clicked.connect(self.downloadRequested)

    def show_for(self, info: Any) -> None:
        """Shown while the demo model is loaded; hidden once any other model is."""
        if not info.is_demo:
            self.hide()
            return
        why = f" {info.notice}" if info.notice else ""
        self.label.setText(
            "<b>Demo model.</b> This is the small model that ships with BERT Explorer "
            f"({info.num_layers} layers × {info.num_heads} heads, trained on 6 million words): not BERT, "
            f"and rougher in its guesses.{why}"
        )
        self.show()
