"""The look of the Qt side in one place: colour roles, the small stylesheets made of them, and
the font scale that zoom (and presentation mode) will change.

The colours themselves are declared in explorer.core.colours, which the matplotlib figures
share without importing Qt; this module adds what only Qt needs. Widgets ask here rather
than writing "#b00020" themselves, so a palette or a zoom reaches every view at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QWidget

from explorer.core.colours import PALETTE, Palette

__all__ = [
    "PALETTE",
    "Palette",
    "css",
    "error_label_style",
    "plain_label_style",
    "banner_style",
    "font_scale",
    "set_font_scale",
    "scaled_pt",
    "scaled_px",
    "font_scale_notifier",
    "MIN_FONT_SCALE",
    "MAX_FONT_SCALE",
    "ZOOM_STEPS",
    "apply_zoom",
    "zoom_step",
    "on_zoom",
    "follow_zoom",
    "follow_zoom_rows",
]

MIN_FONT_SCALE, MAX_FONT_SCALE = 0.75, 2.5  # the zoom range the classroom issue asks for


def css(
    colour: str | None = None,
    *,
    background: str | None = None,
    bold: bool = False,
    weight: int | None = None,
    italic: bool = False,
) -> str:
    """A style declaration for a label or a rich-text span, e.g. css(PALETTE.note, italic=True)
    -> "color: #555555; font-style: italic;". The order is fixed, so equal looks give equal
    strings (tests compare them)."""
    parts = []
    if colour is not None:
        parts.append(f"color: {colour};")
    if background is not None:
        parts.append(f"background-color: {background};")
    if weight is not None:
        parts.append(f"font-weight: {weight};")
    elif bold:
        parts.append("font-weight: bold;")
    if italic:
        parts.append("font-style: italic;")
    return " ".join(parts)


def error_label_style() -> str:
    """The red text of a tab's message label when it reports an error."""
    return css(PALETTE.error)


def plain_label_style() -> str:
    """A message label back to the palette's ordinary text colour (after an error)."""
    return "color: palette(text);"


SIDES = (("A", PALETTE.compare_a), ("B", PALETTE.compare_b))  # compare mode: the main model, the compared one


def side_title_style(colour: str) -> str:
    """A compare-mode box title in its model's colour (as its probability bars are)."""
    return f"QGroupBox::title {{ color: {colour}; font-weight: 600; }}"


def banner_style(background: str, border: str) -> str:
    """The fill and the one-pixel border of a banner across the top of the window."""
    return f"background: {background}; border: 1px solid {border};"


# --- the font scale ----------------------------------------------------------------------
# One number for the whole app (1.0 = the system's sizes). Widgets that size their own fonts
# multiply by it through scaled_pt and listen to font_scale_notifier().changed to follow a
# zoom; the QObject carrying the signal disconnects a receiver when the receiver is deleted,
# which a plain callback list would not.


class FontScaleNotifier(QObject):
    """Emits changed(scale) after set_font_scale changed the scale."""

    changed = Signal(float)


_scale = 1.0
_notifier: FontScaleNotifier | None = None


def font_scale_notifier() -> FontScaleNotifier:
    """The one object whose `changed(float)` says the font scale changed (made on first use,
    so importing this module creates no QObject)."""
    global _notifier
    if _notifier is None:
        _notifier = FontScaleNotifier()
    return _notifier


def font_scale() -> float:
    """The current font scale: 1.0 is the system's sizes."""
    return _scale


def _clamped(scale: float) -> float:
    """A font scale within MIN_FONT_SCALE..MAX_FONT_SCALE (repeated zooming stops at the ends);
    anything but a positive number is refused."""
    if not isinstance(scale, (int, float)) or isinstance(scale, bool) or not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"the font scale must be a positive number, not {scale!r}")
    return min(MAX_FONT_SCALE, max(MIN_FONT_SCALE, float(scale)))


def set_font_scale(scale: float) -> float:
    """Set the font scale (_clamped); returns the scale applied. Emits changed only when it
    changed."""
    global _scale
    applied = _clamped(scale)
    if applied != _scale:
        _scale = applied
        font_scale_notifier().changed.emit(applied)
    return applied


def scaled_pt(points: float) -> float:
    """A point size at the current font scale, for QFont.setPointSizeF."""
    return points * _scale


def scaled_px(pixels: float) -> int:
    """A size in pixels (a bar's height, a column's width) at the current font scale."""
    return max(1, round(pixels * _scale))


# --- zoom: the font scale applied to the whole window ------------------------------------
ZOOM_STEPS = (0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5)  # Ctrl+= / Ctrl+- walk these
_base_pt: float | None = None


def base_point_size() -> float:
    """The application's font size before any zoom (read once, at the first zoom)."""
    global _base_pt
    if _base_pt is None:
        _base_pt = QApplication.font().pointSizeF() if QApplication.font().pointSizeF() > 0 else 9.0
    return _base_pt


def zoom_step(scale: float, step: int) -> float:
    """The zoom after one step in (+1) or out (-1) from `scale`; step 0 is 100%."""
    if step == 0:
        return 1.0
    if step > 0:
        return next((z for z in ZOOM_STEPS if z > scale + 1e-9), ZOOM_STEPS[-1])
    return next((z for z in reversed(ZOOM_STEPS) if z < scale - 1e-9), ZOOM_STEPS[0])


def apply_zoom(scale: float) -> float:
    """Set the font scale and the application's font with it: every widget that takes its font
    from the application follows at once; what sizes itself otherwise uses on_zoom."""
    applied = _clamped(scale)
    font = QApplication.font()
    font.setPointSizeF(base_point_size() * applied)
    QApplication.setFont(font)
    # A widget with a style sheet of its own keeps the font it was polished with: polishing it
    # again (its sheet set anew) lets it take the new size too.
    for widget in QApplication.allWidgets():
        if widget.styleSheet():
            widget.setStyleSheet(widget.styleSheet())
    # Last, so that whoever follows the scale (fonts of their own, row heights, heatmap
    # labels) sees the application's new font already.
    return set_font_scale(applied)


class _ZoomFollower(QObject):
    """Runs `fit` now and after every zoom (on_zoom). A child of the widget it fits: deleted
    with it, so its connection goes with it."""

    def __init__(self, widget: QWidget, fit: Callable[[], None]) -> None:
        super().__init__(widget)
        self.fit = fit
        font_scale_notifier().changed.connect(self.apply)
        self.apply()

    def apply(self, _scale: float = 0.0) -> None:
        self.fit()


def on_zoom(widget: QWidget, fit: Callable[[], None]) -> None:
    """Size `widget` (or what it draws) by `fit` now and again after every zoom, for as long
    as the widget lives. The one way the views follow the zoom."""
    _ZoomFollower(widget, fit)


def follow_zoom(widget: QWidget, factor: float = 1.0) -> None:
    """Give `widget` a font `factor` times the application's, now and after every zoom."""

    def fit() -> None:
        font = widget.font()
        font.setPointSizeF(base_point_size() * factor * font_scale())
        widget.setFont(font)

    on_zoom(widget, fit)


def follow_zoom_rows(table: Any, padding: int) -> None:
    """A table's rows one line of its font high plus `padding`, now and after every zoom."""

    def fit() -> None:
        # A hidden table takes the application's new font only when shown: measure the font
        # it is going to have (its own, if it has one; else the application's).
        own = table.testAttribute(Qt.WidgetAttribute.WA_SetFont)
        font = table.font() if own else QApplication.font(table)
        table.verticalHeader().setDefaultSectionSize(QFontMetrics(font).height() + padding)

    on_zoom(table, fit)
