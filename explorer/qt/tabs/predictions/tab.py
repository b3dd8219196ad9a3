"""The Predictions tab: the guesses for every mask of the editor's sentence, from the model
in use and, in compare mode, from the model it is compared with, side by side.

Each side is the same view built for another model slot; the tab asks both for the same
text and, once both have answered for it, says where they agree (core.compare).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from explorer.core.compare import agreement, mask_count_warning, word
from explorer.core.mask_modes import BIDIRECTIONAL, CAUSAL  # the mask is chosen in the Attention tab
from explorer.qt.tabs.predictions.joint import JointPanel
from explorer.qt.tabs.predictions.panel import FillMaskPanel
from explorer.qt.widgets.style import SIDES, on_zoom, scaled_px, side_title_style

MIN_CARDS_HEIGHT = 190  # px at 100%: a mask card's title and about five guesses
CAUSAL_NOTE = (
    "Causal mask (chosen in the Attention tab): each token sees only itself and its left. BERT was "
    "trained to read both ways and never saw this mask: these guesses show what it loses without "
    "its right context."
)
JOINT_NEEDS_BOTH_WAYS = "Joint filling reads both ways: it waits until the mask is bidirectional again."


class SlotPredictions(FillMaskPanel):
    """A FillMaskPanel that asks its own model slot for the guesses it shows."""

    answered = Signal(object)  # the FillMaskResult it now shows

    def __init__(self, slot: Any, parent: QWidget | None = None, *, name: str = "fillMaskPanel") -> None:
        super().__init__(parent, name=name)
        self.slot = slot

    def ask(self, text: str, top_k: int, mask: str = BIDIRECTIONAL) -> bool:
        """False (nothing asked) while the slot has no model: its loading asks again."""
        job = self.slot.request(lambda model: model.fill_mask(text, top_k, mask), lane=id(self))
        if job is None:
            return False
        self.set_busy(True)
        job.finished.connect(self._answer)
        job.failed.connect(lambda message, _cause: self.show_error(message))
        return True

    def _answer(self, result: Any) -> None:
        self.set_result(result)
        self.answered.emit(result)


def agreement_text(a: Any, b: Any) -> str:
    """One line per mask: same top-1 or not, and how much of the top-k the two share."""
    lines = []
    for g in agreement(a, b):
        top1 = "same top-1" if g.same_top1 else "different top-1"
        mark = "=" if g.same_top1 else "≠"
        lines.append(f"Mask {g.index + 1}: {mark} {top1} · top-k overlap {g.topk_overlap:.0%}")
    warning = mask_count_warning(a, b)
    if warning:
        lines.append(warning)
    return "\n".join(lines) if lines else "No mask in both texts to compare."


class PredictionsTab(QWidget):
    """Emits candidateChosen(mask ordinal, candidate) and answered(result) for the main model,
    fillingChosen(joint result, filling) for a joint filling of either side."""

    candidateChosen = Signal(int, object)
    fillingChosen = Signal(object, object)
    answered = Signal(object)

    def __init__(self, main_slot: Any, compare_slot: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("predictionsTab")
        self.main = SlotPredictions(main_slot, self)
        self.other = SlotPredictions(compare_slot, self, name="compareFillMaskPanel") if compare_slot else None
        # Each side's masks filled together, asked once that side's per-mask guesses are in.
        self.joint = JointPanel(main_slot, self)
        self.other_joint = JointPanel(compare_slot, self, name="compareJointFillPanel", leader=self.joint) if compare_slot else None
        self._text, self._k = "", 10
        self.mask = BIDIRECTIONAL
        self.mask_note = QLabel(CAUSAL_NOTE, self)
        self.mask_note.setObjectName("predictionsMaskNote")
        self.mask_note.setWordWrap(True)
        self.mask_note.hide()
        self.agreement = QLabel("", self)
        self.agreement.setObjectName("compareAgreement")
        self.agreement.setWordWrap(True)
        self.agreement.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.agreement.setToolTip("Guesses both models have in their top-k are in bold with a green edge.")
        self.boxes: list[QGroupBox] = []
        sides = QHBoxLayout()
        for panel, joint in ((self.main, self.joint), (self.other, self.other_joint)):
            if panel is None:
                continue
            box = QGroupBox("", self)
            box.setFlat(True)
            inner = QVBoxLayout(box)
            inner.setContentsMargins(0, 0, 0, 0)
            inner.addWidget(panel, 1)
            inner.addWidget(joint)
            # The guesses keep room for a few rows at any size; below that the page scrolls.
            on_zoom(panel, lambda panel=panel: panel.setMinimumHeight(scaled_px(MIN_CARDS_HEIGHT)))
            panel.answered.connect(lambda result, joint=joint: self._ask_joint_for(result, joint))
            joint.settingsChanged.connect(lambda panel=panel, joint=joint: self._ask_joint(panel, joint))
            joint.fillingChosen.connect(self.fillingChosen)
            sides.addWidget(box, 1)
            self.boxes.append(box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.mask_note)
        layout.addWidget(self.agreement)
        layout.addLayout(sides, 1)
        self.main.candidateChosen.connect(self.candidateChosen)
        self.main.answered.connect(self.answered)
        self.main.answered.connect(lambda _r: self._compare())
        if self.other is not None:
            # The compared model's guesses write into the editor too: the offsets are the text's.
            self.other.candidateChosen.connect(self.candidateChosen)
            self.other.answered.connect(lambda _r: self._compare())
            compare_slot.loaded.connect(self._on_compare_loaded)
            compare_slot.closed.connect(self._show_sides)
            main_slot.loaded.connect(lambda _info: self._show_sides())
        self._show_sides()

    def _ask_joint(self, panel: SlotPredictions, joint: JointPanel) -> None:
        """The joint settings changed: search again for the text the side last answered."""
        if panel.result is not None:
            self._ask_joint_for(panel.result, joint)

    def _ask_joint_for(self, result: Any, joint: JointPanel) -> None:
        if result.mask != BIDIRECTIONAL:
            joint.clear(JOINT_NEEDS_BOTH_WAYS)
            return
        joint.ask(result.text, len(result.masks))

    def set_mask(self, mode: str) -> None:
        """The Attention tab's mask ("causal" or "bidirectional"): the guesses are asked again
        under it, and a note says the model was not trained so."""
        mode = CAUSAL if mode == CAUSAL else BIDIRECTIONAL  # padding changes nothing for one sentence
        self.mask_note.setVisible(mode == CAUSAL)
        if mode == self.mask:
            return
        self.mask = mode
        if self._text:
            self.ask(self._text, self._k)

    @property
    def comparing(self) -> bool:
        return self.other is not None and self.other.slot.has_model

    def ask(self, text: str, top_k: int) -> None:
        self._text, self._k = text, top_k
        self.main.ask(text, top_k, self.mask)
        if self.comparing:
            self.other.ask(text, top_k, self.mask)

    def _on_compare_loaded(self, _info: Any) -> None:
        self._show_sides()
        if self._text:
            self.other.ask(self._text, self._k, self.mask)

    def _show_sides(self) -> None:
        comparing = self.comparing
        if self.other is not None:
            self.boxes[1].setVisible(comparing)
            if not comparing:
                self.other.clear("")
                self.other_joint.clear("")
        for box, panel, (side, colour) in zip(self.boxes, (self.main, self.other), SIDES):
            info = panel.slot.info if panel is not None else None
            named = comparing and info is not None
            box.setTitle(f"{side}: {info.short_name}" if named else "")
            box.setToolTip(info.name if named else "")
            box.setStyleSheet(side_title_style(colour) if named else "")
            panel.set_bar_colour(colour if named else "")
        self.agreement.setVisible(comparing)
        self._compare()

    def _compare(self) -> None:
        """Both answers for the same text: mark the shared guesses and say the agreement."""
        a = self.main.result
        b = self.other.result if self.comparing else None
        if a is None or b is None or a.text != b.text or a.mask != b.mask:
            self.main.mark_shared(None)
            if self.other is not None:
                self.other.mark_shared(None)
            self.agreement.setText("Comparing…" if self.comparing else "")
            return
        shared = [
            {word(c) for c in ma.candidates} & {word(c) for c in mb.candidates} for ma, mb in zip(a.masks, b.masks)
        ]
        self.main.mark_shared(shared)
        self.other.mark_shared(shared)
        self.agreement.setText(agreement_text(a, b))
