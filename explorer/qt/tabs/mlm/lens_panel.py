"""The layer lens of one position: a chart of p(final prediction) by layer, and the top-5 of each."""

from __future__ import annotations

import html
from typing import Any

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from explorer.plots.layer_lens import LensChart
from explorer.qt.widgets.style import PALETTE, follow_zoom, follow_zoom_rows, font_scale, on_zoom

FINAL_BG = QColor(PALETTE.final_bg)
TRUE_BG = QColor(PALETTE.right_bg)
FIXED_COLUMNS = ("read after", "final: p, rank")


class LensPanel(QWidget):
    """Passive view: set_result(LayerLensResult), show_message(text), set_busy(bool)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mlmLens")
        self.result: Any = None
        self.title = QLabel("", self)
        self.title.setObjectName("mlmLensTitle")
        self.title.setWordWrap(True)
        self.canvas = FigureCanvasQTAgg(Figure(figsize=(4.5, 2.6), dpi=100))
        self.canvas.setParent(self)
        self.canvas.setObjectName("mlmLensChart")
        self.canvas.setMinimumHeight(180)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.chart = LensChart(self.canvas.figure)
        on_zoom(self.canvas, self._fit_zoom)
        self.table = QTableWidget(0, 0, self)
        self.table.setObjectName("mlmLensTable")
        self.table.setAccessibleName("Top 5 per layer")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        follow_zoom(self.table, 0.92)  # five tokens and their p side by side
        follow_zoom_rows(self.table, 8)  # (after the font: the rows follow its size)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.table, 1)
        self.show_message(
            "Click a token of the passage (or a row of the table) to see what the model predicts there, layer by layer."
        )

    def _fit_zoom(self) -> None:
        self.chart.font_scale = font_scale()
        if self.result is not None:
            self.chart.show(self.result)
        self.canvas.draw_idle()

    def show_message(self, text: str) -> None:
        self.result = None
        self.title.setText(text)
        self.chart.clear()
        self.canvas.draw_idle()
        self.table.setRowCount(0)

    def set_busy(self, busy: bool) -> None:
        self.setProperty("busy", busy)
        self.table.setEnabled(not busy)

    def set_result(self, lens: Any) -> None:
        self.result = lens
        self.set_busy(False)
        true = f", true token <b>{html.escape(lens.true_token)}</b>" if lens.true_token is not None else ""
        self.title.setText(
            f"Layer lens at position {lens.position} (the model read <b>{html.escape(lens.input_token)}</b>{true}): "
            f"final prediction <b>{html.escape(lens.final_token)}</b>. The MLM head read after every layer; "
            "#n is its rank there."
        )
        self.chart.show(lens)
        self.canvas.draw_idle()
        self._fill_table(lens)

    def _fill_table(self, lens: Any) -> None:
        k = lens.top_probs.shape[1]
        headers = list(FIXED_COLUMNS) + [f"top {i + 1}" if i == 0 else str(i + 1) for i in range(k)]
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setRowCount(lens.num_readouts)
        bold = QFont(self.table.font())
        bold.setBold(True)
        for row, name in enumerate(lens.layer_names):
            self._set(row, 0, name)
            self._set(row, 1, f"{float(lens.final_probs[row]):.4f}  #{int(lens.final_ranks[row])}")
            for j in range(k):
                token_id = int(lens.top_ids[row, j])
                text = f"{lens.top_tokens[row][j]} {float(lens.top_probs[row, j]):.3f}"
                item = self._set(row, len(FIXED_COLUMNS) + j, text)
                item.setToolTip(f"id {token_id}")
                if token_id == lens.final_id:
                    item.setBackground(QBrush(FINAL_BG))
                    item.setFont(bold)
                elif lens.true_id is not None and token_id == lens.true_id:
                    item.setBackground(QBrush(TRUE_BG))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # Every column as wide as what it holds (a scroll bar when the panel is narrow); the last
        # takes up any slack, so there is no empty strip at the right.
        header.setStretchLastSection(True)

    def _set(self, row: int, col: int, text: str) -> QTableWidgetItem:
        item = QTableWidgetItem(text)
        self.table.setItem(row, col, item)
        return item

    def top_tokens_shown(self) -> list[list[str]]:
        """The top-k tokens per readout as the table shows them (tests, UI automation)."""
        k = self.table.columnCount() - len(FIXED_COLUMNS)
        return [
            [self.table.item(r, len(FIXED_COLUMNS) + j).text().rsplit(" ", 1)[0] for j in range(k)]
            for r in range(self.table.rowCount())
        ]
