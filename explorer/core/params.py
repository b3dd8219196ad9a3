"""A parameter declared once, on its dataclass field: label, help, range, CLI option, form control.

    temperature: float = field(default=1.0, metadata=param(
        label="Temperature", help="...", low=0.0, low_open=True, high=1000.0,
        cli="--temperature", form="temperatureSpin", form_low=0.001, form_high=10.0, step=0.05))

From the declarations: the one range check (`Param.problem`, used by the engine, the window
and the dataclasses' own checks), the CLI options (explorer/commands/params_cli.py) and the
form controls (explorer/qt/widgets/param_form.py). A field's type comes from its annotation
(`int | None` is an optional int: None means "not given"). Standard library only: the window
and the CLI read these before torch loads.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import operator
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

KEY = "explorer.param"  # the key of the declaration in a field's metadata

# A random seed, everywhere: torch.Generator.manual_seed takes 0 to 2**64 - 1, numpy's
# default_rng and random.Random any whole number from 0. Fine-tuning seeds its validation
# masks with seed + 1, so the top is 2**63 - 1 (which also fits a signed 64-bit integer).
# No legacy numpy seeding (np.random.seed, 32 bits) is used anywhere.
MAX_SEED = 2**63 - 1
FORM_INT_MAX = 2**31 - 1  # a form's spin box holds a 32-bit int: a seed box stops there


@dataclasses.dataclass(frozen=True)
class Param:
    """How one parameter is shown, checked and asked for. Set by `param()`; the last four
    fields are filled in by `specs()` from the dataclass field."""

    label: str  # the form's label and accessible name (a check box: its text)
    help: str = ""  # the CLI option's help and the form control's tooltip
    what: str = ""  # how messages name it, when not by the label ("the random seed")
    low: float | None = None  # the allowed range; None: no bound on that side
    high: float | None = None
    low_open: bool = False  # the bound itself is out
    high_open: bool = False
    rule: str = ""  # messages to a person say the range in these words ({low}, {high} filled in)
    choices: tuple[str, ...] = ()
    choice_help: tuple[str, ...] = ()  # per choice, in the same order ("" for none)
    cli: str | None = None  # "--option", or "NAME" for a positional argument; None: not on the CLI
    metavar: str | None = None
    path: bool = False  # text that names a file or folder: taken as the OS gives it, not checked as UTF-8
    form: str | None = None  # the objectName of its form control; None: not in the form
    form_low: float | None = None  # what the form offers, where narrower than the range
    form_high: float | None = None
    form_value: Any = None  # the form's starting value, where not the default
    step: float | None = None  # a number box's step
    decimals: int | None = None  # a float box's decimals
    special: str = ""  # shown for the form's lowest value (for an optional number: "not given")
    prefix: str = ""  # shown before the number in the form's box
    name: str = ""
    kind: type = object  # int, float, bool, str, tuple
    optional: bool = False  # None is allowed (not given)
    default: Any = None
    required: bool = False  # the field has no default

    # --- what it is -------------------------------------------------------------------
    @property
    def integer(self) -> bool:
        return self.kind is int

    @property
    def number(self) -> bool:
        return self.kind in (int, float) and not self.choices

    @property
    def form_range(self) -> tuple[float | None, float | None]:
        return (
            self.low if self.form_low is None else self.form_low,
            self.high if self.form_high is None else self.form_high,
        )

    @property
    def form_start(self) -> Any:
        return self.default if self.form_value is None else self.form_value

    def choice_tips(self) -> dict[str, str]:
        return dict(zip(self.choices, self.choice_help))

    # --- the one check ----------------------------------------------------------------
    def words(self) -> str:
        """The range in words: "at least 1 and at most 10", "above 0 and below 1"."""
        return range_words(self.low, self.high, low_open=self.low_open, high_open=self.high_open)

    def requirement(self, value: Any) -> str | None:
        """None when `value` is allowed; else what it must be ("a whole number at least 1 ...")."""
        if value is None and self.optional:
            return None
        if self.choices:
            return None if isinstance(value, str) and value in self.choices else "one of " + ", ".join(self.choices)
        if self.kind is bool:
            return None if isinstance(value, bool) else "true or false"
        if self.kind is str:
            return None if isinstance(value, str) else "text"
        if not self.number:
            return None if isinstance(value, self.kind) else f"a {self.kind.__name__}"
        words = self.words()
        if self.integer:
            if isinstance(value, bool):
                return f"a whole number {words}"
            try:  # an int, or numpy's; never a float or a string
                x: float = operator.index(value)
            except TypeError:
                return f"a whole number {words}"
        else:
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                return f"a number {words}"
            try:
                x = float(value)
            except OverflowError:  # an int too large for a float
                x = math.inf
            if not math.isfinite(x):
                return f"a finite number {words}"
        if self.low is not None and (x < self.low or (self.low_open and x == self.low)):
            return words
        if self.high is not None and (x > self.high or (self.high_open and x == self.high)):
            return words
        return None

    def problem(self, value: Any) -> str | None:
        """None when `value` is allowed; else one sentence a person can act on."""
        need = self.requirement(value)
        if need is None:
            return None
        what = self.what or self.label
        if self.choices:
            return f"Unknown {what.lower()} '{value}': use one of {', '.join(self.choices)}."
        if self.number and _a_number(value, self.integer):  # in words of the range ("got nan" says the rest)
            need = self.rule.format(low=self.low, high=self.high) if self.rule else self.words()
        return f"{what[:1].upper()}{what[1:]} must be {need}, got {shown(value)}."


def param(
    *,
    label: str,
    choices: Mapping[str, str] | Sequence[str] = (),
    **kw: Any,
) -> dict[str, Param]:
    """A field's metadata: `field(default=..., metadata=param(label=..., ...))`.

    `choices` may map each choice to its help (the form shows it on the item)."""
    if isinstance(choices, Mapping):
        kw.update(choices=tuple(choices), choice_help=tuple(choices.values()))
    else:
        kw.update(choices=tuple(choices))
    return {KEY: Param(label=label, **kw)}


def seed_param(*, label: str = "Random seed", help: str, form: str | None = None, prefix: str = "") -> dict[str, Param]:
    """A random seed: the same rule in every family (MAX_SEED), a 32-bit box in the form."""
    return param(
        label=label, help=help, what="the random seed", low=0, high=MAX_SEED, rule="between {low} and {high}",
        cli="--seed", metavar="S", form=form, form_high=FORM_INT_MAX if form else None, prefix=prefix,
    )


def _kind(hint: Any) -> tuple[type, bool]:
    """(the type, whether None is allowed) from an annotation: int, float | None, tuple[str, ...]."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        return _kind(inner)[0], True
    return typing.get_origin(hint) or hint, False


