"""Files from the top-level resources/ folder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon

from explorer.paths import RESOURCES


def resource(name: str) -> Path:
    return RESOURCES / name


def app_icon() -> QIcon:
    path = resource("icon.svg")
    return QIcon(str(path)) if path.is_file() else QIcon()
