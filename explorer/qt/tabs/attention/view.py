"""The attention tab: every head of a layer, the head average, rollout, and one head enlarged."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from explorer.core.attention_math import grid_shape, without_special
from explorer.core.mask_modes import BIDIRECTIONAL, CAUSAL, PADDING  # lab 000's masks (engine.masks builds them)
from explorer.qt.widgets import dialogs
from explorer.qt.widgets.heatmap_canvas import HeatmapCanvas
from explorer.qt.widgets.style import error_label_style

HEADS, AVERAGE, ROLLOUT = "Heads", "Average of heads", "Rollout"
EXPORT_FORMATS = (("PNG image", ".png"), ("SVG image", ".svg"))
FILE_STEMS = {HEADS: "heads", AVERAGE: "average", ROLLOUT: "rollout"}  # export names say the view


def export_name(mode: str, layer: int, head: int | None = None) -> str:
    """heads_layer3.png, rollout_layer3.png, head_layer3_head5.png (one head enlarged)."""
    if head is not None:
        return f"head_layer{layer}_head{head}.png"
    return f"{FILE_STEMS[mode]}_layer{layer}.png"


def ask_export_path(parent: QWidget, name: str) -> str:
    return dialogs.ask_save_path(parent, "Export", name, EXPORT_FORMATS)


def _short(text: str, at: int = 160) -> str:
    return text if len(text) <= at else text[: at - 3] + "…"


def caption(result: Any) -> str:
    """The sentence shown; a padded one says its pads."""
    mask = getattr(result, "mask", BIDIRECTIONAL)
    if mask == PADDING:
        return (f"Sentence: {_short(result.text, 100)} · in a padded batch of two, "
                f"{result.pads} [PAD] added to match the longer: no token attends to a pad (its column is 0)")
    if mask == CAUSAL:
        return f"Sentence: {_short(result.text)} · causal mask: each token sees only itself and its left"
    return f"Sentence: {_short(result.text)}"


class LayerSpin(QSpinBox):
    """PgUp/PgDn step one layer (a plain spin box would jump ten)."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_PageUp:
            self.stepBy(-1)
        elif event.key() == Qt.Key.Key_PageDown:
            self.stepBy(1)
        else:
            super().keyPressEvent(event)


