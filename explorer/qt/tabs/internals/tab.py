"""The Internals tab (lab 002): BERT's forward pass for the editor's sentence, step by step.

The model thread recomputes the pass by hand from the weights (explorer.engine.internals,
through ModelOps.internals) and says how far it is from what the model itself returns; this
tab lists the steps in order, each with its shape written the lab's way, draws the one
selected, and shows that check in green (or, loudly, in red).
"""

from __future__ import annotations

import warnings
from typing import Any

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from explorer.core.colours import PALETTE
from explorer.core.internals import STEP_SHAPES, STEP_TITLES
from explorer.qt.tabs.internals import figures
from explorer.qt.widgets.style import css, error_label_style, plain_label_style

from explorer.core.mask_modes import BIDIRECTIONAL, CAUSAL

# The list, in the order of the computation: (key, section). Keys of STEPS draw that step;
# the others are views of the whole pass.
SECTIONS = (
    ("1 · Embeddings", ("input_ids", "word", "position", "token_type", "sum", "embedding_norms", "normalized")),
    ("2 · Layer {layer}, head {head}", (
        "layer_input", "query", "key", "value", "scores", "mask", "probs", "context", "concat",
        "attention_dense", "attention_output", "intermediate", "ffn_output", "layer_output",
    )),
    ("3 · Across layers", ("hidden_norms", "cosine_next", "cosine_final")),
)
EXTRA_TITLES = {
    "embedding_norms": "norm of each part per token",
    "hidden_norms": "each token's hidden-state norm, layer by layer",
    "cosine_next": "cosine similarity between consecutive layers",
    "cosine_final": "cosine similarity with the final layer",
}
EXPLAIN = {
    "input_ids": "The tokenizer cuts the sentence into word pieces and looks each up in the vocabulary.",
    "word": "One learned vector per vocabulary entry: the row of the embedding matrix for each id.",
    "position": "One learned vector per position (DistilBERT may use fixed sinusoids; RoBERTa counts from padding_idx + 1).",
    "token_type": "Segment A or B (sentence pairs); one sentence is all type 0. DistilBERT has none (zeros).",
    "sum": "embeddings = word + position + token type: the model's first representation of each token.",
    "embedding_norms": "How long each part is per token: how much does position contribute compared with the word?",
    "normalized": "LayerNorm over D: every token's vector centred, scaled to unit variance, then γ·x + β. This is hidden_states[0].",
    "layer_input": "The input to layer L is hidden_states[L] (0 = the embeddings' output).",
    "query": "Q = X·W_Q + b, reshaped B × S × (H·d) → B × H × S × d; one head's T × d slice shown.",
    "key": "K = X·W_K + b, split into heads the same way.",
    "value": "V = X·W_V + b, split into heads the same way.",
    "scores": "Raw scores Q·Kᵀ / √d: how well each query matches each key, before any mask.",
    "mask": "Added to the scores: 0 where a token may look, the lowest float (−∞) where it may not.",
    "probs": "softmax over each row of scores + mask: the attention weights (the numbers the Attention tab draws).",
    "context": "context = weights · V: for each token, the weighted average of the values it attends to.",
    "concat": "All heads' contexts side by side: B × H × S × d → B × S × (H·d) = B × S × D.",
    "attention_dense": "The output projection mixes the heads: concat · W_O + b.",
    "attention_output": "Residual and LayerNorm: LayerNorm(dense + layer input).",
    "intermediate": "Feed-forward, first half: GELU(x · W_1 + b), D → I (usually 4·D).",
    "ffn_output": "Feed-forward, second half: back from I to D.",
    "layer_output": "Residual and LayerNorm again: LayerNorm(FFN + attention output) = hidden_states[L + 1].",
    "hidden_norms": "Rows: hidden_states[0] (embeddings) to the last layer; columns: tokens.",
    "cosine_next": "cos(hidden_states[l][t], hidden_states[l+1][t]): how much each layer changes each token.",
    "cosine_final": "cos(hidden_states[l][t], last layer[t]): how early each token's final representation takes shape.",
}
SQUARE = {"scores", "probs"}


def step_label(key: str, result: Any = None) -> str:
    """The list's line for a step: its title and, with a result, its shape the lab's way."""
    title = STEP_TITLES.get(key) or EXTRA_TITLES[key]
    if key in STEP_SHAPES:
        shape = result.shape_text(key) if result is not None else STEP_SHAPES[key]
        return f"{title}\n    {shape}"
    return title


