"""Number inputs built one way in every tab: a stable objectName, a range, an accessible name."""

from __future__ import annotations

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
