"""A QTabWidget whose pages scroll when the window is smaller than they would like, and
whose setCurrentWidget also takes a widget inside a page."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QScrollArea, QTabWidget, QWidget


class PageTabs(QTabWidget):
    """Each page sits in a frameless scroll area: on a small screen (1366 x 768, or 1080p at
    150% scaling: 1280 x 720) a page scrolls rather than push the window's bottom off-screen;
    when there is room, it fills the tab as before. currentWidget() and widget(i) give the
    pages themselves, not their scroll areas.

    setCurrentWidget(w) shows the page that holds w: a caller can bring a view to the front
    (the main model's attention view, inside the Attention tab) without knowing which widget
    is the page."""

    def addTab(self, page: QWidget, label: str) -> int:  # type: ignore[override]  # noqa: N802
        scroll = QScrollArea(self)
        scroll.setObjectName(f"{page.objectName() or 'page'}Scroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(page)
        return super().addTab(scroll, label)

    def widget(self, index: int) -> QWidget | None:
        holder = super().widget(index)
        return holder.widget() if isinstance(holder, QScrollArea) else holder

    def currentWidget(self) -> QWidget | None:  # noqa: N802 (Qt's name)
        return self.widget(self.currentIndex())

    def setCurrentWidget(self, widget: QWidget) -> None:  # noqa: N802 (Qt's name)
        page: QWidget | None = widget
        while page is not None and super().indexOf(page) < 0:
            page = page.parentWidget()
        super().setCurrentWidget(page if page is not None else widget)

    def indexOf(self, widget: QWidget) -> int:  # noqa: N802 (Qt's name)
        """The index of a page (or of its scroll area)."""
        for i in range(self.count()):
            if widget is self.widget(i) or widget is super().widget(i):
                return i
        return -1