def check_text(result: Any) -> tuple[str, str]:
    """What the check says, and its style: green when tiny, red and loud when not."""
    diff = result.max_abs_diff
    hidden = "hidden states (relative)" if result.relative else "hidden states"
    numbers = f"{hidden} {diff['hidden_states']:.1e}, attentions {diff['attentions']:.1e}"
    if result.ok:
        return (f"✓ Recomputed by hand: matches the model (largest difference {numbers}; "
                f"< {result.tolerance:.0e} in {result.dtype})", css(PALETTE.correct, bold=True))
    return (f"✗ MISMATCH: the hand computation differs from the model by {numbers} "
            f"(more than {result.tolerance:.0e} in {result.dtype})", css(PALETTE.error, bold=True))


class StepCanvas(FigureCanvasQTAgg):
    """The picture of one step. A small size hint: the page's word-wrapped labels make it ask
    for its height by width, which adds up size hints, and a figure's (6.4 × 4.8 in) would
    push the page past a laptop's screen; the canvas still takes all the room there is."""

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(400, 200)


class InternalsTab(QWidget):
    """set_text (the editor's sentence): asks the slot while visible, once per
    (text, layer, head, mask); answered(result) when it shows a new result."""

    answered = Signal(object)

    def __init__(self, slot: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("internalsTab")
        self.slot = slot
        self.result: Any = None
        self._text = ""
        self._requested: tuple | None = None
        self._shown: tuple | None = None

        self.layer = QSpinBox(self)
        self.layer.setObjectName("internalsLayer")
        self.layer.setKeyboardTracking(False)
        self.layer.setToolTip("The layer shown in detail, from 0: its input is hidden_states[L].")
        self.head = QSpinBox(self)
        self.head.setObjectName("internalsHead")
        self.head.setKeyboardTracking(False)
        self.head.setToolTip("The attention head shown in detail, from 0.")
        self.mask = QComboBox(self)
        self.mask.setObjectName("internalsMask")
        self.mask.addItem("Bidirectional (as trained)", BIDIRECTIONAL)
        self.mask.addItem("Causal (left only)", CAUSAL)
        self.mask.setToolTip("The attention mask, for the hand computation and the model's own pass alike.")
        self.busy = QLabel("", self)
        self.check = QLabel("", self)
        self.check.setObjectName("internalsCheck")
        self.check.setWordWrap(True)
        self.note = QLabel("", self)
        self.note.setObjectName("internalsNote")
        self.note.setWordWrap(True)
        self.note.hide()

        self.steps = QListWidget(self)
        self.steps.setObjectName("internalsSteps")
        self.steps.setMinimumWidth(250)
        self.steps.setWordWrap(True)
        self.steps.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.steps.setMaximumWidth(340)
        self.steps.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.explain = QLabel("", self)
        self.explain.setObjectName("internalsExplain")
        self.explain.setWordWrap(True)
        self.figure = Figure(dpi=100)
        self.canvas = StepCanvas(self.figure)
        self.canvas.setObjectName("internalsFigure")
        self.canvas.setParent(self)
        self.canvas.setMinimumSize(200, 160)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        top = QHBoxLayout()
        top.addWidget(QLabel("Layer", self))
        top.addWidget(self.layer)
        top.addWidget(QLabel("Head", self))
        top.addWidget(self.head)
        top.addWidget(QLabel("Mask", self))
        top.addWidget(self.mask)
        top.addWidget(self.busy)
        top.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.explain)
        right.addWidget(self.canvas, 1)
        middle = QHBoxLayout()
        middle.addWidget(self.steps)
        middle.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.check)
        layout.addWidget(self.note)
        layout.addLayout(middle, 1)

        self._fill_list()
        self.steps.setCurrentRow(0)
        self.steps.currentRowChanged.connect(lambda _row: self.draw())
        self.layer.valueChanged.connect(lambda _v: self._maybe_request())
        self.head.valueChanged.connect(lambda _v: self._maybe_request())
        self.mask.currentIndexChanged.connect(lambda _i: self._maybe_request())
        if slot is not None:
            slot.loaded.connect(self._on_loaded)
            if slot.info is not None:
                self._fit_ranges(slot.info)

    # --- the list of steps ------------------------------------------------------------
    def _fill_list(self) -> None:
        row = max(self.steps.currentRow(), 0)
        self.steps.blockSignals(True)
        self.steps.clear()
        for section, keys in SECTIONS:
            header = QListWidgetItem(section.format(layer=self.layer.value(), head=self.head.value()))
            header.setFlags(Qt.ItemFlag.NoItemFlags)
            font = header.font()
            font.setBold(True)
            header.setFont(font)
            self.steps.addItem(header)
            for key in keys:
                item = QListWidgetItem(step_label(key, self.result))
                item.setData(Qt.ItemDataRole.UserRole, key)
                self.steps.addItem(item)
        self.steps.blockSignals(False)
        if self.steps.item(row).data(Qt.ItemDataRole.UserRole) is None:
            row += 1
        self.steps.setCurrentRow(row)

    def step_keys(self) -> list[str]:
        """The steps listed, in order."""
        keys = (self.steps.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.steps.count()))
        return [k for k in keys if k is not None]

    def select_step(self, key: str) -> None:
        for i in range(self.steps.count()):
            if self.steps.item(i).data(Qt.ItemDataRole.UserRole) == key:
                self.steps.setCurrentRow(i)
                return
        raise KeyError(key)

    def current_step(self) -> str | None:
        item = self.steps.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    # --- following the sentence and the choices ----------------------------------------
    def _on_loaded(self, info: Any) -> None:
        self._fit_ranges(info)
        self._requested = self._shown = None
        self.result = None
        self._maybe_request()

    def _fit_ranges(self, info: Any) -> None:
        self.layer.setRange(0, max(int(info.num_layers) - 1, 0))
        self.head.setRange(0, max(int(info.num_heads) - 1, 0))

    def set_text(self, text: str) -> None:
        self._text = text
        self._maybe_request()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._maybe_request()

    def _key(self) -> tuple[str, int, int, str]:
        return (self._text, self.layer.value(), self.head.value(), self.mask.currentData())

    def _maybe_request(self) -> None:
        key = self._key()
        if not self.isVisible() or key == self._requested or (self.result is not None and key == self._shown):
            return
        if self.slot is None:
            return
        text, layer, head, mask = key
        job = self.slot.request(lambda model: model.internals(text, layer, head, mask), lane=id(self))
        if job is None:
            self._requested = None  # no model yet: its loading asks again
            return
        self._requested = key
        self.busy.setText("computing…")
        job.finished.connect(lambda result: self._answer(result, key))
        job.failed.connect(lambda message, _cause: self.show_error(message))

    def _answer(self, result: Any, key: tuple) -> None:
        self._shown = key
        self.set_result(result)

    # --- results ----------------------------------------------------------------------
    def show_error(self, message: str) -> None:
        """A failure, e.g. "Internals are not supported for this model …": said plainly."""
        self.busy.setText("")
        self._requested = None
        self.result = None
        self.check.setText("")
        self.note.setText(message)
        self.note.setStyleSheet(error_label_style())
        self.note.show()
        self.figure.clear()
        self.canvas.draw_idle()

    def set_result(self, result: Any) -> None:
        self.busy.setText("")
        self.result = result
        text, style = check_text(result)
        self.check.setText(text)
        self.check.setStyleSheet(style)
        if result.notes:
            self.note.setText(" ".join(result.notes))
            self.note.setStyleSheet(plain_label_style())
            self.note.show()
        else:
            self.note.hide()
        self._fill_list()
        self.draw()
        self.answered.emit(result)

    def draw(self) -> None:
        """Draw the selected step of the result shown."""
        key = self.current_step()
        r = self.result
        if key is None or r is None:
            return
        where = f" · layer {r.layer}, head {r.head}" if key in STEP_SHAPES and STEP_SHAPES[key].count("×") >= 2 else ""
        shape = f"  [{r.shape_text(key)}]" if key in STEP_SHAPES else ""
        self.explain.setText(f"<b>{step_label(key).splitlines()[0]}</b>{shape}<br>{EXPLAIN.get(key, '')}")
        title = f"{STEP_TITLES.get(key) or EXTRA_TITLES[key]}{where}"
        layers = ["embeddings"] + [f"layer {i}" for i in range(r.num_layers)]
        if key == "input_ids":
            figures.token_ids(self.figure, r)
        elif key == "embedding_norms":
            figures.embedding_norms(self.figure, r)
        elif key == "mask":
            figures.mask(self.figure, r.mask_allowed, r.tokens, f"{r.mask_mode} mask")
        elif key == "hidden_norms":
            figures.across_layers(self.figure, r.hidden_norms, r.tokens, title, layers, cosine=False)
        elif key == "cosine_next":
            rows = [f"{a} → {b}" for a, b in zip(layers, layers[1:])]
            figures.across_layers(self.figure, r.cosine_next, r.tokens, title, rows, cosine=True)
        elif key == "cosine_final":
            figures.across_layers(self.figure, r.cosine_final, r.tokens, title, layers, cosine=True)
        else:
            values = r.array(key)
            columns = {"intermediate": f"I = {r.intermediate_size} dimensions"}.get(key, "")
            if STEP_SHAPES[key].endswith("× d"):
                columns = f"d = {r.head_size} dimensions of head {r.head}"
            figures.matrix(self.figure, values, r.tokens, title, square=key in SQUARE,
                           probabilities=key == "probs", columns=columns)
        with warnings.catch_warnings():  # a room too small for every label: drawn as it is
            warnings.simplefilter("ignore", UserWarning)
            try:
                self.figure.tight_layout()
            except (ValueError, RuntimeError):
                pass
        self.canvas.draw_idle()
