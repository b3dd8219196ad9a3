"""The session remembered between starts (QSettings): the sentence, the model, device and
precision, the tab, the attention layer and view, top-k, zoom, the window's geometry, the last
20 sentences and the model folders opened.

Every value read back is checked (type and range) and a bad one is simply not used: a
settings file that is damaged, from another version or hand-edited never stops the app from
opening. BERT_EXPLORER_SETTINGS names an .ini file to use instead of the user's own (tests,
or a classroom machine with a prepared session).
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtGui import QTextCursor

from explorer.core.model_names import is_folder
from explorer.qt.widgets.style import apply_zoom, font_scale

SETTINGS_ENV = "BERT_EXPLORER_SETTINGS"
MAX_RECENT = 20
VERSION = 1  # of what is stored: another number is another app's layout, and is not read


class Remembered:
    def __init__(self) -> None:
        path = os.environ.get(SETTINGS_ENV)
        self.store = QSettings(path, QSettings.Format.IniFormat) if path else QSettings("BERT Explorer", "BERT Explorer")

    # --- reading, checked ---------------------------------------------------------------
    def _usable(self) -> bool:
        return self.text("version") == str(VERSION)

    def text(self, key: str, default: str = "") -> str:
        value = self.store.value(key)
        return value if isinstance(value, str) else default

    def number(self, key: str, low: float, high: float) -> float | None:
        try:
            value = float(self.text(key, "nan"))
        except ValueError:
            return None
        return value if low <= value <= high else None  # nan is in no range

    def strings(self, key: str) -> list[str]:
        value = self.store.value(key)
        if isinstance(value, str):
            value = [value]  # QSettings gives a one-item list back as its item
        return [v for v in value if isinstance(v, str) and v.strip()][:MAX_RECENT] if isinstance(value, list) else []

    def session(self) -> dict[str, Any]:
        """What the last session left that can be used; {} after a reset or from a foreign file."""
        if not self._usable():
            return {}
        found: dict[str, Any] = {}
        for key in ("sentence", "model", "device", "dtype", "view"):
            if self.text(key).strip():
                found[key] = self.text(key)
        for key, low, high in (("tab", 0, 20), ("layer", 0, 1000), ("top_k", 1, 1000), ("zoom", 0.5, 4.0)):
            value = self.number(key, low, high)
            if value is not None:
                found[key] = value if key == "zoom" else int(value)
        geometry = self.store.value("geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            found["geometry"] = geometry
        return found

    def recent_sentences(self) -> list[str]:
        return self.strings("recent_sentences") if self._usable() else []

    def recent_folders(self) -> list[str]:
        return self.strings("recent_folders") if self._usable() else []

    # --- writing ------------------------------------------------------------------------
    def _stamp(self) -> None:
        if not self._usable():  # a foreign or damaged file: start it afresh rather than mix
            self.store.clear()
            self.store.setValue("version", str(VERSION))

    def remember_sentence(self, text: str) -> None:
        """The newest first; typing on at the end of the newest replaces it, not adds a copy."""
        text = text.strip()
        if not text:
            return
        self._stamp()
        recent = self.recent_sentences()
        if recent and (text.startswith(recent[0]) or recent[0].startswith(text)):
            recent = recent[1:]
        self.store.setValue("recent_sentences", [text, *[s for s in recent if s != text]][:MAX_RECENT])

    def remember_folder(self, name: str) -> None:
        if not is_folder(name):
            return
        self._stamp()
        self.store.setValue("recent_folders", [name, *[f for f in self.recent_folders() if f != name]][:MAX_RECENT])

    def save(self, values: dict[str, Any]) -> None:
        self._stamp()
        for key, value in values.items():
            self.store.setValue(key, value if isinstance(value, QByteArray) else str(value))
        self.store.sync()

    def clear(self) -> None:
        """Forget the session (View ▸ Reset to defaults), but not the history a person built:
        the recent sentences and model folders stay."""
        keep = {"recent_sentences": self.recent_sentences(), "recent_folders": self.recent_folders()}
        self.store.clear()
        if any(keep.values()):
            self.store.setValue("version", str(VERSION))
            for key, values in keep.items():
                if values:
                    self.store.setValue(key, values)
        self.store.sync()


# --- the window's side: what is saved from it, and put back into it -------------------------


def capture_session(window: Any) -> dict[str, Any]:
    """The window's state to remember. The model is the one in use, unless it is the demo
    opened because the one asked for could not be had: then the one asked, to try again."""
    info = window.controller.main.info
    asked = window.last_asked_model()
    model = asked if info is None or info.notice else info.name
    return {
        "sentence": window.editor.toPlainText(),
        "model": model or "",
        "device": window.model_bar.device_selector.currentText(),
        "dtype": window.model_bar.dtype_selector.currentText(),
        "tab": window.tabs.currentIndex(),
        "layer": window.attention.layer.value(),
        "view": window.attention.mode.currentText(),
        "top_k": window.top_k.value(),
        "zoom": font_scale(),
        "geometry": window.saveGeometry(),
    }


def apply_session(window: Any, session: dict[str, Any]) -> None:
    """Put back what Remembered.session() found, each value only if this window has it."""
    if "geometry" in session:
        window.restoreGeometry(session["geometry"])
    if "zoom" in session:
        apply_zoom(session["zoom"])
    if "sentence" in session:
        window.editor.setPlainText(session["sentence"])
        window.editor.moveCursor(QTextCursor.MoveOperation.End)
    if "top_k" in session:
        window.top_k.setValue(min(int(session["top_k"]), window.top_k.maximum()))
    views = [window.attention.mode.itemText(i) for i in range(window.attention.mode.count())]
    if session.get("view") in views:
        window.attention.mode.setCurrentText(session["view"])
    if "layer" in session:
        window.attention.wanted_layer = session["layer"]  # applied once a result has that many layers
    if 0 <= session.get("tab", -1) < window.tabs.count():
        window.tabs.setCurrentIndex(session["tab"])
