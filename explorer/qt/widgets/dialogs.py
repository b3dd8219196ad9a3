"""The questions the window asks a person: may it go ahead, and where to save a file.

Tabs call these through the module (`dialogs.confirm(...)`), so a test can answer for the
person by replacing one function.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget


def confirm(parent: QWidget | None, title: str, text: str, yes: str, no: str) -> bool:
    """Ask a question with two named answers; True for `yes`. `no` is the default and Esc."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton, parent)
    go = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
    stay = box.addButton(no, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(stay)
    box.setEscapeButton(stay)
    box.exec()
    return box.clickedButton() is go


def documents_folder() -> Path:
    """Where files a person saves go by default: their documents folder, else their home.

    Never the app's own folder (the working folder is often the clone the app runs from)."""
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    if documents and Path(documents).is_dir():
        return Path(documents)
    return Path.home()


def ask_save_path(parent: QWidget | None, caption: str, name: str, formats: Sequence[tuple[str, str]]) -> str:
    """A save dialog that starts at documents_folder()/name; "" when cancelled.

    formats: (label, suffix) pairs, the first the default. A path typed without one of the
    suffixes gets the suffix of the format chosen in the dialog."""
    filters = [f"{label} (*{suffix})" for label, suffix in formats]
    path, chosen = QFileDialog.getSaveFileName(parent, caption, str(documents_folder() / name), ";;".join(filters))
    if not path:
        return ""
    suffixes = tuple(suffix for _label, suffix in formats)
    if not path.lower().endswith(suffixes):
        picked = filters.index(chosen) if chosen in filters else 0
        path += suffixes[picked]
    return path
