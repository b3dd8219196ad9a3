"""Form controls derived from parameter declarations (explorer.core.params).

`ParamForm(GenerationParams, parent)` builds a control for every field declared with
`form="objectName"`: a QSpinBox or QDoubleSpinBox with the form's range, a QComboBox for
choices (each item's help as its tooltip), a QCheckBox for a bool; the declared label is
the accessible name (a check box's text), the declared help its tooltip. The tab lays the
controls out and reads them back with `values()`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox, QWidget

from explorer.core.params import Param, specs
from explorer.qt.widgets.inputs import double_box, spin_box

INT_MAX = 2**31 - 1  # what a QSpinBox holds


def build_control(spec: Param, parent: QWidget | None = None) -> QWidget:
    """The control for one declared parameter, at its form's starting value."""
    start = spec.form_start
    if spec.choices:
        box = QComboBox(parent)
        box.setObjectName(spec.form)
        box.setAccessibleName(spec.label)
        tips = spec.choice_tips()
        for i, choice in enumerate(spec.choices):
            box.addItem(choice)
            if tips.get(choice):
                box.setItemData(i, tips[choice], Qt.ItemDataRole.ToolTipRole)
        box.setToolTip("\n".join([spec.help, *(f"{k}: {v}" for k, v in tips.items() if v)]).strip())
        box.setCurrentText(start)
        return box
    if spec.kind is bool:
        check = QCheckBox(spec.label, parent)
        check.setObjectName(spec.form)
        check.setAccessibleName(spec.label)
        check.setToolTip(spec.help)
        check.setChecked(bool(start))
        return check
    low, high = spec.form_range
    if low is None or high is None:
        raise ValueError(f"{spec.name}: a form needs both ends of the range (form_low / form_high)")
    if spec.integer:
        if not -INT_MAX - 1 <= low <= high <= INT_MAX:
            raise ValueError(f"{spec.name}: a spin box holds 32-bit numbers; declare form_low / form_high within them")
        box = spin_box(spec.form, int(low), int(high), int(start if start is not None else low),
                       label=spec.label, tip=spec.help, parent=parent)
    elif spec.kind is float:
        step = spec.step if spec.step is not None else 0.1
        decimals = spec.decimals if spec.decimals is not None else 3
        box = double_box(spec.form, float(low), float(high), float(start), step=step, decimals=decimals,
                         label=spec.label, tip=spec.help, parent=parent)
    else:
        raise ValueError(f"{spec.name}: no form control for {spec.kind.__name__}")
    if spec.special:
        box.setSpecialValueText(spec.special)
    if spec.prefix:
        box.setPrefix(spec.prefix)
    return box


def control_value(spec: Param, control: QWidget) -> Any:
    """What a control says, as the dataclass takes it."""
    if isinstance(control, QComboBox):
        return control.currentText()
    if isinstance(control, QCheckBox):
        return control.isChecked()
    if isinstance(control, QDoubleSpinBox):
        return round(control.value(), control.decimals())  # the number shown, without binary noise
    if isinstance(control, QSpinBox):
        value = control.value()
        if spec.optional and spec.special and value == control.minimum():
            return None  # the special value ("use epochs") is "not given"
        return value
    raise TypeError(f"{spec.name}: no value from {type(control).__name__}")


class ParamForm:
    """The controls of one parameter family, by field name."""

    def __init__(self, cls: type, parent: QWidget | None = None) -> None:
        self.cls = cls
        self.specs = {s.name: s for s in specs(cls) if s.form}
        self.controls: dict[str, QWidget] = {name: build_control(s, parent) for name, s in self.specs.items()}

    def __getitem__(self, name: str) -> Any:
        return self.controls[name]

    def value(self, name: str) -> Any:
        return control_value(self.specs[name], self.controls[name])

    def values(self) -> dict[str, Any]:
        """Every control's value by field name: `cls(**form.values(), other=...)`."""
        return {name: self.value(name) for name in self.controls}
