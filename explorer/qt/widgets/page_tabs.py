"""A QTabWidget whose setCurrentWidget also takes a widget inside a page."""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QWidget


class PageTabs(QTabWidget):
    """setCurrentWidget(w) shows the page that holds w: a caller can bring a view to the front
    (the main model's attention view, inside the Attention tab) without knowing which widget
    is the page."""

    def setCurrentWidget(self, widget: QWidget) -> None:  # noqa: N802 (Qt's name)
        page: QWidget | None = widget
        while page is not None and self.indexOf(page) < 0:
            page = page.parentWidget()
        super().setCurrentWidget(page if page is not None else widget)
