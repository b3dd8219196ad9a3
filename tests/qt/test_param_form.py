"""The form controls derived from the parameter declarations (explorer.core.params): each
control offers exactly the declared form range, and every value it offers is allowed."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox, QWidget

from explorer.core.finetune_params import FinetuneParams
from explorer.core.generation_params import GenerationParams
from explorer.core.mlm_params import MaskDemoParams
from explorer.core.params import problems, specs
from explorer.qt.widgets.param_form import ParamForm

FAMILIES = (GenerationParams, FinetuneParams, MaskDemoParams)
REQUIRED = {FinetuneParams: {"corpus": "c.txt", "out": "o"}, MaskDemoParams: {"text": "The cat sat."}}


def check_control(s, control: QWidget) -> None:
    """The control as the declaration says: name, label, tooltip, range, starting value."""
    assert control.objectName() == s.form
    assert control.accessibleName() == s.label and s.help in control.toolTip()
    if s.choices:
        assert isinstance(control, QComboBox)
        assert [control.itemText(i) for i in range(control.count())] == list(s.choices)
        assert control.currentText() == s.form_start
    elif s.kind is bool:
        assert isinstance(control, QCheckBox) and control.text() == s.label and control.isChecked() == s.form_start
    else:
        assert isinstance(control, QSpinBox if s.integer else QDoubleSpinBox), s.name
        low, high = s.form_range
        assert (control.minimum(), control.maximum()) == (low, high), s.name
        assert control.value() == pytest.approx(s.form_start if s.form_start is not None else low)
        assert control.specialValueText() == s.special and control.prefix() == s.prefix


@pytest.mark.parametrize("cls", FAMILIES, ids=lambda c: c.__name__)
def test_every_declared_control_is_built_as_declared(qtbot, cls):
    parent = QWidget()
    qtbot.addWidget(parent)
    form = ParamForm(cls, parent)
    assert set(form.controls) == {s.name for s in specs(cls) if s.form}
    for s in specs(cls):
        if s.form:
            check_control(s, parent.findChild(QWidget, s.form))
    assert problems(cls(**REQUIRED.get(cls, {}), **form.values())) == []


@pytest.mark.parametrize("cls", FAMILIES, ids=lambda c: c.__name__)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_value_a_control_takes_is_allowed(qtbot, cls, data):
    parent = QWidget()
    qtbot.addWidget(parent)
    form = ParamForm(cls, parent)
    for name, control in form.controls.items():
        if isinstance(control, (QSpinBox, QDoubleSpinBox)):
            wanted = data.draw(st.floats(-1e12, 1e12) if isinstance(control, QDoubleSpinBox) else st.integers(-(2**31), 2**31 - 1))
            control.setValue(wanted)  # a spin box keeps it within its range
            assert control.minimum() <= control.value() <= control.maximum()
        elif isinstance(control, QComboBox):
            control.setCurrentIndex(data.draw(st.integers(0, control.count() - 1)))
        else:
            control.setChecked(data.draw(st.booleans()))
    values = form.values()
    p = cls(**REQUIRED.get(cls, {}), **values)
    assert problems(p) == [], values
    if cls is FinetuneParams:  # its special lowest value: "use epochs", no step count
        assert (values["max_steps"] is None) == (form["max_steps"].value() == 0)


TABS = {"generation": GenerationParams, "finetune": FinetuneParams, "mlm": MaskDemoParams}


def test_the_tabs_controls_are_the_declared_ones(window):
    """In the window: each tab's controls, found by objectName, as declared. Generate's
    length is then narrowed to what the loaded model reads (64 positions, 2 special)."""
    for attr, cls in TABS.items():
        tab = getattr(window, attr)
        for s in specs(cls):
            if not s.form:
                continue
            found = tab.findChildren(QWidget, s.form)
            assert len(found) == 1, s.form
            control = found[0]
            if s.name == "length" and cls is GenerationParams:
                assert (control.minimum(), control.maximum()) == (s.form_range[0], 62)
                continue
            if isinstance(control, (QSpinBox, QDoubleSpinBox)):
                assert (control.minimum(), control.maximum()) == s.form_range, s.form
            assert control.accessibleName() == s.label and s.help in control.toolTip()
