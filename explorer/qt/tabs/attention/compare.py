"""The Attention tab in compare mode: the same layer of the model in use and of the model it
is compared with, side by side, and their difference (A − B) when the two can be subtracted.

The compared side is an AttentionView built for the compare slot whose controls follow the
main view's (layer, view, hidden special tokens, colour scale): layers are matched by index,
and when the depths differ the tab says which layers have no partner (core.attention_math).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from explorer.core.attention_math import (
    difference,
    difference_refusal,
    layer_match_note,
    matched_layer,
    symmetric_limit,
)
from explorer.core.model_names import short_name
from explorer.core.mask_modes import BIDIRECTIONAL, CAUSAL, PADDING
from explorer.qt.tabs.attention.view import AttentionView
from explorer.qt.widgets.style import SIDES, side_title_style

DIFFERENCE_HELP = (
    "Show the main model's weights minus the compared model's (A − B), head by head: "
    "red where A attends more, blue where B does, white where they agree."
)
# Lab 000's masks: (what the selector says, the mode asked of the model).
MASKS = (("bidirectional (as trained)", BIDIRECTIONAL), ("causal", CAUSAL), ("padding (two sentences)", PADDING))
MASK_HELP = (
    "Bidirectional: every token sees every other, as BERT was trained. Causal: each token sees only "
    "itself and the tokens to its left (as GPT reads); the Predictions tab guesses so too. Padding: "
    "the sentence and a second one run as one batch, the shorter padded with [PAD] that no token attends to."
)
NOT_TRAINED_NOTE = (
    "Causal mask: each token sees only itself and its left. BERT was trained to read both ways and "
    "never saw this mask: the attention here and the guesses in the Predictions tab show what it "
    "loses without its right context."
)
PADDING_NOTE = (
    "Padding: the sentence and the second one run as one batch; the shorter is shown, padded with "
    "[PAD] to the longer's length. Its pad columns are 0: no token attends to a pad."
)
DEFAULT_PADDING_SENTENCE = "The cat sat."


class CompareAttentionView(AttentionView):
    """The compared model's attention, drawn with the main view's settings; with the
    difference on (and the two results of the same shape and tokens) it shows main − this."""

    def __init__(self, parent: QWidget | None, *, slot: Any, main: AttentionView) -> None:
        super().__init__(parent, slot=slot, name="compareAttentionView")
        self.main = main
        self._difference = False
        # Its controls follow A's: a row of greyed copies said nothing and cost half the width.
        for control in (self.layer, self.mode, self.hide_special, self.scale):
            control.setEnabled(False)
            control.hide()
        self.follows = QLabel("", self)
        self.follows.setObjectName("attentionFollowsNote")
        self.follows.setToolTip("Change the layer, the view, special tokens or the colour scale on the left (A): this side follows.")
        self.controls_row.insertWidget(0, self.follows)
        # PgUp/PgDn belong to the main view: two live shortcuts on one key would both go dead.
        for shortcut in self.findChildren(QShortcut):
            shortcut.setEnabled(False)

    @property
    def signed(self) -> bool:
        return self._difference and self.main.result is not None and not difference_refusal(self.main.result, self.result)

    def hover_text(self, cell: str) -> str:
        return f"A − B (A's weight minus B's): {cell}" if self.signed else cell

    def set_difference(self, on: bool) -> None:
        self._difference = on
        self.redraw()

    def current_maps(self) -> tuple[np.ndarray, list[str], list[str], tuple[int, int]]:
        maps, tokens, titles, layout = super().current_maps()
        if not self.signed:
            return maps, tokens, titles, layout
        # Same shapes and tokens (checked by `signed`), same view and layer (the tab keeps them so).
        main_maps, _, _, _ = self.main.current_maps()
        return difference(main_maps, maps), tokens, titles, layout

    def scale_text(self, maps: np.ndarray, layout: tuple[int, int], shared: bool) -> str:
        if not self.signed:
            return super().scale_text(maps, layout, shared)
        if shared or layout == (1, 1):
            m = symmetric_limit(maps)
            return f"A − B: blue {-m:+.2f} → white 0 → red {m:+.2f}"
        return "A − B: blue − → white 0 → red +, each head's own largest difference"

    def export_grid(self, path: str) -> None:
        if not self.signed:
            super().export_grid(path)
            return
        a, b = short_name(self.main.result.model), short_name(self.result.model)
        mode = self.mode.currentText().lower()
        self.canvas.save(path, f"{a} − {b} · layer {self.layer.value()} · {mode}")

    def clear(self) -> None:
        """The compared model was closed: forget its result and what was drawn."""
        self.result = None
        self._requested = None
        self._shown = None
        self.set_busy(False)
        self.caption.setText("")
        self.message.hide()
        self.scale_label.setText("")
        self.canvas.clear_maps()


class AttentionTab(QWidget):
    """The main model's AttentionView (`main`), and beside it, while the compare slot holds a
    model, the compared model's (`other`). set_text goes to both, and so does the mask
    (maskChanged(mode) says it: "bidirectional", "causal" or "padding")."""

    maskChanged = Signal(str)

    def __init__(self, main_slot: Any, compare_slot: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attentionTab")
        self.mask_selector = QComboBox(self)
        self.mask_selector.setObjectName("attentionMaskSelector")
        self.mask_selector.setAccessibleName("Attention mask")
        self.mask_selector.setToolTip(MASK_HELP)
        for label, mode in MASKS:
            self.mask_selector.addItem(label, mode)
        self.padding_sentence = QLineEdit(DEFAULT_PADDING_SENTENCE, self)
        self.padding_sentence.setObjectName("attentionPaddingSentence")
        self.padding_sentence.setAccessibleName("Second sentence of the padded batch")
        self.padding_sentence.setPlaceholderText("a second sentence for the batch")
        self.padding_sentence.setToolTip("The second sentence of the batch (Enter to run it)")
        self.padding_sentence.setVisible(False)
        self.mask_note = QLabel("", self)
        self.mask_note.setObjectName("attentionMaskNote")
        self.mask_note.setWordWrap(True)
        self.mask_note.hide()
        self.main = AttentionView(self, slot=main_slot)
        self.other = CompareAttentionView(self, slot=compare_slot, main=self.main) if compare_slot is not None else None
        self.note = QLabel("", self)
        self.note.setObjectName("attentionCompareNote")
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.difference = QCheckBox("Difference (A − B)", self)
        self.difference.setObjectName("attentionDifferenceToggle")
        self.difference.setToolTip(DIFFERENCE_HELP)
        self.difference.setEnabled(False)
        self.boxes: list[QGroupBox] = []
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("attentionCompareSplitter")
        self.splitter.setChildrenCollapsible(False)
        for view in (self.main, self.other):
            if view is None:
                continue
            box = QGroupBox("", self)
            box.setFlat(True)
            inner = QVBoxLayout(box)
            inner.setContentsMargins(0, 0, 0, 0)
            inner.addWidget(view)
            self.splitter.addWidget(box)
            self.boxes.append(box)
        top = QHBoxLayout()
        top.addWidget(QLabel("Mask:", self))
        top.addWidget(self.mask_selector)
        top.addWidget(self.padding_sentence, 1)
        top.addWidget(self.note, 1)
        top.addWidget(self.difference)
        top.addStretch(0)  # with the sentence box and the note hidden, the mask box keeps its own width
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.mask_note)
        layout.addWidget(self.splitter, 1)
        self.mask_selector.currentIndexChanged.connect(lambda _i: self._apply_mask())
        self.padding_sentence.editingFinished.connect(self._apply_mask)

        if self.other is not None:
            m = self.main
            m.layer.valueChanged.connect(lambda _v: self._follow())
            m.mode.currentIndexChanged.connect(lambda _i: self._follow())
            m.hide_special.toggled.connect(lambda _b: self._follow())
            m.scale.currentIndexChanged.connect(lambda _i: self._follow())
            m.answered.connect(lambda _r: self._follow())
            self.other.answered.connect(lambda _r: self._follow())
            self.difference.toggled.connect(self.other.set_difference)
            self.difference.toggled.connect(lambda _on: self._retitle())
            compare_slot.loaded.connect(lambda _info: self._show_sides())
            compare_slot.closed.connect(self._show_sides)
            main_slot.loaded.connect(lambda _info: self._show_sides())
        self._show_sides()

    @property
    def comparing(self) -> bool:
        return self.other is not None and self.other.slot.has_model

    @property
    def mask_mode(self) -> str:
        return str(self.mask_selector.currentData())

    def set_mask(self, mode: str) -> None:
        """Choose the mask as the selector does ("bidirectional", "causal" or "padding")."""
        self.mask_selector.setCurrentIndex(self.mask_selector.findData(mode))

    def _apply_mask(self) -> None:
        """Both views ask again under the chosen mask; the note says what it is."""
        mode = self.mask_mode
        second = self.padding_sentence.text()
        self.padding_sentence.setVisible(mode == PADDING)
        self.mask_note.setText({CAUSAL: NOT_TRAINED_NOTE, PADDING: PADDING_NOTE}.get(mode, ""))
        self.mask_note.setVisible(mode != BIDIRECTIONAL)
        for view in (self.main, self.other):
            if view is not None:
                view.set_mask(mode, second)
        self.maskChanged.emit(mode)

    def set_text(self, text: str) -> None:
        """The sentence to show: both models read it (each asks when it is visible)."""
        self.main.set_text(text)
        if self.other is not None:
            self.other.set_text(text)

    def _show_sides(self) -> None:
        comparing = self.comparing
        if self.other is not None:
            if not comparing:
                self.other.clear()
            self.boxes[1].setVisible(comparing)
        self._retitle()
        self.difference.setVisible(comparing)
        self._follow()

    def _retitle(self) -> None:
        """"A: name" and "B: name" (full names in the tooltips); B's box says "A − B" while it
        shows the difference."""
        comparing = self.comparing
        infos = [view.slot.info if view is not None else None for view in (self.main, self.other)]
        names = [info.short_name if comparing and info is not None else "" for info in infos]
        titles = [f"{side}: {name}" for (side, _colour), name in zip(SIDES, names)]
        if comparing and self.other is not None and self.other.signed:
            titles[1] = f"A − B: {names[0]} minus {names[1]}"
        for box, title, info, (_side, colour) in zip(self.boxes, titles, infos, SIDES):
            named = comparing and info is not None
            box.setTitle(title if named else "")
            box.setToolTip(info.name if named else "")
            box.setStyleSheet(side_title_style(colour) if named else "")

    def _follow(self) -> None:
        """The compared view takes the main view's settings; the note and the toggle say
        what the two sides are."""
        other = self.other
        if other is None or not self.comparing:
            self.note.setText("")
            self.note.hide()
            self.difference.setEnabled(False)
            return
        main = self.main
        main_info, other_info = main.slot.info, other.slot.info
        if main_info is None or other_info is None:  # the main model is (re)loading
            return
        depth = other.result.num_layers if other.result is not None else other_info.num_layers
        controls = (other.layer, other.mode, other.hide_special, other.scale)
        for control in controls:
            control.blockSignals(True)
        other.mode.setCurrentIndex(main.mode.currentIndex())
        other.hide_special.setChecked(main.hide_special.isChecked())
        other.scale.setCurrentIndex(main.scale.currentIndex())
        other.layer.setValue(matched_layer(main.layer.value(), depth))
        for control in controls:
            control.blockSignals(False)
        other.follows.setText(f"layer {other.layer.value()} · {other.mode.currentText().lower()}: as A, on the left")

        main_depth = main.result.num_layers if main.result is not None else main_info.num_layers
        note = layer_match_note(main_info.name, main_depth, other_info.name, depth, main.layer.value())
        self.note.setText(note)
        self.note.setVisible(bool(note))
        refusal = difference_refusal(main.result, other.result)
        self.difference.setEnabled(not refusal)
        self.difference.setToolTip(refusal or DIFFERENCE_HELP)
        other.redraw()
        self._retitle()
