"""Number inputs built one way in every tab: a stable objectName, a range, an accessible name."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox, QWidget


def spin_box(
    name: str, low: int, high: int, value: int, *, label: str = "", tip: str = "", parent: QWidget | None = None
) -> QSpinBox:
    box = QSpinBox(parent)
    box.setObjectName(name)
    box.setRange(low, high)
    box.setValue(value)
    if label:
        box.setAccessibleName(label)
    if tip:
        box.setToolTip(tip)
    return box


def double_box(
    name: str,
    low: float,
    high: float,
    value: float,
    *,
    step: float,
    decimals: int = 3,
    label: str = "",
    tip: str = "",
    parent: QWidget | None = None,
) -> QDoubleSpinBox:
    box = QDoubleSpinBox(parent)
    box.setObjectName(name)
    box.setDecimals(decimals)  # before the range and value, which it rounds
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setValue(value)
    if label:
        box.setAccessibleName(label)
    if tip:
        box.setToolTip(tip)
    return box


class CappedSpinBox(QSpinBox):
    """A spin box that takes a number over its maximum as the maximum, and says so.

    A plain one refuses the keystroke that goes over (typing 999 into 1..50 leaves 9),
    silently. Emits capped(maximum) when it clamps."""

    capped = Signal(int)

    def _over(self, text: str) -> bool:
        core = text.removeprefix(self.prefix()).removesuffix(self.suffix()).strip()
        return core.isdigit() and int(core) > self.maximum()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        state, text, pos = super().validate(text, pos)
        if state == QValidator.State.Invalid and self._over(text):
            state = QValidator.State.Intermediate  # finished by fixup, on Enter or leaving the box
        return state, text, pos

    def fixup(self, text: str) -> str:
        if self._over(text):
            self.capped.emit(self.maximum())
            return self.textFromValue(self.maximum())
        return super().fixup(text)
