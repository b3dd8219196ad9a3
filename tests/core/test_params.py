"""Parameters declared once (explorer.core.params): every field declared, one range check.

The CLI side is tests/cli/test_param_options.py, the form side tests/qt/test_param_form.py.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.core import finetune_checks
from explorer.core.finetune_params import FinetuneParams
from explorer.core.generation_params import GenerationParams
from explorer.core.mlm_params import MaskDemoParams
from explorer.core.params import MAX_SEED, param, problems, specs

FAMILIES = (GenerationParams, FinetuneParams, MaskDemoParams)
REQUIRED = {FinetuneParams: {"corpus": "c.txt", "out": "o"}, MaskDemoParams: {"text": "The cat sat."}}
NUMBERS = [(cls, s) for cls in FAMILIES for s in specs(cls) if s.number]


def defaults(cls: type) -> object:
    return cls(**REQUIRED.get(cls, {}))


def in_range(s, x: float) -> bool:
    """The rule, brute force: the bounds as declared, a real finite number of the right kind."""
    if isinstance(x, bool) or not isinstance(x, int if s.integer else (int, float)):
        return False
    try:
        if not math.isfinite(x):
            return False
    except OverflowError:
        return False
    above = s.low is None or (x > s.low if s.low_open else x >= s.low)
    below = s.high is None or (x < s.high if s.high_open else x <= s.high)
    return above and below


@pytest.mark.parametrize("cls", FAMILIES, ids=lambda c: c.__name__)
def test_every_field_is_declared(cls):
    assert [s.name for s in specs(cls)] == [f.name for f in dataclasses.fields(cls)]
    for s in specs(cls):
        assert s.label and s.help, s.name
        assert not (s.number and s.low is None and s.high is None), f"{s.name}: a number without a range"


def test_a_field_without_a_declaration_is_an_error():
    @dataclasses.dataclass(frozen=True)
    class Half:
        a: int = dataclasses.field(default=1, metadata=param(label="A", low=0, high=2))
        b: int = 2

    with pytest.raises(TypeError, match="Half.b has no param"):
        specs(Half)


@pytest.mark.parametrize("cls", FAMILIES, ids=lambda c: c.__name__)
def test_the_defaults_and_the_forms_starting_values_are_allowed(cls):
    assert problems(defaults(cls)) == []
    for s in specs(cls):
        if s.form and not (s.optional and s.special and s.form_start == s.form_range[0]):
            assert s.problem(s.form_start) is None, s.name


@pytest.mark.parametrize("cls, s", NUMBERS, ids=lambda x: getattr(x, "name", getattr(x, "__name__", "")))
def test_the_form_offers_only_allowed_values(cls, s):
    if not s.form:
        return
    low, high = s.form_range
    assert s.problem(high) is None
    # An optional number's lowest form value is its special "not given" (fine-tuning's "use epochs").
    assert s.problem(low) is None or (s.optional and s.special), s.name


@pytest.mark.parametrize("cls, s", NUMBERS, ids=lambda x: getattr(x, "name", getattr(x, "__name__", "")))
@given(data=st.data())
def test_the_one_check_is_the_declared_range(cls, s, data):
    value = data.draw(st.one_of(
        st.integers(-(2**70), 2**70), st.floats(), st.booleans(), st.none(), st.text(max_size=3),
        st.sampled_from([s.low, s.high, 10**400] if s.low is not None else [s.high, -(10**400)]),
    ))
    problem = s.problem(value)
    if value is None:
        assert (problem is None) == s.optional
        return
    assert (problem is None) == in_range(s, value), (s.name, value, problem)
    if problem:
        assert "\n" not in problem and problem.endswith(".")
        # Also through the dataclass's own check, naming the field.
        obj = dataclasses.replace(defaults(cls), **{s.name: value})
        assert problem in problems(obj)


def test_finetune_checks_ranges_are_the_declarations():
    assert finetune_checks.RANGES == {s.name: s for s in specs(FinetuneParams) if s.number}
    assert set(finetune_checks.RANGES) >= {"validation", "chunk_size", "lr", "seed", "head_lr", "rare_word_exponent"}


def test_one_seed_rule_everywhere_and_every_generator_takes_it():
    """torch.Generator (generation, fine-tuning's masks: seed and seed + 1), numpy's default_rng
    (the MLM lab) and random.Random (fine-tuning's split) take every seed the rule allows."""
    import random

    import numpy as np
    import torch

    for cls in FAMILIES:
        seed = next(s for s in specs(cls) if s.name == "seed")
        assert (seed.low, seed.high, seed.cli) == (0, MAX_SEED, "--seed")
        assert seed.problem(MAX_SEED) is None and seed.problem(MAX_SEED + 1) and seed.problem(-1)
    assert finetune_checks.SEED_MAX == MAX_SEED
    for s in (0, MAX_SEED, MAX_SEED + 1):
        torch.Generator().manual_seed(s)
        np.random.default_rng(s)
        random.Random(s)
    assert torch.Generator().manual_seed(MAX_SEED).initial_seed() == MAX_SEED


def test_messages_a_person_reads():
    p = GenerationParams(temperature=0.0, top_k=-1, strategy="random", seed=-1)
    assert p.problems() == [
        "Temperature must be above 0 and at most 1000, got 0.",
        "Top-k must be 0 (the full distribution) or more, up to 10,000,000, got -1.",
        "Unknown strategy 'random': use one of parallel-sequential, sequential, parallel.",
        f"The random seed must be between 0 and {MAX_SEED}, got -1.",
    ]
    assert problems(FinetuneParams(corpus="c", out="o", chunk_size=8.5)) == [
        "Chunk size must be a whole number at least 8 and at most 65536, got 8.5."]
