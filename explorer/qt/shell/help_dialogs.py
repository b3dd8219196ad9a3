"""Help menu windows: the shortcut cheat sheet, "What am I looking at?", About. Each is a
plain window that stays open beside the app (a teacher can leave the shortcuts up)."""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Any

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from explorer import __version__
from explorer.core.explanations import explain
from explorer.qt.shell.shortcuts import SHORTCUTS

LICENCES = (
    "The demo model: its encoder Apache-2.0 (all-MiniLM-L6-v2), the trained part MIT "
    "(resources/demo/MODEL_CARD.md). A hub model: the licence on its model card. "
    "LAMA's data: CC BY-NC 4.0."
)


def _window(parent: QWidget, name: str, title: str) -> QDialog:
    """One window per kind: asking again brings the open one forward."""
    existing = parent.findChild(QDialog, name)
    if existing is not None:
        existing.deleteLater()
    dialog = QDialog(parent)
    dialog.setObjectName(name)
    dialog.setWindowTitle(title)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    return dialog


def _close_button(dialog: QDialog) -> QDialogButtonBox:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
    buttons.rejected.connect(dialog.close)
    buttons.button(QDialogButtonBox.StandardButton.Close).setToolTip("Close this window (Esc)")
    return buttons


def show_shortcuts(parent: QWidget) -> QDialog:
    dialog = _window(parent, "shortcutsDialog", "Keyboard shortcuts")
    table = QTableWidget(len(SHORTCUTS), 3, dialog)
    table.setObjectName("shortcutsTable")
    table.setHorizontalHeaderLabels(["keys", "does", "where"])
    table.verticalHeader().hide()
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    for row, s in enumerate(SHORTCUTS):
        for col, text in enumerate((" or ".join(s.keys), s.what, s.where)):
            table.setItem(row, col, QTableWidgetItem(text))
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
    layout = QVBoxLayout(dialog)
    layout.addWidget(table)
    layout.addWidget(_close_button(dialog))
    dialog.resize(640, 480)
    dialog.show()
    return dialog


def _text_window(parent: QWidget, name: str, title: str, text: str) -> QDialog:
    dialog = _window(parent, name, title)
    label = QLabel(text, dialog)
    label.setObjectName(f"{name}Text")
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    layout = QVBoxLayout(dialog)
    layout.addWidget(label, 1)
    layout.addWidget(_close_button(dialog))
    dialog.resize(560, 280)
    dialog.show()
    return dialog


def explain_view(window: Any) -> QDialog:
    tab = window.tabs.tabText(window.tabs.currentIndex())
    return _text_window(window, "explainDialog", f"What am I looking at? {tab}", explain(tab))


def versions() -> dict[str, str]:
    """What runs here. torch and transformers are read from their package records, not
    imported: the window never imports torch (the model thread does)."""
    found = {"BERT Explorer": __version__, "Python": platform.python_version(), "PySide6": pyside_version, "Qt": qVersion()}
    for package in ("torch", "transformers"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def show_about(window: Any) -> QDialog:
    lines = [f"{name} {version}" for name, version in versions().items()]
    info = window.controller.main.info
    model = f"Model in use: {info.name} ({info.architecture}, {info.device}, {info.dtype})" if info else "No model loaded."
    return _text_window(window, "aboutDialog", "About BERT Explorer", "\n".join([*lines, "", model, "", LICENCES]))
