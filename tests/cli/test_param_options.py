"""The CLI options derived from the parameter declarations (explorer.core.params): each
declared range is exactly what the option takes.

Outside it: exit 2 and one line naming the option, before any model is looked for (the
model named does not exist). Inside it: the parser takes the value as it is.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.cli import build_parser, main
from explorer.core.finetune_params import FinetuneParams
from explorer.core.generation_params import GenerationParams
from explorer.core.mlm_params import MaskDemoParams
from explorer.core.params import specs

NO_MODEL = "/no/such/model"
COMMANDS = {  # the subcommand and the arguments it needs besides the one tested
    GenerationParams: ["generate"],
    FinetuneParams: ["finetune", "corpus.txt", "--out", "never-written"],
    MaskDemoParams: ["mask-demo", "The cat sat on the mat."],
}
OPTIONS = [(cls, s) for cls in COMMANDS for s in specs(cls) if s.number and s.cli]
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def outside(s) -> st.SearchStrategy[str]:
    """Text for a value the declaration refuses."""
    bad = [st.sampled_from(["nan", "inf", "-inf", "abc", "", "1e999"])]
    if s.integer:
        bad.append(st.floats(-1e6, 1e6).filter(lambda x: not x.is_integer()).map(repr))
        if s.low is not None:
            bad.append(st.integers(max_value=int(s.low) - 1).map(str))
        if s.high is not None:
            bad.append(st.integers(min_value=int(s.high) + 1).map(str))
    else:
        if s.low is not None:
            bad.append(st.floats(max_value=s.low, exclude_max=not s.low_open, allow_infinity=False).map(repr))
        if s.high is not None:
            bad.append(st.floats(min_value=s.high, exclude_min=not s.high_open, allow_infinity=False).map(repr))
    return st.one_of(bad)


def inside(s) -> st.SearchStrategy:
    if s.integer:
        return st.integers(s.low, s.high)
    return st.floats(s.low, s.high, exclude_min=s.low_open, exclude_max=s.high_open)


def test_every_declared_option_is_on_its_command_with_the_declared_default(capsys):
    for cls, argv in COMMANDS.items():
        args = build_parser().parse_args(argv)
        assert main([argv[0], "--help"]) == 0
        help_text = capsys.readouterr().out
        for s in specs(cls):
            if s.cli is None:
                continue
            assert s.cli in help_text, (cls.__name__, s.name)
            if not s.required:
                assert getattr(args, s.name) == s.default, (cls.__name__, s.name)


@pytest.mark.parametrize("cls, s", OPTIONS, ids=lambda x: getattr(x, "cli", None) or getattr(x, "__name__", ""))
@FUZZ
@given(data=st.data())
def test_a_value_outside_the_declared_range_exits_2_with_one_line(capsys, cls, s, data):
    given_text = data.draw(outside(s))
    argv = [*COMMANDS[cls], f"{s.cli}={given_text}", "--model", NO_MODEL]
    code = main(argv)
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code == 2 and out == "" and len(lines) == 1, (argv, err)
    assert f"argument {s.cli}: must be" in lines[0] and NO_MODEL not in lines[0], lines[0]


@pytest.mark.parametrize("cls, s", OPTIONS, ids=lambda x: getattr(x, "cli", None) or getattr(x, "__name__", ""))
@FUZZ
@given(data=st.data())
def test_a_value_inside_the_declared_range_is_taken_as_it_is(cls, s, data):
    value = data.draw(inside(s))
    args = build_parser().parse_args([*COMMANDS[cls], f"{s.cli}={value!r}"])
    got = getattr(args, s.name)
    assert got == value and type(got) is s.kind and (s.integer or math.isfinite(got))
    assert s.problem(got) is None


def test_the_bounds_themselves(capsys):
    for cls, s in OPTIONS:
        for bound, is_open in ((s.low, s.low_open), (s.high, s.high_open)):
            if bound is None:
                continue
            try:
                build_parser().parse_args([*COMMANDS[cls], f"{s.cli}={bound!r}"])
                taken = True
            except SystemExit:
                taken = False
            assert taken != is_open, (s.cli, bound)