class HeadDetail(QDialog):
    """One head (or the average, or rollout) large, with every token labelled."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("headDetail")
        self.setWindowTitle("Attention head")
        self.resize(760, 720)
        self.canvas = HeatmapCanvas(self, detail=True)
        self.hover = QLabel(self)
        self.hover.setObjectName("headDetailHover")
        export = QPushButton("Export…", self)
        export.setObjectName("exportHeadButton")
        export.clicked.connect(lambda: self._export_dialog())
        bottom = QHBoxLayout()
        bottom.addWidget(self.hover, 1)
        bottom.addWidget(export)
        layout = QVBoxLayout(self)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(bottom)
        self.canvas.hovered.connect(self.hover.setText)
        self.title = ""
        self.file_name = "head.png"  # what Export… suggests

    def set_map(
        self, matrix: np.ndarray, tokens: list[str], title: str, file_name: str = "head.png", *, signed: bool = False
    ) -> None:
        self.title = title
        self.file_name = file_name
        self.setWindowTitle(title)
        self.canvas.show_maps(matrix[None], tokens, [title], (1, 1), signed=signed)

    def export(self, path: str) -> None:
        self.canvas.save(path)

    def _export_dialog(self) -> None:
        path = ask_export_path(self, self.file_name)
        if path:
            self.export(path)


class AttentionView(QWidget):
    """The attention of one model slot's model: set_text (the editor's sentence), and it asks
    its slot when it is visible and its sentence has no result yet, so nothing is computed
    for a tab nobody looks at (requestAttention(text) says when it asks). Without a slot it
    is passive: set_result, set_busy, show_error.
    """

    requestAttention = Signal(str)
    answered = Signal(object)  # the AttentionResult it now shows

    def __init__(self, parent: QWidget | None = None, *, slot: Any = None, name: str = "attentionView") -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.slot = slot
        self.result: Any = None
        self._text = ""
        self._requested: tuple[str, str, str | None] | None = None  # (text, mask, second sentence)
        self._shown: tuple[str, str, str | None] | None = None  # what `result` answers
        self.mask_mode = BIDIRECTIONAL
        self.padded_with = ""  # the second sentence of the padded batch (mask_mode PADDING)
        self.detail: HeadDetail | None = None
        self.wanted_layer: int | None = None  # a layer to show once a result has that many (a restored session)
        self._detail_panel = 0

        self.layer = LayerSpin(self)
        self.layer.setObjectName("layerSelector")
        self.layer.setAccessibleName("Layer")
        self.layer.setPrefix("layer ")
        self.layer.setToolTip("Layer, numbered from 0 as in transformers (PgUp / PgDn)")
        self.layer.setRange(0, 0)
        self.mode = QComboBox(self)
        self.mode.setObjectName("attentionViewMode")
        self.mode.setToolTip("Heads: every head of the layer. Average of heads. Rollout: attention flow "
                             "from the input through this layer (Abnar & Zuidema 2020)")
        self.mode.setAccessibleName("View")
        self.mode.addItems([HEADS, AVERAGE, ROLLOUT])
        self.hide_special = QCheckBox("Hide special tokens", self)
        self.hide_special.setObjectName("hideSpecialTokens")
        self.hide_special.setToolTip(
            "Leave out [CLS]/[SEP] (<s>/</s>), where many heads park their attention; "
            "each row is renormalised to sum to 1"
        )
        self.scale = QComboBox(self)
        self.scale.setObjectName("colorScaleSelector")
        self.scale.setToolTip("Shared: one scale for every head, so heads compare. Per head: each "
                              "head's own maximum is yellow, so faint patterns show")
        self.scale.addItems(["shared colour scale", "per-head colour scale"])
        self.export_button = QPushButton("Export…", self)
        self.export_button.setObjectName("exportAttentionButton")
        self.export_button.setToolTip("Save what is shown as a PNG or SVG image (Ctrl+E)")
        self.scale_label = QLabel("", self)
        self.scale_label.setObjectName("attentionScale")
        self.busy = QLabel("", self)
        self.busy.setObjectName("attentionBusy")
        self.canvas = HeatmapCanvas(self)
        self.canvas.setObjectName("attentionCanvas")
        self.hover = QLabel("Hover over a cell to read its weight; click a head to enlarge it.", self)
        self.hover.setObjectName("attentionHover")
        self.caption = QLabel("", self)
        self.caption.setObjectName("attentionSentence")
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message = QLabel("", self)
        self.message.setObjectName("attentionMessage")
        self.message.setWordWrap(True)

        # Nothing here may ask for more width than half a 1366-pixel screen (compare mode puts
        # two views side by side): long texts wrap, or give up width and keep a tooltip.
        self.caption.setWordWrap(True)
        for label in (self.hover, self.scale_label):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.scale_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.controls_row = QHBoxLayout()
        for w in (self.layer, self.mode, self.hide_special, self.scale):
            self.controls_row.addWidget(w)
        self.controls_row.addStretch(1)
        self.controls_row.addWidget(self.busy)
        self.controls_row.addWidget(self.export_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.hover, 3)
        bottom.addWidget(self.scale_label, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(self.controls_row)
        layout.addWidget(self.caption)
        layout.addWidget(self.message)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(bottom)
        self.message.hide()

        self.layer.valueChanged.connect(lambda _v: self.redraw())
        self.mode.currentIndexChanged.connect(lambda _i: self.redraw())
        self.hide_special.toggled.connect(lambda _b: self.redraw())
        self.scale.currentIndexChanged.connect(lambda _i: self.redraw())
        self.export_button.clicked.connect(self._export_dialog)
        self.canvas.hovered.connect(lambda text: self.hover.setText(self.hover_text(text) if text else " "))
        self.canvas.panelClicked.connect(self.open_detail)
        # A wider or taller room may want another grid (2 x 6 rather than 3 x 4).
        self.canvas.resized.connect(lambda: self.redraw() if self.mode.currentText() == HEADS else None)
        if slot is not None:
            slot.loaded.connect(lambda _info: self.invalidate())
        # Anywhere in the window while this tab shows (a shortcut is live only while its
        # widget is visible), whatever has focus: the top-k box and the sentence editor too.
        # Spin boxes and the two-line sentence editor do not claim PgUp/PgDn before shortcuts
        # (Ctrl+Home/End still move in the editor), so the keys never step another spin box.
        ctx = Qt.ShortcutContext.WindowShortcut
        QShortcut(QKeySequence(Qt.Key.Key_PageUp), self, activated=lambda: self.layer.stepBy(-1), context=ctx)
        QShortcut(QKeySequence(Qt.Key.Key_PageDown), self, activated=lambda: self.layer.stepBy(1), context=ctx)

    def hover_text(self, cell: str) -> str:
        """What the line under the heatmaps says about the cell under the mouse."""
        return cell

    # --- following the sentence -------------------------------------------------------
    def set_text(self, text: str) -> None:
        self._text = text
        self._maybe_request()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._maybe_request()

    def set_mask(self, mode: str, padded_with: str = "") -> None:
        """Bidirectional (as trained), causal, or padding (the sentence in a padded batch with
        `padded_with`): asked again when it changes what is shown."""
        self.mask_mode, self.padded_with = mode, padded_with
        self._maybe_request()

    def _key(self) -> tuple[str, str, str | None]:
        return (self._text, self.mask_mode, self.padded_with if self.mask_mode == PADDING else None)

    def _maybe_request(self) -> None:
        key = self._key()
        if not self.isVisible() or key == self._requested:
            return
        if self.result is not None and self._shown == key:
            return
        self._requested = key
        self.requestAttention.emit(self._text)
        self._ask(self._text)

    def _ask(self, text: str) -> None:
        if self.slot is None:
            return
        key = self._key()
        _text, mask, second = key  # second: the padded batch's other sentence, or None
        job = self.slot.request(lambda model: model.attention(text, mask, padded_with=second), lane=id(self))
        if job is None:
            self._requested = None  # no model yet: its loading asks again
            return
        self.set_busy(True)
        job.finished.connect(lambda result: self._answer(result, key))
        job.failed.connect(lambda message, _cause: self.show_error(message))

    def _answer(self, result: Any, key: tuple[str, str, str | None]) -> None:
        self._shown = key
        self.set_result(result)

    def invalidate(self) -> None:
        """A new model: the sentence must be computed again."""
        self._requested = None
        self._shown = None
        self.result = None
        self._maybe_request()

    # --- results ----------------------------------------------------------------------
    def set_busy(self, busy: bool) -> None:
        self.busy.setText("computing…" if busy else "")

    def show_error(self, message: str) -> None:
        self.set_busy(False)
        self._requested = None
        self.message.setText(message)
        self.message.setStyleSheet(error_label_style())
        self.message.show()

    def set_result(self, result: Any) -> None:
        self.result = result
        self.set_busy(False)
        # The sentence may come from the LAMA tab rather than the editor: say which it is.
        self.caption.setText(caption(result))
        if result.warnings:
            self.message.setText("\n".join(result.warnings))
            self.message.setStyleSheet("")
        self.message.setVisible(bool(result.warnings))
        self.layer.blockSignals(True)
        self.layer.setRange(0, result.num_layers - 1)
        if self.wanted_layer is not None:  # the layer of the last session, once there are layers
            self.layer.setValue(min(self.wanted_layer, result.num_layers - 1))
            self.wanted_layer = None
        self.layer.blockSignals(False)
        self.redraw()
        self.answered.emit(result)

    def current_maps(self) -> tuple[np.ndarray, list[str], list[str], tuple[int, int]]:
        """What the canvas shows now: (n, T, T) matrices, tokens, titles, grid layout."""
        r = self.result
        layer = self.layer.value()
        mode = self.mode.currentText()
        if mode == HEADS:
            maps = r.weights[layer]
            titles = [f"head {h}" for h in range(r.num_heads)]
            layout = grid_shape(r.num_heads, self.canvas.aspect())  # the largest cells the room allows
        elif mode == AVERAGE:
            maps, titles, layout = r.average[layer][None], [f"layer {layer}, average of heads"], (1, 1)
        else:
            maps, titles, layout = r.rollout[layer][None], [f"rollout through layer {layer}"], (1, 1)
        tokens = list(r.tokens)
        if self.hide_special.isChecked():
            maps = without_special(maps, r.special)
            tokens = [t for t, s in zip(tokens, r.special) if not s]
        return maps, tokens, titles, layout

    @property
    def signed(self) -> bool:
        """True while the maps shown are differences (the compare view's A − B)."""
        return False

    def scale_text(self, maps: np.ndarray, layout: tuple[int, int], shared: bool) -> str:
        if layout == (1, 1):
            return ""
        if shared:
            return f"dark 0 → yellow {float(maps.max()):.2f}"
        return "dark 0 → yellow: each head's own maximum"

    def redraw(self) -> None:
        if self.result is None:
            return
        maps, tokens, titles, layout = self.current_maps()
        shared = self.scale.currentIndex() == 0
        self.canvas.show_maps(maps, tokens, titles, layout, shared_scale=shared, signed=self.signed)
        self.scale_label.setText(self.scale_text(maps, layout, shared))
        self.scale_label.setToolTip(self.scale_label.text())
        if self.detail is not None and self.detail.isVisible():
            self._show_detail()

    # --- the enlarged head and export -------------------------------------------------
    def open_detail(self, panel: int) -> None:
        self._detail_panel = panel
        if self.detail is None:
            self.detail = HeadDetail(self)
        self._show_detail()
        self.detail.show()
        self.detail.raise_()

    def _show_detail(self) -> None:
        maps, tokens, titles, _ = self.current_maps()
        panel = min(self._detail_panel, len(maps) - 1)
        title = titles[panel]
        mode, layer = self.mode.currentText(), self.layer.value()
        head = panel if mode == HEADS else None
        if head is not None:
            title = f"layer {layer}, head {head}"
        assert self.detail is not None
        self.detail.set_map(maps[panel], tokens, title, export_name(mode, layer, head), signed=self.signed)

    def export_grid(self, path: str) -> None:
        mode = self.mode.currentText()
        title = f"{self.result.model} · layer {self.layer.value()} · {mode.lower()}" if self.result else ""
        self.canvas.save(path, title)

    def _export_dialog(self) -> None:
        if self.result is None:
            return
        path = ask_export_path(self, export_name(self.mode.currentText(), self.layer.value()))
        if path:
            self.export_grid(path)
