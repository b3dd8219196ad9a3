"""CLI options derived from parameter declarations (explorer.core.params).

`add_arguments(parser, GenerationParams)` adds an option for every field declared with
`cli=...`: its type checks the declared range as the arguments are parsed (so nothing runs,
no model loads, with a value out of it), its help is the declared help with the range and
the default. `from_args(GenerationParams, args)` builds the dataclass back.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from explorer.commands import _quoted, text
from explorer.core.params import Param, number_text, specs

T = TypeVar("T")


def value_type(spec: Param) -> Callable[[str], Any]:
    """An argparse type for one declared parameter: its kind, its range, finite floats."""
    if spec.kind is str:
        return str if spec.path else text  # a path is taken as the OS gives it (output_paths checks it)

    def parse(given: str) -> Any:
        if spec.integer:
            try:
                value: Any = int(given)
            except ValueError:  # also a number of more than 4300 digits
                raise argparse.ArgumentTypeError(f"must be a whole number {spec.words()}, got {_quoted(given)}") from None
        else:
            try:
                value = float(given)
            except ValueError:
                value = math.nan  # said as "a finite number ..."
        need = spec.requirement(value)
        if need:
            raise argparse.ArgumentTypeError(f"must be {need}, got {_quoted(given)}")
        return value

    parse.__name__ = spec.kind.__name__
    return parse


def option_help(spec: Param) -> str:
    """The declared help, with the range and the default (argparse's % escaped)."""
    notes = []
    if spec.number:
        notes.append(spec.words())
    if spec.kind is bool:
        notes += ["on by default; this option turns it off"] if spec.default else []
    elif spec.required or spec.default is None:
        pass
    elif spec.kind is str and not spec.default:
        notes.append("default: none")
    else:
        default = spec.default
        notes.append(f"default {number_text(default) if isinstance(default, (int, float)) else default}")
    words = spec.help + (f" ({'; '.join(notes)})" if notes else "")
    return words.replace("%", "%%")


def add_arguments(
    parser: argparse.ArgumentParser, cls: type, *, exclusive: Iterable[tuple[str, ...]] = ()
) -> None:
    """An option for every field of `cls` declared with `cli`; `exclusive`: groups of field
    names of which at most one may be given (fine-tuning's --max-steps or --epochs)."""
    where: dict[str, Any] = {}
    for names in exclusive:
        group = parser.add_mutually_exclusive_group()
        where.update(dict.fromkeys(names, group))
    for spec in specs(cls):
        if spec.cli is None:
            continue
        target = where.get(spec.name, parser)
        if not spec.cli.startswith("-"):  # positional: cli is its metavar
            target.add_argument(spec.name, metavar=spec.cli, type=value_type(spec), help=option_help(spec))
        elif spec.kind is bool:
            action = "store_false" if spec.default else "store_true"
            target.add_argument(spec.cli, dest=spec.name, action=action, help=option_help(spec))
        elif spec.choices:
            target.add_argument(spec.cli, dest=spec.name, default=spec.default, choices=spec.choices,
                                required=spec.required, help=option_help(spec))
        else:
            target.add_argument(spec.cli, dest=spec.name, default=spec.default, type=value_type(spec),
                                required=spec.required, metavar=spec.metavar, help=option_help(spec))


def from_args(cls: type[T], args: argparse.Namespace, **others: Any) -> T:
    """The dataclass from the parsed options; fields not on the CLI from `others`, or their defaults."""
    values = {s.name: getattr(args, s.name) for s in specs(cls) if s.cli is not None}
    return cls(**values, **others)
