"""Presentation mode (View ▸ Presentation mode, F5; Esc leaves): full screen, zoom 175%, the
sentence and the tab in front only, black on white with a strong highlight. Leaving puts
back exactly what was there: the zoom, the bars, the banners, the palette, the window state."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QColor, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import QApplication, QToolBar

from explorer.core.colours import HIGH_CONTRAST
from explorer.qt.shell.shortcuts import keys
from explorer.qt.widgets.style import apply_zoom, font_scale

ZOOM = 1.75  # read from the back of a classroom, on a 1080p projector


def high_contrast_palette() -> QPalette:
    """Black text on white, a dark blue highlight: what a washed-out projector still shows."""
    palette = QPalette(QApplication.palette())
    for role, colour in HIGH_CONTRAST.items():
        palette.setColor(getattr(QPalette.ColorRole, role), QColor(colour))
    return palette


class Presentation:
    def __init__(self, window: Any) -> None:
        self.window = window
        self._saved: dict[str, Any] | None = None
        self._leave_keys = [QShortcut(QKeySequence(k), window, activated=self.leave) for k in keys("leave_presentation")]
        for shortcut in self._leave_keys:
            shortcut.setEnabled(False)  # Esc belongs to dialogs and menus until presentation starts

    @property
    def active(self) -> bool:
        return self._saved is not None

    def _hidden_in_presentation(self) -> list[Any]:
        w = self.window
        return [w.menuBar(), *w.findChildren(QToolBar), w.banner, w.demo_banner, w.statusBar(), w.tokens,
                w.tabs.tabBar()]

    def toggle(self) -> None:
        self.leave() if self.active else self.enter()

    def enter(self) -> None:
        if self.active:
            return
        w = self.window
        widgets = self._hidden_in_presentation()
        self._saved = {
            "zoom": font_scale(),
            "palette": QPalette(QApplication.palette()),
            "state": w.windowState(),
            "geometry": w.saveGeometry(),
            "visible": [(widget, widget.isVisibleTo(w)) for widget in widgets],
        }
        for widget in widgets:
            widget.hide()
        QApplication.setPalette(high_contrast_palette())
        apply_zoom(ZOOM)
        for shortcut in self._leave_keys:
            shortcut.setEnabled(True)
        if w.screen() is not None:  # without a window manager, full screen alone does not resize
            w.setGeometry(w.screen().geometry())
        w.showFullScreen()

    def leave(self) -> None:
        saved, self._saved = self._saved, None
        if saved is None:
            return
        w = self.window
        for shortcut in self._leave_keys:
            shortcut.setEnabled(False)
        QApplication.setPalette(saved["palette"])
        apply_zoom(saved["zoom"])
        for widget, visible in saved["visible"]:
            widget.setVisible(visible)
        w.setWindowState(saved["state"])
        w.restoreGeometry(saved["geometry"])
        w.show()
