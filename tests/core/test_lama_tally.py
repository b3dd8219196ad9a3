"""LAMA's metrics are computed in one place: the running tally the LAMA tab keeps while a run
goes gives exactly (not approximately) what `summarise` gives, and both match a brute force."""

from __future__ import annotations

import random
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.lama_data import DROP_NOT_COMMON, DROP_NOT_ONE_TOKEN, Fact, FactResult, ScoreTally, summarise

RELATIONS = ("P19", "P36", "Squad")
REASONS = (DROP_NOT_ONE_TOKEN, DROP_NOT_COMMON)


def make_facts(n: int) -> list[Fact]:
    return [Fact(f"f{i}", RELATIONS[i % 3], "x", f"s{i} [MASK] .", f"o{i}") for i in range(n)]


outcome = st.one_of(st.integers(1, 40000), st.none(), st.sampled_from(REASONS))


def result(i: int, outcome: int | str | None) -> FactResult:
    if isinstance(outcome, str):
        return FactResult(i, (), (), None, outcome)
    return FactResult(i, ("t",), (0.5,), outcome)


def brute_force(facts: list[Fact], results: list[FactResult]) -> dict:
    """Exact rationals, one relation at a time, rounded once at the end."""
    relations = {}
    for name in sorted({f.relation for f in facts}):
        ranks = [r.rank for f, r in zip(facts, results) if f.relation == name and r.dropped is None]
        if ranks:
            n = len(ranks)
            relations[name] = (
                float(Fraction(sum(r == 1 for r in ranks), n)),
                float(Fraction(sum(r is not None and r <= 10 for r in ranks), n)),
                float(sum((Fraction(1.0 / r) for r in ranks if r), Fraction(0)) / n),
                n,
            )
    return relations


@settings(max_examples=60, deadline=None)
@given(outcomes=st.lists(outcome, min_size=0, max_size=60), reruns=st.lists(st.tuples(st.integers(0, 59), outcome),
       max_size=20), seed=st.integers(0, 2**32 - 1), batch=st.integers(1, 9))
def test_the_tally_after_all_batches_equals_summarise(outcomes, reruns, seed, batch):
    facts = make_facts(len(outcomes))
    final = [result(i, o) for i, o in enumerate(outcomes)]
    # The GUI's order: batches sorted by length (any order), dropped facts first, some facts
    # run twice (a second run replaces the first result).
    first = [(i, result(i, o)) for i, o in reruns if i < len(facts)]
    rest = list(enumerate(final))
    random.Random(seed).shuffle(first)
    random.Random(seed + 1).shuffle(rest)
    tally, held = ScoreTally(), [None] * len(facts)
    order = first + rest
    for start in range(0, len(order), batch):
        for i, r in order[start : start + batch]:
            tally.replace(facts[i].relation, held[i], r)
            held[i] = r
    assert held == final
    got, want = tally.report("m", "lab"), summarise("m", "lab", facts, final)
    assert tally.evaluated == len(facts)
    assert got.relations == want.relations  # exact: the same code and order-free sums
    assert (got.overall, got.overall_facts, got.dropped) == (want.overall, want.overall_facts, want.dropped)
    expected = brute_force(facts, final)
    assert {k: (s.p_at_1, s.p_at_10, s.mrr, s.n) for k, s in want.relations.items()} == expected
    k = len(expected)
    assert want.overall.n == want.overall_facts.n == sum(v[3] for v in expected.values())
    for field, column in (("p_at_1", 0), ("p_at_10", 1), ("mrr", 2)):  # the mean of the relations' figures
        mean = float(sum((Fraction(v[column]) for v in expected.values()), Fraction(0))) / k if k else 0.0
        assert getattr(want.overall, field) == mean
    n = want.overall_facts.n
    if n:
        ranks = [r.rank for r in final if r.dropped is None]
        assert want.overall_facts.p_at_1 == sum(r == 1 for r in ranks) / n
        assert want.overall_facts.mrr == float(sum((Fraction(1.0 / r) for r in ranks if r), Fraction(0)) / n)
    dropped = {}
    for r in final:
        if r.dropped:
            dropped[r.dropped] = dropped.get(r.dropped, 0) + 1
    assert want.dropped == dropped


def test_summarise_keeps_the_dropped_reasons_in_the_order_they_first_appear():
    facts = make_facts(4)
    results = [result(0, DROP_NOT_COMMON), result(1, 1), result(2, DROP_NOT_ONE_TOKEN), result(3, DROP_NOT_COMMON)]
    assert list(summarise("m", "lama", facts, results).dropped.items()) == [(DROP_NOT_COMMON, 2), (DROP_NOT_ONE_TOKEN, 1)]


def test_nothing_counted_scores_zero_over_zero_facts():
    tally = ScoreTally()
    tally.replace("P19", None, result(0, DROP_NOT_ONE_TOKEN))
    report = tally.report("m", "lama")
    assert report.relations == {} and report.overall.n == report.overall_facts.n == 0
    assert report.overall.p_at_1 == 0.0 and tally.evaluated == 1