@functools.cache
def specs(cls: type) -> tuple[Param, ...]:
    """Every field's declaration, in field order; a field without one is an error."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        declared = f.metadata.get(KEY)
        if not isinstance(declared, Param):
            raise TypeError(f"{cls.__name__}.{f.name} has no param() declaration (explorer.core.params)")
        kind, optional = _kind(hints[f.name])
        default, required = f.default, False
        if f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        elif default is dataclasses.MISSING:
            default, required = None, True
        out.append(dataclasses.replace(declared, name=f.name, kind=kind, optional=optional, default=default, required=required))
    return tuple(out)


def spec(cls: type, name: str) -> Param:
    for s in specs(cls):
        if s.name == name:
            return s
    raise KeyError(f"{cls.__name__} has no parameter {name!r}")


def first_problem(obj: Any) -> tuple[str, str] | None:
    """(field, message) of the first field whose value is not allowed; None when all are."""
    for s in specs(type(obj)):
        message = s.problem(getattr(obj, s.name))
        if message:
            return s.name, message
    return None


def problems(obj: Any) -> list[str]:
    """What is wrong with the values of a declared dataclass, one sentence per field."""
    return [m for s in specs(type(obj)) if (m := s.problem(getattr(obj, s.name)))]


def _a_number(value: Any, integer: bool) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Integral if integer else numbers.Real)


def number_text(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value) if isinstance(value, int) else repr(value)


def range_words(low: float | None, high: float | None, *, low_open: bool = False, high_open: bool = False) -> str:
    """A range in words, as every message says it: "at least 1 and at most 10", "above 0"."""
    lo = None if low is None else (f"above {number_text(low)}" if low_open else f"at least {number_text(low)}")
    hi = None if high is None else (f"below {number_text(high)}" if high_open else f"at most {number_text(high)}")
    if lo and hi:
        return f"{lo} and {hi}"
    return lo or hi or "any number"
