"""A Qt canvas for attention heatmaps that redraws only the images when it can (blitting)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QSizePolicy, QWidget

from explorer.plots.heatmaps import Heatmaps
from explorer.qt.widgets.style import font_scale, on_zoom, scaled_px

MIN_HEIGHT = 240  # px at 100%: below it two rows of heads lose their labels


class HeatmapCanvas(FigureCanvasQTAgg):
    """Emits hovered(text) for the cell under the mouse and panelClicked(index) on a click."""

    hovered = Signal(str)
    panelClicked = Signal(int)
    resized = Signal()  # its size has settled after a resize (and the maps were drawn again)

    def __init__(self, parent: QWidget | None = None, *, detail: bool = False) -> None:
        super().__init__(Figure(dpi=100))
        self.setParent(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.detail = detail
        self.heatmaps = Heatmaps(self.figure)
        self._background = None
        self._last: tuple | None = None
        self.full_draws = 0  # for tests and benchmarks: how often text had to be drawn
        self.mpl_connect("draw_event", self._on_draw)
        self.mpl_connect("motion_notify_event", self._on_motion)
        self.mpl_connect("button_press_event", self._on_press)
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(120)
        self._resize_timer.timeout.connect(self._redo_after_resize)
        # Zoom: the labels take the window's font scale, and the maps are drawn again. Below
        # a height that grows with the zoom the page scrolls rather than squash the maps.
        on_zoom(self, self._fit_zoom)

    def _fit_zoom(self) -> None:
        self.heatmaps.font_scale = font_scale()
        self.setMinimumHeight(scaled_px(MIN_HEIGHT))
        if self._last is not None:
            self._redo_after_resize()

    def show_maps(
        self,
        matrices: np.ndarray,
        tokens: Sequence[str],
        titles: Sequence[str],
        layout: tuple[int, int],
        *,
        shared_scale: bool = True,
        signed: bool = False,
    ) -> None:
        """signed: differences, drawn with a diverging colormap centred on 0 (Heatmaps.show)."""
        self._last = (matrices, tuple(tokens), tuple(titles), tuple(layout), shared_scale, signed)
        # One large map gets every label it can hold and a colour bar, like the detail view.
        detail = self.detail or tuple(layout) == (1, 1)
        rebuilt = self.heatmaps.show(
            matrices, tokens, titles, layout, shared_scale=shared_scale, detail=detail, signed=signed
        )
        if rebuilt or self._background is None or detail:
            # A colour bar follows the data, so a map that has one always draws in full.
            self.full_draws += 1
            self.draw()
            return
        self.restore_region(self._background)
        for ax, image in zip(self.heatmaps.axes, self.heatmaps.images):
            ax.draw_artist(image)
        self.blit(self.figure.bbox)

    def clear_maps(self) -> None:
        self._last = None
        self.heatmaps = Heatmaps(self.figure)
        self.heatmaps.font_scale = font_scale()
        self.figure.clear()
        self._background = None
        self.draw_idle()

    def save(self, path: str, title: str = "") -> None:
        """PNG or SVG, by the file's suffix."""
        top = self.figure.subplotpars.top
        if title:
            self.figure.suptitle(title, fontsize=10)
            self.figure.subplots_adjust(top=top - 0.06)  # room for it above the maps' own titles
        try:
            self.figure.savefig(path)
        finally:
            if title:
                self.figure.suptitle("")
                self.figure.subplots_adjust(top=top)
                self.draw_idle()

    def _on_draw(self, _event: object) -> None:
        self._background = self.copy_from_bbox(self.figure.bbox)

    def _on_motion(self, event: object) -> None:
        cell = self.heatmaps.cell_at(event)  # type: ignore[arg-type]
        text = self.heatmaps.describe(cell) if cell else ""
        self.setToolTip(text)
        self.hovered.emit(text)

    def _on_press(self, event: object) -> None:
        cell = self.heatmaps.cell_at(event)  # type: ignore[arg-type]
        if cell is not None:
            self.panelClicked.emit(cell.panel)

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)
        self._background = None
        self._resize_timer.start()

    def aspect(self) -> float:
        """Width / height of the canvas: what a grid of maps should be shaped for."""
        return self.width() / max(self.height(), 1)

    def _redo_after_resize(self) -> None:
        # Label density depends on the size: rebuild once the resizing has settled.
        if self._last is not None:
            matrices, tokens, titles, layout, shared, signed = self._last
            self.show_maps(matrices, tokens, titles, layout, shared_scale=shared, signed=signed)
        self.resized.emit()
